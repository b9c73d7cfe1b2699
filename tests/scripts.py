"""Load a script of the repository (a benchmark, say) as a module, so that tests can call its functions."""
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_script(relative_path):
    """The module made by running ROOT / relative_path (its `if __name__ == "__main__"` part does not run)."""
    path = ROOT / relative_path
    if str(path.parent) not in sys.path:  # as when run: the script's folder is importable (benchmarks share helpers)
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
