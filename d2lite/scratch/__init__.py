"""d2lite.scratch: every component in NumPy, with explicit forward and backward."""
from d2lite.scratch.activations import ReLU, Sigmoid, Tanh, relu, relu_grad, sigmoid, sigmoid_grad, tanh, tanh_grad
from d2lite.scratch.attention import (AdditiveAttention, DotProductAttention, MultiHeadAttention, causal_mask,
                                     lengths_mask, masked_softmax, merge_heads, positional_encoding,
                                     scaled_dot_product_attention, softmax_backward, split_heads)
from d2lite.scratch.autograd import Value
from d2lite.scratch.clip import clip_grad_norm
from d2lite.scratch.conv import (Conv2d, ConvTranspose2d, col2im, conv2d, conv2d_loops, conv_output_size,
                                 conv_transpose2d, conv_transpose_output_size, im2col, pad2d)
from d2lite.scratch.dropout import Dropout, dropout_mask
from d2lite.scratch.embedding import Embedding
from d2lite.scratch.fewshot import prototypes, prototypical_logits
from d2lite.scratch.gradcheck import check_module_gradients, numerical_gradient, relative_error
from d2lite.scratch.layers import Flatten, Linear, Module, Parameter, Sequential, mlp
from d2lite.scratch.losses import MSELoss, SoftmaxCrossEntropy, cross_entropy, log_softmax, one_hot, softmax
from d2lite.scratch.models import lenet
from d2lite.scratch.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from d2lite.scratch.optim import SGD, AdaGrad, Adam, AdamW, RMSprop
from d2lite.scratch.pool import AvgPool2d, MaxPool2d, avg_pool2d, max_pool2d
from d2lite.scratch.recurrent import GRU, LSTM, RNN, gru_cell, lstm_cell, rnn_cell
from d2lite.scratch.schedules import Scheduler, cosine_warmup_lr, exponential_lr, inverse_sqrt_lr, step_lr
