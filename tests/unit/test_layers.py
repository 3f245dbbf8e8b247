"""Each layer speaks only its own language (README, "How it is built").

Aggregates know nothing of commands, read models, the store or the web; commands know nothing of
the web; the web reads only through read-model views and writes only through commands, so it
never holds the repository and never sends SQL of its own.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "hallpass"
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|LOCK|TRUNCATE)\s", re.IGNORECASE)


def modules(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


def imported(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def offences(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in modules(package):
        for name in imported(parse(path)):
            if name.startswith(forbidden):
                found.append(f"{path.relative_to(SRC)} imports {name}")
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        (
            "aggregates",
            ("hallpass.commands", "hallpass.projections", "hallpass.eventstore", "hallpass.http", "asyncpg"),
        ),
        ("commands", ("hallpass.http", "starlette")),
    ],
)
def test_a_layer_imports_nothing_above_it(package: str, forbidden: tuple[str, ...]) -> None:
    assert offences(package, forbidden) == []


def web_code() -> Iterator[tuple[Path, ast.AST]]:
    for path in modules("http"):
        for node in ast.walk(parse(path)):
            yield path, node


def test_the_web_never_holds_the_repository() -> None:
    found = [
        f"{path.relative_to(SRC)}:{node.lineno}"
        for path, node in web_code()
        if isinstance(node, ast.Attribute) and node.attr == "repository"
    ]
    assert found == []


def test_the_web_sends_no_sql_of_its_own() -> None:
    found = [
        f"{path.relative_to(SRC)}:{node.lineno}"
        for path, node in web_code()
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value)
    ]
    assert found == []


def test_the_checks_see_what_they_look_for() -> None:
    """The rules above would notice an offence: a module written like the old emergency read."""
    tree = ast.parse(
        "async def f(app, pool):\n"
        "    await app.repository.find(1, object)\n"
        "    await pool.fetch('SELECT name FROM dir_schools')\n"
        "from hallpass.http.common import runtime\n"
    )
    nodes = list(ast.walk(tree))
    assert any(isinstance(n, ast.Attribute) and n.attr == "repository" for n in nodes)
    assert any(isinstance(n, ast.Constant) and isinstance(n.value, str) and SQL.match(n.value) for n in nodes)
    assert "hallpass.http.common" in set(imported(tree))
