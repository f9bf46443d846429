"""The layering rules: services never import Flask, views never query."""

from __future__ import annotations

import ast
from pathlib import Path

PORTAL = Path(__file__).resolve().parents[2] / "portal"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_services_do_not_import_flask() -> None:
    for path in (PORTAL / "services").glob("*.py"):
        assert not any(name.startswith("flask") for name in _imports(path)), path.name


def test_views_do_not_query_the_database() -> None:
    for path in (PORTAL / "views").rglob("*.py"):
        source = path.read_text("utf-8")
        assert "sqlalchemy" not in source, path.name
        assert ".query(" not in source and ".scalar" not in source and ".execute(" not in source, (
            path.name
        )


def test_only_db_commits() -> None:
    for path in PORTAL.rglob("*.py"):
        if path.name in {"db.py"} or "migrations" in path.parts:
            continue
        assert ".commit()" not in path.read_text("utf-8").replace("db.commit()", ""), path


def test_only_the_delivery_worker_talks_smtp() -> None:
    for path in PORTAL.rglob("*.py"):
        if path.name in {"delivery.py", "mailcatcher.py"}:
            continue
        assert "smtplib" not in path.read_text("utf-8") and "flask_mail" not in path.read_text(
            "utf-8"
        ), path
