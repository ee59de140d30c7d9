"""The house plan's boundaries, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_SUMMARIZER = {"bot", "discord", "slack_bolt", "slack_sdk", "apscheduler", "sqlalchemy", "httpx"}


def _imported_top_level_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_summarizer_is_a_pure_library():
    """Nothing in summarizer/ imports the bot, a platform, the scheduler, the database or the HTTP client."""
    offenders = {}
    for path in sorted((ROOT / "summarizer").rglob("*.py")):
        bad = _imported_top_level_modules(path) & FORBIDDEN_IN_SUMMARIZER
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_boundary_check_sees_forbidden_imports(tmp_path):
    """The checker itself catches plain, dotted and from-imports."""
    sample = tmp_path / "sample.py"
    sample.write_text("import httpx\nimport sqlalchemy.orm\nfrom discord import app_commands\nfrom . import local\n")
    assert _imported_top_level_modules(sample) & FORBIDDEN_IN_SUMMARIZER == {"httpx", "sqlalchemy", "discord"}


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, by its full dotted name (`from a.b import c` gives a.b and a.b.c)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_platforms_and_the_web_layer_query_no_models():
    """Platform adapters and the status page's web layer never import the models: the service layer and
    bot.ops.status hold the queries."""
    files = [*(ROOT / "bot" / "platforms").rglob("*.py"), ROOT / "bot" / "ops" / "web.py"]
    offenders = [
        str(path.relative_to(ROOT)) for path in sorted(files) if "bot.storage.models" in _imported_modules(path)
    ]
    assert offenders == []


def test_model_import_check_sees_both_forms(tmp_path):
    """`import bot.storage.models` and `from bot.storage.models import X` are both caught; the package is not."""
    sample = tmp_path / "sample.py"
    sample.write_text("from bot.storage.models import Article\nfrom bot.storage import Database\n")
    assert "bot.storage.models" in _imported_modules(sample)
    sample.write_text("import bot.storage.models as m\nfrom bot.storage import Database\n")
    assert "bot.storage.models" in _imported_modules(sample)
    sample.write_text("from bot.storage import Database\n")
    assert "bot.storage.models" not in _imported_modules(sample)
