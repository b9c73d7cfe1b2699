"""The graded exercises of chapter 2 (solutions/02_cnns.ipynb).

References come from d2lite.scratch and d2lite.torch; each Mistake is a wrong
implementation readers often write, so that a matching output gets a precise hint.
"""
import numpy as np

from d2lite import scratch
from d2lite.data import load_placed_digits
from d2lite.grading.budget import Budget, Recipe, budget_part
from d2lite.grading.exercise import Case, Exercise, Mistake, Part, layer_gradients, register

CHAPTER = "02_cnns"


def _rng(seed):
    return np.random.default_rng(seed)


# 2.1 Output size ---------------------------------------------------------------------------------

def _size_cases():
    return [Case(f"size {s}, kernel {k}, stride {st}, padding {p}", (s, k, st, p))
            for s, k, st, p in [(28, 5, 1, 0), (28, 5, 1, 2), (7, 3, 2, 1), (8, 3, 2, 0), (1, 1, 1, 0), (32, 4, 4, 0),
                                (12, 3, 4, 1), (10, 3, 4, 0), (28, 5, 3, 0)]]


EX_2_1 = Exercise("2.1", "Output size of a convolution", [Part(
    "conv_output_size", scratch.conv_output_size, _size_cases, points=1,
    mistakes=[
        Mistake(lambda s, k, st, p: (s + p - k) // st + 1, "padding is added on both sides: use 2·padding."),
        Mistake(lambda s, k, st, p: (s + 2 * p - k) / st + 1,
                "round down with integer division (//): a window that would hang over the edge is dropped."),
        Mistake(lambda s, k, st, p: round((s + 2 * p - k) / st) + 1,
                "round down (//), not to the nearest whole number: a window that would hang over the edge "
                "is dropped even when more than half of it fits."),
        Mistake(lambda s, k, st, p: (s + 2 * p - k) // st, "off by one: the first window sits at position 0, so add 1."),
        Mistake(lambda s, k, st, p: -(-(s + 2 * p - k) // st) + 1,
                "round down, not up: a window that would hang over the edge is dropped."),
    ])])


# 2.2 Single-channel cross-correlation with stride and dilation ------------------------------------

def corr2d(x, k, stride, dilation):
    """The kernel spread out with dilation − 1 zeros between its taps, then an ordinary strided cross-correlation."""
    kh, kw = k.shape
    spread = np.zeros((dilation * (kh - 1) + 1, dilation * (kw - 1) + 1))
    spread[::dilation, ::dilation] = k
    return scratch.conv2d_loops(x[None, None], spread[None, None], stride=stride)[0, 0]


def _corr_cases():
    r = _rng(22)

    def case(name, h, w, kh, kw, stride, dilation):
        return Case(name, (r.normal(size=(h, w)), r.normal(size=(kh, kw)), stride, dilation))

    return [
        case("a 5×7 image, a 2×3 kernel, stride 1, dilation 1", 5, 7, 2, 3, 1, 1),
        case("a 9×8 image, a 3×2 kernel, stride 2, dilation 1", 9, 8, 3, 2, 2, 1),
        case("a 7×9 image, a 2×2 kernel, stride 1, dilation 2", 7, 9, 2, 2, 1, 2),
        case("an 11×10 image, a 3×2 kernel, stride 2, dilation 3", 11, 10, 3, 2, 2, 3),
        case("a 6×7 image, a 1×1 kernel, stride 3, dilation 2", 6, 7, 1, 1, 3, 2),
        case("a dilated 2×3 kernel that just fits a 5×9 image (dilation 4)", 5, 9, 2, 3, 1, 4),
        case("the third case's shapes with other values", 7, 9, 2, 2, 1, 2),
    ]


def _corr_flipped(x, k, stride, dilation):
    return corr2d(x, k[::-1, ::-1], stride, dilation)


def _corr_no_dilation(x, k, stride, dilation):
    return corr2d(x, k, stride, 1)


def _corr_no_stride(x, k, stride, dilation):
    return corr2d(x, k, 1, dilation)


def _corr_swapped(x, k, stride, dilation):
    return corr2d(x, k, dilation, stride)


def _corr_short(x, k, stride, dilation):
    """Output size from dilation·k instead of the dilated extent dilation·(k − 1) + 1."""
    full = corr2d(x, k, stride, dilation)
    h = (x.shape[0] - dilation * k.shape[0]) // stride + 1
    w = (x.shape[1] - dilation * k.shape[1]) // stride + 1
    return full[:h, :w]


EX_2_2 = Exercise("2.2", "Cross-correlation with stride and dilation", [Part(
    "corr2d", corr2d, _corr_cases, points=2,
    mistakes=[
        Mistake(_corr_flipped, "your output is the true convolution: you flipped the kernel. Deep-learning "
                               "'convolution' is cross-correlation: slide the kernel as it is."),
        Mistake(_corr_no_dilation, "the dilation is ignored: kernel tap (a, b) reads pixel "
                                   "(i·stride + a·dilation, j·stride + b·dilation)."),
        Mistake(_corr_no_stride, "the stride is ignored: window (i, j) starts at (i·stride, j·stride)."),
        Mistake(_corr_swapped, "stride and dilation are swapped: the stride moves the window, "
                               "the dilation spreads the kernel's taps."),
        Mistake(_corr_short, "a dilated kernel spans dilation·(k − 1) + 1 pixels, not dilation·k: "
                             "output size (H − dilation·(kh − 1) − 1) // stride + 1."),
    ])])


# 2.3 Grouped convolution with padding and stride --------------------------------------------------

def conv2d(x, weight, bias, stride, padding, groups):
    """Each group of input channels convolved with its own slice of the output channels' weights."""
    per_in, per_out = x.shape[1] // groups, weight.shape[0] // groups
    return np.concatenate([
        scratch.conv2d(x[:, g * per_in:(g + 1) * per_in], weight[g * per_out:(g + 1) * per_out],
                       bias[g * per_out:(g + 1) * per_out], stride, padding)
        for g in range(groups)], axis=1)


def _conv_cases():
    r = _rng(23)

    def case(name, n, c_in, c_out, h, w, kh, kw, stride, padding, groups):
        return Case(name, (r.normal(size=(n, c_in, h, w)), r.normal(size=(c_out, c_in // groups, kh, kw)),
                           r.normal(size=c_out), stride, padding, groups))

    return [
        case("2 images, 4→6 channels in 2 groups, 6×5, kernel 3×2, padding 1", 2, 4, 6, 6, 5, 3, 2, 1, 1, 2),
        case("depthwise: 3→3 channels in 3 groups, 7×5, kernel 3×3, stride 2", 1, 3, 3, 7, 5, 3, 3, 2, 0, 3),
        case("one group (an ordinary convolution), 2→4, 5×8, kernel 2×3, stride 2, padding 2",
             2, 2, 4, 5, 8, 2, 3, 2, 2, 1),
        case("a batch of one, 1×1 kernel, 4→8 channels in 4 groups", 1, 4, 8, 3, 4, 1, 1, 1, 0, 4),
        case("stride 3 on 10×11 (windows that do not tile it), 6→4 in 2 groups, kernel 4×3, padding 1",
             1, 6, 4, 10, 11, 4, 3, 3, 1, 2),
        case("the first case's shapes with other values", 2, 4, 6, 6, 5, 3, 2, 1, 1, 2),
    ]


def _conv_flipped(x, w, b, stride, padding, groups):
    return conv2d(x, w[:, :, ::-1, ::-1], b, stride, padding, groups)


def _conv_no_bias(x, w, b, stride, padding, groups):
    return conv2d(x, w, np.zeros_like(b), stride, padding, groups)


def _conv_pad_one_side(before, after):
    """Zeros `before` and `after` the image (in multiples of padding) instead of `padding` on each side."""
    def conv(x, w, b, stride, padding, groups):
        widths = (before * padding, after * padding)
        return conv2d(np.pad(x, ((0, 0), (0, 0), widths, widths)), w, b, stride, 0, groups)
    return conv


PAD_BOTH = "pad on both sides: `padding` zeros above and below, left and right."


def _conv_ignores_stride(x, w, b, stride, padding, groups):
    return conv2d(x, w, b, 1, padding, groups)


def _conv_interleaved_outputs(x, w, b, stride, padding, groups):
    """Output channel o computed from group o % groups instead of o // (C_out / groups)."""
    per_in = x.shape[1] // groups
    return np.concatenate([
        scratch.conv2d(x[:, o % groups * per_in:(o % groups + 1) * per_in], w[o:o + 1], b[o:o + 1], stride, padding)
        for o in range(w.shape[0])], axis=1)


def _conv_first_slice_everywhere(x, w, b, stride, padding, groups):
    """Every group reads the first C_in / groups input channels."""
    per_in = x.shape[1] // groups
    return conv2d(np.concatenate([x[:, :per_in]] * groups, axis=1), w, b, stride, padding, groups)


EX_2_3 = Exercise("2.3", "Grouped convolution with padding and stride", [Part(
    "conv2d", conv2d, _conv_cases, points=3,
    mistakes=[
        Mistake(_conv_flipped, "your output is the true convolution: you flipped the kernel; slide it as it is."),
        Mistake(_conv_no_bias, "the bias is missing: add bias[o] to every position of output channel o."),
        Mistake(_conv_pad_one_side(0, 2), PAD_BOTH),
        Mistake(_conv_pad_one_side(1, 0), PAD_BOTH),
        Mistake(_conv_pad_one_side(0, 1), PAD_BOTH),
        Mistake(_conv_ignores_stride, "the stride is ignored: windows start every `stride` pixels."),
        Mistake(_conv_interleaved_outputs, "output channels are grouped in consecutive blocks: output channel o "
                                           "belongs to group o // (C_out / groups), not o % groups."),
        Mistake(_conv_first_slice_everywhere, "each group reads its own block of input channels: group g reads "
                                              "channels g·C_in/groups up to (g + 1)·C_in/groups."),
    ])])


# 2.4 Convolution backward ---------------------------------------------------------------------------

def conv2d_backward(x, weight, dout, stride, padding):
    layer = scratch.Conv2d(weight.shape[1], weight.shape[0], weight.shape[2:], stride, padding)
    layer.weight.data = weight
    return layer_gradients(layer, x, dout)


def _conv_back_cases():
    r = _rng(24)

    def case(name, n, c_in, c_out, h, w, kh, kw, stride, padding):
        x = r.normal(size=(n, c_in, h, w))
        out_h = scratch.conv_output_size(h, kh, stride, padding)
        out_w = scratch.conv_output_size(w, kw, stride, padding)
        return Case(name, (x, r.normal(size=(c_out, c_in, kh, kw)), r.normal(size=(n, c_out, out_h, out_w)),
                           stride, padding))

    return [
        case("2 images, 2→3 channels, 5×6, kernel 3×2", 2, 2, 3, 5, 6, 3, 2, 1, 0),
        case("padding 1 (overlapping windows), 4×5, kernel 3×3", 2, 1, 2, 4, 5, 3, 3, 1, 1),
        case("stride 2, padding 1, odd 7×5, kernel 2×3", 1, 2, 2, 7, 5, 2, 3, 2, 1),
        case("a batch of one, 1×1 kernel, 3×4", 1, 3, 2, 3, 4, 1, 1, 1, 0),
        case("stride 3, padding 2 on 8×10, kernel 4×2 (windows that do not tile it)", 2, 2, 3, 8, 10, 4, 2, 3, 2),
        case("the first case's shapes with other values", 2, 2, 3, 5, 6, 3, 2, 1, 0),
    ]


def _cb_db_mean(x, weight, dout, stride, padding):
    dx, dw, db = conv2d_backward(x, weight, dout, stride, padding)
    return dx, dw, dout.mean(axis=(0, 2, 3))


def _cb_assign_overlaps(x, weight, dout, stride, padding):
    """dx with `=` where overlapping windows must add."""
    _, dw, db = conv2d_backward(x, weight, dout, stride, padding)
    kh, kw = weight.shape[2:]
    n, c, h, w = x.shape
    dxp = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            patch = np.einsum("no,ocab->ncab", dout[:, :, i, j], weight)
            dxp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] = patch
    return dxp[:, :, padding:padding + h, padding:padding + w], dw, db


def _cb_first_image_only(x, weight, dout, stride, padding):
    dx, _, db = conv2d_backward(x, weight, dout, stride, padding)
    _, dw, _ = conv2d_backward(x[:1], weight, dout[:1], stride, padding)
    return dx, dw, db


def _cb_uncropped(x, weight, dout, stride, padding):
    dx, dw, db = conv2d_backward(np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding))),
                                 weight, dout, stride, 0)
    return dx, dw, db


EX_2_4 = Exercise("2.4", "Convolution: backward", [Part(
    "conv2d_backward", conv2d_backward, _conv_back_cases, points=3, output_names=("dx", "dweight", "dbias"),
    mistakes=[
        Mistake(_cb_db_mean, "dbias sums dout over the batch and every position (the same bias is used everywhere)."),
        Mistake(_cb_assign_overlaps, "windows overlap, so input pixels receive gradient from several outputs: "
                                     "add (+=) into dx, don't assign."),
        Mistake(_cb_first_image_only, "dweight sums the contributions of every image in the batch, not just one."),
        Mistake(_cb_uncropped, "dx must have x's shape: crop the padding off the padded gradient."),
    ])])


# 2.5 Max pooling forward and backward --------------------------------------------------------------

def max_pool2d(x, k):
    return scratch.max_pool2d(x, k)


def max_pool2d_backward(x, k, dout):
    return layer_gradients(scratch.MaxPool2d(k), x, dout)[0]


def _pool_cases():
    r = _rng(25)
    tied = np.array([[[[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 3.0, 3.0], [0.0, 0.0, 5.0, 1.0], [0.0, 0.0, 1.0, 5.0]]]])
    return [
        Case("2 images, 3 channels, 4×6, k=2", (r.normal(size=(2, 3, 4, 6)), 2)),
        Case("6×9, k=3", (r.normal(size=(1, 2, 6, 9)), 3)),
        Case("odd 5×7, k=2 (the last row and column are dropped)", (r.normal(size=(1, 1, 5, 7)), 2)),
        Case("8×7, k=3 (two rows and one column dropped)", (r.normal(size=(2, 1, 8, 7)), 3)),
        Case("ties inside a window", (tied, 2)),
        Case("the first case's shapes with other values", (r.normal(size=(2, 3, 4, 6)), 2)),
    ]


def _pool_back_cases():
    cases = []
    r = _rng(26)
    for case in _pool_cases():
        x, k = case.args
        out = scratch.max_pool2d(x, k)
        cases.append(Case(case.name, (x, k, r.normal(size=out.shape))))
    return cases


def _mp_mean(x, k):
    return scratch.avg_pool2d(x, k)


def _mp_over_channels(x, k):
    return scratch.max_pool2d(x, k).max(axis=1, keepdims=True)


def _mp_stride_one(x, k):
    return scratch.max_pool2d(x, k, stride=1)


def _mpb_spread(x, k, dout):
    layer = scratch.AvgPool2d(k)
    layer.forward(x)
    return layer.backward(dout) * k * k


def _mpb_all_ties(x, k, dout):
    n, c, h, w = x.shape
    out = scratch.max_pool2d(x, k)
    dx = np.zeros_like(x)
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            win = x[:, :, i * k:(i + 1) * k, j * k:(j + 1) * k]
            mask = win == out[:, :, i:i + 1, j:j + 1]
            dx[:, :, i * k:(i + 1) * k, j * k:(j + 1) * k] += mask * dout[:, :, i:i + 1, j:j + 1]
    return dx


def _mpb_ones(x, k, dout):
    return max_pool2d_backward(x, k, np.ones_like(dout))


EX_2_5 = Exercise("2.5", "Max pooling: forward and backward", [
    Part("max_pool2d", max_pool2d, _pool_cases, points=1, mistakes=[
        Mistake(_mp_mean, "that is average pooling: take the maximum of each window."),
        Mistake(_mp_over_channels, "pool each channel on its own: the maximum is over the window only, not over channels."),
        Mistake(_mp_stride_one, "windows do not overlap here: they move by k (stride = kernel size)."),
    ]),
    Part("max_pool2d_backward", max_pool2d_backward, _pool_back_cases, points=2, mistakes=[
        Mistake(_mpb_spread, "only the maximum of each window affected the output: send the whole gradient there, "
                             "and zero to the rest of the window."),
        Mistake(_mpb_all_ties, "when several entries tie for the maximum, send the gradient to one of them only "
                               "(the first in reading order), or the gradient is counted twice."),
        Mistake(_mpb_ones, "multiply by the incoming gradient dout: the mask of maxima alone is not the gradient."),
    ]),
])


# 2.6 im2col -----------------------------------------------------------------------------------------

def im2col(x, kh, kw, stride, padding):
    """The library's im2col in PyTorch's `unfold` layout, (N, C*kh*kw, out_h*out_w), the one the exercise asks for."""
    cols = scratch.im2col(x, kh, kw, stride, padding)   # (C*kh*kw, out_h*out_w*N), batch last
    return cols.reshape(cols.shape[0], -1, len(x)).transpose(2, 0, 1)


def _im2col_cases():
    r = _rng(27)
    return [
        Case("one 1-channel 4×5 image, 3×3 windows", (r.normal(size=(1, 1, 4, 5)), 3, 3, 1, 0)),
        Case("2 images, 3 channels, 5×4, 2×3 windows", (r.normal(size=(2, 3, 5, 4)), 2, 3, 1, 0)),
        Case("stride 2 and padding 1, 3 images, 5×6", (r.normal(size=(3, 2, 5, 6)), 3, 3, 2, 1)),
        Case("stride 3, padding 2, 3×2 windows on 7×8", (r.normal(size=(2, 1, 7, 8)), 3, 2, 3, 2)),
        Case("the second case's shapes with other values", (r.normal(size=(2, 3, 5, 4)), 2, 3, 1, 0)),
    ]


def _i2c_channel_last(x, kh, kw, stride, padding):
    cols = im2col(x, kh, kw, stride, padding)
    n, c = x.shape[:2]
    return cols.reshape(n, c, kh * kw, -1).transpose(0, 2, 1, 3).reshape(cols.shape)


def _i2c_columns_transposed(x, kh, kw, stride, padding):
    cols = im2col(x, kh, kw, stride, padding)
    out_h = scratch.conv_output_size(x.shape[2], kh, stride, padding)
    out_w = scratch.conv_output_size(x.shape[3], kw, stride, padding)
    return cols.reshape(*cols.shape[:2], out_h, out_w).transpose(0, 1, 3, 2).reshape(cols.shape)


def _i2c_no_padding(x, kh, kw, stride, padding):
    return im2col(x, kh, kw, stride, 0)


def _i2c_batch_last(x, kh, kw, stride, padding):
    return scratch.im2col(x, kh, kw, stride, padding)


def _i2c_batch_last_reshaped(x, kh, kw, stride, padding):
    cols = scratch.im2col(x, kh, kw, stride, padding)
    return cols.reshape(len(x), cols.shape[0], -1)


def _i2c_batch_last_image_major(x, kh, kw, stride, padding):
    cols = scratch.im2col(x, kh, kw, stride, padding)
    return cols.reshape(cols.shape[0], len(x), -1).transpose(1, 0, 2)


BATCH_LAST = ("a reshape cannot move the batch axis: in the batch-last layout the image index varies fastest "
              "along a row (column = position·N + image). Reshape to (C·kh·kw, H_out·W_out, N), then "
              "transpose to (N, C·kh·kw, H_out·W_out).")

EX_2_6 = Exercise("2.6", "im2col: windows as columns", [Part(
    "im2col", im2col, _im2col_cases, points=2,
    mistakes=[
        Mistake(_i2c_channel_last, "order the rows channel first: row index = c·kh·kw + a·kw + b."),
        Mistake(_i2c_columns_transposed, "order the columns row by row: column index = i·out_w + j."),
        Mistake(_i2c_no_padding, "pad the image with zeros first (padding on every side)."),
        Mistake(_i2c_batch_last, "that is the batch-last layout of d2lite.scratch.im2col, (C·kh·kw, H_out·W_out·N); "
                                 "this exercise asks for unfold's layout, (N, C·kh·kw, H_out·W_out): the batch first."),
        Mistake(_i2c_batch_last_reshaped, BATCH_LAST),
        Mistake(_i2c_batch_last_image_major, BATCH_LAST),
    ])])


# 2.7 A CNN in PyTorch within a budget ---------------------------------------------------------------
# The model is handed over untrained and measured, trained and evaluated by the grader (d2lite.grading.budget):
# digits at random positions on 16×16 canvases, where a plain MLP within the same budget cannot keep up.

BUDGET_2_7 = Budget(
    input_shape=(1, 16, 16), classes=10, max_values=20_000, max_mult_adds=500_000, max_activations=50_000,
    min_accuracy=0.70, min_convolutions=1, recipe=Recipe(epochs=10, lr=0.05, momentum=0.9, batch_size=32),
    data=load_placed_digits)

EX_2_7 = Exercise("2.7", "A CNN in PyTorch within a budget", [budget_part("build_cnn", BUDGET_2_7, points=3)])

register(CHAPTER, EX_2_1, EX_2_2, EX_2_3, EX_2_4, EX_2_5, EX_2_6, EX_2_7)
