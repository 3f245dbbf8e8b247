"""Each layer speaks only its own language (README, "How it is built").

Aggregates know nothing of commands, read models, the store or the web; commands, read models
and the hallway rules know nothing of the web; the rules and the store know nothing of the
domain layers above them; the web reads only through read-model views and writes only through
commands, so it never holds the repository and never sends SQL of its own.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "hallpass"
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|LOCK|TRUNCATE)\s", re.IGNORECASE)
DATABASE_CALLS = frozenset(
    {"fetch", "fetchrow", "fetchval", "execute", "executemany", "copy_records_to_table", "copy_to_table"}
)
"""The asyncpg pool and connection methods that send a statement."""

WEB = ("hallpass.http", "starlette")
STORE_AND_ABOVE = ("hallpass.commands", "hallpass.projections", "hallpass.eventstore", "hallpass.http")


def modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


def module_name(path: Path) -> str:
    """The dotted name of the module at `path` (a package's own as `package.__init__`, so that a
    relative import leaves the last part as for any other module)."""
    return ".".join(["hallpass", *path.relative_to(SRC).with_suffix("").parts])


def imported(tree: ast.AST, module: str) -> Iterator[str]:
    """Every module `tree` (the source of `module`) imports: relative imports made absolute, and
    `from package import name` also as `package.name`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")[: -node.level]
                base = ".".join([*package, *([base] if base else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def forbidden_imports(tree: ast.AST, module: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        {f"{module} imports {name}" for name in imported(tree, module) if name.startswith(forbidden)}
    )


def holds_repository(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "repository"


def sends_sql(node: ast.AST) -> bool:
    """SQL text, or a call of a method that sends a statement, whatever its text."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and SQL.match(node.value) is not None
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in DATABASE_CALLS
    )


def found(tree: ast.AST, rule: Callable[[ast.AST], bool]) -> list[int]:
    """The lines where `rule` holds of a node of `tree`."""
    return sorted({getattr(node, "lineno", 0) for node in ast.walk(tree) if rule(node)})


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("aggregates", (*STORE_AND_ABOVE, "asyncpg", "starlette")),
        ("commands", WEB),
        ("projections", WEB),
        ("policies", (*STORE_AND_ABOVE, "asyncpg", "starlette")),
        ("eventstore", ("hallpass.aggregates", "hallpass.commands", "hallpass.projections", *WEB)),
    ],
)
def test_a_layer_imports_nothing_above_it(package: str, forbidden: tuple[str, ...]) -> None:
    offences = [
        offence
        for path in modules(package)
        for offence in forbidden_imports(parse(path), module_name(path), forbidden)
    ]
    assert offences == []


def web_offences(rule: Callable[[ast.AST], bool]) -> list[str]:
    return [
        f"{path.relative_to(SRC)}:{line}" for path in modules("http") for line in found(parse(path), rule)
    ]


def test_the_web_never_holds_the_repository() -> None:
    assert web_offences(holds_repository) == []


def test_the_web_sends_no_sql_of_its_own() -> None:
    assert web_offences(sends_sql) == []


OFFENDING = """\
from hallpass.http.common import runtime
from hallpass import http
from ..http import pages

async def f(app, pool, view):
    await app.repository.find(1, object)
    await pool.fetch('SELECT name FROM dir_schools')
    await pool.execute(STATEMENT)
"""

CLEAN = """\
from hallpass.errors import NotFound
from .base import View

async def f(app, view):
    await view.school(1)
    await app.emergency(1)
    return 'Selected ' + 'WITHOUT'
"""


def test_the_rules_notice_an_offence_and_only_an_offence() -> None:
    """The rules above, applied to a module written like the old emergency read and to one that
    keeps to its layer."""
    offending, clean = ast.parse(OFFENDING), ast.parse(CLEAN)
    module = "hallpass.commands.sample"
    assert found(offending, holds_repository) == [6]
    assert found(offending, sends_sql) == [7, 8]
    assert forbidden_imports(offending, module, WEB) == [
        f"{module} imports hallpass.http",
        f"{module} imports hallpass.http.common",
        f"{module} imports hallpass.http.common.runtime",
        f"{module} imports hallpass.http.pages",
    ]
    assert found(clean, holds_repository) == []
    assert found(clean, sends_sql) == []
    assert forbidden_imports(clean, module, WEB) == []
    assert set(imported(clean, module)) >= {"hallpass.commands.base", "hallpass.commands.base.View"}


def test_relative_imports_are_read_from_where_the_module_is() -> None:
    tree = ast.parse("from . import base\nfrom ..http.common import runtime\n")
    module = module_name(SRC / "commands" / "__init__.py")
    assert forbidden_imports(tree, module, WEB) == [
        "hallpass.commands.__init__ imports hallpass.http.common",
        "hallpass.commands.__init__ imports hallpass.http.common.runtime",
    ]
    assert "hallpass.commands.base" in set(imported(tree, module))
