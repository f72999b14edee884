"""``${}`` rendering, built-in variables and macro templates."""

from __future__ import annotations

import datetime as dt

import pytest

from dialect import Environment, TemplateError, UnknownVariableError, expand_macro

DAY = dt.date(2024, 3, 1)


def env(**params: str) -> Environment:
    return Environment(owner="alice", home="/home/alice", params=params, today=DAY)


def test_builtins():
    e = env()
    assert e.render("${today} ${yesterday} ${tomorrow} ${theDayBeforeYesterday}") == \
        "2024-03-01 2024-02-29 2024-03-02 2024-02-28"
    assert e.render("${OWNER}:${HOME}") == "alice:/home/alice"
    assert Environment().render("${OWNER}") == "anonymous"
    assert Environment().value("today") == dt.date.today().isoformat()


def test_variables_params_and_precedence():
    e = env(day="p-day", other="o")
    assert e.render("${day}/${other}") == "p-day/o"
    e.define("day", "s-day")
    e.define("today", "my-today")
    assert e.render("${day} ${today}") == "s-day my-today"
    e.forget("day")
    assert e.render("${day}") == "p-day"


def test_unknown_variable_is_an_error_naming_it():
    with pytest.raises(UnknownVariableError) as info:
        env().render("select '${nope}'")
    assert info.value.name == "nope"
    assert "`nope`" in str(info.value)
    assert info.value.sqlstate == "42883"


def test_lenient_rendering_keeps_unknown_references():
    assert env().render("a ${nope} ${today}", strict=False) == "a ${nope} 2024-03-01"


def test_non_variable_references_are_left_alone():
    text = "${hivevar:x} ${hiveconf:y} ${env:HOME} ${a b} ${} ${1x} $today $ { today}"
    assert env().render(text) == text


def test_escape_in_strict_rendering():
    assert env().render("$${today} ${today}") == "${today} 2024-03-01"
    assert env().render("$${today}", strict=False) == "$${today}"


def test_dotted_and_dashed_names():
    e = env()
    e.define("spark.sql.x", "8")
    e.define("a-b", "c")
    assert e.render("${spark.sql.x}${a-b}") == "8c"


def test_verbatim_values_render_when_used():
    e = env()
    e.define("path", "/d/${day}", verbatim=True)
    with pytest.raises(UnknownVariableError, match="day"):
        e.render("${path}")
    e.define("day", "2024")
    assert e.render("${path}") == "/d/2024"
    e.define("day", "2025")
    assert e.render("${path}") == "/d/2025"
    e.define("final", "/d/${day}")  # not verbatim: inserted as is
    assert e.render("${final}") == "/d/${day}"


def test_nested_rendering_depth_and_cycles():
    e = env()
    e.define("a", "${b}", verbatim=True)
    e.define("b", "${c}!", verbatim=True)
    e.define("c", "x")
    assert e.render("${a}") == "x!"
    e.define("c", "${a}", verbatim=True)
    with pytest.raises(TemplateError, match="cycle: a -> b -> c -> a"):
        e.render("${a}")
    for i in range(12):
        e.define(f"v{i}", "${v" + str(i + 1) + "}", verbatim=True)
    e.define("v12", "end")
    with pytest.raises(TemplateError, match="deeper than 10"):
        e.render("${v0}")
    assert e.render("${v3}") == "end"


@pytest.mark.parametrize(("template", "args", "expected"), [
    ('select * from people where name="{}"', ["jack"], 'select * from people where name="jack"'),
    ("{} and {}", ["a", "b"], "a and b"),
    ("{1} before {0}", ["a", "b"], "b before a"),
    ("{0:x} {1:def}", ["a"], "a def"),
    ("{:all}", ["a", 'b"c'], '["a", "b\\"c"]'),
    ("{:all}", [], "[]"),
    ('{"json": {"k": 1}} {}', ["v"], '{"json": {"k": 1}} v'),
    ("no placeholders", ["ignored"], "no placeholders"),
])
def test_expand_macro(template, args, expected):
    assert expand_macro(template, args) == expected


def test_expand_macro_missing_argument():
    with pytest.raises(TemplateError, match="`m` needs at least 2 argument"):
        expand_macro("{} {}", ["one"], "m")
    with pytest.raises(TemplateError, match="needs at least 4"):
        expand_macro("{3}", ["a"], "m")
