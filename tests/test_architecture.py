"""The layer contract: imports point down, form no cycle, and sit at module level.

The project's packages are layers, lowest first::

    realtime.ot -> teams -> documents -> images -> office -> notifications -> review
        -> realtime -> routing -> collabdocs

* ``realtime.ot``: pure OT, the content schema and the review marks' rules;
* ``teams``: groups people create and run themselves (only Django's auth);
* ``images``, ``office``: uploaded pictures; office formats in and out;
* ``documents``: storage, pages, sharing;
* ``notifications``: in-app and email notices to people;
* ``review``: comment threads, their messages, deciding suggestions;
* ``realtime``: the live authority and sockets;
* ``routing``: scale-out; ``collabdocs``: composition (settings, asgi).

A module may import from its own layer or a lower one, never a higher one:
the OT core knows nothing of storage, storage nothing of sockets, sockets
nothing of the cluster. Whatever needs a higher layer at run time gets it
handed in at start-up (``documents.live.install_live``, the registry given
to the worker) by the composition root.

Every module of the four packages is read with :mod:`ast`, never imported,
so the contract holds for code no test runs. Checked here:

* no upward import, anywhere in a module (functions and ``TYPE_CHECKING``
  blocks included);
* no cycle between modules through their module-level imports
  (``TYPE_CHECKING`` imports do not run, so they cannot make one);
* no import of a project module inside a function, unless
  :data:`FUNCTION_LEVEL_ALLOWED` names it with the reason (an import that
  only dodges a cycle is the cycle, hidden);
* the product never imports ``tests`` or ``bench``, nor the dev harness
  (``collabdocs/dev*.py``);
* ``realtime.ot`` imports only the standard library.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = (
    "realtime",
    "teams",
    "documents",
    "images",
    "office",
    "notifications",
    "review",
    "routing",
    "collabdocs",
)

#: Layer names, lowest first; see :func:`layer_of`.
LAYERS = (
    "realtime.ot",
    "teams",
    "documents",
    "images",
    "office",
    "notifications",
    "review",
    "realtime",
    "routing",
    "collabdocs",
)

#: ``(importing module, imported module)`` -> why the import has to run
#: inside a function. Only a reason other than dodging an import cycle
#: counts (Django's app registry not ready at module import, say).
FUNCTION_LEVEL_ALLOWED: dict[tuple[str, str], str] = {
    ("documents.apps", "documents.revocation"): (
        "AppConfig.ready(): revocation imports models (guardian's, sessions', documents'), "
        "which Django allows only once every app is loaded"
    ),
    ("notifications.apps", "notifications.receivers"): (
        "AppConfig.ready(): receivers import models (notifications', documents'), "
        "which Django allows only once every app is loaded"
    ),
    ("images.apps", "images.services"): (
        "AppConfig.ready(): images.services imports images.models, which Django allows only "
        "once every app is loaded; it installs the export image source "
        "(documents.export.install_image_source)"
    ),
    ("office.apps", "office.formats"): (
        "AppConfig.ready(): office.formats imports documents.export and so the models; "
        "the app registry is not ready when apps.py is imported"
    ),
    **{
        ("office.formats", f"office.export.{name}"): (
            "start-up time: WeasyPrint, python-docx and odfpy cost about 0.5 s of every "
            "worker's start, for downloads few workers serve; imported on the first export"
        )
        for name in ("pdf", "docx", "odt")
    },
    ("collabdocs.apps", "routing.live"): (
        "AppConfig.ready(): routing.live imports realtime.restore and so the models; "
        "the app registry is not ready when apps.py is imported"
    ),
}


@dataclass(frozen=True)
class Import:
    """One import statement's target inside the project."""

    module: str  # the importing module
    target: str  # the imported project module
    line: int
    in_function: bool
    type_checking: bool

    def __str__(self) -> str:
        path = module_paths()[self.module].relative_to(REPO)
        return f"{path}:{self.line}: {self.module} imports {self.target}"


def layer_of(module: str) -> int:
    """Return the index in :data:`LAYERS` of ``module``'s layer."""
    if module == "realtime.ot" or module.startswith("realtime.ot."):
        return 0
    return LAYERS.index(module.split(".", 1)[0])


_PATHS: dict[str, Path] = {}


def module_paths() -> dict[str, Path]:
    """Return every module of :data:`PACKAGES` (dotted name -> file)."""
    if not _PATHS:
        for package in PACKAGES:
            for path in sorted((REPO / package).rglob("*.py")):
                parts = list(path.relative_to(REPO).with_suffix("").parts)
                if parts[-1] == "__init__":
                    parts.pop()
                _PATHS[".".join(parts)] = path
    return _PATHS


