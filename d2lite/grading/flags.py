"""Routes from a notebook to the reference implementations, found in its source for review by hand.

The grader judges behaviour, so a notebook that calls d2lite's own implementation passes;
it cannot tell who wrote the code, but it can point the instructor at the places that reach
for it: the exercise bank (`d2lite.exercises`) and the grading engine (`d2lite.grading`)
beyond its public `check`/`scoreboard`, in any import form the source shows (import
statements, `from d2lite import grading as G`, attribute chains, `importlib.import_module`,
`__import__`, `getattr`, `sys.modules`), code built at run time (`exec`, `eval`,
`compile`), and the `d2lite.scratch` component that an exercise asks the reader to write.
A determined author can still hide a route (a name assembled from pieces and then
imported, say); the flag catches the usual ones and every form the source spells out.
"""
import ast
import re

PUBLIC = {"check", "scoreboard", "ExerciseFailed"}
_WORD = re.compile(r"\b(?:d2lite\.)?(grading|exercises)\b")
_RUNTIME_CODE = {"exec", "eval", "compile"}


def _dotted(node):
    """'a.b.c' for a Name/Attribute chain, else ""."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id] + parts[::-1])
    return ""


def _func_name(call):
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


class _Finder(ast.NodeVisitor):
    def __init__(self):
        self.routes = []              # (how, names it reaches or None for the whole package)
        self.aliases = {}             # local name -> the d2lite module or name it stands for
        self.scratch = set()          # (d2lite.scratch name, the function or variable whose definition uses it)
        self.owner = None             # the top-level function or assigned name being visited

    def visit_FunctionDef(self, node):
        outer, self.owner = self.owner, self.owner or node.name
        self.generic_visit(node)
        self.owner = outer

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Assign(self, node):
        if self.owner is None:
            for target in node.targets:
                self.owner = target.id if isinstance(target, ast.Name) else None
                self.visit(node.value)
            self.owner = None
        else:
            self.generic_visit(node)

    def _bank(self, module, names, how):
        parts = module.split(".")
        if parts[:2] == ["d2lite", "grading"] and (len(parts) > 2 or set(names) - PUBLIC):
            self.routes.append((how, None if len(parts) > 2 else sorted(set(names) - PUBLIC) or None))
        elif parts[:2] == ["d2lite", "exercises"]:
            self.routes.append((how, sorted(names) or None))

    def visit_Import(self, node):
        for alias in node.names:
            if alias.name.split(".")[0] == "d2lite":
                self.aliases[alias.asname or "d2lite"] = alias.name if alias.asname else "d2lite"
                self._bank(alias.name, [], f"import {alias.name}")

    def visit_ImportFrom(self, node):
        module = node.module or ""
        names = [a.name for a in node.names]
        if module == "d2lite":
            for alias in node.names:
                self.aliases[alias.asname or alias.name] = f"d2lite.{alias.name}"
                if alias.name == "exercises":  # `grading` is flagged where a name beyond the public ones is used
                    self.routes.append((f"from d2lite import {alias.name}", None))
        elif module.startswith("d2lite.scratch"):
            for alias in node.names:
                self.scratch.add((alias.name, alias.asname or alias.name))
        else:
            for alias in node.names:
                self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
            self._bank(module, names, f"from {module} import {', '.join(names)}")

    def visit_Attribute(self, node):
        dotted = _dotted(node)
        head, _, rest = dotted.partition(".")
        full = f"{self.aliases[head]}.{rest}" if head in self.aliases and rest else ""
        parts = full.split(".")
        if parts[:2] == ["d2lite", "scratch"] and len(parts) > 2:
            self.scratch.add((parts[-1], self.owner))
        elif parts[:2] in (["d2lite", "grading"], ["d2lite", "exercises"]) and len(parts) > 2 \
                and not (parts[1] == "grading" and len(parts) == 3 and parts[2] in PUBLIC):
            self.routes.append((full, [parts[-1]]))
            return  # the chain is reported once, whole
        self.generic_visit(node)

    def visit_Call(self, node):
        name = _func_name(node)
        if name in _RUNTIME_CODE and not (node.args and isinstance(node.args[0], ast.Constant)):
            self.routes.append((f"{name}() of code built at run time", None))
        if name in ("import_module", "__import__") and node.args and not isinstance(node.args[0], ast.Constant):
            self.routes.append((f"{name}() of a module named at run time", None))
        if name == "getattr" and len(node.args) > 1 and self.aliases.get(_dotted(node.args[0]), "").count(".") < 2 \
                and self.aliases.get(_dotted(node.args[0]), "").startswith("d2lite") \
                and not (isinstance(node.args[1], ast.Constant)
                         and node.args[1].value in PUBLIC | {"scratch", "torch", "data"}):
            self.routes.append((f"getattr() on {self.aliases[_dotted(node.args[0])]}", None))
        self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, str) and "d2lite" in node.value and _WORD.search(node.value):
            self.routes.append((f"the name {node.value[:60]!r} in a string", None))


def _stem(name):
    return name.lower().replace("_", "")


def _scratch_components(part):
    """The d2lite.scratch names that do what `part` asks for: the function of the same name, or a class whose
    name starts the part's (`Linear` for `linear_forward`, `MaxPool2d` for `max_pool2d_backward`)."""
    from d2lite import scratch

    func = _stem(part.func)
    return {n for n in vars(scratch) if not n.startswith("_")
            and (_stem(n) == func or n[:1].isupper() and func.startswith(_stem(n)))}


def _owners(names, exercises):
    """The ids of the exercises whose part or reference is called one of `names`."""
    return [ex.id for ex in exercises
            if any(n in (p.func, getattr(p.reference, "__name__", "")) for p in ex.parts for n in names)]


def routes_to_references(sources, exercises):
    """One 'review by hand' sentence per route found in the code cells `sources`, saying which exercises it concerns."""
    finder = _Finder()
    for source in sources:
        try:
            finder.visit(ast.parse(source))
        except (SyntaxError, ValueError, RecursionError, MemoryError, SystemError):
            if _WORD.search(source) and "d2lite" in source:
                finder.routes.append(("a cell that cannot be parsed names d2lite's grading or exercises", None))
    found = []
    for how, names in finder.routes:
        owners = _owners(names, exercises) if names else []
        found.append(f"review by hand: the code reaches the references through {how} "
                     f"({'exercise ' + ', '.join(owners) if owners else 'any exercise of the chapter'})")
    for ex in exercises:
        for part in ex.parts:
            components = _scratch_components(part)
            used = sorted(name for name, owner in finder.scratch if owner == part.func and name in components)
            if used:
                found.append(f"review by hand: exercise {ex.id} asks for what d2lite.scratch.{used[0]} does, and "
                             f"`{part.func}` uses it")
    return list(dict.fromkeys(found))
