"""The environment fingerprint, drift warnings and `d2lite doctor`."""
import json

from packaging.requirements import Requirement

import d2lite
import d2lite.grading.environment as environment
from d2lite import cli
from d2lite.grading.environment import FINGERPRINT_KEY, bank_hash, drift, fingerprint, notebook_fingerprint


def test_the_fingerprint_names_versions_and_the_bank():
    fp = fingerprint()
    assert set(fp) == {"python", "numpy", "torch", "d2lite", "bank"}
    assert fp["d2lite"] == d2lite.__version__ and fp["numpy"] == __import__("numpy").__version__
    assert len(fp["bank"]) == 16 and bank_hash("01_fundamentals") != bank_hash("02_cnns") != fp["bank"]


def test_drift_names_what_differs():
    ours = {"python": "3.11.7", "numpy": "2.1.0", "torch": "2.5.0", "d2lite": "0.1.0", "bank": "aaaa"}
    assert drift(dict(ours), ours) == []
    said = drift(dict(ours, numpy="1.26.4", bank="bbbb"), ours)
    assert said[0].startswith("the exercises changed since the notebook was last checked (exercise bank bbbb")
    assert said[1] == "NumPy 1.26.4 where the notebook last ran, 2.1.0 in the grader"


def test_the_notebook_fingerprint_is_the_last_check_output():
    out = lambda fp: {"output_type": "display_data", "data": {}, "metadata": {FINGERPRINT_KEY: fp}}
    nb = {"cells": [{"cell_type": "code", "outputs": [out({"numpy": "1"})]},
                    {"cell_type": "markdown"}, {"cell_type": "code", "outputs": [out({"numpy": "2"})]}]}
    assert notebook_fingerprint(nb) == {"numpy": "2"}
    assert notebook_fingerprint({"cells": [{"cell_type": "code", "outputs": []}]}) is None
    assert notebook_fingerprint([1, 2]) is None


def test_check_stores_the_fingerprint_in_its_output(monkeypatch):
    import IPython.display

    import d2lite.plotting
    from d2lite.grading import check

    shown = []
    monkeypatch.setattr(d2lite.plotting, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda data, raw, metadata=None: shown.append(metadata))
    check("1.1", lambda x, W, b: x @ W + b)
    assert shown == [{FINGERPRINT_KEY: fingerprint()}]


def test_grade_warns_about_a_notebook_checked_under_another_bank(tmp_path, capsys):
    nb = {"cells": [{"cell_type": "code", "outputs": [{"metadata": {FINGERPRINT_KEY: dict(fingerprint(), bank="0" * 16)}}]}]}
    path = tmp_path / "01_fundamentals.ipynb"
    path.write_text(json.dumps(nb))
    cli._drift_warnings([path])
    assert f"Warning: {path}: the exercises changed since the notebook was last checked" in capsys.readouterr().err


def test_doctor_passes_here_and_fails_on_a_missing_requirement(monkeypatch, capsys):
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "numpy" in out and "Everything d2lite needs is installed." in out
    real = environment._requirements
    monkeypatch.setattr(environment, "_requirements",
                        lambda: real() + [Requirement("numpy>=999"), Requirement("no-such-package-d2lite>=1")])
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "does not satisfy >=999: pip install --upgrade 'numpy>=999'" in out
    assert "no-such-package-d2lite" in out and "not installed: pip install 'no-such-package-d2lite>=1'" in out
    assert "2 problem(s) found." in out
