"""A neural network written from scratch in numpy: the small core the notebooks teach, one idea per module.

layers     the building blocks: Dense, ReLU, Dropout, softmax + cross-entropy, each with its backward
conv       convolution, max pooling and flatten layers, and the convolutional network (part 2)
network    a list of layers: forward, backward, predict; one flat buffer of parameters
gradcheck  numerical gradients, to check backpropagation
optim      SGD with momentum, Adam, the learning-rate schedule, a moving average of the weights
train      the mini-batch training loop
memory     a model's memory of its training digits, with its scores for them
persist    saving and loading models safely
files      writing a file atomically, and naming it to a person
errors     the one exception type, and failures turned into a line to act on

It imports numpy (and threadpoolctl and tqdm for the training loop) and nothing else: what makes it a
digit reader (data files, preprocessing, learning from corrections, the command line) is the `digits`
package beside it, which imports this one, never the reverse.
"""

from .errors import NNError
from .layers import cross_entropy, one_hot, relu, softmax
from .network import Network, mlp, scale_pixels
from .persist import load_model, save_model

__all__ = ["NNError", "Network", "cross_entropy", "load_model", "mlp", "one_hot", "relu", "save_model",
           "scale_pixels", "softmax"]
