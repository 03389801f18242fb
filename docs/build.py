"""Build README.md and the documentation site from the notebooks in nbs/, with neither Quarto nor network access.

    python docs/build.py                  README.md, then the site into settings.ini's doc_path (_docs/)
    python docs/build.py --readme         README.md only; needs nothing beyond the runtime and nbdev dependencies
    python docs/build.py --out DIR        the site into DIR instead
    python docs/build.py --site-only      the site, leaving README.md as it is
    python docs/build.py --allow-warnings report Sphinx warnings instead of failing on them

The site needs the `docs` extra (`pip install -e '.[dev,docs]'`) and MathJax (`npm ci` in docs/).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).absolute().parent.parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Build README.md and the documentation site without Quarto.")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--readme", action="store_true",
                        help="only regenerate README.md from the readme notebook (no Sphinx, no MathJax needed)")
    only.add_argument("--site-only", action="store_true",
                        help="only build the site and leave README.md untouched (the tests build this way)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder to write the site to (default: doc_path in settings.ini, normally _docs)")
    parser.add_argument("--allow-warnings", action="store_true",
                        help="let the build succeed when Sphinx warns (by default every warning fails the build)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out_dir = args.out.absolute() if args.out else None

    # nbdev looks for settings.ini from the working folder, here and in the worker processes it starts.
    os.chdir(ROOT)
    from nbdev.config import get_config

    from readme_writer import write_readme

    cfg = get_config(path=ROOT)
    try:
        if not args.site_only:
            readme = write_readme(ROOT, Path(cfg.nbs_path) / cfg.get("readme_nb", "index.ipynb"))
            print(f"Wrote {readme}")
        if args.readme:
            return 0

        from sphinx_site import build_site

        # The workers that run nbdev's processors import the package from this checkout, installed or not.
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        site = build_site(cfg, out_dir or Path(cfg.doc_path), strict=not args.allow_warnings)
    except (FileNotFoundError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Wrote the site to {site}; open {site / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
