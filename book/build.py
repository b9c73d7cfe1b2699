"""Build the d2lite book into _build/html with Jupyter Book 1, offline.

    python book/build.py [--execute] [--strict] [--repo-url URL]

The table of contents is made from the folders: the introduction and every chapter folder in
chapters/ (so new chapters appear when they land), the exercise notebooks of exercises/ (no
solutions), and the instructors' pages. Pages are rendered from the notebooks' stored outputs
unless --execute. --strict turns Sphinx warnings into errors (CI). After the build, every
internal link and image of the HTML is checked.
"""
import argparse
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
GENERATED = BUILD / "book"  # the generated _toc.yml and _config.yml
CHAPTER_TITLES = {"cnns": "Convolutional networks"}  # folder words that do not make a title by themselves


def chapter_title(folder):
    """'02_cnns' -> '2. Convolutional networks', '03_sequences' -> '3. Sequences'."""
    number, _, words = folder.partition("_")
    title = CHAPTER_TITLES.get(words, words.replace("_", " ").capitalize())
    return f"{int(number)}. {title}"


def page(path):
    """A TOC entry: the path from the repository root, without its suffix."""
    return path.relative_to(ROOT).with_suffix("").as_posix()


def make_toc(root=ROOT):
    """The jb-book table of contents: one part per chapter folder, then exercises and instructors."""
    parts = []
    for folder in sorted((root / "chapters").glob("[0-9][0-9]_*")):
        notebooks = sorted(folder.glob("*.ipynb"))
        if notebooks:
            parts.append({"caption": chapter_title(folder.name),
                          "chapters": [{"file": page(nb)} for nb in notebooks]})
    exercises = sorted((root / "exercises").glob("*.ipynb"))
    if exercises:
        parts.append({"caption": "Exercises", "chapters": [{"file": page(nb)} for nb in exercises]})
    parts.append({"caption": "For instructors",
                  "chapters": [{"file": "book/instructors", "sections": [{"file": "docs/grading"}]}]})
    return {"format": "jb-book", "root": "book/index", "parts": parts}


def make_config(repo_url=None, execute=False, root=ROOT):
    """book/_config.yml with the launch buttons on when a repository URL is set, and execution if asked."""
    config = yaml.safe_load((root / "book" / "_config.yml").read_text())
    url = (repo_url if repo_url is not None else config["repository"].get("url")) or ""
    config["repository"]["url"] = url
    if url:
        config["repository"]["path_to_book"] = ""
        config["html"]["use_repository_button"] = True
        config["launch_buttons"] = {"notebook_interface": "jupyterlab",
                                    "binderhub_url": "https://mybinder.org",
                                    "colab_url": "https://colab.research.google.com"}
    else:
        config["launch_buttons"] = {"notebook_interface": "jupyterlab"}
    config["execute"]["execute_notebooks"] = "force" if execute else "off"
    # The generated config lives in _build/book: point the local extension at its real folder.
    config["sphinx"]["local_extensions"] = {name: str(root / path) for name, path
                                            in config["sphinx"]["local_extensions"].items()}
    return config


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for name in ("href", "src"):
            if attrs.get(name) and not (tag == "link" and attrs.get("rel") == "preconnect"):
                self.links.append(attrs[name])


def broken_links(html_dir):
    """Every internal href/src of the built pages that points to no file (or to no id in its page)."""
    html_dir = Path(html_dir)
    pages, broken = {}, []
    for path in html_dir.rglob("*.html"):
        if path.relative_to(html_dir).parts[0] in ("_static", "_sources"):  # theme templates, copies
            continue
        parser = _Links()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        pages[path.resolve()] = parser
    for path, parser in pages.items():
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:", "data:")):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if not target.exists():
                broken.append(f"{path.relative_to(html_dir.resolve())}: {link}")
            elif parts.fragment and target.suffix == ".html" and target in pages \
                    and parts.fragment not in pages[target].ids:
                broken.append(f"{path.relative_to(html_dir.resolve())}: {link} (no such anchor)")
    return sorted(broken)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--execute", action="store_true", help="re-run every notebook instead of using stored outputs")
    ap.add_argument("--strict", action="store_true", help="treat Sphinx warnings as errors (CI)")
    ap.add_argument("--repo-url", default=None, help="repository URL for the launch buttons (overrides book/_config.yml)")
    args = ap.parse_args(argv)

    GENERATED.mkdir(parents=True, exist_ok=True)
    (GENERATED / "_toc.yml").write_text(yaml.safe_dump(make_toc(), sort_keys=False))
    (GENERATED / "_config.yml").write_text(yaml.safe_dump(make_config(args.repo_url, args.execute), sort_keys=False))
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(ROOT),
               "--config", str(GENERATED / "_config.yml"), "--toc", str(GENERATED / "_toc.yml"),
               "--builder", "html", "--all"]
    if args.strict:
        command += ["--warningiserror", "--keep-going"]
    # Re-executed notebooks store text progress bars, as `make run-notebooks` does.
    status = subprocess.call(command, cwd=ROOT, env=dict(os.environ, D2LITE_PROGRESS="text"))
    if status:
        return status
    broken = broken_links(BUILD / "html")
    for link in broken:
        print("broken link:", link, file=sys.stderr)
    if broken:
        return 1
    print(f"book: {BUILD / 'html' / 'index.html'} (internal links checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
