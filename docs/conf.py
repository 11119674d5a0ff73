"""Sphinx configuration of the stridedconv documentation (build: see docs/contributing.md).

The API reference lists every name of ``stridedconv.__all__`` and of
``stridedconv.kernels.__all__``: `write_api_page` writes ``reference/generated/api.rst`` from
them at each build, so a public name added later gets its page with no edit here.
"""

from __future__ import annotations

import importlib
import inspect
import os
from pathlib import Path

import matplotlib

import stridedconv
from stridedconv import kernels

matplotlib.use("Agg")  # the gallery and the plot directive draw without a display
os.environ.setdefault("STRIDEDCONV_NUM_THREADS", "2")

HERE = Path(__file__).parent

project = "stridedconv"
author = "the stridedconv developers"
copyright = "the stridedconv developers, BSD-3-Clause"
release = version = stridedconv.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinxarg.ext",
    "matplotlib.sphinxext.plot_directive",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "pypi-description.md", "gallery/README.rst", "**/README.rst"]
templates_path = ["_templates"]
nitpicky = True
# NumPy's own names as numpydoc writes them in "See Also" and types: no intersphinx (the build
# is offline), so these are left as plain text.
nitpick_ignore = [
    ("py:class", "numpy.ndarray"),
    ("py:class", "ndarray"),
    ("py:obj", "numpy.lib.stride_tricks.sliding_window_view"),
    ("py:obj", "numpy.lib.stride_tricks.as_strided"),
]

# --- MyST -------------------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# --- autodoc, autosummary, numpydoc ----------------------------------------------------------
# Types live in the numpydoc sections, where they are written for people (shapes included);
# the signatures show names and defaults only, not NumPy's expanded typing unions.
autodoc_typehints = "none"
autosummary_generate = True
autosummary_imported_members = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = {
    "all",
    # An extended summary is welcome but not required of a one-line kernel factory.
    "ES01",
    # Summaries may start with a noun ("N-d convolution of ..."), as NumPy's do.
    "SS05",
    # Parameter and return descriptions written as sentences may end on a shape or a literal.
    "PR09",
    "RT05",
    # Multi-line return descriptions name the type once, then the shape on the same line.
    "RT02",
}
# Validate the public API only: names outside ``stridedconv.*`` public pages (the named
# tuple's generated field accessors included) are not ours to word.
numpydoc_validation_exclude = {r"\.ConvGradients\.(x|kernels|bias|count|index)$"}

# --- sphinx-gallery ---------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "gallery",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "write_computation_times": False,
    "show_memory": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "backreferences_dir": None,
    "show_signature": False,
    "run_stale_examples": True,
}

# --- the plot directive (pictures in the tutorials, drawn by the build) ---------------------
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]
plot_rcparams = {"figure.dpi": 100, "savefig.bbox": "tight"}
plot_pre_code = "import numpy as np\nimport matplotlib.pyplot as plt\nimport stridedconv as sc\n"

# --- HTML -------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"stridedconv {version}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 8,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
}
html_context = {"default_mode": "light"}


# --- the API page, from __all__ -----------------------------------------------------------------
GROUPS = {
    "Windows": ["windows"],
    "Filtering images": ["correlate"],
    "Convolution": ["conv", "convolve", "convolve_channels"],
    "The exercise's grayscale convolutions": [
        "convolve_grayscale_valid",
        "convolve_grayscale_same",
        "convolve_grayscale_padding",
        "convolve_grayscale",
    ],
    "Pooling": ["pool"],
    "Gradients": ["conv_transpose", "conv_vjp", "ConvGradients", "pool_vjp"],
    "The course's forward and backward functions": [
        "conv_forward",
        "conv_backward",
        "pool_forward",
        "pool_backward",
    ],
    "Checking a learner's implementation": ["check"],
    "Memory": ["release_memory"],
}


def public_names() -> list[str]:
    """Every documented name of ``stridedconv.__all__`` (modules are listed by their own)."""
    return [
        name for name in stridedconv.__all__ if not inspect.ismodule(getattr(stridedconv, name))
    ]


def write_api_page() -> None:
    """Write ``reference/generated/api.rst``: one autosummary table per group of names."""
    names = public_names()
    grouped = {name for group in GROUPS.values() for name in group}
    groups = {title: [n for n in group if n in names] for title, group in GROUPS.items()}
    others = [n for n in names if n not in grouped]
    if others:
        groups["More functions"] = others
    lines = [
        ".. This page is written by docs/conf.py from stridedconv.__all__; do not edit.",
        "",
        "API reference",
        "=============",
        "",
        "Every public name of ``stridedconv`` (``stridedconv.__all__``) and every kernel of",
        "``stridedconv.kernels``, each on its own page, from its docstring.",
        "",
        ".. currentmodule:: stridedconv",
        "",
    ]
    for title, group in groups.items():
        if not group:
            continue
        lines += [title, "-" * len(title), "", ".. autosummary::", "   :toctree: .", ""]
        lines += [f"   {name}" for name in group]
        lines.append("")
    title = "Named kernels: ``stridedconv.kernels``"
    lines += [
        title,
        "-" * len(title),
        "",
        ".. automodule:: stridedconv.kernels",
        "   :no-members:",
        "",
        ".. currentmodule:: stridedconv.kernels",
        "",
        ".. autosummary::",
        "   :toctree: .",
        "",
    ]
    lines += [f"   {name}" for name in kernels.__all__]
    lines.append("")
    out = HERE / "reference" / "generated" / "api.rst"
    out.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines)
    if not out.exists() or out.read_text() != text:
        out.write_text(text)


write_api_page()
importlib.import_module("stridedconv.cli._args")  # the CLI page's parser must import
