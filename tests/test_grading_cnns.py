"""Chapter 2's checks reject realistic wrong answers and accept differently written right ones."""
import numpy as np
import pytest
import torch
from torch import nn

from d2lite.grading import get_exercise, grade_exercise
from grader_cases import assert_accepted, assert_rejected, wrong_params


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


# ---- 2.2 one channel ---------------------------------------------------------------------------
def corr_ok(x, k):
    kh, kw = k.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw))
    return np.einsum("ijab,ab->ij", windows, k)


def corr_flipped(x, k):
    return corr_ok(x, np.flip(k))


def corr_short(x, k):
    kh, kw = k.shape
    out = np.zeros((x.shape[0] - kh, x.shape[1] - kw))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (x[i:i + kh, j:j + kw] * k).sum()
    return out


def corr_swapped(x, k):
    kh, kw = k.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = sum(x[i + b, j + a] * k[a, b] for a in range(kh) for b in range(kw)
                            if i + b < x.shape[0] and j + a < x.shape[1])
    return out


def corr_full_sum(x, k):
    return np.array(np.sum(corr_ok(x, k)))


# ---- 2.3 conv2d --------------------------------------------------------------------------------
def conv_ok(x, weight, bias, stride, padding):
    xt = torch.from_numpy(x)
    return torch.nn.functional.conv2d(xt, torch.from_numpy(weight), torch.from_numpy(bias),
                                      stride=stride, padding=padding).numpy()


def conv_flipped(x, weight, bias, stride, padding):
    return conv_ok(x, weight[:, :, ::-1, ::-1].copy(), bias, stride, padding)


def conv_no_bias(x, weight, bias, stride, padding):
    return conv_ok(x, weight, np.zeros_like(bias), stride, padding)


def conv_stride_after(x, weight, bias, stride, padding):
    full = conv_ok(x, weight, bias, 1, padding)
    return full[:, :, ::stride, ::stride][:, :, :-1 or None, :-1 or None] if stride > 1 else full


def conv_pad_once(x, weight, bias, stride, padding):
    xp = np.pad(x, ((0, 0), (0, 0), (padding, 0), (padding, 0)))
    return conv_ok(xp, weight, bias, stride, 0)


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
            ((size_no_plus_one,), "add 1"), ((size_ceil,), "round down, not up")],
    "2.2": [((corr_flipped,), "you flipped the kernel"), ((corr_short,), "off by one"),
            ((corr_swapped,), "swapped"), ((corr_full_sum,), "single number")],
    "2.3": [((conv_flipped,), "you flipped the kernel"), ((conv_no_bias,), "bias is missing"),
            ((conv_stride_after,), "expected shape"), ((conv_pad_once,), "both sides")],
    "2.4": [((cb_db_mean,), "dbias"), ((cb_assign,), "add (+=)"), ((cb_dw_mean,), "dweight"),
            ((cb_flip_dw,), "dweight")],
    "2.5": [((mp_mean, mpb_ok), "average pooling"), ((mp_min, mpb_ok), "max_pool2d"),
            ((mp_padded, mpb_ok), "expected shape"), ((mp_ok, mpb_all_ties), "one of them only"),
            ((mp_ok, mpb_spread), "max_pool2d_backward"), ((mp_ok, mpb_last_tie), "ties")],
    "2.6": [((i2c_channel_last,), "channel first"), ((i2c_transposed,), "transposed"),
            ((i2c_no_pad,), "pad the image"), ((i2c_cols_by_column,), "row by row")],
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


def test_max_pool_parts_are_credited_separately():
    result = grade_exercise(get_exercise("2.5"), {"max_pool2d": mp_ok, "max_pool2d_backward": mpb_spread})
    assert (result.earned, result.points) == (1, 3)
