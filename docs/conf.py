"""Sphinx configuration of the spanqa documentation (MyST Markdown pages, autodoc API reference).

Build with warnings as errors, as CI does: ``sphinx-build -W --keep-going -b html docs docs/_build/html``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The local extensions: the CLI reference rendered from the real argument parsers (spanqa_cli) and the
# picture of the import layers drawn from docs/layers.txt and checked against the code (spanqa_layers).
sys.path.insert(0, str(Path(__file__).parent / "_ext"))

from spanqa import __version__

project = "spanqa"
author = "spanqa developers"
copyright = "spanqa developers"
release = __version__
version = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "spanqa_cli",
    "spanqa_layers",
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
# Google-style "Attributes:" sections become :ivar: fields, so they do not duplicate attrs' own fields.
napoleon_use_ivar = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = "furo"
html_title = f"spanqa {release}"
