"""Budget exercises ("build a model that reaches X within Y parameters"), measured where the reader cannot reach.

The reader's `build()` runs in the submission's kernel, which can be made to say
anything; so the kernel only hands the model over, and every number the verdict
rests on is computed in the grader:

1. Kernel side, `hand_over`: build the model, trace its forward pass with
   `torch.export` (batch size left free) and send it as plain data: a small JSON
   graph of ATen operator calls, and every tensor the forward pass reads
   (parameters, buffers, constants) as raw arrays.
2. Grader side, `Program.read`: rebuild the graph from that data. Only operators
   on an allow-list are run, each looked up by name in `torch.ops`; nothing is
   unpickled and no code from the notebook is ever loaded (`torch.export.load`
   is not used: in PyTorch 2.13 it unpickles tensors with `weights_only=False`,
   and its format parses shape expressions with SymPy).
3. `judge` counts every tensor the forward pass reads, finds the
   convolutions that actually run (reached from the output, sliding over more
   than one position), probes a batch of one against a larger batch, then draws
   fresh weights itself (so a model trained inside `build()` gains nothing) and
   trains and evaluates it with the exercise's fixed `Recipe`, on several seeds.
"""
import functools
import json
import math
import operator
from dataclasses import dataclass, field

import numpy as np

MAX_GRAPH_BYTES = 1 << 20
MAX_NODES = 400
MAX_LITERAL = 1 << 22  # the largest number, or product of a list of integers (a shape), an operator may be given
_KINDS = {"PARAMETER": "parameter", "BUFFER": "buffer", "CONSTANT_TENSOR": "constant", "USER_INPUT": "input"}
_DTYPES = {"float32", "float64", "float16", "int64", "int32", "int8", "uint8", "bool"}
_CONV_OPS = {"aten.conv1d.default", "aten.conv2d.default", "aten.conv3d.default", "aten.convolution.default",
             "aten.im2col.default"}
# the ATen operators a small network's forward pass uses; anything else is refused with its name
_ATEN = """
conv1d.default conv2d.default conv3d.default convolution.default im2col.default linear.default matmul.default
mm.default addmm.default bmm.default t.default
relu.default relu_.default leaky_relu.default gelu.default sigmoid.default tanh.default silu.default elu.default
hardtanh.default softplus.default softmax.int _softmax.default log_softmax.int _log_softmax.default
max_pool2d.default max_pool2d_with_indices.default avg_pool2d.default adaptive_avg_pool2d.default
adaptive_max_pool2d.default max_pool1d.default avg_pool1d.default
batch_norm.default layer_norm.default group_norm.default dropout.default
flatten.using_ints view.default reshape.default _unsafe_view.default permute.default transpose.int contiguous.default
clone.default unfold.default unsqueeze.default squeeze.default squeeze.dim squeeze.dims expand.default
select.int slice.Tensor
cat.default stack.default split.Tensor chunk.default pad.default constant_pad_nd.default
add.Tensor add.Scalar add_.Tensor sub.Tensor sub.Scalar rsub.Scalar mul.Tensor mul.Scalar div.Tensor div.Scalar
neg.default pow.Tensor_Scalar exp.default log.default sqrt.default rsqrt.default abs.default clamp.default
clamp_min.default maximum.default minimum.default
mean.dim mean.default sum.dim_IntList sum.default amax.default max.dim max.default logsumexp.default
sym_size.int lift_fresh_copy.default detach_.default detach.default alias.default
_assert_scalar.default sym_constrain_range_for_size.default
"""
_OPERATOR = {name: getattr(operator, name) for name in
             ("getitem", "add", "sub", "mul", "floordiv", "truediv", "neg", "eq", "ne", "lt", "le", "gt", "ge")}
_TRAINING_FLAG = {"aten.dropout.default": 2, "aten.batch_norm.default": 5}  # the argument that says "training"


class BudgetError(ValueError):
    """The handed-over model breaks a rule; the message says which and what to do."""


# ---- kernel side --------------------------------------------------------------------------------------------

def _op_name(target):
    import torch

    if isinstance(target, torch._ops.OpOverload):
        return f"{target.namespace}.{target._opname}.{target._overloadname}"
    if getattr(target, "__module__", "") in ("_operator", "operator"):
        return f"operator.{target.__name__}"
    return repr(target)[:80]


