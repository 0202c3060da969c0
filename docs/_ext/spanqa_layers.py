"""The picture of spanqa's import layers, drawn from ``docs/layers.txt`` and checked against the code.

``.. spanqa-layers:: /layers.txt`` reads the layers (top to bottom) and their boxes from the text file,
checks them against the imports in ``src/spanqa`` and draws an inline SVG, with nothing beyond the Python
standard library (no Graphviz binary, no JavaScript, no network). The check reads every module with
:mod:`ast` (nothing is imported; imports inside functions and ``if TYPE_CHECKING:`` blocks count, as in
``tests/test_layers_imports.py``) and warns, at the file and line at fault, when

* a module of ``src/spanqa`` is in no box, or in two boxes equally specific, or a box names no module;
* a module imports a module of a layer above its own (imports within a layer, or down, are the rule).

Under ``sphinx-build -W`` a warning fails the build, so the picture cannot drift from the code.
``python docs/_ext/spanqa_layers.py [LAYERS_FILE]`` runs the same check (exit status 1 on a problem) and
writes the SVG to standard output.
"""

from __future__ import annotations

import ast
import html
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The package the layers describe.
SRC = Path(__file__).resolve().parents[2] / "src" / "spanqa"
#: The text source of the picture.
LAYERS_FILE = Path(__file__).resolve().parents[1] / "layers.txt"
#: The package's root module: its lazy re-exports sit outside the layers.
ROOT = "spanqa"


@dataclass
class Box:
    """One box of the picture: one or more paths under ``src/spanqa`` and a short note."""

    paths: tuple[str, ...]
    note: str
    line: int
    modules: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        return " + ".join(self.paths)


@dataclass
class Layer:
    title: str
    line: int
    boxes: list[Box] = field(default_factory=list)


@dataclass
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def parse_layers(path: Path) -> tuple[list[Layer], list[Problem]]:
    """The layers of ``path``, top first, and the lines that could not be read."""
    layers: list[Layer] = []
    problems: list[Problem] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            layers.append(Layer(line[1:-1].strip(), number))
        elif not layers:
            problems.append(Problem(path, number, "a box before the first [layer title]"))
        else:
            paths, _, note = line.partition("|")
            names = tuple(part.strip() for part in paths.split(" + ") if part.strip())
            layers[-1].boxes.append(Box(names, note.strip(), number))
    if not layers:
        problems.append(Problem(path, 1, "no [layer title] in the file"))
    return layers, problems


