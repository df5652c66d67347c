"""Structure the code base keeps: app dependencies point one way (core depends
on no business app), tests use public names and shared fixtures, every setting
and dependency that is declared is used, and tool caches stay out of git."""

import ast
import re
import tomllib
from collections import defaultdict
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from django.conf import global_settings

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "shopyard"
BUSINESS_APPS = sorted(
    p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists() and p.name != "core"
)


def _python_files(folder: Path):
    return sorted(p for p in folder.rglob("*.py") if "migrations" not in p.parts)


def _test_files():
    return [ROOT / "conftest.py", *_python_files(ROOT / "tests"),
            *(p for p in _python_files(PACKAGE) if "tests" in p.relative_to(PACKAGE).parts)]


def _imported_modules(path: Path):
    """(module, names) for every import in `path`, relative ones made absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            yield module, [alias.name for alias in node.names]


def test_core_imports_no_business_app():
    offenders = []
    pattern = re.compile(rf"shopyard\.({'|'.join(BUSINESS_APPS)})\b")
    for path in _python_files(PACKAGE / "core"):
        for module, names in _imported_modules(path):
            targets = [module] + [f"{module}.{n}" for n in names]
            if any(pattern.match(t) for t in targets):
                offenders.append(f"{path.relative_to(ROOT)}: {module}")
        # dotted paths in strings (import_module, import_string) count as imports too
        offenders += [f"{path.relative_to(ROOT)}: '{m.group(0)}'" for m in pattern.finditer(path.read_text())]
    assert BUSINESS_APPS and "orders" in BUSINESS_APPS and "demo" in BUSINESS_APPS
    assert offenders == []


def test_tests_use_public_names_only():
    offenders = []
    for path in _test_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        shopyard_aliases = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("shopyard"):
                for alias in node.names:
                    shopyard_aliases.add(alias.asname or alias.name)
                    if alias.name.startswith("_"):
                        offenders.append(f"{path.relative_to(ROOT)}: from {node.module} import {alias.name}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("shopyard"):
                        shopyard_aliases.add(alias.asname or alias.name.split(".")[0])
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and isinstance(node.value, ast.Name) and node.value.id in shopyard_aliases):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
    assert offenders == []


def _fixtures(path: Path):
    """(name, body) of each module-level fixture in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                if ast.unparse(target) in ("pytest.fixture", "fixture"):
                    yield node.name, ast.dump(ast.Module(body=node.body, type_ignores=[]))


def test_shared_fixtures_live_in_conftest_not_in_copies():
    conftest = ROOT / "conftest.py"
    shared = {name for name, _body in _fixtures(conftest)}
    bodies = defaultdict(list)
    shadowing = []
    for path in _test_files():
        if path == conftest:
            continue
        for name, body in _fixtures(path):
            bodies[(name, body)].append(str(path.relative_to(ROOT)))
            if name in shared:
                shadowing.append(f"{path.relative_to(ROOT)}: {name}")
    copies = {name: files for (name, _body), files in bodies.items() if len(files) > 1}
    assert (copies, shadowing) == ({}, []), "move shared fixtures to conftest.py"


def test_tool_caches_are_ignored_by_git():
    ignored = {line.strip() for line in (ROOT / ".gitignore").read_text().splitlines()}
    assert {".hypothesis/", ".schemathesis/", ".pytest_cache/", ".ruff_cache/"} <= ignored


# --- settings and dependencies -------------------------------------------------

SETTINGS = (PACKAGE / "settings.py").read_text(encoding="utf-8")


def _own_settings():
    names = sorted(set(re.findall(r"^([A-Z][A-Z0-9_]+)\s*=", SETTINGS, re.M)))
    return [n for n in names if not hasattr(global_settings, n) and not n.startswith(("CELERY_", "WHITENOISE_"))]


def _source_outside_settings():
    return "\n".join(p.read_text(encoding="utf-8") for p in _python_files(PACKAGE) if p.name != "settings.py")


@pytest.mark.parametrize("name", _own_settings())
def test_every_setting_is_read(name):
    if name == "ROOT_URLCONF":  # Django's own, without a global default
        return
    used_in_settings = len(re.findall(rf"\b{name}\b", SETTINGS)) > 1
    used_elsewhere = re.search(rf"\b{name}\b", _source_outside_settings()) is not None
    assert used_in_settings or used_elsewhere, f"settings.{name} is never read"


def test_every_documented_variable_is_read():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", readme, re.M)
    assert "SHOPYARD_SECRET_KEY" in table
    read = set(re.findall(r"env(?:_bool)?\(\s*\"([A-Z0-9_]+)\"", SETTINGS))
    assert sorted(set(table) - read) == []
    assert "SHOPYARD_CURRENCY" not in table  # documented, never read: gone


# packages used without an import of their own, and how
USED_WITHOUT_IMPORT = {
    "redis": "Django's RedisCache backend and Celery's Redis result backend (REDIS_URL)",
    "gunicorn": "the production WSGI server (docs/operations.md)",
    "psycopg": "Django's PostgreSQL backend, loaded for DATABASE_URL=postgresql://",
    "python-ipware": "the address parser django-ipware is built on, pinned with it",
}


def test_every_dependency_is_used():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    dists = [re.split(r"[\[=<>!~ ]", d, maxsplit=1)[0].lower() for d in deps]
    modules_of = defaultdict(set)
    for module, owners in packages_distributions().items():
        for owner in owners:
            modules_of[owner.lower()].add(module)
    source = "\n".join(p.read_text(encoding="utf-8") for p in _python_files(PACKAGE))
    unused = []
    for dist in dists:
        if dist in USED_WITHOUT_IMPORT:
            continue
        modules = modules_of.get(dist) or modules_of.get(dist.replace("-", "_")) or {dist.replace("-", "_")}
        if not any(re.search(rf"(^\s*(from|import) {m}\b)|([\"']{m}\.)", source, re.M) for m in modules):
            unused.append(dist)
    assert unused == []


def test_api_listings_honour_the_page_size_cap(api, settings, shop):
    # given three published products and a cap of two per page
    from . import factories as f

    for _ in range(3):
        f.make_product(shop)
    settings.MAX_PAGE_SIZE = 2
    # when a client asks for fifty per page, then it gets two, and the meta says so
    body = api.get("/products?page_size=50").json()
    assert (len(body["results"]), body["meta"]) == (2, {"count": 3, "page": 1, "page_size": 2, "pages": 2})
    assert len(api.get("/products?page=2&page_size=50").json()["results"]) == 1


def test_api_schema_names_are_unique():
    """django-ninja names an OpenAPI component after its Schema class: two classes with one
    name silently share one component, and clients read one response by the other's shape."""
    from ninja import Schema

    from shopyard.api import api

    api.get_openapi_schema()  # imports every router's module
    seen = defaultdict(set)
    pending = list(Schema.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("shopyard."):
            seen[cls.__name__].add(f"{cls.__module__}.{cls.__qualname__}")
    assert {name: sorted(where) for name, where in seen.items() if len(where) > 1} == {}
