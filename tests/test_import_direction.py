"""Imports run one way: collection → analysis → alerts → serving; only the CLI imports the API;
no module imports itself back through others (no import cycle at module level, anywhere)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WEB_AND_CRAWL = {"fastapi", "starlette", "uvicorn", "scrapy", "twisted", "apscheduler", "httpx", "feedparser",
                 "scrapy_redis", "redis"}

# package → top-level names it must never import
FORBIDDEN = {
    "core": WEB_AND_CRAWL | {"storage", "crawlers", "nlp", "alerts", "dashboard_api", "ecowatch"},
    "nlp": WEB_AND_CRAWL | {"crawlers", "dashboard_api", "ecowatch", "storage", "alerts", "sqlalchemy"},
    "storage": WEB_AND_CRAWL | {"crawlers", "nlp", "alerts", "dashboard_api", "ecowatch", "jieba"},
    "crawlers": {"fastapi", "uvicorn", "apscheduler", "nlp", "alerts", "dashboard_api", "ecowatch"},
    "alerts": {"fastapi", "starlette", "uvicorn", "scrapy", "twisted", "apscheduler", "crawlers",
               "dashboard_api", "ecowatch", "scrapy_redis"},
    "dashboard_api": {"scrapy", "twisted", "apscheduler", "crawlers", "ecowatch", "scrapy_redis"},
    # Search tokens: segmentation (nlp) into the index tables (storage), for the scheduler and the API.
    "indexing": WEB_AND_CRAWL | {"crawlers", "alerts", "dashboard_api", "ecowatch", "briefing"},
    # The briefing reads the store and the workflow's rules; it never collects, serves or schedules.
    "briefing": WEB_AND_CRAWL | {"crawlers", "dashboard_api", "ecowatch", "nlp"},
}
# Modules of briefing/ that compute from records handed to them, never from the store.
PURE_BRIEFING = ["period.py", "figures.py", "summary.py", "coverage.py", "handling.py"]
# The pure rule modules of alerts/ may not touch the store either.
PURE_ALERT_RULES = ["rules.py", "deadlines.py", "workdays.py", "grading.py", "grouping.py", "workflow.py",
                    "escalation.py", "notify_rules.py"]


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_run_one_way(package):
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = imported_roots(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("module", PURE_ALERT_RULES)
def test_alert_rules_are_pure(module):
    bad = imported_roots(ROOT / "alerts" / module) & {"storage", "sqlalchemy", "httpx", "smtplib"}
    assert not bad


@pytest.mark.parametrize("module", PURE_BRIEFING)
def test_briefing_figures_are_pure(module):
    bad = imported_roots(ROOT / "briefing" / module) & {"storage", "sqlalchemy", "matplotlib", "docx"}
    assert not bad


# The modules allowed to import the API package: the CLI's ``serve`` builds and runs the app, and
# the API bench serves it.
# The CLI builds the API in one module, for the serving process and for each worker of serve --workers.
API_IMPORTERS = {"ecowatch/serving.py", "bench/api.py"}
NOT_PROJECT = {"dashboard_api", "tests", "build", "node_modules"}


def _project_files() -> list[Path]:
    """Every Python file of the project outside the API package and the tests (packages, bench,
    tools; virtual environments and hidden folders are not the project)."""
    out = sorted(ROOT.glob("*.py"))
    for folder in sorted(ROOT.iterdir()):
        if folder.is_dir() and not folder.name.startswith(".") and folder.name not in NOT_PROJECT \
                and not (folder / "pyvenv.cfg").exists():
            out += sorted(folder.rglob("*.py"))
    return out


def test_only_the_cli_imports_dashboard_api():
    # At any depth and in any function body (ast.walk sees them all): the scheduler and every
    # command module included, not only the layers below.
    files = _project_files()
    assert {"ecowatch/scheduler.py", "ecowatch/commands_users.py", "bench/api.py"} <= \
        {p.relative_to(ROOT).as_posix() for p in files}
    offenders = [rel for p in files if "dashboard_api" in imported_roots(p)
                 and (rel := p.relative_to(ROOT).as_posix()) not in API_IMPORTERS]
    assert not offenders, offenders
    # ...and the allowed ones do, so this test notices when the rule moves elsewhere.
    assert all("dashboard_api" in imported_roots(ROOT / name) for name in API_IMPORTERS)


def _packages() -> list[str]:
    return sorted(p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name != "tests")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runs_at_import(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """The import statements executed when the module is imported: top level and inside top-level
    ``if``/``try``/``with`` blocks, but not in function or class bodies (run later), nor under
    ``if TYPE_CHECKING:`` (never run) or ``if __name__ == "__main__":`` (only when the file is
    run as a script, as another module object)."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.append(node)
            elif isinstance(node, ast.If):
                test = ast.unparse(node.test)
                if "TYPE_CHECKING" not in test and "__main__" not in test:
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                    visit(block)
            elif isinstance(node, ast.With):
                visit(node.body)

    visit(tree.body)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module → the project modules it imports at import time, over every .py file of every package."""
    files = {_module_name(p): p for package in _packages() for p in (ROOT / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in _runs_at_import(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names if alias.name in files)
                continue
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                target = f"{base}.{alias.name}"
                if target in files:
                    edges.add(target)  # a submodule
                elif base in files:
                    edges.add(base)  # a name defined in the module
        graph[name] = edges - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_anywhere():
    graph = import_graph()
    assert len(graph) > 100 and {"ecowatch.cli", "ecowatch.main", "storage.sql"} <= set(graph)
    assert cycles(graph) == []


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    # the old wiring: the CLI imported its command modules, which imported the CLI
    assert cycles({"ecowatch.cli": {"ecowatch.commands_brief"}, "ecowatch.commands_brief": {"ecowatch.cli"}})


def test_crawler_parsers_are_pure():
    # Parsers turn bytes (and ``now``) into items: no network, no Scrapy reactor, no store.
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "crawlers" / "parsers").rglob("*.py")
                 if imported_roots(p) & {"scrapy", "twisted", "httpx", "storage", "sqlalchemy"}]
    assert not offenders


def test_source_health_is_pure():
    assert not imported_roots(ROOT / "core" / "source_health.py") - {"__future__", "datetime", "dataclasses", "typing"}