def module_files(src: Path = SRC) -> dict[str, Path]:
    """Module name -> file, for every module of the package (``__init__.py`` stands for its package)."""
    modules = {}
    for path in sorted(src.rglob("*.py")):
        parts = path.relative_to(src.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _lazy_names(src: Path) -> dict[str, str]:
    """``spanqa._LAZY``: the module behind each name ``from spanqa import name`` gives."""
    tree = ast.parse((src / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        target = getattr(node, "target", None)
        if isinstance(node, ast.AnnAssign) and isinstance(target, ast.Name) and target.id == "_LAZY":
            table = ast.literal_eval(node.value) if node.value is not None else {}
            return dict(table) if isinstance(table, dict) else {}
    return {}


def imports(
    module: str, path: Path, modules: dict[str, Path], lazy: dict[str, str]
) -> Iterator[tuple[str, int]]:
    """(imported spanqa module, line) for every import statement of ``module``, anywhere in the file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield target, node.lineno
            for alias in node.names:
                if f"{target}.{alias.name}" in modules:  # ``from spanqa import hookspecs``: a submodule
                    yield f"{target}.{alias.name}", node.lineno
                elif target == ROOT and alias.name in lazy:  # ``from spanqa import Reader``
                    yield lazy[alias.name], node.lineno


def assign(layers: list[Layer], layers_file: Path, src: Path = SRC) -> tuple[dict[str, int], list[Problem]]:
    """Module -> index of its layer (0 at the top), filling each box's ``modules``; and the problems.

    A path ending in ``.py`` names that module; one ending in ``/`` names every module under it that no more
    specific path names (a file beats a package, a deeper package beats its parent).
    """
    problems: list[Problem] = []
    layer_of: dict[str, int] = {}
    for module, path in module_files(src).items():
        if module == ROOT:
            continue
        relative = path.relative_to(src).as_posix()
        candidates: list[tuple[int, int, Box]] = []
        for index, layer in enumerate(layers):
            for box in layer.boxes:
                for name in box.paths:
                    if name == relative:
                        candidates.append((10_000, index, box))
                    elif name.endswith("/") and relative.startswith(name):
                        candidates.append((len(name), index, box))
        if not candidates:
            problems.append(Problem(layers_file, 1, f"{relative} ({module}) is in no box: add it to a layer"))
            continue
        candidates.sort(key=lambda candidate: -candidate[0])
        if len(candidates) > 1 and candidates[0][0] == candidates[1][0]:
            lines = ", ".join(str(box.line) for _, _, box in candidates)
            problems.append(
                Problem(layers_file, candidates[1][2].line, f"{relative} is in two boxes (lines {lines})")
            )
        _, index, box = candidates[0]
        box.modules.add(module)
        layer_of[module] = index
    for layer in layers:
        for box in layer.boxes:
            if not box.modules:
                problems.append(
                    Problem(layers_file, box.line, f"{box.label!r} names no module of src/spanqa")
                )
    return layer_of, problems


def check(layers: list[Layer], layers_file: Path, src: Path = SRC) -> list[Problem]:
    """Every module in one box, and no import from a layer above the importer's."""
    layer_of, problems = assign(layers, layers_file, src)
    modules = module_files(src)
    lazy = _lazy_names(src)
    for module, path in modules.items():
        if module not in layer_of:
            continue
        for imported, line in imports(module, path, modules, lazy):
            if imported in layer_of and layer_of[imported] < layer_of[module]:
                problems.append(
                    Problem(
                        path,
                        line,
                        f"{module} (layer {layers[layer_of[module]].title!r}) imports {imported}, which is "
                        f"in the higher layer {layers[layer_of[imported]].title!r}: move one of them in "
                        f"{layers_file.name} or the import",
                    )
                )
    return problems


# Drawing: a fixed-width canvas scaled by the browser (viewBox); text widths are estimated from the number
# of characters (monospace labels, sans-serif notes), generously, so a label never overflows its box.
WIDTH = 900
GUTTER = 34  # the "imports point down" arrow
TITLE_WIDTH = 162
MARGIN = 8
BOX_HEIGHT = 42
GAP = 10
BAND_PAD = 9
LABEL_CHAR = 7.8  # 13px monospace
NOTE_CHAR = 6.5  # 11px sans-serif
BAND_FILLS = ("#eef2f7", "#e3e9f1")


def _box_width(box: Box) -> float:
    return max(len(box.label) * LABEL_CHAR, len(box.note) * NOTE_CHAR) + 18


def _rows(layer: Layer) -> list[list[tuple[Box, float]]]:
    """The boxes of a layer in rows that fit the canvas, each with its width."""
    rows: list[list[tuple[Box, float]]] = [[]]
    room = WIDTH - MARGIN - (GUTTER + TITLE_WIDTH)
    used = 0.0
    for box in layer.boxes:
        width = _box_width(box)
        if rows[-1] and used + GAP + width > room:
            rows.append([])
            used = 0.0
        used += (GAP if rows[-1] else 0) + width
        rows[-1].append((box, width))
    return rows


def render_svg(layers: list[Layer]) -> str:
    """The layers as a standalone SVG document (no scripts, no external references)."""
    esc = html.escape
    parts: list[str] = []
    y = float(MARGIN)
    for index, layer in enumerate(layers):
        rows = _rows(layer)
        height = len(rows) * BOX_HEIGHT + (len(rows) - 1) * GAP + 2 * BAND_PAD
        x0 = GUTTER
        parts.append(
            f'<rect x="{x0}" y="{y:.0f}" width="{WIDTH - MARGIN - x0}" height="{height:.0f}" rx="6" '
            f'fill="{BAND_FILLS[index % 2]}"/>'
        )
        parts.append(
            f'<text x="{x0 + 10}" y="{y + height / 2 + 5:.0f}" font-size="13" font-weight="bold" '
            f'fill="#1f2d3d">{esc(layer.title)}</text>'
        )
        box_y = y + BAND_PAD
        for row in rows:
            x = float(x0 + TITLE_WIDTH)
            for box, width in row:
                modules = ", ".join(sorted(box.modules)) or box.label
                parts.append(
                    f"<g><title>{esc(modules)}</title>"
                    f'<rect x="{x:.0f}" y="{box_y:.0f}" width="{width:.0f}" height="{BOX_HEIGHT}" rx="4" '
                    f'fill="#ffffff" stroke="#5b6b7f"/>'
                    f'<text x="{x + 9:.0f}" y="{box_y + 18:.0f}" font-size="13" '
                    f'font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" '
                    f'fill="#10243a">{esc(box.label)}</text>'
                    f'<text x="{x + 9:.0f}" y="{box_y + 34:.0f}" font-size="11" fill="#4a5868">'
                    f"{esc(box.note)}</text></g>"
                )
                x += width + GAP
            box_y += BOX_HEIGHT + GAP
        y += height + 6
    bottom = y - 6
    middle = (MARGIN + bottom) / 2
    arrow = (
        f'<line x1="16" y1="{MARGIN + 4}" x2="16" y2="{bottom - 10:.0f}" stroke="#5b6b7f" stroke-width="2"/>'
        f'<path d="M 10 {bottom - 12:.0f} L 16 {bottom:.0f} L 22 {bottom - 12:.0f} Z" fill="#5b6b7f"/>'
        f'<text x="0" y="0" font-size="11" fill="#4a5868" text-anchor="middle" '
        f'transform="translate(11 {middle:.0f}) rotate(-90)">imports point down</text>'
    )
    total_height = bottom + MARGIN
    title = "spanqa's import layers"
    desc = (
        "Layers of src/spanqa from top to bottom: "
        + "; ".join(f"{layer.title}: " + ", ".join(box.label for box in layer.boxes) for layer in layers)
        + ". A module imports only modules of its own layer or of a layer below."
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {total_height:.0f}" width="100%" '
        f'role="img" aria-labelledby="spanqa-layers-title spanqa-layers-desc" '
        f'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">'
        f'<title id="spanqa-layers-title">{esc(title)}</title>'
        f'<desc id="spanqa-layers-desc">{esc(desc)}</desc>'
        f'<rect width="{WIDTH}" height="{total_height:.0f}" fill="#ffffff"/>'
        + arrow
        + "".join(parts)
        + "</svg>"
    )


def _setup_directive() -> Any:
    from docutils import nodes
    from sphinx.util import logging
    from sphinx.util.docutils import SphinxDirective

    logger = logging.getLogger(__name__)

    class SpanqaLayersDirective(SphinxDirective):
        """``.. spanqa-layers:: FILE``: the checked picture of the layers described in ``FILE``."""

        required_arguments = 1
        has_content = False

        def run(self) -> list[Any]:
            _, absolute = self.env.relfn2path(self.arguments[0])
            layers_file = Path(absolute)
            self.env.note_dependency(str(layers_file))
            for path in SRC.rglob("*.py"):  # the picture is rebuilt (and rechecked) when the code changes
                self.env.note_dependency(str(path))
            layers, problems = parse_layers(layers_file)
            problems += check(layers, layers_file)
            for problem in problems:
                logger.warning(
                    problem.message, location=f"{problem.path}:{problem.line}", type="spanqa-layers"
                )
            figure = f'<figure class="spanqa-layers">{render_svg(layers)}</figure>'
            return [nodes.raw("", figure, format="html")]

    return SpanqaLayersDirective


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("spanqa-layers", _setup_directive())
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str]) -> int:
    layers_file = Path(argv[0]) if argv else LAYERS_FILE
    layers, problems = parse_layers(layers_file)
    problems += check(layers, layers_file)
    for problem in problems:
        print(problem, file=sys.stderr)
    sys.stdout.write(render_svg(layers) + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