def _resolve(name: str) -> str | None:
    """Return the project module ``name`` (or its longest module prefix) names."""
    modules = module_paths()
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(
    node: ast.AST, *, in_function: bool, type_checking: bool
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    """Yield every import under ``node`` with where it sits."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, in_function, type_checking
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _walk(child, in_function=True, type_checking=type_checking)
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.body:
                yield from _walk_one(stmt, in_function=in_function, type_checking=True)
            for stmt in child.orelse:
                yield from _walk_one(stmt, in_function=in_function, type_checking=type_checking)
        else:
            yield from _walk(child, in_function=in_function, type_checking=type_checking)


def _walk_one(
    stmt: ast.stmt, *, in_function: bool, type_checking: bool
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    wrapper = ast.Module(body=[stmt], type_ignores=[])
    yield from _walk(wrapper, in_function=in_function, type_checking=type_checking)


def _absolute(module: str, node: ast.ImportFrom) -> str:
    """Return the absolute module name ``from <...> import`` refers to."""
    if not node.level:
        return node.module or ""
    is_package = module_paths()[module].name == "__init__.py"
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _parse(path: Path) -> ast.Module:
    """Return the module's syntax tree.

    CPython 3.11's AST builder checks that its recursion count ends where
    it started; that count is not private to the parsing thread, and
    another thread of the test process (an in-process server's) can upset
    it meanwhile, failing the check with ``SystemError: AST constructor recursion depth
    mismatch`` (seen once at the end of a full ``make test``). Nothing is
    wrong with the file then: parse it again.
    """
    source = path.read_text()
    try:
        return ast.parse(source, filename=str(path))
    except SystemError:
        return ast.parse(source, filename=str(path))


def raw_imports(module: str) -> Iterator[tuple[str, int, bool, bool]]:
    """Yield ``(absolute name, line, in_function, type_checking)`` of every import."""
    tree = _parse(module_paths()[module])
    for node, in_function, type_checking in _walk(tree, in_function=False, type_checking=False):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, in_function, type_checking
        else:
            source = _absolute(module, node)
            for alias in node.names:
                # ``from pkg import name``: a submodule if there is one.
                full = f"{source}.{alias.name}" if source else alias.name
                name = full if full in module_paths() else source
                yield name, node.lineno, in_function, type_checking


_IMPORTS: list[Import] = []


def project_imports() -> list[Import]:
    """Return every import of a project module by a project module."""
    if not _IMPORTS:
        found: dict[Import, None] = {}  # ordered, one per statement and target
        for module in module_paths():
            for name, line, in_function, type_checking in raw_imports(module):
                target = _resolve(name)
                if target is not None and target != module:
                    found[Import(module, target, line, in_function, type_checking)] = None
        _IMPORTS.extend(found)
    return _IMPORTS


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(edges.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_module_is_found() -> None:
    """The walk sees each package and the modules the contract is about."""
    modules = module_paths()
    for name in ("realtime.ot", "documents.models", "realtime.consumers", "routing.ring"):
        assert name in modules
    assert {layer_of(m) for m in modules} == set(range(len(LAYERS)))


def test_imports_point_down_the_layers() -> None:
    """No module imports from a layer above its own (anywhere in the module)."""
    upward = [
        f"{imp}  ({LAYERS[layer_of(imp.module)]} -> {LAYERS[layer_of(imp.target)]})"
        for imp in project_imports()
        if layer_of(imp.target) > layer_of(imp.module)
    ]
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_import_cycle_between_modules() -> None:
    """The module-level imports form no cycle (``TYPE_CHECKING`` ones excluded)."""
    edges: dict[str, set[str]] = {}
    for imp in project_imports():
        if not imp.in_function and not imp.type_checking:
            edges.setdefault(imp.module, set()).add(imp.target)
    found = cycles(edges)
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_no_function_level_import_of_a_project_module_without_a_reason() -> None:
    """A project module is imported at module level unless the allowlist says why not."""
    hidden = [
        str(imp)
        for imp in project_imports()
        if imp.in_function and (imp.module, imp.target) not in FUNCTION_LEVEL_ALLOWED
    ]
    assert not hidden, "function-level imports (move up, or allowlist with a reason):\n" + (
        "\n".join(hidden)
    )


def test_the_allowlist_holds_only_imports_that_exist_with_reasons() -> None:
    """Each allowlist entry is still a function-level import and gives its reason."""
    present = {(imp.module, imp.target) for imp in project_imports() if imp.in_function}
    stale = sorted(set(FUNCTION_LEVEL_ALLOWED) - present)
    assert not stale, f"allowlisted but no longer imported in a function: {stale}"
    assert all(reason.strip() for reason in FUNCTION_LEVEL_ALLOWED.values())


def test_the_product_never_imports_tests_or_bench() -> None:
    """``tests`` and ``bench`` use the product, never the other way round."""
    found = [
        f"{module}: {name}"
        for module in module_paths()
        for name, _, _, _ in raw_imports(module)
        if name.split(".", 1)[0] in ("tests", "bench")
    ]
    assert not found, found


DEV_HARNESS = (
    "collabdocs.devclient",
    "collabdocs.devcluster",
    "collabdocs.devediting",
    "collabdocs.devservers",
)


def test_the_product_never_imports_the_dev_harness() -> None:
    """The harness (``collabdocs/dev*.py``) serves tests, bench and ``make cluster`` only."""
    found = [
        f"{module}: {name}"
        for module in module_paths()
        if module not in DEV_HARNESS
        for name, _, _, _ in raw_imports(module)
        if any(name == dev or name.startswith(dev + ".") for dev in DEV_HARNESS)
    ]
    assert not found, found


def test_the_ot_core_imports_only_the_standard_library() -> None:
    """``realtime.ot`` needs nothing but Python's standard library (no Django, no package).

    ``realtime/__init__.py`` runs whenever the OT core is imported, so it is
    held to the same rule.
    """
    foreign = [
        f"{module}: {name}"
        for module in module_paths()
        if layer_of(module) == 0 or module == "realtime"
        for name, _, _, _ in raw_imports(module)
        if name.split(".", 1)[0] not in sys.stdlib_module_names
        and not (name == "realtime.ot" or name.startswith("realtime.ot."))
    ]
    assert not foreign, foreign


def test_the_checker_sees_cycles_and_relative_imports() -> None:
    """The cycle finder and the relative-import resolution work on known input."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    node = ast.parse("from .delta import Delta").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _absolute("realtime.ot", node) == "realtime.ot.delta"
    assert _absolute("realtime.ot.document", node) == "realtime.ot.delta"
