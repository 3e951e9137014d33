"""Every module of the package imports, and neither its modules nor its packages import
in a cycle.

The graph is read from the source (AST). Imports at module level must form no cycle at
all; imports inside functions count too in a second check (a cycle hidden behind a lazy
import is still a cycle in the design). Package ``__init__`` modules are left out of the
module graph (they re-export their package's modules by design). The package graph joins
the modules of each first-level subpackage (or module) of ``untrained_cs`` into one node,
counting every import, lazy ones and those of ``__init__`` modules included.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "untrained_cs"
# found without importing it: an import failure is the first test's to report
ROOT = Path(next(iter(importlib.util.find_spec(PACKAGE).submodule_search_locations))).resolve()

Graph = dict[str, set[str]]

_IMPORT_ALL = """
import importlib, pkgutil, sys, traceback
import untrained_cs
failed = []
def not_walked(name):
    failed.append(name + ": package could not be walked")
for info in pkgutil.walk_packages(untrained_cs.__path__, "untrained_cs.", not_walked):
    if info.name.rsplit(".", 1)[-1] == "__main__":
        continue
    try:
        importlib.import_module(info.name)
    except Exception:
        failed.append(info.name + ": " + traceback.format_exc(limit=1).strip().splitlines()[-1])
print("imported", len(sys.modules))
if failed:
    sys.exit("\\n".join(failed))
"""


def module_files(root: Path, package: str) -> dict[str, tuple[Path, bool]]:
    """Dotted module name → (source file, is a package ``__init__``) for a source tree."""
    out: dict[str, tuple[Path, bool]] = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return out


def _targets(node: ast.AST, module: str, is_pkg: bool, known: set[str]) -> Iterator[str]:
    """Modules of ``known`` that one import statement names."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = module.split(".")
            base = base[: len(base) - (node.level - 1 if is_pkg else node.level)]
            origin = ".".join(base + ([node.module] if node.module else []))
        else:
            origin = node.module or ""
        # `from pkg import mod` names the module pkg.mod when there is one
        names = [
            f"{origin}.{a.name}" if f"{origin}.{a.name}" in known else origin for a in node.names
        ]
    else:
        return
    yield from (name for name in names if name in known)


def _imports(tree: ast.AST, lazy: bool) -> Iterator[ast.AST]:
    """The import statements of a module; inside functions too when ``lazy``."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        for child in ast.iter_child_nodes(node):
            if lazy or not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                todo.append(child)


def import_graph(root: Path, package: str, lazy: bool = True) -> Graph:
    """Module → modules it imports, within the package, without package ``__init__`` modules.

    Imports inside functions are edges too when ``lazy`` (else only what runs on import).
    """
    files = module_files(root, package)
    known = set(files)
    packages = {name for name, (_, is_pkg) in files.items() if is_pkg}
    graph: Graph = {}
    for name, (path, is_pkg) in files.items():
        if is_pkg:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges = {t for node in _imports(tree, lazy) for t in _targets(node, name, is_pkg, known)}
        graph[name] = edges - packages - {name}
    return graph


def package_graph(root: Path, package: str) -> Graph:
    """First-level subpackage (or module) of ``package`` → those its modules import.

    Every import counts: inside functions, in ``__init__`` modules, and of a package
    itself (``from ..problems import build``); the top package's own ``__init__`` (which
    only re-exports) is left out.
    """
    files = module_files(root, package)
    known = set(files)
    graph: Graph = {}
    for name, (path, is_pkg) in files.items():
        if name == package:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        top = name.split(".")[1]
        targets = {t for node in _imports(tree, True) for t in _targets(node, name, is_pkg, known)}
        edges = {t.split(".")[1] for t in targets if t.count(".") >= 1}
        graph.setdefault(top, set()).update(edges - {top})
    return graph


def find_cycles(graph: Graph) -> list[list[str]]:
    """One cycle (a list of modules, first repeated at the end) per strongly connected
    component that has one; Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        comp.append(top)
                        if top == node:
                            break
                    if len(comp) > 1 or node in graph.get(node, ()):
                        components.append(sorted(comp))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return [_cycle_in(graph, comp) for comp in components]


