"""The book in a real browser: JupyterLab started the way `make lab` starts it, and the HTML book.

Headless Chromium (Debian's `chromium` package) driven by Playwright, which is told to use that
browser (it cannot download its own here). Screenshots go to _build/screenshots/ (CI artifacts).
Without a browser or Playwright these tests skip, with the reason, except in CI (CI is set), where
they fail: CI installs both (.ci/run).
"""
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
import pytest
from jupyter_servers import free_port, wait_until_up

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "_build" / "screenshots"
HTML = ROOT / "_build" / "html"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.timeout(240)


def _unavailable():
    if CHROMIUM is None:
        return "no chromium on PATH (Debian: apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[book]')"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def lab(browser, tmp_path_factory):
    """`NO_BROWSER=1 make lab` on a free port with a token. It runs in a copy of the notebooks it needs
    (JupyterLab saves what the test types; the repository's notebooks stay untouched), with the
    repository's Makefile and .venv; `make lab` serves the folder it runs in."""
    root = tmp_path_factory.mktemp("lab")
    for name in ("chapters/01_fundamentals/04_activation_functions.ipynb", "exercises/01_fundamentals.ipynb"):
        nb = nbformat.read(ROOT / name, as_version=4)
        for cell in nb.cells:   # without stored outputs, everything the test sees comes from this run
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, root / name)
    for name in ("pyproject.toml", "tools", "d2lite"):  # what the set-up depends on: make sees it as done
        (root / name).symlink_to(ROOT / name)
    # JupyterLab 4 draws only the cells in view; the test needs them all in the page.
    settings = root / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none", "autoStartDefaultKernel": true}')
    port, token = free_port(), uuid.uuid4().hex
    args = f"--port={port} --IdentityProvider.token={token} --ip=127.0.0.1"
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(root / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(root / "workspaces"))
    log = open(root / "lab.log", "w")
    server = subprocess.Popen(["make", "-s", "-f", str(ROOT / "Makefile"), "lab", f"VENV={ROOT / '.venv'}",
                               "NO_BROWSER=1", f"LAB_ARGS={args}"], cwd=root, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_until_up(url, token, server, 90):
            raise RuntimeError("JupyterLab did not start:\n" + (root / "lab.log").read_text()[-3000:])
        yield url, token
    finally:
        if server.poll() is None:
            os.killpg(server.pid, 15)  # the make process and the JupyterLab it started
            server.wait(timeout=30)
        log.close()


def open_notebook(browser, lab, path):
    url, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/lab/tree/{path}?reset&token={token}")   # reset: a fresh workspace, this notebook only
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    page.wait_for_selector(".jp-StatusBar-Widget :text('Python 3 (ipykernel) | Idle')", timeout=60_000)
    return page


def run_menu(page, item):
    page.click(".lm-MenuBar-itemLabel:text-is('Run')")
    page.click(f".lm-Menu-itemLabel:text-is('{item}')")


def wait_until_idle(page, timeout=120_000):
    page.wait_for_function(
        "() => ![...document.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'))"
        " && document.querySelector(\".jp-Notebook-ExecutionIndicator[data-status='idle']\")",
        timeout=timeout)


def test_chapter_notebook_runs_and_its_slider_redraws_the_figure(browser, lab):
    page = open_notebook(browser, lab, "chapters/01_fundamentals/04_activation_functions.ipynb")
    run_menu(page, "Run All Cells")
    page.wait_for_function(  # every code cell has run: each prompt shows its execution count
        "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"
        ".every(p => /\\[\\d+\\]/.test(p.textContent))", timeout=150_000)
    wait_until_idle(page)
    errors = page.locator("[data-mime-type='application/vnd.jupyter.error']")
    assert errors.count() == 0, errors.first.inner_text()
    explorer = page.locator(".jp-OutputArea-output .widget-vbox").first
    explorer.scroll_into_view_if_needed()
    picture = explorer.locator("img").first
    before = picture.get_attribute("src")
    page.screenshot(path=str(SHOTS / "lab_explorer_before.png"))
    handle = explorer.locator(".widget-slider .noUi-handle").first   # weight w
    handle.focus()
    for _ in range(5):
        handle.press("ArrowRight")
    page.wait_for_function("([el, src]) => el.querySelector('img') && el.querySelector('img').src !== src",
                           arg=[explorer.element_handle(), before], timeout=30_000)
    assert explorer.locator(".widget-readout").first.inner_text() != "1.50"
    page.screenshot(path=str(SHOTS / "lab_explorer_after.png"))
    page.close()


def replace_cell_source(page, cell, code):
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code)


