"""The house plan's boundaries, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_SUMMARIZER = {"bot", "discord", "slack_bolt", "slack_sdk", "apscheduler", "sqlalchemy", "httpx"}
# All network access goes through bot/news/http.py; the library reads text and arrays only.
NETWORK_MODULES = {"socket", "urllib.request", "http.client", "ssl", "aiohttp", "requests"}


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


def test_summarizer_opens_no_connection():
    """summarizer/ imports no networking module: it never fetches anything itself."""
    offenders = {}
    for path in sorted((ROOT / "summarizer").rglob("*.py")):
        imported = _imported_modules(path)
        bad = {name for name in NETWORK_MODULES if name in imported or any(m.startswith(name + ".") for m in imported)}
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


# Modules every floor may use: the Digest vocabulary and the metric hooks. They import no floor above storage, so
# they are their own node in the graph below rather than a part of their package.
SHARED_MODULES = {"bot.digests.model", "bot.ops.metrics"}
SHARED_MAY_IMPORT = {"bot.storage", "bot.config", "bot.errors"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _unit(module: str) -> str | None:
    """The node a bot module belongs to: a shared module, else its package under bot/ (or top-level module)."""
    parts = module.split(".")
    if parts[0] != "bot" or len(parts) < 2:
        return None
    for shared in SHARED_MODULES:
        if module == shared or module.startswith(shared + "."):
            return shared
    return ".".join(parts[:2])


def _package_graph() -> dict[str, dict[str, str]]:
    """unit -> {imported unit: one file that imports it}, for every import in bot/ (in functions too)."""
    graph: dict[str, dict[str, str]] = {}
    for path in sorted((ROOT / "bot").rglob("*.py")):
        source = _unit(_module_name(path))
        if source is None:
            continue
        for name in _imported_modules(path):
            target = _unit(name)
            if target is not None and target != source:
                graph.setdefault(source, {}).setdefault(target, str(path.relative_to(ROOT)))
    return graph


def _cycles(graph: dict[str, dict[str, str]]) -> list[list[str]]:
    """One cycle per strongly connected group of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph.get(node, {}):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_import_cycles_between_packages():
    """The floors import downwards only: no two packages of bot/ (or top-level modules) import each other, even
    through others or from inside a function."""
    graph = _package_graph()
    cycles = _cycles(graph)
    detail = {
        " <-> ".join(group): [f"{a} -> {b} ({graph[a][b]})" for a in group for b in group if b in graph.get(a, {})]
        for group in cycles
    }
    assert detail == {}


def test_shared_modules_import_only_storage_config_and_errors():
    """The modules every floor uses depend on no floor themselves."""
    graph = _package_graph()
    assert {shared: sorted(set(graph.get(shared, {})) - SHARED_MAY_IMPORT) for shared in SHARED_MODULES} == {
        shared: [] for shared in SHARED_MODULES
    }


def test_cycle_check_sees_a_cycle_through_a_third_package():
    """a -> b -> c -> a is one cycle; a -> b alone is none."""
    assert _cycles({"a": {"b": ""}, "b": {"c": ""}, "c": {"a": ""}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b": ""}, "b": {}}) == []


def test_platforms_take_no_orm_names_from_storage():
    """Adapters get outcomes from the service (`bot.replies`), not the ORM's enums: from bot.storage a platform
    may take only `Database` (to open one for a command)."""
    offenders = {}
    for path in sorted((ROOT / "bot" / "platforms").rglob("*.py")):
        names = {
            name.removeprefix("bot.storage.")
            for name in _imported_modules(path)
            if name.startswith("bot.storage.") and name != "bot.storage.Database"
        }
        if names:
            offenders[str(path.relative_to(ROOT))] = sorted(names)
    assert offenders == {}
