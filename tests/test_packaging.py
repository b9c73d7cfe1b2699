"""The project's own files agree: pip and conda list the same dependencies; CI runs the README's command."""
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # tomli is tomllib before 3.11; d2lite depends on it there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge's name -> PyPI's name


def split_requirement(req):
    """('name', '>=bound') from 'name>=bound', dropping an environment marker ('; python_version...')."""
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*([^;]*)", req)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def pip_requirements():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = meta["dependencies"] + meta["optional-dependencies"]["test"]
    return dict(split_requirement(r) for r in reqs)


def conda_requirements():
    reqs = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        m = re.match(r"^  - ([A-Za-z][^\s:#]*)\s*$", line)
        if m:
            name, bound = split_requirement(m.group(1))
            reqs[CONDA_NAMES.get(name, name)] = bound
    reqs.pop("python"), reqs.pop("pip")
    return reqs


def test_conda_and_pip_list_the_same_dependencies_and_bounds():
    assert conda_requirements() == pip_requirements()


def test_bounds_are_lower_bounds_not_pins():
    for name, bound in pip_requirements().items():
        assert bound.startswith(">="), f"{name}: use a tested lower bound, not {bound!r}"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make lab" in readme
    assert re.search(r"^make test$", ci, re.MULTILINE)


