"""A digit recognizer written from scratch in numpy, one idea per module:

network      the math: layers, ReLU, softmax, cross-entropy, one-hot, forward and backward passes
gradcheck    numerical gradients, to check backpropagation
optim        SGD with momentum, Adam, the learning-rate schedule
augment      random distortions of training digits
train        the mini-batch training loop
data         reading and checking digits files; downloading MNIST
persist      saving and loading models safely
preprocess   a drawing file -> the 28x28 input the network was trained on
learn        learning from one correction without forgetting
interactive  the user's side: which model, predicting a drawing, keeping corrections, reset, undo
canvas       the drawing widget for the notebook
plots        the pictures the notebooks show
cli          python -m nn ...
"""

from .errors import NNError
from .network import Network, cross_entropy, one_hot, relu, scale_pixels, softmax
from .persist import load_model, save_model

__all__ = ["NNError", "Network", "cross_entropy", "load_model", "one_hot", "relu", "save_model",
           "scale_pixels", "softmax"]