def _cycle_in(graph: Graph, component: list[str]) -> list[str]:
    """A concrete cycle through the component's first module (breadth-first, shortest)."""
    members = set(component)
    start = component[0]
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for child in sorted(graph.get(node, ()) & members):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if child not in parent:
                    parent[child] = node
                    nxt.append(child)
        frontier = nxt
    raise AssertionError(f"no cycle in component {component}")


def test_every_module_imports() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"modules failing to import:\n{proc.stderr}"


def _listing(cycles: list[list[str]]) -> str:
    return "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_import_cycle_at_module_level() -> None:
    graph = import_graph(ROOT, PACKAGE, lazy=False)
    assert len(graph) > 20 and f"{PACKAGE}.operators.registry" in graph
    cycles = find_cycles(graph)
    assert not cycles, _listing(cycles)


def test_no_import_cycle_through_lazy_imports() -> None:
    cycles = find_cycles(import_graph(ROOT, PACKAGE))
    assert not cycles, _listing(cycles)


def test_no_import_cycle_between_packages() -> None:
    graph = package_graph(ROOT, PACKAGE)
    assert {"theory", "generators", "experiments", "problems", "cli"} <= set(graph)
    cycles = find_cycles(graph)
    assert not cycles, _listing(cycles)


def test_theory_is_mathematics_that_depends_on_no_higher_package() -> None:
    # theory may use the seeded random generators and the operator interface only
    assert package_graph(ROOT, PACKAGE)["theory"] <= {"seeding", "operators"}


def test_registry_imports_no_mri_code() -> None:
    edges = import_graph(ROOT, PACKAGE)[f"{PACKAGE}.operators.registry"]
    assert not [e for e in edges if e.startswith(f"{PACKAGE}.mri")]


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_cycle_check_catches_a_back_import(tmp_path) -> None:
    _write(
        tmp_path,
        {
            "__init__.py": "from . import ops, mri\n",
            "ops/__init__.py": "from .registry import register\n",
            "ops/registry.py": "def register():\n    from ..mri import models  # lazy, still\n",
            "ops/base.py": "import pkg.ops\n",
            "mri/__init__.py": "",
            "mri/models.py": "from ..ops.registry import register\nfrom ..ops import base\n",
            "mri/fft.py": "from . import models\n",
        },
    )
    assert find_cycles(import_graph(tmp_path, "pkg", lazy=False)) == []
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.mri.models"] == {"pkg.ops.registry", "pkg.ops.base"}
    assert graph["pkg.ops.base"] == set()  # edges into package __init__ modules are left out
    assert graph["pkg.mri.fft"] == {"pkg.mri.models"}
    assert find_cycles(graph) == [["pkg.mri.models", "pkg.ops.registry", "pkg.mri.models"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d", "a"}}) == [
        ["a", "b", "c", "a"],
        ["d", "d"],
    ]
    assert find_cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_package_cycle_check_catches_a_cycle_no_module_cycle_shows(tmp_path) -> None:
    _write(
        tmp_path,
        {
            "__init__.py": "from . import ops\n",
            "ops/__init__.py": "from .base import Op\n",
            "ops/base.py": "class Op: ...\n",
            "ops/fit.py": "def run():\n    from ..models import net  # lazy, still\n",
            "models/__init__.py": "",
            "models/net.py": "from ..ops import Op\n",
            "seeds.py": "",
            "models/other.py": "from .. import seeds\n",
        },
    )
    assert find_cycles(import_graph(tmp_path, "pkg")) == []  # modules: no cycle
    graph = package_graph(tmp_path, "pkg")
    assert graph == {"ops": {"models"}, "models": {"ops", "seeds"}, "seeds": set()}
    assert find_cycles(graph) == [["models", "ops", "models"]]


def test_the_theory_package_imports_no_sparse_linear_algebra():
    # every p-smooth problem needs the basis; the Jacobian tools' scipy import is theirs alone
    code = "import sys, untrained_cs.theory; print('scipy.sparse.linalg' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
