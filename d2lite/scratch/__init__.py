"""d2lite.scratch: every component in NumPy, with explicit forward and backward."""
from d2lite.scratch.activations import ReLU, Sigmoid, Tanh, relu, relu_grad, sigmoid, sigmoid_grad, tanh, tanh_grad
from d2lite.scratch.autograd import Value
from d2lite.scratch.conv import (Conv2d, ConvTranspose2d, col2im, conv2d, conv2d_loops, conv_output_size,
                                 conv_transpose2d, conv_transpose_output_size, im2col, pad2d)
from d2lite.scratch.dropout import Dropout, dropout_mask
from d2lite.scratch.gradcheck import check_module_gradients, numerical_gradient, relative_error
from d2lite.scratch.layers import Flatten, Linear, Module, Parameter, Sequential, mlp
from d2lite.scratch.losses import MSELoss, SoftmaxCrossEntropy, cross_entropy, log_softmax, one_hot, softmax
from d2lite.scratch.models import lenet
from d2lite.scratch.normalization import BatchNorm1d, BatchNorm2d
from d2lite.scratch.optim import SGD, AdaGrad, Adam, AdamW, RMSprop
from d2lite.scratch.pool import AvgPool2d, MaxPool2d, avg_pool2d, max_pool2d
from d2lite.scratch.schedules import Scheduler, cosine_warmup_lr, exponential_lr, inverse_sqrt_lr, step_lr
