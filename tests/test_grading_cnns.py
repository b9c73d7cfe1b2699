"""Chapter 2's checks reject realistic wrong answers and accept differently written right ones."""
import numpy as np
import pytest
import torch
from torch import nn

from d2lite.grading import get_exercise, grade_exercise
from grader_cases import assert_a_cache_is_caught, assert_accepted, assert_rejected, wrong_params


# ---- 2.1 output size ---------------------------------------------------------------------------
def size_ok(size, kernel, stride, padding):
    n, pos = 0, 0
    while pos + kernel <= size + 2 * padding:
        n, pos = n + 1, pos + stride
    return n


def size_one_pad(size, kernel, stride, padding):
    return (size + padding - kernel) // stride + 1


def size_true_div(size, kernel, stride, padding):
    return (size + 2 * padding - kernel) / stride + 1


def size_no_plus_one(size, kernel, stride, padding):
    return (size + 2 * padding - kernel) // stride


def size_ceil(size, kernel, stride, padding):
    return int(np.ceil((size + 2 * padding - kernel) / stride)) + 1


def size_round(size, kernel, stride, padding):
    return round((size + 2 * padding - kernel) / stride) + 1


def size_float(size, kernel, stride, padding):
    return np.floor((size + 2 * padding - kernel) / stride) + 1


# ---- 2.2 one channel, stride and dilation -----------------------------------------------------
def corr_ok(x, k, stride, dilation):
    kh, kw = k.shape
    span_h, span_w = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1
    windows = np.lib.stride_tricks.sliding_window_view(x, (span_h, span_w))[::stride, ::stride]
    return np.einsum("ijab,ab->ij", windows[:, :, ::dilation, ::dilation], k)


