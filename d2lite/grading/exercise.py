"""What an exercise is: parts the reader implements, cases each part is tried on, known mistakes.

A part names the reader's function and a `reference` with the same signature.
Each case's arguments go through a `driver` (by default: call the function on
them) once with the reference and once with the reader's function, on separate
copies, and the two results are compared. Known wrong implementations
(`Mistake`s) run the same way; when the reader's output matches one of them,
its hint says what probably went wrong.
"""
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable, Optional


def call(fn, *args):
    """The default driver: just call the function."""
    return fn(*args)


@dataclass
class Case:
    name: str                      # what this case tries, in words ("a batch of one row")
    args: tuple
    hint: str = ""                 # said when this case fails and no Mistake matches


@dataclass
class Mistake:
    fn: Callable                   # a wrong implementation with the reference's signature
    hint: str                      # what the reader probably did, and how to fix it


@dataclass
class Part:
    func: str                      # the name of the reader's function
    reference: Optional[Callable]   # same signature as the reader's; None when `judge` needs no expected output
    cases: Callable[[], list]      # builds the cases (deterministic: seeded inside)
    points: float = 1.0
    mistakes: list = field(default_factory=list)
    driver: Callable = call        # driver(fn, *args) -> what is compared
    judge: Optional[Callable] = None  # judge(got, expected) -> None or a message; default compares
    rtol: float = 1e-6
    atol: float = 1e-8
    output_names: tuple = ()       # names of the items when the output is a tuple ("dx", "dW", ...)
    mutates: tuple = ()            # indices of arguments the function is meant to change
    strict_float: bool = False     # run under np.errstate(over/invalid="raise") to catch overflow
    timeout: float = 10.0          # seconds per call of the reader's function


@dataclass
class Exercise:
    id: str                        # "1.4"
    title: str
    parts: list
    chapter: str = ""              # the notebook stem, "01_fundamentals"

    @property
    def points(self):
        return sum(p.points for p in self.parts)


def layer_gradients(layer, x, dout):
    """A reference for backward exercises: `layer`'s input gradient, then its parameters' gradients."""
    layer.zero_grad()
    layer.forward(x)
    dx = layer.backward(dout)
    return (dx, *(p.grad for p in layer.parameters()))


_REGISTRY: dict = {}


def register(chapter, *exercises):
    """Make exercises known to `check` and to the grader."""
    for ex in exercises:
        ex.chapter = chapter
        _REGISTRY[ex.id] = ex


def get_exercise(exercise_id):
    _load_all()
    try:
        return _REGISTRY[str(exercise_id)]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY, key=_id_key))
        raise KeyError(f"No exercise {exercise_id!r}; known exercises: {known}") from None


def exercises_of(chapter):
    """The exercises of one chapter notebook (e.g. "01_fundamentals"), in order."""
    _load_all()
    return sorted((e for e in _REGISTRY.values() if e.chapter == chapter), key=lambda e: _id_key(e.id))


def chapters():
    """The chapters that have exercises (notebook stems such as "01_fundamentals"), in order."""
    _load_all()
    return sorted({e.chapter for e in _REGISTRY.values()})


def _id_key(exercise_id):
    return tuple(int(x) for x in exercise_id.split("."))


def _load_all():
    """Import every chapter module of the bank, d2lite.exercises (each registers its exercises)."""
    import d2lite.exercises as bank
    for module in pkgutil.iter_modules(bank.__path__):
        importlib.import_module(f"{bank.__name__}.{module.name}")
