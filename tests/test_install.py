"""The set-up's choices, tested without the network: which torch build each platform gets
(tools/torch_install.py) and how `make test-matrix` finds Pythons and pins lower bounds (tools/matrix.py)."""
import importlib.util
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from test_packaging import tomllib

ROOT = Path(__file__).resolve().parents[1]
CPU = "https://download.pytorch.org/whl/cpu"


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


torch_install = load_tool("torch_install")
matrix = load_tool("matrix")


@pytest.mark.parametrize("system, machine", [("Linux", "x86_64"), ("Linux", "aarch64")])
def test_linux_gets_the_cpu_index_first_then_the_default_index(system, machine):
    assert torch_install.pip_commands(system, machine, "2.13.0") == [
        ["--index-url", CPU, "torch==2.13.0"], ["torch==2.13.0"]]


@pytest.mark.parametrize("system, machine", [("Darwin", "arm64"), ("Darwin", "x86_64"),
                                             ("Windows", "AMD64"), ("Linux", "ppc64le")])
def test_macos_windows_and_other_machines_use_the_default_index(system, machine):
    assert torch_install.pip_commands(system, machine, "2.2.0") == [["torch==2.2.0"]]


def test_an_existing_torch_is_kept_and_an_explicit_spec_is_installed_as_given():
    assert torch_install.pip_commands("Linux", "x86_64", "2.13.0", torch_present=True) == []
    cuda = "torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126"
    for present in (False, True):
        assert torch_install.pip_commands("Linux", "x86_64", "2.13.0", cuda, present) == [
            ["torch==2.13.0", "--index-url", "https://download.pytorch.org/whl/cu126"]]


class FakePip:
    def __init__(self, *statuses):
        self.calls, self.statuses = [], list(statuses)

    def __call__(self, args):
        self.calls.append(args)
        return self.statuses.pop(0)


def plan_for_linux():
    return torch_install.pip_commands("Linux", "x86_64", "2.13.0")


def test_unreachable_cpu_index_falls_back_with_one_line():
    pip, said, probed = FakePip(0), [], []
    status = torch_install.install(plan_for_linux(), pip, reachable=lambda url: probed.append(url) or False,
                                   say=said.append)
    assert status == 0 and probed == [CPU + "/torch/"]
    assert pip.calls == [["torch==2.13.0"]]
    assert len(said) == 1 and CPU in said[0] and "default package index" in said[0]


def test_reachable_cpu_index_installs_from_it_and_says_nothing():
    pip, said = FakePip(0), []
    assert torch_install.install(plan_for_linux(), pip, reachable=lambda url: True, say=said.append) == 0
    assert pip.calls == [["--index-url", CPU, "torch==2.13.0"]] and said == []


def test_failed_cpu_install_falls_back_and_a_failed_fallback_is_reported():
    pip, said = FakePip(1, 0), []
    assert torch_install.install(plan_for_linux(), pip, reachable=lambda url: True, say=said.append) == 0
    assert pip.calls == [["--index-url", CPU, "torch==2.13.0"], ["torch==2.13.0"]] and len(said) == 1
    assert torch_install.install([["torch==9"]], FakePip(1), reachable=None, say=said.append) == 1


def test_nothing_to_install_runs_nothing():
    assert torch_install.install([], FakePip(), reachable=None, say=None) == 0


def test_the_probe_gives_up_quickly_on_an_unreachable_address():
    # A closed local port: refused at once, no retries, no network needed.
    assert torch_install.index_reachable("http://127.0.0.1:9/whl/cpu/torch/", timeout=2) is False
    assert torch_install.index_reachable("not a url") is False


def test_dry_run_shows_a_linux_setup_would_fetch_the_cpu_build():
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "torch_install.py"), "--version", "2.13.0",
                          "--platform", "Linux/x86_64", "--dry-run"], capture_output=True, text=True, check=True)
    first, fallback = out.stdout.splitlines()
    assert first == f"pip install --index-url {CPU} torch==2.13.0"
    assert fallback.endswith("pip install torch==2.13.0")