def corr_loops(x, k, stride, dilation, flip=False, use_dilation=True, use_stride=True, extent=None):
    """A loop version a reader writes; the keyword arguments make the usual slips."""
    kh, kw = k.shape
    d = dilation if use_dilation else 1
    s = stride if use_stride else 1
    span_h, span_w = extent(kh, d) if extent else d * (kh - 1) + 1, extent(kw, d) if extent else d * (kw - 1) + 1
    out = np.zeros(((x.shape[0] - span_h) // s + 1, (x.shape[1] - span_w) // s + 1))
    kk = k[::-1, ::-1] if flip else k
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = sum(x[i * s + a * d, j * s + b * d] * kk[a, b] for a in range(kh) for b in range(kw))
    return out


def corr_flipped(x, k, stride, dilation):
    return corr_loops(x, k, stride, dilation, flip=True)


def corr_no_dilation(x, k, stride, dilation):
    return corr_loops(x, k, stride, dilation, use_dilation=False)


def corr_no_stride(x, k, stride, dilation):
    return corr_loops(x, k, stride, dilation, use_stride=False)


def corr_extent_dk(x, k, stride, dilation):
    return corr_loops(x, k, stride, dilation, extent=lambda n, d: d * n)


def corr_square(x, k, stride, dilation):
    """Assumes a square kernel: uses kh for both directions."""
    kh = k.shape[0]
    return corr_loops(x, k[:, :1].repeat(kh, axis=1) if k.shape[1] != kh else k, stride, dilation)


# ---- 2.3 grouped conv2d ------------------------------------------------------------------------
def conv_ok(x, weight, bias, stride, padding, groups):
    xt = torch.from_numpy(x)
    return torch.nn.functional.conv2d(xt, torch.from_numpy(weight), torch.from_numpy(bias),
                                      stride=stride, padding=padding, groups=groups).numpy()


def conv_flipped(x, weight, bias, stride, padding, groups):
    return conv_ok(x, weight[:, :, ::-1, ::-1].copy(), bias, stride, padding, groups)


def conv_no_bias(x, weight, bias, stride, padding, groups):
    return conv_ok(x, weight, np.zeros_like(bias), stride, padding, groups)


def conv_pad_once(x, weight, bias, stride, padding, groups):
    xp = np.pad(x, ((0, 0), (0, 0), (padding, 0), (padding, 0)))
    return conv_ok(xp, weight, bias, stride, 0, groups)


def conv_group_by_modulo(x, weight, bias, stride, padding, groups):
    """Output channel o reads the input channels of group o % groups."""
    per_in = x.shape[1] // groups
    outs = []
    for o in range(weight.shape[0]):
        g = o % groups
        outs.append(conv_ok(x[:, g * per_in:(g + 1) * per_in], weight[o:o + 1], bias[o:o + 1], stride, padding, 1))
    return np.concatenate(outs, axis=1)


def conv_square_kernel(x, weight, bias, stride, padding, groups):
    """Loops written for k×k kernels: kw taken to be kh."""
    n, c_in, h, w = x.shape
    c_out, per_in, k, _ = weight.shape
    per_out = c_out // groups
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh, ow = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
    out = np.zeros((n, c_out, oh, ow))
    for o in range(c_out):
        g = o // per_out
        for i in range(oh):
            for j in range(ow):
                win = xp[:, g * per_in:(g + 1) * per_in, i * stride:i * stride + k, j * stride:j * stride + k]
                out[:, o, i, j] = (win * weight[o, :, :, :k]).sum(axis=(1, 2, 3)) + bias[o]
    return out


# ---- 2.4 conv backward -------------------------------------------------------------------------
def cb_ok(x, weight, dout, stride, padding):
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(weight, requires_grad=True)
    bt = torch.zeros(weight.shape[0], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding).backward(torch.from_numpy(dout))
    return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def cb_db_mean(x, weight, dout, stride, padding):
    dx, dw, db = cb_ok(x, weight, dout, stride, padding)
    return dx, dw, db / (dout.shape[0] * dout.shape[2] * dout.shape[3])


def cb_assign(x, weight, dout, stride, padding):
    _, dw, db = cb_ok(x, weight, dout, stride, padding)
    kh, kw = weight.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp = np.zeros_like(xp)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dxp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] = np.einsum(
                "no,ocab->ncab", dout[:, :, i, j], weight)
    h, w = x.shape[2:]
    return dxp[:, :, padding:padding + h, padding:padding + w], dw, db


def cb_dw_mean(x, weight, dout, stride, padding):
    dx, dw, db = cb_ok(x, weight, dout, stride, padding)
    return dx, dw / len(x), db


def cb_square(x, weight, dout, stride, padding):
    """Loops written for k×k kernels and square images."""
    k = weight.shape[2]
    side = x.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(weight)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = (slice(None), slice(None), slice(i * stride, i * stride + k), slice(j * stride, j * stride + k))
            dw[:, :, :k, :k] += np.einsum("no,ncab->ocab", dout[:, :, i, j], xp[win][:, :, :k, :k])
            dxp[win][:, :, :k, :k] += np.einsum("no,ocab->ncab", dout[:, :, i, j], weight[:, :, :k, :k])
    return dxp[:, :, padding:padding + side, padding:padding + side], dw, dout.sum(axis=(0, 2, 3))


def cb_flip_dw(x, weight, dout, stride, padding):
    dx, dw, db = cb_ok(x, weight, dout, stride, padding)
    return dx, dw[:, :, ::-1, ::-1], db


# ---- 2.5 max pool ------------------------------------------------------------------------------
def mp_ok(x, k):
    return torch.nn.functional.max_pool2d(torch.from_numpy(x), k).numpy()


def mpb_ok(x, k, dout):
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(xt, k).backward(torch.from_numpy(dout))
    return xt.grad.numpy()


def mp_mean(x, k):
    return torch.nn.functional.avg_pool2d(torch.from_numpy(x), k).numpy()


def mp_min(x, k):
    return -mp_ok(-x, k)


def mp_padded(x, k):
    return torch.nn.functional.max_pool2d(torch.from_numpy(x), k, ceil_mode=True).numpy()


def mp_square(x, k):
    n, c, h, _ = x.shape
    m = h // k
    return x[:, :, :m * k, :m * k].reshape(n, c, m, k, m, k).max(axis=(3, 5))


def mpb_square(x, k, dout):
    """Crops both axes to the height's multiple of k, as if every image were square."""
    side = x.shape[2] // k * k
    dx = np.zeros_like(x)
    dx[:, :, :side, :side] = mpb_ok(x[:, :, :side, :side].copy(), k, dout[:, :, :side // k, :side // k].copy())
    return dx


def mpb_all_ties(x, k, dout):
    out = mp_ok(x, k)
    up = np.repeat(np.repeat(out, k, axis=2), k, axis=3)
    g = np.repeat(np.repeat(dout, k, axis=2), k, axis=3)
    dx = np.zeros_like(x)
    h, w = up.shape[2:]
    dx[:, :, :h, :w] = (x[:, :, :h, :w] == up) * g
    return dx


def mpb_spread(x, k, dout):
    g = np.repeat(np.repeat(dout, k, axis=2), k, axis=3)
    dx = np.zeros_like(x)
    dx[:, :, :g.shape[2], :g.shape[3]] = g / (k * k)
    return dx


def mpb_last_tie(x, k, dout):
    flipped = x[:, :, ::-1, ::-1].copy()
    h, w = x.shape[2:]
    hh, ww = h // k * k, w // k * k
    grad = mpb_ok(x[:, :, :hh, :ww][:, :, ::-1, ::-1].copy(), k, dout[:, :, ::-1, ::-1].copy())
    dx = np.zeros_like(flipped)
    dx[:, :, :hh, :ww] = grad[:, :, ::-1, ::-1]
    return dx


# ---- 2.6 im2col --------------------------------------------------------------------------------
def i2c_batch_last(x, kh, kw, stride, padding):
    from d2lite import scratch

    return scratch.im2col(x, kh, kw, stride, padding)


def i2c_batch_last_reshaped(x, kh, kw, stride, padding):
    cols = i2c_batch_last(x, kh, kw, stride, padding)
    return cols.reshape(x.shape[0], cols.shape[0], -1)


def i2c_ok(x, kh, kw, stride, padding):
    return torch.nn.functional.unfold(torch.from_numpy(x), (kh, kw), stride=stride, padding=padding).numpy()


def i2c_channel_last(x, kh, kw, stride, padding):
    cols = i2c_ok(x, kh, kw, stride, padding)
    n, c = x.shape[:2]
    return cols.reshape(n, c, kh * kw, -1).transpose(0, 2, 1, 3).reshape(cols.shape)


def i2c_transposed(x, kh, kw, stride, padding):
    return i2c_ok(x, kh, kw, stride, padding).transpose(0, 2, 1)


def i2c_no_pad(x, kh, kw, stride, padding):
    return i2c_ok(x, kh, kw, stride, 0)


def i2c_cols_by_column(x, kh, kw, stride, padding):
    cols = i2c_ok(x, kh, kw, stride, padding)
    oh = (x.shape[2] + 2 * padding - kh) // stride + 1
    ow = (x.shape[3] + 2 * padding - kw) // stride + 1
    return cols.reshape(*cols.shape[:2], oh, ow).transpose(0, 1, 3, 2).reshape(cols.shape)


# ---- 2.7 CNN (more in test_budget.py) ------------------------------------------------------------
def cnn_ok():
    from d2lite import torch as dt

    return nn.Sequential(dt.Conv2d(1, 8, 3, padding=1), nn.ReLU(), dt.MaxPool2d(2), dt.Conv2d(8, 16, 3, padding=1),
                         nn.ReLU(), dt.MaxPool2d(2), dt.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                         nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(32, 10))


def cnn_nine_classes():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 64, 9))


def cnn_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 10))