def _arg(value):
    import torch

    if isinstance(value, torch.fx.Node):
        return {"n": value.name}
    if isinstance(value, (list, tuple)):
        return [_arg(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": repr(value)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, torch.dtype):
        return {"dtype": str(value).removeprefix("torch.")}
    if isinstance(value, (torch.device, torch.layout, torch.memory_format)):
        return {"ignored": str(value)}
    raise BudgetError(f"its forward pass passes a {type(value).__name__} to an operator, which the grader cannot "
                      "send; use tensors and numbers only")


def hand_over(build, input_shape):
    """Kernel side: `build()`'s model as plain data, (JSON graph as uint8 bytes, tuple of arrays)."""
    import torch
    from torch.export import Dim, export

    model = build()
    if isinstance(model, type) or not isinstance(model, torch.nn.Module):
        raise TypeError(f"{getattr(build, '__name__', 'build')}() must return a model instance (a torch.nn.Module), "
                        f"got {model!r:.60}")
    model = model.to("cpu").train()
    try:
        program = export(model, (torch.zeros(2, *input_shape),),
                         dynamic_shapes=({0: Dim("batch", min=1, max=1 << 16)},))
    except Exception as e:
        first = str(e).strip().splitlines()[0][:300] if str(e).strip() else ""
        shape = ", ".join(map(str, input_shape))
        raise BudgetError(f"its forward pass could not be traced on a batch of shape (N, {shape}) for every batch "
                          f"size N ({type(e).__name__}: {first}). Use only torch operations on the input (no NumPy, "
                          "no Python branches on its values, no fixed batch size).") from None
    signature = program.graph_signature
    specs = {spec.arg.name: spec for spec in signature.input_specs}
    inputs, arrays, nodes, output = [], [], [], None
    for node in program.graph.nodes:
        if node.op == "placeholder":
            spec = specs[node.name]
            kind = _KINDS.get(spec.kind.name)
            if kind is None:
                raise BudgetError(f"its forward pass reads a {spec.kind.name.lower()}, which the grader does not "
                                  "accept")
            inputs.append({"name": node.name, "kind": kind, "target": spec.target})
            if kind != "input":
                tensor = (program.state_dict if spec.target in program.state_dict else program.constants)[spec.target]
                if not isinstance(tensor, torch.Tensor) or str(tensor.dtype).removeprefix("torch.") not in _DTYPES:
                    raise BudgetError(f"`{spec.target}` is not a plain tensor of numbers")
                arrays.append(tensor.detach().cpu().contiguous().numpy())
        elif node.op == "call_function":
            nodes.append({"name": node.name, "op": _op_name(node.target), "args": _arg(node.args),
                          "kwargs": {k: _arg(v) for k, v in node.kwargs.items()}})
        elif node.op == "output":
            outputs = [s for s in signature.output_specs]
            if len(outputs) != 1 or outputs[0].kind.name != "USER_OUTPUT":
                raise BudgetError("the forward pass must return one tensor (the logits) and change no buffer in a "
                                  "way the grader cannot follow")
            output = outputs[0].arg.name
        else:
            raise BudgetError(f"its traced graph holds a {node.op} node, which the grader does not run")
    graph = json.dumps({"inputs": inputs, "nodes": nodes, "output": output}).encode()
    return np.frombuffer(graph, dtype=np.uint8).copy(), tuple(arrays)


# ---- grader side --------------------------------------------------------------------------------------------

def _allowed_ops():
    import torch

    ops = {f"operator.{name}": fn for name, fn in _OPERATOR.items()}
    for name in _ATEN.split():
        packet, overload = name.rsplit(".", 1)
        ops[f"aten.{name}"] = getattr(getattr(torch.ops.aten, packet), overload)
    return ops


def _check_arg(value, names, depth=0):
    """Raise BudgetError unless `value` is a well-formed argument referring only to earlier nodes."""
    if depth > 6:
        raise BudgetError("an operator argument is nested too deeply")
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, str) and len(value) > 40:
            raise BudgetError("an operator argument is a long string")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) > MAX_LITERAL:
            raise BudgetError(f"an operator is given the number {value:g}, far larger than a small model needs")
        return
    if isinstance(value, list):
        if len(value) > 64:
            raise BudgetError("an operator argument is a long list")
        if value and all(type(v) is int for v in value) and math.prod(abs(v) for v in value) > MAX_LITERAL:
            raise BudgetError(f"an operator is given the shape {value}, far larger than a small model needs")
        for v in value:
            _check_arg(v, names, depth + 1)
        return
    if isinstance(value, dict) and len(value) == 1:
        (key, v), = value.items()
        if key == "n" and v in names or key == "dtype" and v in _DTYPES or key == "ignored" and isinstance(v, str) \
                or key == "float" and v in ("inf", "-inf", "nan"):
            return
    raise BudgetError(f"a malformed operator argument ({str(value)[:60]})")


