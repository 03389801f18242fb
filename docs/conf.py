"""Sphinx configuration for the rbm_lit site that docs/build.py builds.

docs/build.py writes the pages (notebooks converted for myst-nb) into a temporary source folder and points
Sphinx at this folder for the configuration, so paths here are relative to docs/, not to the pages.
"""

import shutil
import sys
from pathlib import Path

DOCS_DIR = Path(__file__).absolute().parent
sys.path.insert(0, str(DOCS_DIR))

from nbdev.config import get_config  # noqa: E402

_settings = get_config(path=DOCS_DIR.parent)

project = _settings.title
author = _settings.author
copyright = _settings.copyright
release = _settings.version
language = "en"

extensions = ["myst_nb", "sphinx.ext.mathjax"]
root_doc = "index"

# Pages are notebooks executed by their authors, so their stored outputs, plots included, are shown as they are.
nb_execution_mode = "off"
# By default myst-nb loads widget scripts from a CDN for notebooks that contain widget state, so none are allowed.
nb_ipywidgets_js = {}
nb_render_markdown_format = "myst"
nb_merge_streams = True

myst_enable_extensions = ["dollarmath", "amsmath", "attrs_inline", "attrs_block", "colon_fence"]
# Headings get ids that match the anchors nbdev writes for API names (see notebook_cells.heading_slug).
myst_heading_anchors = 6
myst_heading_slug_func = "notebook_cells.heading_slug"

# nbdev pages put show_doc entries (### headings) straight under the page title. myst reports that as a
# skipped heading level, but the layout is intended.
suppress_warnings = ["myst.header"]

html_theme = "furo"
html_title = _settings.title
html_static_path = ["_static"]
html_css_files = ["rbm_lit.css"]
html_copy_source = False
html_show_sourcelink = False

# MathJax 3 ships with the site. `npm ci` in docs/ installs it, and copy_mathjax below puts its es5/ folder
# at _static/mathjax. Sphinx reads a relative mathjax_path from _static.
MATHJAX_DIR = DOCS_DIR / "node_modules" / "mathjax" / "es5"
mathjax_path = "mathjax/tex-chtml.js"


def copy_mathjax(app, exception):
    "Copy MathJax's es5/ folder into the built site's static files once the HTML is written."
    if exception is not None or app.builder.format != "html":
        return
    if not (MATHJAX_DIR / "tex-chtml.js").exists():
        raise FileNotFoundError(f"MathJax not found at {MATHJAX_DIR}. Run `npm ci` in {DOCS_DIR} first.")
    shutil.copytree(MATHJAX_DIR, Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True)


def setup(app):
    app.connect("build-finished", copy_mathjax)