def submit(page, answer, check, code, screenshot):
    """Type `code` into the answer cell, run it and the check cell below; the check's output text."""
    replace_cell_source(page, answer, code)
    page.keyboard.press("Shift+Enter")   # runs the answer and moves to the check cell
    prompt = check.locator(".jp-InputPrompt")
    before = prompt.inner_text()
    page.keyboard.press("Shift+Enter")
    page.wait_for_function("([el, old]) => el.textContent !== old && /\\[\\d+\\]/.test(el.textContent)",
                           arg=[prompt.element_handle(), before], timeout=60_000)
    check.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / screenshot))
    return check.locator(".jp-OutputArea").inner_text()


def test_exercise_feedback_for_a_right_and_a_wrong_answer(browser, lab):
    page = open_notebook(browser, lab, "exercises/01_fundamentals.ipynb")
    cells = page.locator(".jp-Notebook .jp-Cell")
    answer = cells.filter(has_text="def linear_forward").first
    check = cells.filter(has_text='check("1.1"').first
    answer.click()
    run_menu(page, "Run All Above Selected Cell")   # the imports
    page.wait_for_function("() => /\\[\\d+\\]/.test(document.querySelector('.jp-CodeCell .jp-InputPrompt').textContent)",
                           timeout=60_000)

    feedback = submit(page, answer, check, "def linear_forward(x, W, b):\n    return x @ W + b",
                      "lab_exercise_right.png")
    assert "PASS, 2/2 points" in feedback, feedback

    feedback = submit(page, answer, check, "def linear_forward(x, W, b):\n    return x @ W.T + b",
                      "lab_exercise_wrong.png")
    assert "FAIL, 0/2 points" in feedback, feedback
    assert "you multiplied by W transposed" in feedback, feedback
    page.close()


@pytest.fixture(scope="module")
def book(browser):
    """The HTML book: built once here unless `make book` built it already."""
    if not (HTML / "chapters" / "00_introduction" / "02_history.html").exists():
        subprocess.run([sys.executable, str(ROOT / "book" / "build.py")], cwd=ROOT, check=True)
    return HTML


def test_html_book_renders_math_figures_and_the_notebook_box(browser, book):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto((book / "index.html").as_uri())
    page.wait_for_selector("nav.bd-links a:text-is('0.1 What deep learning is, and a network in the first minute')")
    assert page.locator("form.bd-search input, .search-button-field").count() > 0   # a search box
    page.screenshot(path=str(SHOTS / "book_index.png"))
    page.goto((book / "search.html").as_uri() + "?q=backpropagation")   # the search works offline
    page.wait_for_selector("#search-results li a:has-text('Backpropagation and the chain rule')", timeout=30_000)

    page.goto((book / "chapters" / "00_introduction" / "03_map_and_notation.html").as_uri())
    page.wait_for_function(  # MathJax (2, shipped offline) has typeset every formula of the page
        "() => { const spans = [...document.querySelectorAll('span.math.notranslate')];"
        " return spans.length > 20 && spans.every(s => s.querySelector('.MathJax')); }", timeout=30_000)
    notation = page.locator("table").nth(1).inner_text()
    assert "\\mathbf" not in notation and "C_\\text" not in notation   # no raw TeX left in the table
    page.screenshot(path=str(SHOTS / "book_notation.png"), full_page=True)

    page.goto((book / "chapters" / "00_introduction" / "02_history.html").as_uri())
    images = page.locator(".cell_output img")
    assert images.count() >= 2
    for i in range(images.count()):
        assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 100")
    box = page.locator(".d2lite-notebook")
    assert "chapters/00_introduction/02_history.ipynb" in box.inner_text() and "make lab" in box.inner_text()
    assert box.locator("a").get_attribute("href").endswith("_sources/chapters/00_introduction/02_history.ipynb")
    page.screenshot(path=str(SHOTS / "book_history.png"), full_page=True)
    page.close()