def _resolve(value, env):
    import torch

    if isinstance(value, list):
        return [_resolve(v, env) for v in value]
    if isinstance(value, dict):
        key, v = next(iter(value.items()))
        return {"n": lambda: env[v], "dtype": lambda: getattr(torch, v), "ignored": lambda: None,
                "float": lambda: float(v)}[key]()
    return value


@dataclass
class Program:
    """A handed-over model: its graph (validated) and the tensors it reads, by name."""
    inputs: list                 # dicts: name, kind, target
    nodes: list                  # dicts: name, op, args, kwargs
    output: str
    tensors: dict                # target -> torch.Tensor
    ops: dict = field(default_factory=dict, repr=False)

    @classmethod
    def read(cls, got):
        """Grader side: the Program `hand_over` described; raises BudgetError when it is malformed."""
        import torch

        try:
            raw, arrays = got
            if not (isinstance(raw, np.ndarray) and raw.dtype == np.uint8 and raw.ndim == 1
                    and len(raw) <= MAX_GRAPH_BYTES):
                raise TypeError
            graph = json.loads(raw.tobytes().decode("utf-8"))
            inputs, nodes, output = graph["inputs"], graph["nodes"], graph["output"]
        except (TypeError, ValueError, KeyError, RecursionError):
            raise BudgetError("the kernel's description of the model is malformed") from None
        if not (isinstance(inputs, list) and isinstance(nodes, list) and isinstance(arrays, (tuple, list))):
            raise BudgetError("the kernel's description of the model is malformed")
        if len(nodes) > MAX_NODES:
            raise BudgetError(f"its forward pass runs {len(nodes)} operations; the grader accepts at most {MAX_NODES}")
        ops = _allowed_ops()
        names, tensors, user = set(), {}, 0
        for spec in inputs:
            if not (isinstance(spec, dict) and spec.get("kind") in _KINDS.values()
                    and isinstance(spec.get("name"), str)):
                raise BudgetError("the kernel's description of the model is malformed")
            names.add(spec["name"])
            if spec["kind"] == "input":
                user += 1
                continue
            if len(tensors) >= len(arrays) or not isinstance(arrays[len(tensors)], np.ndarray) \
                    or arrays[len(tensors)].dtype.kind not in "biuf":
                raise BudgetError("the model's tensors do not match its graph")
            tensors[str(spec["target"])] = torch.from_numpy(np.array(arrays[len(tensors)]))
        if user != 1 or len(tensors) != len(arrays):
            raise BudgetError("the model must take exactly one input (the batch of images)")
        for node in nodes:
            if not (isinstance(node, dict) and isinstance(node.get("name"), str) and isinstance(node.get("args"), list)
                    and isinstance(node.get("kwargs"), dict)):
                raise BudgetError("the kernel's description of the model is malformed")
            if node.get("op") not in ops:
                op = str(node.get("op"))[:80]
                raise BudgetError(f"its forward pass calls `{op}`, which the grader does not run; "
                                  "build the model from standard layers (convolutions, pooling, linear layers, "
                                  "activations, reshapes)")
            _check_arg(node["args"], names)
            _check_arg(list(node["kwargs"].values()), names)
            names.add(node["name"])
        if output not in names:
            raise BudgetError("the kernel's description of the model is malformed")
        return cls(inputs, nodes, output, tensors, ops)

    def size(self):
        """The number of values the forward pass reads: parameters, buffers and constants."""
        return sum(t.numel() for t in self.tensors.values())

    def live(self):
        """The names of the nodes that the output depends on."""
        by_name = {n["name"]: n for n in self.nodes}
        alive, todo = set(), [self.output]
        while todo:
            name = todo.pop()
            if name in alive:
                continue
            alive.add(name)
            if name in by_name:
                todo.extend(_refs([by_name[name]["args"], list(by_name[name]["kwargs"].values())]))
        return alive

    def fresh_state(self, seed):
        """New starting values drawn by the grader: each parameter of two or more dimensions uniform in
        ±1/√fan_in (PyTorch's default for linear and convolution layers), a constant parameter (such as a
        normalisation's scale) kept, any other zero; buffers and constants as handed over (they must be
        constant-filled, see `measure`)."""
        import torch

        gen = torch.Generator().manual_seed(seed)
        state = {}
        for spec in self.inputs:
            if spec["kind"] == "input":
                continue
            t = self.tensors[spec["target"]].clone()
            if spec["kind"] == "parameter":
                t = t.float()
                if t.ndim >= 2 and not _constant(t):
                    bound = 1 / math.sqrt(max(1, math.prod(t.shape[1:])))
                    t = (torch.rand(t.shape, generator=gen) * 2 - 1) * bound
                elif not _constant(t):
                    t = torch.zeros_like(t)
                t.requires_grad_(True)
            state[spec["target"]] = t
        return state

    def run(self, state, x, training, watch=None):
        """The forward pass on `x` with the tensors of `state`; `watch(node, args, value)` sees every call."""
        env = {}
        for spec in self.inputs:
            env[spec["name"]] = x if spec["kind"] == "input" else state[spec["target"]]
        for node in self.nodes:
            args = _resolve(node["args"], env)
            if node["op"] in _TRAINING_FLAG and len(args) > _TRAINING_FLAG[node["op"]]:
                args[_TRAINING_FLAG[node["op"]]] = training
            env[node["name"]] = value = self.ops[node["op"]](*args, **_resolve_kwargs(node["kwargs"], env))
            if watch is not None:
                watch(node, args, value)
        return env[self.output]


