"""d2lite.torch: the same components as d2lite.scratch, in PyTorch, on d2lite.device()."""
from d2lite.torch.activations import ReLU, Sigmoid, Tanh, relu, sigmoid, tanh
from d2lite.torch.attention import (AdditiveAttention, MultiHeadAttention, causal_mask, lengths_mask, load_torch_mha,
                                   masked_softmax, merge_heads, positional_encoding, scaled_dot_product_attention,
                                   split_heads)
from d2lite.torch.clip import clip_grad_norm
from d2lite.torch.conv import (Conv2d, ConvTranspose2d, conv2d, conv2d_unfold, conv_output_size, conv_transpose2d,
                               conv_transpose2d_fold, conv_transpose_output_size)
from d2lite.torch.dropout import Dropout, dropout
from d2lite.torch.embedding import Embedding
from d2lite.torch.fewshot import conv_embedding, prototypes, prototypical_logits
from d2lite.torch.layers import Flatten, Linear, Sequential, mlp
from d2lite.torch.losses import MSELoss, SoftmaxCrossEntropy, cross_entropy, log_softmax, softmax
from d2lite.torch.models import lenet
from d2lite.torch.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from d2lite.torch.optim import SGD, AdaGrad, Adam, AdamW, RMSprop
from d2lite.torch.pool import (AvgPool2d, MaxPool2d, avg_pool2d, avg_pool2d_unfold, max_pool2d,
                               max_pool2d_unfold)
from d2lite.torch.recurrent import GRU, LSTM, RNN, gru_cell, lstm_cell, rnn_cell
from d2lite.torch.schedules import Scheduler, cosine_warmup_lr, exponential_lr, inverse_sqrt_lr, step_lr
