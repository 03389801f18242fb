"""Cell helpers shared by the README writer and the Sphinx site build.

This module imports only the standard library, PyYAML and nbdev's own
dependencies, because `python docs/build.py --readme` must run on a plain dev
install with no Sphinx and no npm.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import yaml

# nbdev's NBProcessor consumes its own directives (`#| hide`, `#| export`, ...),
# so the only `#|` lines left in a processed code cell are Quarto cell options
# (`#| key: value`). Quarto reads them only from the lines at the top of a cell.
_QUARTO_OPTION = re.compile(r"^\s*#\|\s*([\w-]+)\s*:\s*(.*?)\s*$")


def split_quarto_options(source: str) -> tuple[dict, str]:
    "Split the leading `#| key: value` lines off `source`; return the options and the remaining code."
    options = {}
    lines = source.splitlines()
    first_code = 0
    for line in lines:
        match = _QUARTO_OPTION.match(line)
        if not match:
            break
        key, raw_value = match.groups()
        try:
            options[key] = yaml.safe_load(raw_value) if raw_value else None
        except yaml.YAMLError:
            options[key] = raw_value
        first_code += 1
    return options, "\n".join(lines[first_code:]).strip("\n")


def is_false(value) -> bool:
    "Tell whether a Quarto option value means false (`false`, `no`, or the string 'false')."
    return value is False or (isinstance(value, str) and value.strip().lower() in ("false", "no"))


def fenced(text: str, info: str = "") -> str:
    "Wrap `text` in a Markdown code fence that is longer than any backtick run inside it."
    longest_run = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest_run + 1)
    return f"{fence}{info}\n{text.rstrip()}\n{fence}"


def output_text(output: dict, key: str) -> str:
    "Return the text stored under `key` of a notebook output, joined if the notebook stores it as a list of lines."
    value = output.get(key, "")
    return "".join(value) if isinstance(value, list) else str(value)


def heading_slug(text: str) -> str:
    """Return the HTML id for a heading: lower case, with each run of characters other than letters, digits, `_`
    and `-` replaced by one `-`.

    nbdev links an API name to `page.html#` plus the name in lower case, and show_doc titles the entry with the
    name itself, so both slug to the same id (`RBM.fit` and `rbm.fit` both give `rbm-fit`).
    """
    return re.sub(r"[^\w-]+", "-", text.strip().lower()).strip("-")


def write_whole(path: Path, text: str) -> None:
    "Write `text` to `path` through a temporary file in the same folder, so readers never see a half-written file."
    path = Path(path)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        # mkstemp creates the file readable by its owner only, so give it the mode a plain open() would.
        os.chmod(temp_name, path.stat().st_mode if path.exists() else 0o666 & ~_current_umask())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
