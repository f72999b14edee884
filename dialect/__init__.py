"""The MLSQL language: splitting, parsing, templating and planning of MLSQL scripts.

``import dialect`` registers the ``mlsql`` sqlglot dialect (Spark SQL plus the MLSQL statements), so
``sqlglot.parse_one(sql, read="mlsql")`` works. Whole scripts go through :func:`parse_script`, which
returns a :class:`Script` of typed statements; :class:`Planner` expands includes and macros, applies
``set`` and renders ``${}`` in script order. This package never imports pyspark: executing the
planned statements is the gateway's job. The select-as rule is documented in :mod:`dialect.parser`;
the language summary is in ``dialect/LANGUAGE.md``.
"""

from __future__ import annotations

from dialect.errors import (
    IncludeError,
    MLSQLError,
    MLSQLSyntaxError,
    RefusedStatementError,
    TemplateError,
    UnknownMacroError,
    UnknownVariableError,
)
from dialect.includes import expand_includes
from dialect.parser import classify_query, parse_script, parse_statement
from dialect.planner import Planner, plan
from dialect.splitter import Chunk, split_statements
from dialect.sqlglot_dialect import MLSQL
from dialect.statements import (
    BUILTIN_MACROS,
    Connect,
    Include,
    Load,
    MacroCall,
    ModelStatement,
    PassThrough,
    Predict,
    Register,
    Run,
    Save,
    Script,
    SelectAs,
    SetVariable,
    Statement,
    Train,
    Unregister,
)
from dialect.templating import Environment, expand_macro

__all__ = [
    "BUILTIN_MACROS", "MLSQL", "Chunk", "Connect", "Environment", "Include", "IncludeError", "Load",
    "MLSQLError", "MLSQLSyntaxError", "MacroCall", "ModelStatement", "PassThrough", "Planner", "Predict",
    "RefusedStatementError", "Register", "Run", "Save", "Script", "SelectAs", "SetVariable", "Statement",
    "TemplateError", "Train", "UnknownMacroError", "UnknownVariableError", "Unregister", "classify_query",
    "expand_includes", "expand_macro", "parse_script", "parse_statement", "plan", "split_statements",
]
