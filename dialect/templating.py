"""``${name}`` variables and ``!macro`` templates.

Rendering replaces ``${name}`` with the value of the variable ``name`` (names: a letter or ``_``, then
letters, digits, ``_``, ``.`` or ``-``). Lookup order: variables set by the script (or bound by the
executor), then request parameters, then built-ins: ``today``, ``yesterday``, ``tomorrow``,
``theDayBeforeYesterday`` (yyyy-MM-dd), ``OWNER`` and ``HOME``.

* A variable stored *verbatim* (a ``'''block'''`` set value) is rendered each time it is used, so the
  references inside it resolve then (nested re-rendering, at most 10 levels; a cycle is an error).
  Other values are final text.
* Strict rendering (MLSQL statements) raises :class:`UnknownVariableError` naming an unknown variable;
  lenient rendering (Spark SQL passed through) leaves ``${name}`` as written, so Spark's own
  substitution still sees it.
* ``${x:y}``, ``${a b}`` and other references that are not a variable name are never touched (Spark
  reads ``${hivevar:x}``, ``${hiveconf:x}``, ``${env:X}`` itself).
* ``$${`` writes a literal ``${`` in strict rendering.

Macro templates use ``{}`` (the next argument), ``{0}``, ``{1}`` (by index), ``{n:default}`` and
``{:all}`` (every argument as a JSON array).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dialect.errors import TemplateError, UnknownVariableError

MAX_DEPTH = 10
_REF = re.compile(r"\$\$\{|\$\{([^{}]*)\}")
VARIABLE_NAME = re.compile(r"[A-Za-z_][\w.\-]*\Z")
_PLACEHOLDER = re.compile(r"\{(\d*)(?::([^{}]*))?\}")


@dataclass(frozen=True)
class Variable:
    """A stored value; ``verbatim`` values are rendered where they are used."""

    value: str
    verbatim: bool = False
    origin: str = "set"


def builtin_variables(owner: str = "anonymous", home: str = "",
                      today: dt.date | None = None) -> dict[str, Variable]:
    """The built-in variables for a request."""
    day = today or dt.date.today()
    values = {
        "today": day, "yesterday": day - dt.timedelta(days=1), "tomorrow": day + dt.timedelta(days=1),
        "theDayBeforeYesterday": day - dt.timedelta(days=2),
    }
    out = {k: Variable(v.isoformat(), origin="builtin") for k, v in values.items()}
    out["OWNER"] = Variable(owner, origin="builtin")
    out["HOME"] = Variable(home, origin="builtin")
    return out


class Environment:
    """The variables of one request, and rendering with them."""

    def __init__(self, *, owner: str = "anonymous", home: str = "", params: Mapping[str, str] | None = None,
                 today: dt.date | None = None) -> None:
        self.builtins = builtin_variables(owner, home, today)
        self.params = {k: Variable(str(v), origin="param") for k, v in (params or {}).items()}
        self.variables: dict[str, Variable] = {}

    def lookup(self, name: str) -> Variable | None:
        """The variable ``name`` (script variables, then parameters, then built-ins)."""
        return self.variables.get(name) or self.params.get(name) or self.builtins.get(name)

    def define(self, name: str, value: str, *, verbatim: bool = False, origin: str = "set") -> None:
        """Store (or replace) a script variable."""
        self.variables[name] = Variable(value, verbatim, origin)

    def forget(self, name: str) -> None:
        """Remove a script variable (parameters and built-ins stay)."""
        self.variables.pop(name, None)

    def value(self, name: str) -> str:
        """The rendered value of ``name`` (strict)."""
        return self.render("${" + name + "}")

    def render(self, text: str, *, strict: bool = True) -> str:
        """``text`` with its ``${name}`` references replaced (see the module docstring)."""
        if "${" not in text:
            return text
        return self._render(text, strict, ())

    def _render(self, text: str, strict: bool, stack: tuple[str, ...]) -> str:
        out: list[str] = []
        pos = 0
        for m in _REF.finditer(text):
            name = m.group(1)
            if name is None:  # "$${"
                if not strict:
                    continue
                out.append(text[pos:m.start()] + "${")
                pos = m.end()
                continue
            var = self.lookup(name) if VARIABLE_NAME.match(name) else None
            if var is None:
                if strict and VARIABLE_NAME.match(name):
                    raise UnknownVariableError(name)
                continue
            out.append(text[pos:m.start()])
            pos = m.end()
            if not var.verbatim:
                out.append(var.value)
                continue
            if name in stack:
                raise TemplateError("Variable cycle: " + " -> ".join((*stack, name)))
            if len(stack) >= MAX_DEPTH:
                raise TemplateError(f"Variables nested deeper than {MAX_DEPTH} levels: " + " -> ".join(stack))
            out.append(self._render(var.value, strict, (*stack, name)))
        out.append(text[pos:])
        return "".join(out)


def expand_macro(template: str, args: Sequence[str], name: str = "macro") -> str:
    """``template`` with its ``{}``, ``{n}``, ``{n:default}`` and ``{:all}`` placeholders filled."""
    counter = 0

    def fill(m: re.Match[str]) -> str:
        nonlocal counter
        index, default = m.group(1), m.group(2)
        if index == "" and default == "all":
            return json.dumps(list(args), ensure_ascii=False)
        if index == "":
            i = counter
            counter += 1
        else:
            i = int(index)
        if i < len(args):
            return args[i]
        if default is not None:
            return default
        raise TemplateError(f"Command `{name}` needs at least {i + 1} argument(s), got {len(args)}")

    return _PLACEHOLDER.sub(fill, template)
