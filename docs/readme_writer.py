"""Write README.md from the readme notebook (nbs/index.ipynb) without Quarto.

The site's home page comes from the same notebook, and both apply nbdev's
directive processing, so the README and the home page show the same cells.
This module needs only nbdev and its dependencies.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from execnb.nbio import read_nb
from nbdev.process import NBProcessor
from nbdev.processors import (clean_magics, filter_stream_, hide_, hide_line, populate_language, rm_export,
                              rm_header_dash, strip_ansi)

from notebook_cells import fenced, is_false, output_text, split_quarto_options, write_whole

# The nbdev processors that decide which cells and lines appear. The site build
# runs these too, as part of nbdev's FilterDefaults. The README leaves out the
# processors that execute code (show_doc) or rewrite Markdown links.
README_PROCESSORS = [populate_language, strip_ansi, hide_line, filter_stream_, rm_header_dash, rm_export, clean_magics,
                     hide_]

GENERATED_NOTICE = ("<!-- Generated from {notebook} by `python docs/build.py --readme`. "
                    "Edit the notebook and rerun that command; changes made here are overwritten. -->")


def _front_matter_markdown(raw_source: str) -> str | None:
    "Turn a raw `---` YAML front-matter cell into the `# title` and `> summary` lines nbdev would have read it from."
    text = raw_source.strip()
    if not (text.startswith("---") and text.endswith("---")):
        return None
    fields = yaml.safe_load(text.strip("-")) or {}
    lines = []
    if fields.get("title"):
        lines.append(f"# {fields['title']}")
    if fields.get("description"):
        lines.append(f"> {fields['description']}")
    return "\n\n".join(lines) or None


def _output_blocks(outputs: list) -> list[str]:
    "Render the text and Markdown outputs of a code cell. Images, stderr and errors are left out of the README."
    blocks, pending_text = [], []

    def flush_text():
        if pending_text:
            blocks.append(fenced("".join(pending_text)))
            pending_text.clear()

    for output in outputs:
        kind = output.get("output_type")
        if kind == "stream" and output.get("name") == "stdout":
            pending_text.append(output_text(output, "text"))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            if "text/markdown" in data:
                flush_text()
                blocks.append(output_text(data, "text/markdown").strip())
            elif "text/plain" in data and not any(key.startswith("image/") for key in data):
                text = output_text(data, "text/plain")
                pending_text.append(text if text.endswith("\n") else text + "\n")
    flush_text()
    return blocks


def _cell_blocks(cell) -> list[str]:
    if cell.cell_type == "markdown":
        return [cell.source.strip()] if cell.source.strip() else []
    if cell.cell_type == "raw":
        front_matter = _front_matter_markdown(cell.source)
        return [front_matter] if front_matter else []
    if cell.cell_type != "code":
        return []

    options, code = split_quarto_options(cell.source)
    if is_false(options.get("include")):
        return []
    blocks = []
    if code and not is_false(options.get("echo")):
        blocks.append(fenced(code, "python"))
    if not is_false(options.get("output")):
        blocks.extend(_output_blocks(cell.get("outputs", [])))
    return blocks


def readme_markdown(notebook: Path, notice_name: str) -> str:
    "Return the README text for `notebook`: Markdown cells as written, code cells as fenced Python with text outputs."
    processor = NBProcessor(nb=read_nb(notebook), procs=README_PROCESSORS)
    processor.process()
    blocks = [GENERATED_NOTICE.format(notebook=notice_name)]
    for cell in processor.nb.cells:
        blocks.extend(_cell_blocks(cell))
    return "\n\n".join(blocks) + "\n"


def write_readme(root: Path, notebook: Path) -> Path:
    "Write `root`/README.md from `notebook` in one step, and return its path."
    if not notebook.exists():
        raise FileNotFoundError(f"README source notebook {notebook} not found. Create it, or set readme_nb in settings.ini.")
    readme = root / "README.md"
    write_whole(readme, readme_markdown(notebook, notebook.relative_to(root).as_posix()))
    return readme