def make_dry_run(*args):
    # Without the variables of a make that runs this test (make test-matrix does).
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "-n", "-B", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_setup_hands_the_torch_choice_to_the_script():
    assert "tools/torch_install.py --version 2.13.0 --spec ''" in make_dry_run("setup", "VENV=/nonexistent/venv")
    assert "--version 2.2.0 --spec 'torch --index-url X'" in make_dry_run(
        "setup", "VENV=/nonexistent/venv", "TORCH_VERSION=2.2.0", "TORCH_SPEC=torch --index-url X")


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_matrix_runs_every_python_and_ci_the_oldest_and_newest():
    assert make_dry_run("test-matrix", "PYTHON=py").strip() == (
        "py tools/matrix.py --suite full --lower-bounds 3.10 --pytest-args='' 3.10 3.11 3.12 3.13")
    assert make_dry_run("test-oldest-newest", "PYTHON=py", "PYTEST_ARGS=-x").strip() == (
        "py tools/matrix.py --suite core --pytest-args='-x' 3.10 3.13")


def test_lower_bound_pins_cover_every_requirement_in_pyproject():
    text = (ROOT / "pyproject.toml").read_text()
    meta = tomllib.loads(text)
    reqs = (meta["build-system"]["requires"] + meta["project"]["dependencies"]
            + [r for extra in meta["project"]["optional-dependencies"].values() for r in extra])
    pins = matrix.lower_bound_pins(text)
    assert len(pins) == len(reqs)
    for req, pin in zip(reqs, pins):
        name, bound = req.split(";")[0].replace(" ", "").split(",")[0].split(">=")
        assert pin == f"{name}=={bound}"
    assert "numpy==1.26" in pins and "torch==2.8" in pins


def test_supported_pythons_agree_in_pyproject_makefile_readme_and_ci():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    prefix = "Programming Language :: Python :: "
    classifiers = [c[len(prefix):] for c in meta["classifiers"] if c.startswith(prefix)]
    makefile = (ROOT / "Makefile").read_text()
    pythons = next(line.split("?=")[1].split() for line in makefile.splitlines() if line.startswith("PYTHONS ?="))
    assert classifiers == pythons
    assert meta["requires-python"] == f">={pythons[0]}"
    readme = (ROOT / "README.md").read_text()
    assert f"Python {pythons[0]} to {pythons[-1]}" in readme


def fake_python(path, prints, status=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {prints}\nexit {status}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.mark.skipif(os.name != "posix", reason="fake interpreters are shell scripts")
def test_find_python_takes_pyenvs_newest_patch_then_the_path(tmp_path):
    versions = tmp_path / "pyenv" / "versions"
    for patch in ("3.10.2", "3.10.13", "3.10.9", "3.10.14t"):
        fake_python(versions / patch / "bin" / "python3.10", "3.10")
    assert matrix.find_python("3.10", tmp_path / "pyenv") == str(versions / "3.10.13" / "bin" / "python3.10")
    # A shim that fails (pyenv's, when the version is not selected) is passed over.
    shim = fake_python(tmp_path / "bin" / "python3.12", "pyenv: python3.12: command not found", status=127)
    assert matrix.find_python("3.12", tmp_path / "pyenv", which=lambda name: str(shim)) is None
    on_path = fake_python(tmp_path / "bin2" / "python3.12", "3.12")
    assert matrix.find_python("3.12", tmp_path / "pyenv", which=lambda name: str(on_path)) == str(on_path)
    assert matrix.find_python("3.13", tmp_path / "pyenv", which=lambda name: None) is None


def test_summary_reads_pytests_closing_line_and_failures():
    log = ("collected 3 items\n"
           "FAILED tests/test_a.py::test_x - AssertionError: no\n"
           "ERROR tests/test_b.py - ModuleNotFoundError: No module named 'tomllib'\n"
           "=========== 1 passed, 1 failed, 1 error in 12.34s ===========\n")
    result, failures = matrix.summary(log)
    assert result == "1 passed, 1 failed, 1 error in 12.34s"
    assert failures == ["FAILED tests/test_a.py::test_x - AssertionError: no",
                        "ERROR tests/test_b.py - ModuleNotFoundError: No module named 'tomllib'"]
    assert matrix.summary("set-up only\n")[0] == "no pytest summary"


def test_an_absent_python_is_skipped_with_a_line(capsys, monkeypatch):
    monkeypatch.setattr(matrix, "find_python", lambda version: None)
    assert matrix.main(["3.10", "--lower-bounds", "3.10"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["Python 3.10: not found on this machine (pyenv or python3.10 on the PATH), skipped"] * 2
