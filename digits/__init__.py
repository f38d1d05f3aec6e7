"""A digit reader built on the `nn` core: everything that turns a network into something that reads a
person's handwriting, one idea per module.

paths        where files live: data/, models/, and the one rule for which model is used
data         reading and checking digits files; downloading MNIST
augment      random distortions of training digits
training     the training settings, the shipped recipes, and the one pipeline the CLI and notebooks share
preprocess   a drawing file -> the 28x28 input the network was trained on
one_digit    does a drawing look like one digit at all?
hand         a hand drawing strokes: how one person's drawings vary from one to the next
variations   a person's next drawings: one drawing traced and redrawn by that hand, or warped
learn        learning from one correction without forgetting
user_model   the user's model: which model is used, corrections, undo, reset, their samples
interactive  predictions of drawings described for a person; one-line errors in the notebook
canvas       the drawing widget for the notebook
plots        the pictures the notebooks show
cli          python -m digits ...
"""
