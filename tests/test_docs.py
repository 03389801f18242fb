"""Tests of docs/build.py: the README it writes and the offline documentation site it builds.

The site is built once for this module, into a temporary folder, with Sphinx warnings treated as errors.
The site tests need the docs extra (`pip install -e '.[dev,docs]'`) and MathJax (`npm ci` in docs/); the
browser test also needs Debian's chromium. Outside CI a missing piece skips those tests; under CI (the
environment variable CI set) it fails them.
"""

import ast
import functools
import http.server
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).absolute().parent.parent
DOCS = ROOT / "docs"
NBS = ROOT / "nbs"
LIB = ROOT / "rbm_lit"
BUILD_TIMEOUT_S = 600
BROWSER_TIMEOUT_S = 120

sys.path.insert(0, str(DOCS))
from notebook_cells import heading_slug  # noqa: E402
from readme_writer import readme_markdown  # noqa: E402


def skip_or_fail(reason: str):
    "Skip the calling test, or fail it under CI, where every docs dependency must be installed."
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


def notebook_paths() -> list[Path]:
    "Every notebook under nbs/, relative to it, outside folders that start with `_` or `.` (which nbdev skips)."
    found = []
    for path in sorted(NBS.rglob("*.ipynb")):
        relative = path.relative_to(NBS)
        if not any(part.startswith(("_", ".")) for part in relative.parts):
            found.append(relative)
    return found


