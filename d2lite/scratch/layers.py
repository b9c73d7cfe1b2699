"""Layers from scratch: parameters, the Module protocol, Linear, Flatten and Sequential.

Every module has `forward(x)`, which remembers what it needs, and
`backward(dout)`, which takes the gradient of the loss with respect to the
module's output and returns the gradient with respect to its input, adding
the gradients of its own parameters to `param.grad` on the way.
"""
import numpy as np


class Parameter:
    """A trainable array and the gradient accumulated for it."""

    def __init__(self, data):
        data = np.asarray(data)
        self.data = data if np.issubdtype(data.dtype, np.floating) else data.astype(np.float64)
        self.grad = np.zeros_like(self.data)

    def zero_grad(self):
        self.grad[...] = 0.0

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class: subclasses define `forward` and `backward`."""

    training = True

    def __call__(self, *args):
        return self.forward(*args)

    def forward(self, x):
        raise NotImplementedError

    def backward(self, dout):
        raise NotImplementedError

    def parameters(self):
        """All Parameters of this module and of the modules it holds, in order."""
        found = []
        for value in vars(self).values():
            if isinstance(value, Parameter):
                found.append(value)
            elif isinstance(value, Module):
                found.extend(value.parameters())
            elif isinstance(value, (list, tuple)):
                for item in value:
                    if isinstance(item, Module):
                        found.extend(item.parameters())
        return found

    def zero_grad(self):
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode=True):
        """Switch training behaviour (dropout, batch norm) on or off, recursively."""
        self.training = mode
        for value in vars(self).values():
            children = value if isinstance(value, (list, tuple)) else [value]
            for child in children:
                if isinstance(child, Module):
                    child.train(mode)
        return self

    def eval(self):
        return self.train(False)


class Linear(Module):
    """y = x @ weight + bias, with weight of shape (in_features, out_features).

    Weights start uniform in ±1/sqrt(in_features), as in PyTorch's default.
    """

    def __init__(self, in_features, out_features, bias=True, rng=None, dtype=np.float64):
        rng = np.random.default_rng() if rng is None else rng
        bound = 1.0 / np.sqrt(in_features)
        self.weight = Parameter(rng.uniform(-bound, bound, (in_features, out_features)).astype(dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, out_features).astype(dtype)) if bias else None

    def forward(self, x):
        self.x = x
        out = x @ self.weight.data
        return out + self.bias.data if self.bias is not None else out

    def backward(self, dout):
        self.weight.grad += self.x.T @ dout
        if self.bias is not None:
            self.bias.grad += dout.sum(axis=0)
        return dout @ self.weight.data.T


class Flatten(Module):
    """Reshape (N, ...) to (N, -1), as between convolutions and a Linear head; backward reshapes back."""

    def forward(self, x):
        self.x_shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, dout):
        return dout.reshape(self.x_shape)


class Sequential(Module):
    """Modules applied one after another; backward runs them in reverse."""

    def __init__(self, *layers):
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)


def mlp(sizes, activation=None, rng=None):
    """A multilayer perceptron: Linear layers of the given sizes with an activation between them.

    `mlp([64, 128, 10])` is Linear(64, 128), ReLU, Linear(128, 10).
    """
    from d2lite.scratch.activations import ReLU

    activation = ReLU if activation is None else activation
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(n_in, n_out, rng=rng))
        if i < len(sizes) - 2:
            layers.append(activation())
    return Sequential(*layers)
