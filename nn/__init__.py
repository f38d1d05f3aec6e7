"""A digit recognizer written from scratch in numpy, one idea per module:

layers       the building blocks: Dense, ReLU, Dropout, softmax + cross-entropy, each with its backward
conv         convolution, max pooling and flatten layers (part 2)
network      a list of layers: forward, backward, predict; one flat buffer of parameters
gradcheck    numerical gradients, to check backpropagation
optim        SGD with momentum, Adam, the learning-rate schedule
augment      random distortions of training digits
train        the mini-batch training loop, and the one training pipeline the CLI and notebook share
data         reading and checking digits files; downloading MNIST
paths        where files live, and writing them atomically
memory       a model's memory of its training digits, rehearsed by corrections
persist      saving and loading models safely
preprocess   a drawing file -> the 28x28 input the network was trained on
one_digit    does a drawing look like one digit at all?
hand         a hand drawing strokes: how one person's drawings vary from one to the next
variations   a person's next drawings: one drawing traced and redrawn by that hand, or warped
learn        learning from one correction without forgetting
user_model   the user's model: which model is used, corrections, undo, reset, their samples
interactive  predictions of drawings described for a person; one-line errors in the notebook
canvas       the drawing widget for the notebook
plots        the pictures the notebooks show
errors       the one exception type, and failures turned into a line to act on
cli          python -m nn ...
"""

from .errors import NNError
from .layers import cross_entropy, one_hot, relu, softmax
from .network import Network, mlp, scale_pixels
from .persist import load_model, save_model

__all__ = ["NNError", "Network", "cross_entropy", "load_model", "mlp", "one_hot", "relu", "save_model",
           "scale_pixels", "softmax"]
