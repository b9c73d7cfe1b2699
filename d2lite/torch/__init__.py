"""d2lite.torch: the same components as d2lite.scratch, in PyTorch, on d2lite.device()."""
from d2lite.torch.activations import ReLU, Sigmoid, Tanh, relu, sigmoid, tanh
from d2lite.torch.layers import Linear, Sequential, mlp
from d2lite.torch.losses import MSELoss, SoftmaxCrossEntropy, cross_entropy, log_softmax, softmax
from d2lite.torch.optim import SGD