def _resolve_kwargs(kwargs, env):
    return {k: _resolve(v, env) for k, v in kwargs.items() if not (isinstance(v, dict) and "ignored" in v)}


def _refs(value):
    if isinstance(value, list):
        for v in value:
            yield from _refs(v)
    elif isinstance(value, dict) and "n" in value:
        yield value["n"]


def _constant(t):
    return t.numel() == 0 or bool((t == t.reshape(-1)[0]).all())


@dataclass
class Recipe:
    """How the grader trains every model of one exercise: SGD with momentum, fixed, on several seeds."""
    epochs: int
    lr: float
    momentum: float = 0.9
    batch_size: int = 32
    seeds: tuple = (0, 1, 2)


@dataclass
class Budget:
    """The rules of one budget exercise."""
    input_shape: tuple            # one example, e.g. (1, 16, 16)
    classes: int
    max_values: int               # parameters + buffers + constants
    max_mult_adds: int            # per example, in convolutions and matrix products
    max_activations: int          # values computed per example
    min_accuracy: float           # mean test accuracy over the recipe's seeds
    recipe: Recipe
    data: object                  # data(seed=s) -> Split with X of shape (N, *input_shape)
    min_convolutions: int = 0
    max_loss: float = math.inf    # mean test cross-entropy (nats) over the recipe's seeds


_PRODUCTS = {"aten.linear.default": 0, "aten.matmul.default": 0, "aten.mm.default": 0, "aten.bmm.default": 0,
             "aten.addmm.default": 1}  # operator -> the argument whose last dimension is summed over


def _mult_adds(op, args, out):
    if op in _CONV_OPS and op != "aten.im2col.default":
        return out.numel() * args[1][0].numel()      # each output value: C_in/groups · kh · kw products
    if op in _PRODUCTS:
        return out.numel() * args[_PRODUCTS[op]].shape[-1]
    return 0


_RESHAPES = {"aten.view.default", "aten.reshape.default", "aten._unsafe_view.default", "aten.transpose.int",
             "aten.permute.default", "aten.contiguous.default", "aten.clone.default", "aten.flatten.using_ints",
             "aten.unsqueeze.default", "aten.expand.default", "aten.t.default"}


