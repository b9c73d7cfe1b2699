"""2-D convolution from scratch: a readable loop version, a fast one (im2col + matmul), and its transpose.

Shapes follow PyTorch: images x are (N, C, H, W), a weight is (C_out, C_in, kh, kw)
and a bias (C_out,). Like PyTorch, "convolution" here is cross-correlation: the
kernel slides over the image as it is, without being flipped. `stride` and
`padding` are single integers, used for both height and width.

The transposed convolution (`conv_transpose2d`, used to upsample) is the input
gradient of a convolution run forward; its weight is (C_in, C_out, kh, kw), as in
PyTorch: the convolution's weight, with the roles of its two channel axes swapped.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from d2lite.scratch.layers import Module, Parameter


def conv_output_size(size, kernel, stride=1, padding=0):
    """Output length along one axis: floor((size + 2 * padding - kernel) / stride) + 1."""
    out = (size + 2 * padding - kernel) // stride + 1
    if out < 1:
        raise ValueError(f"kernel {kernel} does not fit an input of size {size} "
                         f"with padding {padding}: the output would be empty.")
    return out


def pad2d(x, padding):
    """Zero-pad the last two axes (H and W) of x by `padding` on every side (x itself when padding is 0)."""
    if padding == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def _check_shapes(x, weight, transposed=False):
    """x must be (N, C, H, W) with the channels the weight reads: axis 1 of a convolution's, axis 0 of its transpose's."""
    if x.ndim != 4:
        raise ValueError(f"x must be (N, C, H, W); got shape {x.shape}.")
    expected, layout = (weight.shape[0], "(C_in, C_out, kh, kw)") if transposed else (weight.shape[1], "(C_out, C_in, kh, kw)")
    if x.shape[1] != expected:
        raise ValueError(f"x has {x.shape[1]} channels but weight expects {expected} "
                         f"(weight is {layout} = {weight.shape}).")


def conv2d_loops(x, weight, bias=None, stride=1, padding=0):
    """Convolution as the definition says, one output position at a time.

    out[n, o, i, j] = sum over c, u, v of xp[n, c, i*stride + u, j*stride + v] * weight[o, c, u, v]
    (+ bias[o]), where xp is x zero-padded. Slow; the reference for `conv2d`.
    """
    _check_shapes(x, weight)
    n, _, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    out_h, out_w = conv_output_size(h, kh, stride, padding), conv_output_size(w, kw, stride, padding)
    xp = pad2d(x, padding)
    out = np.zeros((n, c_out, out_h, out_w), dtype=np.result_type(x, weight))
    for i in range(out_h):
        for j in range(out_w):
            window = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]  # (N, C_in, kh, kw)
            for o in range(c_out):
                out[:, o, i, j] = (window * weight[o]).sum(axis=(1, 2, 3))
    if bias is not None:
        out += bias[:, None, None]
    return out


def im2col(x, kh, kw, stride=1, padding=0):
    """Every kh×kw window of x as a column of one matrix: shape (C * kh * kw, out_h * out_w * N).

    Rows are ordered (channel, kernel row, kernel column), the order of
    weight.reshape(C_out, -1), so the whole batch's convolution is one matrix
    product. Columns are ordered (output row, output column, image): the batch
    comes last, which keeps `col2im`'s additions on contiguous memory.
    (torch.nn.functional.unfold gives the same numbers as (N, C * kh * kw, out_h * out_w).)
    The windows are read through a strided view, with no Python loop; only the final reshape copies.
    """
    n, c = x.shape[:2]
    xt = pad2d(x, padding).transpose(1, 2, 3, 0)  # (C, H, W, N), a view
    windows = sliding_window_view(xt, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]  # (C, out_h, out_w, N, kh, kw)
    out_h, out_w = windows.shape[1:3]
    return windows.transpose(0, 4, 5, 1, 2, 3).reshape(c * kh * kw, out_h * out_w * n)


def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    """The adjoint of `im2col`: put each column back on its window, summing where windows overlap.

    This is how the gradient flows from the columns back to the image. A strided
    view cannot be added into (overlapping windows share memory), so we loop
    over the kh*kw kernel offsets instead: each step adds one strided slice.
    """
    n, c, h, w = x_shape
    out_h, out_w = conv_output_size(h, kh, stride, padding), conv_output_size(w, kw, stride, padding)
    cols = cols.reshape(c, kh, kw, out_h, out_w, n)
    xp = np.zeros((c, h + 2 * padding, w + 2 * padding, n), dtype=cols.dtype)  # batch last, like cols
    for a in range(kh):
        for b in range(kw):
            xp[:, a:a + stride * out_h:stride, b:b + stride * out_w:stride] += cols[:, a, b]
    return xp[:, padding:padding + h, padding:padding + w].transpose(3, 0, 1, 2)


def _conv2d_cols(x, weight, bias, stride, padding):
    """The fast convolution; returns the output and the columns (kept for backward)."""
    _check_shapes(x, weight)
    n, _, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    cols = im2col(x, kh, kw, stride, padding)   # (C_in*kh*kw, out_h*out_w*N)
    out = weight.reshape(c_out, -1) @ cols       # (C_out, out_h*out_w*N): one matrix product
    if bias is not None:
        out += bias[:, None]
    out_h, out_w = conv_output_size(h, kh, stride, padding), conv_output_size(w, kw, stride, padding)
    return out.reshape(c_out, out_h, out_w, n).transpose(3, 0, 1, 2), cols


def conv2d(x, weight, bias=None, stride=1, padding=0):
    """Convolution as a matrix product: weight (C_out, C_in*kh*kw) @ im2col(x). Same result as `conv2d_loops`."""
    return _conv2d_cols(x, weight, bias, stride, padding)[0]


class Conv2d(Module):
    """A convolution layer: forward with `conv2d`, backward by hand.

    Weight and bias start uniform in ±1/sqrt(C_in * kh * kw), PyTorch's default.
    `kernel_size` is an int or a pair (kh, kw).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 rng=None, dtype=np.float64):
        rng = np.random.default_rng() if rng is None else rng
        kh, kw = (kernel_size, kernel_size) if np.isscalar(kernel_size) else kernel_size
        bound = 1.0 / np.sqrt(in_channels * kh * kw)
        shape = (out_channels, in_channels, kh, kw)
        self.weight = Parameter(rng.uniform(-bound, bound, shape).astype(dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, out_channels).astype(dtype)) if bias else None
        self.stride, self.padding = stride, padding

    def forward(self, x):
        self.x_shape = x.shape
        bias = None if self.bias is None else self.bias.data
        out, self.cols = _conv2d_cols(x, self.weight.data, bias, self.stride, self.padding)
        return out

    def backward(self, dout):
        """out = W @ cols + b, so dW = dout @ colsᵀ, db = sum of dout, dcols = Wᵀ @ dout, dx = col2im(dcols)."""
        c_out, _, kh, kw = self.weight.data.shape
        d = dout.transpose(1, 2, 3, 0).reshape(c_out, -1)   # (C_out, out_h*out_w*N), the layout of W @ cols
        w = self.weight.data.reshape(c_out, -1)              # (C_out, C_in*kh*kw)
        self.weight.grad += (d @ self.cols.T).reshape(self.weight.data.shape)
        if self.bias is not None:
            self.bias.grad += d.sum(axis=1)
        return col2im(w.T @ d, self.x_shape, kh, kw, self.stride, self.padding)


