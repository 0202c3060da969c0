"""The import layering of ``src/spanqa``, read from the source with :mod:`ast` (nothing is imported).

From the bottom up: :mod:`spanqa.errors` imports no spanqa module; the strategy protocol
:mod:`spanqa.strategies.base` imports only the errors, so both the plugin machinery (:mod:`spanqa.plugins`)
and the decoder build on it; the plugin machinery never reaches the decoder, the Aligner, the fine-tuner or
the Reader; within :mod:`spanqa.decode` only :mod:`spanqa.decode.threshold` uses :mod:`spanqa.metrics`;
and the command line (:mod:`spanqa.cli`, :mod:`spanqa.commands`) sits on top: only it imports itself.

Every import counts for the direct rules, also those inside functions and ``if TYPE_CHECKING:`` blocks (a
type-only import still ties the layers together). The transitive rules (what importing a low layer loads
at all) follow the imports that run, inside functions too, and the parent packages' ``__init__`` that
importing a module runs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules(root: Path) -> dict[str, Path]:
    return {_module_name(path, root): path for path in sorted((root / "spanqa").rglob("*.py"))}


def _lazy_table(root: Path) -> dict[str, str]:
    """``spanqa._LAZY``: the module behind each name that ``from spanqa import name`` gives."""
    tree = ast.parse((root / "spanqa" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        target = getattr(node, "target", None)
        if isinstance(node, ast.AnnAssign) and isinstance(target, ast.Name) and target.id == "_LAZY":
            assert node.value is not None
            table = ast.literal_eval(node.value)
            assert isinstance(table, dict)
            return table
    raise AssertionError("spanqa/__init__.py has no _LAZY table")


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` names (relative imports included)."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST, runtime_only: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements of ``tree``, anywhere (without ``if TYPE_CHECKING:`` blocks if asked)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif not (runtime_only and _is_type_checking(node)):
            todo.extend(ast.iter_child_nodes(node))


def _imports(
    module: str, path: Path, modules: dict[str, Path], lazy: dict[str, str], runtime_only: bool
) -> Iterator[str]:
    """Every spanqa module that ``module`` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in _import_nodes(tree, runtime_only):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
            continue
        target = _resolve(module, path.name == "__init__.py", node)
        yield target
        for alias in node.names:
            child = f"{target}.{alias.name}"
            if child in modules:  # ``from spanqa import hookspecs``: a submodule
                yield child
            elif target == "spanqa" and alias.name in lazy:  # ``from spanqa import Reader``
                yield lazy[alias.name]


def import_graph(root: Path = SRC, *, runtime_only: bool = False) -> dict[str, set[str]]:
    """spanqa module -> the spanqa modules it imports directly (``runtime_only``: not counting the
    imports under ``if TYPE_CHECKING:``, which never run)."""
    modules = _modules(root)
    lazy = _lazy_table(root)
    return {
        module: {
            name
            for name in _imports(module, path, modules, lazy, runtime_only)
            if name in modules and name != module and name != "spanqa.__version__"
        }
        for module, path in modules.items()
    }


def _is(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module importing ``start`` can load (parent packages' ``__init__`` included)."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        module = todo.pop()
        for name in (module, *_parents(module)):
            if name not in seen and name in graph:
                seen.add(name)
                todo.extend(graph[name])
    seen.discard(start)
    return seen


def violations(root: Path = SRC) -> list[str]:
    """Every import that goes against the layering, as ``"importer -> imported: rule"``."""
    graph = import_graph(root)
    found: list[str] = []

    def bad(importer: str, imported: str, rule: str) -> None:
        found.append(f"{importer} -> {imported}: {rule}")

    for importer, imported_set in sorted(graph.items()):
        for imported in sorted(imported_set):
            if importer == "spanqa.errors":
                bad(importer, imported, "spanqa.errors is the bottom layer and imports no spanqa module")
            if importer == "spanqa.strategies.base" and imported != "spanqa.errors":
                bad(importer, imported, "the strategy protocol imports only spanqa.errors")
            if importer == "spanqa.plugins" and any(
                _is(imported, layer)
                for layer in ("spanqa.decode", "spanqa.align", "spanqa.finetune", "spanqa.reader")
            ):
                bad(importer, imported, "the plugin machinery sits below the decoder and what uses it")
            if (
                _is(importer, "spanqa.decode")
                and importer not in ("spanqa.decode.threshold", "spanqa.decode.tuning")
                and _is(imported, "spanqa.metrics")
            ):
                bad(importer, imported, "only spanqa.decode.threshold and .tuning use the metrics")
            if (
                any(_is(imported, top) for top in ("spanqa.cli", "spanqa.commands"))
                and not any(_is(importer, top) for top in ("spanqa.cli", "spanqa.commands"))
                and importer != "spanqa.__main__"
            ):
                bad(importer, imported, "only the command line imports the command line")
    # What the lower layers load at all when imported, through any chain of imports.
    runtime = import_graph(root, runtime_only=True)
    for importer, forbidden in (
        ("spanqa.strategies.base", ("spanqa.decode", "spanqa.plugins", "spanqa.metrics", "spanqa.features")),
        ("spanqa.plugins", ("spanqa.decode", "spanqa.align", "spanqa.finetune", "spanqa.reader")),
    ):
        for imported in sorted(reachable(runtime, importer)):
            if any(_is(imported, layer) for layer in forbidden):
                bad(importer, imported, "reached through a chain of imports")
    return found


def test_the_graph_sees_the_known_imports() -> None:
    graph = import_graph()
    assert "spanqa.strategies.base" in graph["spanqa.plugins"]
    assert "spanqa.hookspecs" in graph["spanqa.plugins"]  # ``from spanqa import hookspecs``
    assert "spanqa.metrics" in graph["spanqa.decode.threshold"]
    assert "spanqa.cli" in graph["spanqa.__main__"]
    assert graph["spanqa.errors"] == set()


def test_imports_follow_the_layers() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("module", "source", "rule"),
    [
        ("strategies/base.py", "from spanqa.features import EvalFeatures\n", "imports only spanqa.errors"),
        ("plugins.py", "def f():\n    from spanqa import SpanDecoder\n", "below the decoder"),
        ("decode/engine.py", "import spanqa.metrics\n", "only spanqa.decode.threshold"),
        ("errors.py", "if TYPE_CHECKING:\n    import spanqa.data\n", "bottom"),
        ("report.py", "from spanqa.commands import _options\n", "only the command line"),
        ("hookspecs.py", "from spanqa.decode import config\n", "chain of imports"),
    ],
)
def test_a_planted_violation_is_found(tmp_path: Path, module: str, source: str, rule: str) -> None:
    """Each rule catches an import planted in a copy of the tree."""
    for path in (SRC / "spanqa").rglob("*.py"):
        copy = tmp_path / path.relative_to(SRC)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    target = tmp_path / "spanqa" / module
    target.write_text(target.read_text(encoding="utf-8") + "\n" + source, encoding="utf-8")
    found = violations(tmp_path)
    assert any(rule in line for line in found), found