def cnn_pointwise():
    """A 1×1 convolution in front of an MLP: a convolution runs, but nothing is shared across positions."""
    return nn.Sequential(nn.Conv2d(1, 1, 1), nn.ReLU(), nn.Flatten(), nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, 10))


def cnn_too_big():
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(32 * 64, 64), nn.ReLU(), nn.Linear(64, 10))


def cnn_class_not_instance():
    return nn.Sequential


def cnn_rgb():
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 256, 10))


WRONG = {
    "2.1": [((size_one_pad,), "2·padding"), ((size_true_div,), "integer division"),
            ((size_no_plus_one,), "add 1"), ((size_ceil,), "round down, not up"),
            ((size_round,), "not to the nearest whole number"), ((size_float,), "a count must be an int")],
    "2.2": [((corr_flipped,), "you flipped the kernel"), ((corr_no_dilation,), "the dilation is ignored"),
            ((corr_no_stride,), "the stride is ignored"), ((corr_extent_dk,), "dilation·(k − 1) + 1"),
            ((corr_square,), "2×3 kernel")],
    "2.3": [((conv_flipped,), "you flipped the kernel"), ((conv_no_bias,), "bias is missing"),
            ((conv_pad_once,), "both sides"), ((conv_group_by_modulo,), "o // (C_out / groups)"),
            ((conv_square_kernel,), "kernel 3×2")],
    "2.4": [((cb_db_mean,), "dbias"), ((cb_assign,), "add (+=)"), ((cb_dw_mean,), "dweight"),
            ((cb_flip_dw,), "dweight"), ((cb_square,), "5×6, kernel 3×2")],
    "2.5": [((mp_mean, mpb_ok), "average pooling"), ((mp_min, mpb_ok), "max_pool2d"),
            ((mp_padded, mpb_ok), "expected shape"), ((mp_ok, mpb_all_ties), "one of them only"),
            ((mp_ok, mpb_spread), "max_pool2d_backward"), ((mp_ok, mpb_last_tie), "ties"),
            ((mp_square, mpb_ok), "expected shape (2, 3, 2, 3)"), ((mp_ok, mpb_square), "4×6")],
    "2.6": [((i2c_channel_last,), "channel first"), ((i2c_transposed,), "transposed"),
            ((i2c_no_pad,), "pad the image"), ((i2c_cols_by_column,), "row by row"),
            ((i2c_batch_last,), "batch-last layout of d2lite.scratch.im2col"),
            ((i2c_batch_last_reshaped,), "a reshape cannot move the batch axis")],
    "2.7": [((cnn_nine_classes,), "it must give (1, 10)"), ((cnn_mlp,), "no convolution runs"),
            ((cnn_pointwise,), "mean test accuracy"), ((cnn_too_big,), "the budget is 20,000"),
            ((cnn_class_not_instance,), "instance"), ((cnn_rgb,), "could not be traced")],
}

