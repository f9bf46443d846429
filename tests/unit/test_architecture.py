"""The layering rules: import contracts (`.importlinter`, checked by import-linter) and the calls
no import can show (a view using the request's session itself, a commit outside ``portal.db``)."""

from __future__ import annotations

import ast
import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / "portal"
CONTRACTS = ROOT / ".importlinter"

# For every contract, a module that breaks it: (where it goes, what it says).
BREAKS = {
    "layers": ("portal/models/_break.py", "from portal.services import errors\n"),
    "services-and-models-without-flask": ("portal/services/_break.py", "from flask import g\n"),
    "views-without-sqlalchemy": ("portal/views/_break.py", "from sqlalchemy import select\n"),
    "only-delivery-talks-smtp": ("portal/mail/_break.py", "import smtplib\n"),
}


def _contract_names() -> dict[str, str]:
    """Each contract's id in `.importlinter` and the name import-linter reports it by."""
    parser = configparser.ConfigParser()
    parser.read(CONTRACTS, encoding="utf-8")
    prefix = "importlinter:contract:"
    return {
        section.removeprefix(prefix): parser[section]["name"]
        for section in parser.sections()
        if section.startswith(prefix)
    }


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter on the ``portal`` package under ``root`` with the portal's contracts."""
    command = [
        sys.executable,
        "-c",
        "from importlinter.cli import lint_imports_command; lint_imports_command()",
        "--config",
        str(CONTRACTS),
        "--no-cache",
    ]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)


def test_the_import_contracts_are_kept() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in _contract_names().values():
        assert f"{name} KEPT" in result.stdout


def test_every_contract_has_a_break_that_proves_it() -> None:
    assert set(BREAKS) == set(_contract_names())


@pytest.mark.parametrize("contract", sorted(BREAKS))
def test_a_broken_contract_is_reported(contract: str, tmp_path: Path) -> None:
    shutil.copytree(PORTAL, tmp_path / "portal", ignore=shutil.ignore_patterns("__pycache__"))
    where, source = BREAKS[contract]
    (tmp_path / where).write_text(source, "utf-8")
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [
        line.partition(" BROKEN")[0] for line in result.stdout.splitlines() if " BROKEN" in line
    ]
    assert broken == [_contract_names()[contract]]


def _is_request_session(node: ast.AST) -> bool:
    """Whether ``node`` is ``db.session()``, the request's session."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "session"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "db"
    )


def _session_uses(source: str) -> list[str]:
    """Every use of the request's session other than handing it to a service, by line.

    ``db.session().get(...)``, ``db.session().execute(...)``, or the same on a name that a
    function bound to ``db.session()``: a view passes the session on and never queries it.
    """
    uses: list[str] = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        bound = {
            target.id
            for node in ast.walk(function)
            if isinstance(node, ast.Assign) and _is_request_session(node.value)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(function):
            if isinstance(node, ast.Attribute) and (
                _is_request_session(node.value)
                or (isinstance(node.value, ast.Name) and node.value.id in bound)
            ):
                uses.append(f"line {node.lineno}: .{node.attr}")
    return uses


def _commits(source: str) -> list[str]:
    """Every ``.commit()`` call other than ``db.commit()``, by line."""
    return [
        f"line {node.lineno}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
        and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "db")
    ]


def test_views_hand_the_session_to_services_and_never_query_it() -> None:
    found = {
        str(path.relative_to(ROOT)): uses
        for path in sorted((PORTAL / "views").rglob("*.py"))
        if (uses := _session_uses(path.read_text("utf-8")))
    }
    assert found == {}


@pytest.mark.parametrize(
    ("source", "uses"),
    [
        ("def view():\n    return db.session().get(Town, 1)\n", ["line 2: .get"]),
        ("def view():\n    db.session().execute(select(Town))\n", ["line 2: .execute"]),
        (
            "def view():\n    session = db.session()\n    return session.scalars(select(Town))\n",
            ["line 3: .scalars"],
        ),
    ],
)
def test_a_view_querying_the_session_is_found(source: str, uses: list[str]) -> None:
    assert _session_uses(source) == uses


def test_handing_the_session_to_a_service_is_allowed() -> None:
    source = "def view():\n    session = db.session()\n    return towns.all_towns(session)\n"
    assert _session_uses(source) == []


def _session_back_doors(source: str) -> list[str]:
    """Ways to a session that the check above would not see: names imported from ``portal.db``
    (``from ..db import session``) and the database object itself (``get_db``), by line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] == "db":
            found.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Name | ast.alias) and "get_db" in (
            node.id if isinstance(node, ast.Name) else node.name
        ):
            found.append(f"line {node.lineno}: get_db")
    return found


def test_views_reach_the_session_only_as_db_session() -> None:
    found = {
        str(path.relative_to(ROOT)): doors
        for path in sorted((PORTAL / "views").rglob("*.py"))
        if (doors := _session_back_doors(path.read_text("utf-8")))
    }
    assert found == {}


@pytest.mark.parametrize(
    "source",
    [
        "from ..db import session\ndef view():\n    return session().get(Town, 1)\n",
        "from portal.db import session as s\n",
        "def view():\n    return get_db(current_app).sessions()\n",
    ],
)
def test_a_back_door_to_the_session_is_found(source: str) -> None:
    assert _session_back_doors(source)


def test_only_db_commits() -> None:
    found = {
        str(path.relative_to(ROOT)): commits
        for path in sorted(PORTAL.rglob("*.py"))
        if path != PORTAL / "db.py" and "migrations" not in path.parts
        if (commits := _commits(path.read_text("utf-8")))
    }
    assert found == {}


def test_a_commit_outside_db_is_found() -> None:
    assert _commits("def save(session):\n    db.commit()\n    session.commit()\n") == ["line 3"]