def conv_transpose_output_size(size, kernel, stride=1, padding=0):
    """Output length of a transposed convolution along one axis: (size - 1) * stride - 2 * padding + kernel.

    It is the input length that a convolution with the same kernel, stride and
    padding maps to `size` (the largest such length, when the stride leaves a choice).
    """
    out = (size - 1) * stride - 2 * padding + kernel
    if out < 1:
        raise ValueError(f"padding {padding} is too large for a transposed convolution of an input of "
                         f"size {size} with kernel {kernel} and stride {stride}: the output would be empty.")
    return out


def _batch_last(x):
    """(N, C, H, W) -> (C, H * W * N): the layout of im2col's columns."""
    n, c = x.shape[:2]
    return x.transpose(1, 2, 3, 0).reshape(c, -1)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0):
    """The transposed convolution: every input pixel stamps weight[c] (scaled by the pixel) onto the output.

    x is (N, C_in, H, W) and weight (C_in, C_out, kh, kw), PyTorch's layout for this
    layer; the output is (N, C_out, (H - 1) * stride - 2 * padding + kh, ...). It is the
    input gradient of `conv2d(z, weight, stride=stride, padding=padding)`: the same weight,
    read as a convolution's (C_out, C_in, kh, kw), maps z (N, C_out, ...) back to x's shape.
    In matrix form: columns = Wᵀ @ x, then col2im adds overlapping stamps.
    """
    _check_shapes(x, weight, transposed=True)
    n, c_in, h, w = x.shape
    _, c_out, kh, kw = weight.shape
    out_shape = (n, c_out, conv_transpose_output_size(h, kh, stride, padding),
                 conv_transpose_output_size(w, kw, stride, padding))
    cols = weight.reshape(c_in, -1).T @ _batch_last(x)     # (C_out*kh*kw, H*W*N)
    out = col2im(cols, out_shape, kh, kw, stride, padding)
    if bias is not None:
        out += bias[:, None, None]
    return out


class ConvTranspose2d(Module):
    """A transposed convolution layer (learned upsampling): forward with `conv_transpose2d`, backward by hand.

    Weight (C_in, C_out, kh, kw) and bias (C_out,) start uniform in ±1/sqrt(C_out * kh * kw):
    PyTorch's default, which counts the fan-in on the weight's second axis.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 rng=None, dtype=np.float64):
        rng = np.random.default_rng() if rng is None else rng
        kh, kw = (kernel_size, kernel_size) if np.isscalar(kernel_size) else kernel_size
        bound = 1.0 / np.sqrt(out_channels * kh * kw)
        self.weight = Parameter(rng.uniform(-bound, bound, (in_channels, out_channels, kh, kw)).astype(dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, out_channels).astype(dtype)) if bias else None
        self.stride, self.padding = stride, padding

    def forward(self, x):
        self.x = x
        bias = None if self.bias is None else self.bias.data
        return conv_transpose2d(x, self.weight.data, bias, self.stride, self.padding)

    def backward(self, dout):
        """out = col2im(Wᵀ @ x) + b, so dx = W @ im2col(dout) = conv2d(dout, W), dW = x @ im2col(dout)ᵀ, db = sum of dout."""
        c_in, c_out, kh, kw = self.weight.data.shape
        dcols = im2col(dout, kh, kw, self.stride, self.padding)            # (C_out*kh*kw, H*W*N)
        self.weight.grad += (_batch_last(self.x) @ dcols.T).reshape(self.weight.data.shape)
        if self.bias is not None:
            self.bias.grad += dout.sum(axis=(0, 2, 3))
        return conv2d(dout, self.weight.data, stride=self.stride, padding=self.padding)
