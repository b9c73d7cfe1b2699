"""The HTML book's build script: table of contents from the folders, launch buttons, link check; binder/."""
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("yaml")
spec = importlib.util.spec_from_file_location("book_build", ROOT / "book" / "build.py")
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)


def fake_book(tmp_path, chapters):
    for chapter, sections in chapters.items():
        for section in sections:
            path = tmp_path / "chapters" / chapter / section
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("{}")
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "01_fundamentals.ipynb").write_text("{}")
    (tmp_path / "book").mkdir()
    return tmp_path


def test_toc_follows_the_chapter_folders_so_new_chapters_appear(tmp_path, monkeypatch):
    root = fake_book(tmp_path, {"00_introduction": ["01_a.ipynb"], "02_cnns": ["02_b.ipynb", "01_a.ipynb"],
                                "03_sequences": ["01_rnn.ipynb"], "04_training": [], "notes": ["x.ipynb"]})
    monkeypatch.setattr(build, "ROOT", root)
    toc = build.make_toc(root)
    captions = [part["caption"] for part in toc["parts"]]
    assert captions == ["0. Introduction", "2. Convolutional networks", "3. Sequences", "Exercises", "For instructors"]
    assert toc["parts"][1]["chapters"] == [{"file": "chapters/02_cnns/01_a"}, {"file": "chapters/02_cnns/02_b"}]
    assert toc["parts"][3]["chapters"] == [{"file": "exercises/01_fundamentals"}]
    assert toc["root"] == "book/index"


def test_the_real_toc_holds_the_introduction_the_exercises_and_no_solutions():
    files = re.findall(r"'file': '([^']+)'", str(build.make_toc()))
    assert "chapters/00_introduction/03_map_and_notation" in files
    assert "exercises/01_fundamentals" in files and "docs/grading" in files
    assert not any(f.startswith("solutions/") for f in files)
    for f in files:
        assert (ROOT / f).with_suffix(".ipynb").exists() or (ROOT / f).with_suffix(".md").exists(), f


def test_launch_buttons_only_with_a_repository_url():
    plain = build.make_config(repo_url="")
    assert "binderhub_url" not in plain["launch_buttons"] and plain["repository"]["url"] == ""
    assert plain["execute"]["execute_notebooks"] == "off"
    url = "https://github.com/example/d2lite"
    config = build.make_config(repo_url=url, execute=True)
    assert config["repository"]["url"] == url and config["html"]["use_repository_button"]
    assert config["launch_buttons"]["binderhub_url"] and config["launch_buttons"]["colab_url"]
    assert config["execute"]["execute_notebooks"] == "force"
    assert Path(config["sphinx"]["local_extensions"]["d2lite_book"]).is_dir()


def test_link_check_finds_missing_files_and_anchors(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.html").write_text('<a href="sub/b.html#here">ok</a> <img src="missing.png">'
                                     '<a href="https://example.org/x">external</a> <a href="#top" id="top">self</a>')
    (tmp_path / "sub" / "b.html").write_text('<h1 id="here">b</h1><a href="../a.html#nowhere">bad anchor</a>'
                                             '<a href="../a.html">ok</a>')
    assert build.broken_links(tmp_path) == ["a.html: missing.png", "sub/b.html: ../a.html#nowhere (no such anchor)"]


def test_chapter_titles_from_folder_names():
    assert build.chapter_title("02_cnns") == "2. Convolutional networks"
    assert build.chapter_title("05_applications") == "5. Applications"


def test_binder_environment_lists_the_same_packages_as_environment_yml():
    def packages(path):
        text = path.read_text().split("dependencies:", 1)[1]
        return {m.group(1) for m in re.finditer(r"^  - ([A-Za-z][^\s:#]*)\s*$", text, re.MULTILINE)}

    ours, binder = packages(ROOT / "environment.yml"), packages(ROOT / "binder" / "environment.yml")
    torch = next(p for p in ours if p.startswith("pytorch>="))  # binder asks for the same floor, CPU build
    assert binder == (ours - {torch}) | {torch.replace("pytorch", "pytorch-cpu", 1)}
    assert "pip install --no-deps -e ." in (ROOT / "binder" / "postBuild").read_text()