def probe(program, state, x, max_activations=None):
    """Run `x` through the model in evaluation mode; returns (output, convolutions, multiply-adds, values computed).
    Stops with a BudgetError as soon as more than `max_activations` values have been computed.

    A convolution counts when it runs, feeds the output and slides over more than one position: a
    convolution operator, or a matrix product with windows unfolded by `F.unfold` (im2col) or
    `Tensor.unfold`, as d2lite.torch.Conv2d computes it. Unfolding alone (as an unfold-based max pool
    does) is not one.
    """
    import torch

    alive = program.live()
    counts = {"convolutions": 0, "mult_adds": 0, "activations": 0}
    windows = {}  # node name -> positions, for unfolded windows and their reshapes

    def watch(node, args, value):
        tensors = [v for v in (value if isinstance(value, (tuple, list)) else [value]) if isinstance(v, torch.Tensor)]
        if not tensors:
            return
        out, op = tensors[0], node["op"]
        counts["activations"] += sum(t.numel() for t in tensors)
        if max_activations is not None and counts["activations"] > max_activations:
            raise BudgetError(f"it computes more than {max_activations // len(x):,} values per example, the limit. "
                              "Pool earlier or use fewer channels")
        counts["mult_adds"] += _mult_adds(op, args, out)
        sources = [windows[n] for n in _refs(node["args"]) if n in windows]
        if op == "aten.im2col.default":
            windows[node["name"]] = out.shape[-1]
        elif op == "aten.unfold.default":  # Tensor.unfold(dim, size, step): windows along one dimension
            windows[node["name"]] = out.shape[args[1]] * (sources[0] if sources else 1)
        elif op in _RESHAPES and sources:
            windows[node["name"]] = sources[0]
        if node["name"] not in alive:
            return
        if op in _CONV_OPS and op != "aten.im2col.default":
            counts["convolutions"] += math.prod(out.shape[2:]) > 1
        elif op in _PRODUCTS and sources:
            counts["convolutions"] += sources[0] > 1

    with torch.no_grad():
        out = program.run(state, x, training=False, watch=watch)
    return out, counts["convolutions"], counts["mult_adds"], counts["activations"]


def _train(program, budget, seed):
    """(test accuracy, test cross-entropy) after training fresh weights drawn for `seed` with the recipe, on
    `budget.data(seed=seed)`."""
    import torch
    import torch.nn.functional as F

    recipe, split = budget.recipe, budget.data(seed=seed)
    state = program.fresh_state(seed)
    params = [state[s["target"]] for s in program.inputs if s["kind"] == "parameter"]
    X, y = torch.from_numpy(np.ascontiguousarray(split.X_train)), torch.from_numpy(np.asarray(split.y_train))
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.SGD(params, lr=recipe.lr, momentum=recipe.momentum) if params else None
    for _ in range(recipe.epochs if optimizer else 0):
        order = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X) - recipe.batch_size + 1, recipe.batch_size):  # full batches only
            batch = order[start:start + recipe.batch_size]
            loss = F.cross_entropy(program.run(state, X[batch], training=True), y[batch])
            if not torch.isfinite(loss):
                return 0.0, math.inf
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    correct, total_loss = 0, 0.0
    with torch.no_grad():
        for start in range(0, len(split.X_test), 500):
            xb = torch.from_numpy(np.ascontiguousarray(split.X_test[start:start + 500]))
            yb = torch.from_numpy(np.asarray(split.y_test[start:start + 500]))
            logits = program.run(state, xb, training=False)
            correct += int((logits.argmax(1) == yb).sum())
            total_loss += float(F.cross_entropy(logits.float(), yb, reduction="sum"))
    return correct / len(split.X_test), total_loss / len(split.X_test)


def _check_static(program, budget):
    """Why the model breaks a rule that needs no running, or ""."""
    size = program.size()
    if size > budget.max_values:
        return (f"it reads {size:,} values (parameters, buffers and constants); the budget is {budget.max_values:,}. "
                "Convolutions share their weights: use fewer or narrower fully connected layers")
    for spec in program.inputs:
        tensor = program.tensors.get(spec["target"])
        if spec["kind"] in ("buffer", "constant") and not _constant(tensor):
            return (f"its forward pass reads `{spec['target']}`, a tensor that is not a registered parameter and holds "
                    "varied values. Every learned tensor must be an nn.Parameter (an attribute of the module or in an "
                    "nn.ParameterList) so that it is counted and trained")
        if spec["kind"] == "parameter" and not tensor.is_floating_point():
            return f"its parameter `{spec['target']}` is not a floating-point tensor"
    return ""


