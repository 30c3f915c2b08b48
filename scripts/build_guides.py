"""Builds the guides beside the API reference: the README (overview and
quickstart), docs/scaling.md and one page per reproduced paper
(applications/<paper>/README.md, with its figures and measured results).

    python scripts/build_guides.py [OUTPUT_DIR]      # default docs/api

Each Markdown page is rendered with pdoc's Markdown renderer into
`OUTPUT_DIR/guides/<name>.html`. Links between the pages become links
between the HTML pages; every other relative link (a figure, a
`results.json`, a run folder — which becomes its `results.json`) is copied
beside the page. A link to something that does not exist is an error: the
build fails and names it, so the site has no broken link.
"""

import argparse
import html
import pathlib
import re
import shutil
import sys

from pdoc.render_helpers import to_html

ROOT = pathlib.Path(__file__).resolve().parents[1]
LINK = re.compile(r"(!?\[[^\]]*\])\(([^)\s]+)\)")


def pages(root=ROOT):
    """`{source Markdown path: page name}` of every guide, in site order."""
    root = pathlib.Path(root).resolve()
    found = {root / "README.md": "overview", root / "docs" / "scaling.md": "scaling"}
    for readme in sorted((root / "applications").glob("*/README.md")):
        found[readme] = readme.parent.name
    return found


def _title(markdown, fallback):
    for line in markdown.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return fallback


def rewrite_links(markdown, source, names, assets, problems, root=ROOT):
    """Points the links of `markdown` (read from `source`) at the site.

    Args:
        markdown: str. The page's text.
        source: `pathlib.Path` of the page.
        names: dict. Source path -> page name, for links between pages.
        assets: dict, filled in: asset path in the site -> file to copy.
        problems: list, filled in: links that point at nothing.
        root: `pathlib.Path`. The repository, for naming the pages.

    Returns:
        str: the text with its relative links rewritten.
    """

    def replace(match):
        label, target = match.groups()
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            return match.group(0)
        path, _, anchor = target.partition("#")
        resolved = (source.parent / path).resolve()
        if resolved in names:
            link = f"{names[resolved]}.html"
        else:
            if resolved.is_dir() and (resolved / "results.json").is_file():
                resolved = resolved / "results.json"
            if not resolved.is_file():
                problems.append(f"{source.relative_to(root).as_posix()}: {target}")
                return match.group(0)
            link = f"{names[source]}/{resolved.relative_to(source.parent)}"
            assets[link] = resolved
        return f"{label}({link}{'#' + anchor if anchor else ''})"

    return LINK.sub(replace, markdown)


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{title} — keras_xai</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
  padding: 0 1rem; line-height: 1.5; }}
table {{ border-collapse: collapse; font-size: 0.9em; }}
td, th {{ border: 1px solid #ccc; padding: 0.2em 0.5em; }}
img {{ max-width: 100%; }} pre {{ overflow-x: auto; background: #f6f6f6; }}
nav a {{ margin-right: 1em; }}
</style></head>
<body><nav>{nav}</nav>
{body}
</body></html>
"""


def build(output_dir, root=ROOT):
    """Writes the guides into `output_dir/guides`; returns their paths.

    Raises:
        ValueError: listing every link that points at nothing.
    """
    root = pathlib.Path(root).resolve()
    names = pages(root)
    guides = pathlib.Path(output_dir) / "guides"
    texts = {source: source.read_text(encoding="utf-8") for source in names}
    assets, problems, rendered = {}, [], {}
    for source, text in texts.items():
        rendered[source] = rewrite_links(text, source, names, assets, problems, root)
    if problems:
        raise ValueError(
            "Guides link to files that do not exist:\n  " + "\n  ".join(problems)
        )
    nav = " ".join(
        f'<a href="{name}.html">{html.escape(_title(texts[s], name))}</a>'
        for s, name in names.items()
    )
    nav = '<a href="../keras_xai.html">API reference</a> ' + nav
    guides.mkdir(parents=True, exist_ok=True)
    written = []
    for source, name in names.items():
        page = guides / f"{name}.html"
        page.write_text(
            PAGE.format(
                title=html.escape(_title(texts[source], name)),
                nav=nav,
                body=to_html(rendered[source]),
            ),
            encoding="utf-8",
        )
        written.append(page)
    for link, path in assets.items():
        target = guides / link
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", nargs="?", default=str(ROOT / "docs" / "api"))
    args = parser.parse_args(argv)
    try:
        written = build(args.output_dir)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    print(
        f"{len(written)} guides written to {pathlib.Path(args.output_dir) / 'guides'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