CORRECT = {"2.1": (size_ok,), "2.2": (corr_ok,), "2.3": (conv_ok,), "2.4": (cb_ok,), "2.5": (mp_ok, mpb_ok),
           "2.6": (i2c_ok,), "2.7": (cnn_ok,)}


@pytest.mark.parametrize("exercise_id", sorted(CORRECT))
def test_every_exercise_has_three_wrong_answers(exercise_id):
    assert len(WRONG[exercise_id]) >= 3


@pytest.mark.parametrize("exercise_id", sorted(CORRECT))
def test_a_differently_written_correct_answer_passes(exercise_id):
    assert_accepted(exercise_id, CORRECT[exercise_id])


@wrong_params(WRONG)
def test_wrong_answer_is_rejected_with_useful_feedback(exercise_id, funcs, fragment):
    assert_rejected(exercise_id, funcs, fragment)


@pytest.mark.parametrize("exercise_id", ["2.2", "2.3", "2.4", "2.5", "2.6"])
def test_repeated_shapes_with_other_values_defeat_a_cache(exercise_id):
    assert_a_cache_is_caught(exercise_id, CORRECT[exercise_id])


def test_max_pool_parts_are_credited_separately():
    result = grade_exercise(get_exercise("2.5"), {"max_pool2d": mp_ok, "max_pool2d_backward": mpb_spread})
    assert (result.earned, result.points) == (1, 3)
