"""Benchmark the MLSQL language layer: parse + plan time of a generated script.

Run: ``.venv/bin/python bench/bench_dialect.py [--statements 1000] [--repeat 5]``. The script mixes
every statement kind (load, select-as, Spark queries with and without trailing aliases, set with
``${}`` references, save, connect, train/run/predict/register, built-in and user macros, includes,
DDL). Planning expands the macros and includes and renders every ``${}``. The goal is under 1 s for
1,000 statements; the best of ``--repeat`` runs is reported, with the median.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dialect  # noqa: E402

TEMPLATES = [
    'load csv.`/data/{i}/input.csv` where header="true" and delimiter="," and inferSchema="true" as raw{i}',
    "select a, b + {i} as c, upper(s) as u from raw{i} where a > {i} and s like 'x%' as t{i}",
    "select * from raw{i} as r{i}",
    "select k, count(*) as n, avg(v) over (partition by k) as m from raw{i} group by k, v as agg{i}",
    'set day{i} = "2024-01-{d:02d}"',
    'set path{i} = "/out/${{day{i}}}/${{OWNER}}"',
    'save overwrite t{i} as parquet.`${{path{i}}}` where fileNum="4" partitionBy a, b',
    'train t{i} as RandomForest.`/models/rf{i}` where keepVersion="true" and evaluateTable="t{i}" '
    'and fitParam.0.maxDepth="3" and fitParam.1.maxDepth="8" as info{i}',
    'run t{i} as RepartitionExt.`` where partitionNum="4" as rp{i}',
    'predict t{i} as RandomForest.`/models/rf{i}` where algIndex="1" as scored{i}',
    'register RandomForest.`/models/rf{i}` as rf{i} where autoSelectByMetric="f1"',
    'connect jdbc where url="jdbc:postgresql://127.0.0.1:5432/app" and user="u{i}" as db{i}',
    "!show jobs",
    '!byName "name{i}" v{i}',
    "include store.`common`",
    "create table if not exists x{i} as select * from t{i} where a > {i}",
    "with c as (select a, b from t{i}) select c.a, sum(c.b) as s from c join raw{i} as r on c.a = r.a group by c.a",
    "insert into log select '${{today}}' as d, '{i}; done' as msg",
]
PREAMBLE = ("set byName='''select * from people where name=\"{}\" as {1:people}''';\n"
            "set n = `select count(*) from people` where type=\"sql\" and mode=\"compile\";\n")
INCLUDED = {"common": 'set base = "/data" where type="defaultParam";\nload json.`${base}/common.json` as common;'}


def make_script(statements: int) -> str:
    """A script of exactly ``statements`` statements (the preamble counts)."""
    lines = []
    i = 0
    while len(lines) < statements - 2:
        for template in TEMPLATES:
            if len(lines) >= statements - 2:
                break
            lines.append(template.format(i=i, d=i % 28 + 1) + ";")
        i += 1
    return PREAMBLE + "\n".join(lines) + "\n"


def resolver(stmt: dialect.Include) -> str:
    return INCLUDED[stmt.path]


def run_once(text: str) -> tuple[float, float, int, int]:
    """(parse seconds, plan seconds, parsed statements, planned statements)."""
    t0 = time.perf_counter()
    script = dialect.parse_script(text)
    t1 = time.perf_counter()
    planner = dialect.Planner(owner="bench", home="/home/bench", include_resolver=resolver,
                              sql_evaluator=lambda sql: "42")
    planned = planner.plan(script)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, len(script), len(planned)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--target", type=float, default=1.0, help="goal for parse + plan, in seconds")
    args = parser.parse_args(argv)

    text = make_script(args.statements)
    runs = [run_once(text) for _ in range(max(1, args.repeat))]
    parse_s = [r[0] for r in runs]
    plan_s = [r[1] for r in runs]
    total = [p + q for p, q in zip(parse_s, plan_s, strict=True)]
    _, _, parsed, planned = runs[0]
    best = min(total)
    print(f"script: {parsed} statements, {len(text):,} characters; planned into {planned} statements")
    print(f"parse: best {min(parse_s) * 1000:.0f} ms, median {statistics.median(parse_s) * 1000:.0f} ms")
    print(f"plan:  best {min(plan_s) * 1000:.0f} ms, median {statistics.median(plan_s) * 1000:.0f} ms")
    print(f"parse + plan: best {best * 1000:.0f} ms, median {statistics.median(total) * 1000:.0f} ms "
          f"({args.repeat} runs; target < {args.target * 1000:.0f} ms: {'met' if best < args.target else 'NOT met'})")
    return 0 if best < args.target else 1


if __name__ == "__main__":
    sys.exit(main())