def _check_probe(program, budget):
    """Why the model fails on a batch of one or breaks the compute budget, or ""; and the convolutions counted."""
    import torch

    split = budget.data(seed=budget.recipe.seeds[0])
    state = program.fresh_state(0)
    x = torch.from_numpy(np.ascontiguousarray(split.X_test[:5]))
    want = (budget.classes,)
    one, convolutions, mult_adds, _ = probe(program, state, x[:1], budget.max_activations)
    if not (isinstance(one, torch.Tensor) and tuple(one.shape) == (1, *want) and one.is_floating_point()):
        got = tuple(one.shape) if isinstance(one, torch.Tensor) else type(one).__name__
        return (f"a batch of one example, shape {(1, *budget.input_shape)}, gives {got}; it must give {(1, *want)}: "
                "keep the batch dimension (no .squeeze(), no fixed batch size)"), 0
    five = probe(program, state, x, 5 * budget.max_activations)[0]
    if tuple(five.shape) != (5, *want) or not torch.allclose(five[:1], one, rtol=1e-4, atol=1e-5):
        return ("in evaluation mode, an example's logits depend on the rest of its batch (a batch of five disagrees "
                "with a batch of one)"), 0
    if bool((five >= 0).all()) and torch.allclose(five.sum(-1), torch.ones(5), atol=1e-4):
        return ("it returns probabilities (each row sums to 1): return the logits, the scores before softmax; "
                "the grader's cross-entropy applies the softmax itself"), 0
    if mult_adds > budget.max_mult_adds:
        return (f"it computes {mult_adds:,} multiply-adds per example; the limit is {budget.max_mult_adds:,}. "
                "Pool earlier or use fewer channels"), convolutions
    if convolutions < budget.min_convolutions:
        return ("no convolution runs in its forward pass (one that slides over more than one position and feeds the "
                "output): this exercise asks for a CNN. A layer defined but never called does not count"), convolutions
    return "", convolutions


def judge(budget, got, expected=None):
    """Grader side: None when the handed-over model meets `budget` and trains to its accuracy, else the reason."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models train fastest on one thread, and graders run several at once
    try:
        program = Program.read(got)
        problem = _check_static(program, budget) or _check_probe(program, budget)[0]
        if problem:
            return f"your model: {problem}."
        results = [_train(program, budget, seed) for seed in budget.recipe.seeds]
    except BudgetError as e:
        return f"your model: {e}."
    except Exception as e:  # an operator refused its arguments, or worse: never the grader's own failure
        return f"your model failed when the grader ran it ({type(e).__name__}: {str(e).strip()[:200]})."
    finally:
        torch.set_num_threads(threads)
    accuracies, losses = [a for a, _ in results], [loss for _, loss in results]
    mean_loss = sum(losses) / len(losses)
    if mean_loss > budget.max_loss:
        each = ", ".join(f"{loss:.3f}" for loss in losses)
        return (f"mean validation loss {mean_loss:.3f} nats over {len(losses)} trainings (seeds "
                f"{list(budget.recipe.seeds)}: {each}) with the fixed recipe; it must be at most {budget.max_loss}.")
    mean = sum(accuracies) / len(accuracies)
    if mean < budget.min_accuracy:
        each = ", ".join(f"{a:.3f}" for a in accuracies)
        return (f"mean test accuracy {mean:.3f} over {len(accuracies)} trainings (seeds {list(budget.recipe.seeds)}: "
                f"{each}) with the fixed recipe; it needs at least {budget.min_accuracy}.")
    return None


def budget_part(func, budget, points, timeout=60.0):
    """The Part of an exercise that asks for `func()` returning a model within `budget`."""
    from d2lite.grading.exercise import Part

    recipe = budget.recipe
    name = (f"{recipe.epochs} epochs of SGD (lr {recipe.lr}, momentum {recipe.momentum}) on "
            f"{len(recipe.seeds)} seeds, trained by the grader")
    return Part(func, None, functools.partial(_cases, name), points=points,
                driver=functools.partial(hand_over, input_shape=budget.input_shape),
                judge=functools.partial(judge, budget), timeout=timeout)


def _cases(name):
    from d2lite.grading.exercise import Case

    return [Case(name, ())]

