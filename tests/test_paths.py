"""The file-access policy and atomic outputs (no Spark)."""

from __future__ import annotations

import os

import pytest

from gateway.engine.paths import PathDenied, PathPolicy, atomic_output


@pytest.fixture
def policy(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "scripts").mkdir()
    return PathPolicy([tmp_path / "data"], [tmp_path / "scripts"])


def test_relative_paths_land_in_the_users_home(policy, tmp_path):
    assert policy.data_path("sales/2024.csv", "alice") == str(tmp_path / "data" / "alice" / "sales" / "2024.csv")
    assert policy.data_path(str(tmp_path / "data" / "shared" / "x"), "bob") == str(tmp_path / "data/shared/x")
    assert policy.data_path(f"file://{tmp_path}/data/y", "bob") == str(tmp_path / "data/y")


@pytest.mark.parametrize("bad", ["../../etc/passwd", "/etc/passwd", "a/../../../x", "file:///etc/shadow"])
def test_escapes_are_refused(policy, bad):
    with pytest.raises(PathDenied, match="outside"):
        policy.data_path(bad, "alice")


def test_symlink_escape_is_refused(policy, tmp_path):
    home = tmp_path / "data" / "alice"
    home.mkdir()
    os.symlink("/etc", home / "link")
    with pytest.raises(PathDenied):
        policy.data_path("link/passwd", "alice")


def test_remote_schemes_and_bad_users(policy, tmp_path):
    with pytest.raises(PathDenied, match="hdfs:// paths are disabled"):
        policy.data_path("hdfs://nn/x", "alice")
    assert PathPolicy([tmp_path], allow_remote_schemes=True).data_path("s3a://b/k", "u") == "s3a://b/k"
    for user in ("..", "a/b", ""):
        with pytest.raises(PathDenied):
            policy.data_path("x", user)
    with pytest.raises(PathDenied, match="--data-root"):
        PathPolicy([]).data_path("x", "alice")
    with pytest.raises(PathDenied, match="outside the configured script roots"):
        policy.script_path(str(tmp_path / "data" / "x.mlsql"), "alice")


def test_atomic_output_replaces_or_leaves_nothing(tmp_path):
    target = tmp_path / "out"
    with atomic_output(target) as tmp:
        os.makedirs(tmp)
        (tmp_path / os.path.basename(tmp) / "part-0").write_text("v1")
    assert (target / "part-0").read_text() == "v1"
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        os.makedirs(tmp)
        (tmp_path / os.path.basename(tmp) / "part-0").write_text("half")
        raise RuntimeError("writer crashed")
    assert (target / "part-0").read_text() == "v1"  # the old output survives a failed write
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temp or trash left
    with atomic_output(target, "ignore") as tmp:
        os.makedirs(tmp)
    assert (target / "part-0").read_text() == "v1"
    with pytest.raises(Exception, match="already exists"), atomic_output(target, "errorIfExists"):
        pass