def module_public_names() -> dict[str, tuple[list[str], list[str]]]:
    """Map each exported module in rbm_lit/ to the names in its `__all__`, read from the source without importing it.

    The names come in two lists: functions and classes, which nbdev gives a show_doc entry, and the rest
    (constants and other objects), which nbdev does not document on its own.
    """
    names = {}
    for path in sorted(LIB.glob("*.py")):
        if path.name.startswith("_"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        definitions = {node.name for node in tree.body
                       if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
                public = list(ast.literal_eval(node.value))
                names[path.stem] = ([n for n in public if n in definitions], [n for n in public if n not in definitions])
    return names


class PageParser(HTMLParser):
    "Collect what the tests check in a built page: headings, loaded resources, math elements and visible text."

    def __init__(self):
        super().__init__()
        self.headings, self.resources, self.inline_scripts, self.text = [], [], [], []
        self.math_elements = 0
        self._heading_text = None
        self._open = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self._open.append(tag)
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._heading_text = []
        if tag == "script" and attributes.get("src"):
            self.resources.append(("script", attributes["src"]))
        if tag == "link" and attributes.get("href"):
            self.resources.append(("link", attributes["href"]))
        if tag in ("img", "iframe", "source", "video", "audio", "embed") and attributes.get("src"):
            self.resources.append((tag, attributes["src"]))
        if "math" in (attributes.get("class") or "").split():
            self.math_elements += 1

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6") and self._heading_text is not None:
            # Sphinx appends a "¶" or "#" permalink to each heading, which is not part of the title.
            self.headings.append("".join(self._heading_text).strip().rstrip("¶#").strip())
            self._heading_text = None
        if tag in self._open:
            while self._open and self._open.pop() != tag:
                pass

    def handle_data(self, data):
        if self._heading_text is not None:
            self._heading_text.append(data)
        if self._open and self._open[-1] == "script":
            self.inline_scripts.append(data)
        elif not {"pre", "code", "script", "style"} & set(self._open):
            self.text.append(data)


def parse_page(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def is_external(url: str) -> bool:
    return bool(re.match(r"^\s*(?:https?:|//)", url, flags=re.IGNORECASE))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    "Build the site once for this module; warnings fail the build, because that is build.py's default."
    missing = [name for name in ("sphinx", "myst_nb", "furo") if importlib.util.find_spec(name) is None]
    if missing:
        skip_or_fail(f"the docs extra is not installed (missing {missing}); run pip install -e '.[dev,docs]'")
    if not (DOCS / "node_modules" / "mathjax" / "es5" / "tex-chtml.js").exists():
        skip_or_fail("MathJax is not installed; run `npm ci` in docs/")

    out = tmp_path_factory.mktemp("docs") / "site"
    result = subprocess.run([sys.executable, str(DOCS / "build.py"), "--site-only", "--out", str(out)],
                            capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    assert result.returncode == 0, f"docs/build.py failed:\n{result.stdout[-5000:]}\n{result.stderr[-10000:]}"
    return out


def test_every_notebook_has_page(site):
    notebooks = notebook_paths()
    assert Path("index.ipynb") in notebooks, "nbs/index.ipynb is missing; it is the site's home page"
    for notebook in notebooks:
        page = site / notebook.with_suffix(".html")
        assert page.exists(), f"{notebook} has no page at {page}"


def test_pages_in_sidebar_in_file_order(site):
    home = (site / "index.html").read_text(encoding="utf-8")
    expected = [notebook.with_suffix(".html").as_posix() for notebook in notebook_paths() if notebook.stem != "index"]
    sidebar = re.search(r'<div class="sidebar-tree">(.*?)</div>', home, flags=re.DOTALL)
    assert sidebar, "the home page has no furo sidebar tree"
    linked = re.findall(r'href="([^"#]+\.html)"', sidebar.group(1))
    assert [page for page in linked if page in expected] == expected


def test_page_title_and_summary(site):
    page = parse_page(site / "index.html")
    assert page.headings[0] == "rbm_lit"
    html = (site / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<p class="page-summary">[^<]*\S', html), "the home page shows no summary line"


def test_benchmark_page_in_site(site):
    if not (DOCS / "benchmark.md").exists():
        pytest.skip("docs/benchmark.md does not exist, so the site has no benchmark page")
    assert (site / "benchmark.html").exists()
    assert 'href="benchmark.html"' in (site / "index.html").read_text(encoding="utf-8")


def shown_image_count(notebook: Path) -> int:
    "Count the image outputs stored in `notebook` in cells that nbdev does not hide."
    hidden = re.compile(r"^\s*#\|\s*(?:hide\s*$|export|exporti|include:\s*false|output:\s*false)", flags=re.MULTILINE)
    count = 0
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell.get("source", []))
        directives = "\n".join(line for line in source.splitlines() if line.lstrip().startswith("#|"))
        if cell["cell_type"] != "code" or hidden.search(directives):
            continue
        count += sum(1 for output in cell.get("outputs", []) if any(k.startswith("image/") for k in output.get("data", {})))
    return count


def test_stored_plots_shown(site):
    for notebook in notebook_paths():
        expected = shown_image_count(NBS / notebook)
        if not expected:
            continue
        page = site / notebook.with_suffix(".html")
        images = re.findall(r'<img[^>]+src="([^"]+)"', page.read_text(encoding="utf-8"))
        assert len(images) >= expected, f"{notebook} stores {expected} plots, but {page.name} shows {len(images)}"
        for source in images:
            assert (page.parent / source).exists(), f"{page.name} shows {source}, which the site does not contain"


def test_public_names_have_api_entries(site):
    modules = module_public_names()
    if not modules:
        pytest.skip("rbm_lit/ has no exported modules yet")
    headings, page_text = set(), ""
    for page in site.rglob("*.html"):
        headings.update(parse_page(page).headings)
        page_text += re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8"))
    for module, (definitions, other_names) in modules.items():
        undocumented = sorted(set(definitions) - headings)
        assert not undocumented, f"rbm_lit.{module} exports {undocumented}, but no built page has an API entry for them"
        # show_doc covers only functions and classes, so other exported names must at least be shown on a page.
        absent = [name for name in other_names if not re.search(rf"\b{re.escape(name)}\b", page_text)]
        assert not absent, f"rbm_lit.{module} exports {absent}, but no built page mentions them"


def test_api_links_stay_in_site(site):
    # nbdev links API names to the Quarto site at doc_host in settings.ini. The build points them at these pages.
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "rbm-lit.github.io" not in html, f"{page.name} still links to the Quarto site"


def test_api_link_targets_exist(site):
    ids = {}
    for page in site.rglob("*.html"):
        ids[page.relative_to(site).as_posix()] = set(re.findall(r'\bid="([^"]+)"', page.read_text(encoding="utf-8")))
    for page in site.rglob("*.html"):
        for target, anchor in re.findall(r'<a class="reference internal" href="([^"#]+\.html)#([^"]+)"',
                                         page.read_text(encoding="utf-8")):
            assert anchor in ids.get(target, set()), f"{page.name} links to {target}#{anchor}, which does not exist"


def test_no_resources_from_outside(site):
    for page in site.rglob("*.html"):
        parsed = parse_page(page)
        external = [(tag, url) for tag, url in parsed.resources if is_external(url)]
        assert not external, f"{page.relative_to(site)} loads {external} from outside the site"
        for script in parsed.inline_scripts:
            assert not re.search(r"https?://|['\"]//", script), f"{page.relative_to(site)} has an inline script with a URL: {script[:200]}"


def test_stylesheets_load_nothing_from_outside(site):
    for stylesheet in site.rglob("*.css"):
        css = stylesheet.read_text(encoding="utf-8", errors="replace")
        imports = re.findall(r"(?:url\(|@import)\s*['\"]?\s*((?:https?:)?//[^'\")\s]+)", css)
        assert not imports, f"{stylesheet.relative_to(site)} loads {imports} from outside the site"


def test_mathjax_ships_with_site(site):
    assert (site / "_static" / "mathjax" / "tex-chtml.js").exists()
    assert (site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
    html = (site / "index.html").read_text(encoding="utf-8")
    assert 'src="_static/mathjax/tex-chtml.js"' in html


def test_equation_pages_use_math_markup(site):
    home = parse_page(site / "index.html")
    assert home.math_elements > 0, "the home page's energy equation was not turned into math markup"
    assert "$$" not in "".join(home.text)


def math_page(site: Path) -> Path:
    "The energy chapter once it exists, otherwise the home page, which has the RBM energy equation."
    energy = site / "00_energy.html"
    return energy if energy.exists() else site / "index.html"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def site_url(site):
    "Serve the built site on 127.0.0.1 at a free port for the duration of the module."
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def run_chromium(tmp_path: Path, url: str, *mode: str) -> subprocess.CompletedProcess:
    "Open `url` in headless Chromium with a fresh profile, letting MathJax finish (virtual time) before `mode` runs."
    chromium = shutil.which("chromium")
    if chromium is None:
        skip_or_fail("chromium is not on PATH; install Debian's chromium package (apt-get install -y chromium)")
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", "--virtual-time-budget=5000", *mode, url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S)
    assert result.returncode == 0, f"chromium failed with exit status {result.returncode}:\n{result.stderr[-3000:]}"
    return result


def test_browser_typesets_math(site, site_url, tmp_path):
    page = math_page(site)
    expected_math = parse_page(page).math_elements
    assert expected_math > 0, f"{page.name} has no math to typeset"
    url = f"{site_url}/{page.name}"

    dom = run_chromium(tmp_path, url, "--dump-dom").stdout
    typeset = dom.count("<mjx-container")
    assert typeset >= expected_math, f"MathJax typeset {typeset} of the {expected_math} math elements on {url}"
    rendered = PageParser()
    rendered.feed(dom)
    visible = "".join(rendered.text)
    assert "$$" not in visible, f"raw $$ math remains on {url}"
    assert "\\[" not in visible, f"untypeset \\[ display math remains on {url}"
    assert "\\(" not in visible, f"untypeset \\( inline math remains on {url}"

    screenshot = tmp_path / f"{page.stem}.png"
    run_chromium(tmp_path, url, "--window-size=1280,2000", f"--screenshot={screenshot}")
    assert screenshot.exists(), f"chromium wrote no screenshot of {url} to {screenshot}"
    assert screenshot.stat().st_size > 10_000, f"the screenshot of {url} at {screenshot} is too small to show the page"


def test_readme_matches_index_notebook():
    readme = ROOT / "README.md"
    assert readme.exists(), "README.md is missing; run python docs/build.py --readme"
    expected = readme_markdown(NBS / "index.ipynb", "nbs/index.ipynb")
    assert readme.read_text(encoding="utf-8") == expected, (
        "README.md differs from nbs/index.ipynb; run python docs/build.py --readme and commit README.md")


def write_notebook(path: Path, cells: list[dict]) -> None:
    notebook = {"cells": cells, "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
                "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook), encoding="utf-8")


def code_cell(source: str, outputs: list | None = None) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": outputs or [], "execution_count": None}


def stdout(text: str) -> dict:
    return {"output_type": "stream", "name": "stdout", "text": text}


def test_readme_flag_needs_no_sphinx(tmp_path):
    # A copy of the project's build scripts next to a small notebook, so the test writes no file in the checkout.
    shutil.copy(ROOT / "settings.ini", tmp_path / "settings.ini")
    shutil.copytree(DOCS, tmp_path / "docs", ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
    (tmp_path / "nbs").mkdir()
    write_notebook(tmp_path / "nbs" / "index.ipynb", [
        {"cell_type": "markdown", "metadata": {}, "source": "# demo\n\n> A summary line"},
        code_cell("#| hide\nsecret = 1", [stdout("hidden output\n")]),
        code_cell("print(2 + 2)", [stdout("4\n")]),
        code_cell("#| echo: false\nprint('only the output')", [stdout("only the output\n")]),
        code_cell("#| include: false\nprint('nothing')", [stdout("nothing\n")]),
        code_cell("1 + 1", [{"output_type": "execute_result", "data": {"text/plain": "2"}, "metadata": {},
                             "execution_count": 1}]),
    ])
    # Importing any of these would mean --readme needs the docs extra.
    blocked = "import sys; sys.modules.update(dict.fromkeys(['sphinx', 'myst_nb', 'myst_parser', 'furo']))"
    script = f"{blocked}; sys.path.insert(0, 'docs'); sys.argv = ['build.py', '--readme']; " \
             "import runpy; runpy.run_path('docs/build.py', run_name='__main__')"
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]

    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "# demo\n\n> A summary line" in readme
    assert "```python\nprint(2 + 2)\n```\n\n```\n4\n```" in readme
    assert "only the output" in readme
    assert "print('only the output')" not in readme
    assert "secret" not in readme
    assert "hidden output" not in readme
    assert "nothing" not in readme
    assert "```python\n1 + 1\n```\n\n```\n2\n```" in readme
    assert not list(tmp_path.glob(".README.md.*")), "a temporary file was left behind"


def test_heading_slug_matches_nbdev_anchor():
    # nbdev links `RBM.fit` to `#rbm.fit`, and show_doc titles the entry `RBM.fit`.
    assert heading_slug("RBM.fit") == heading_slug("rbm.fit") == "rbm-fit"
    assert heading_slug("free_energy") == "free_energy"
    assert heading_slug("First command") == "first-command"


def processed_notebook(cells: list[dict]) -> dict:
    "A notebook as nbdev's docs processors leave it: YAML front matter first, then the remaining cells."
    front_matter = {"cell_type": "raw", "metadata": {},
                    "source": "---\ndescription: How the energy is defined\noutput-file: energy.html\ntitle: Energy\n---\n\n"}
    return {"cells": [front_matter, *cells], "metadata": {"widgets": {"state": {}}}, "nbformat": 4, "nbformat_minor": 5}


def convert(cells: list[dict]) -> list[dict]:
    from sphinx_site import LinkRewriter, convert_notebook

    rewrite = LinkRewriter("https://example.org/site", [Path("index.ipynb"), Path("00_energy.ipynb")])
    return convert_notebook(processed_notebook(cells), Path("00_energy.ipynb"), rewrite)["cells"]


def test_front_matter_becomes_title_and_summary():
    title = convert([])[0]
    assert title["cell_type"] == "markdown"
    assert title["source"] == "# Energy\n\n{.page-summary}\nHow the energy is defined"


def test_quarto_options_become_cell_tags():
    cells = convert([
        code_cell("#| echo: false\nprint(1)"),
        code_cell("#| output: false\nx = 1"),
        code_cell("#| include: false\ny = 2"),
        code_cell("#| code-fold: true\n#| code-summary: \"Exported source\"\ndef f(): pass"),
        code_cell("#| code-fold: show\ndef g(): pass"),
    ])[1:]
    assert cells[0]["metadata"]["tags"] == ["remove-input"]
    assert cells[1]["metadata"]["tags"] == ["remove-output"]
    assert cells[2]["metadata"]["tags"] == ["remove-cell"]
    assert cells[3]["metadata"]["tags"] == ["hide-input"]
    assert cells[3]["metadata"]["mystnb"]["code_prompt_show"] == "Show exported source"
    assert "tags" not in cells[4]["metadata"]
    for cell in cells:
        assert "#|" not in cell["source"], f"a directive is still shown in {cell['source']!r}"


def test_show_doc_output_becomes_section():
    rendered = ("---\n\n[source](https://example.com/energy.py#L3){target=\"_blank\" style=\"float:right\"}\n\n"
                "### energy\n\n```python\ndef energy(\n    v, # visible units\n)->float:\n```\n\n*Return E(v).*")
    output = {"output_type": "execute_result", "execution_count": 1, "metadata": {},
              "data": {"text/markdown": rendered, "text/plain": "energy"}}
    cell = convert([code_cell("#| echo: false\n#| output: asis\nshow_doc(energy)", [output])])[1]
    assert cell["cell_type"] == "markdown"
    assert cell["source"].startswith("### energy\n\n[source](https://example.com/energy.py#L3){.api-source}\n")
    assert "v, # visible units" in cell["source"]
    assert "target=" not in cell["source"]


def test_nbdev_links_point_at_site_pages():
    markdown = {"cell_type": "markdown", "metadata": {},
                "source": "See [`RBM.fit`](https://example.org/site/energy.html#rbm.fit) and [home](index.html)."}
    cell = convert([markdown])[1]
    assert cell["source"] == "See [`RBM.fit`](00_energy.ipynb#rbm-fit) and [home](index.ipynb)."


def test_widget_state_removed():
    from sphinx_site import LinkRewriter, convert_notebook

    page = convert_notebook(processed_notebook([]), Path("00_energy.ipynb"), LinkRewriter("", []))
    assert "widgets" not in page["metadata"]
