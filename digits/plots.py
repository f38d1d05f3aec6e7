"""The pictures the notebooks show. The only module that imports matplotlib."""

import matplotlib.pyplot as plt
import numpy as np

MNIST_CREDIT = ("MNIST digits: Yann LeCun, Corinna Cortes and Christopher J.C. Burges, "
                "CC BY-SA 3.0")


def show_digits(images, titles=None, cols=10, size=1.2, credit=None):
    """A grid of 28x28 digits (rows of a (n, 784) or (n, 28, 28) array), each with an optional title.

    credit: a line printed under the figure (MNIST_CREDIT for MNIST digits).
    """
    images = np.asarray(images).reshape(-1, 28, 28)
    rows = -(-len(images) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * size, rows * size * 1.15), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap="gray", vmin=0, vmax=255)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=9)
    fig.tight_layout()
    if credit:
        fig.text(0.5, 0, credit, ha="center", va="top", fontsize=8, color="0.4")
    return fig


def plot_history(history):
    """Loss and accuracy per epoch, on the training batches and on the validation digits, if any."""
    epochs = np.arange(1, len(history.loss) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    left.plot(epochs, history.loss, "o-", label="training batches (distorted digits)")
    right.plot(epochs, np.array(history.accuracy) * 100, "o-", label="training batches (distorted digits)")
    if history.validation_loss:
        held_out = "validation digits (held out, never trained on)"
        left.plot(epochs, history.validation_loss, "s-", label=held_out)
        right.plot(epochs, np.array(history.validation_accuracy) * 100, "s-", label=held_out)
    left.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss", yscale="log")
    right.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


def plot_confusion(labels, predictions):
    """10x10 counts: row = the true digit, column = what the network said; mistakes off the diagonal."""
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    ConfusionMatrixDisplay.from_predictions(labels, predictions, ax=ax, colorbar=False, cmap="Blues")
    ax.set(xlabel="network's answer", ylabel="true digit", title="Confusion matrix")
    fig.tight_layout()
    return fig


def plot_mistakes(images, labels, probabilities, n=30):
    """The digits the network got wrong, most confident mistakes first, titled 'true -> said (p%)'."""
    predictions = probabilities.argmax(1)
    wrong = np.flatnonzero(predictions != labels)
    wrong = wrong[np.argsort(-probabilities[wrong, predictions[wrong]])][:n]
    titles = [f"{labels[i]}→{predictions[i]} ({probabilities[i, predictions[i]]:.0%})" for i in wrong]
    return show_digits(images[wrong], titles, credit=MNIST_CREDIT)


def plot_weights(W1, n=40, cols=10):
    """Each hidden unit's 784 incoming weights as a 28x28 picture, all on one colour scale.

    Red: a positive weight, so ink on that pixel pushes the unit's Z up; blue: negative, ink there
    pushes it down; white: the pixel hardly matters to that unit.
    """
    rows = -(-n // cols)
    limit = float(np.percentile(np.abs(W1[:, :n]), 99.5))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1 + 1.2, rows * 1.1))
    for unit, ax in enumerate(axes.flat):
        image = ax.imshow(W1[:, unit].reshape(28, 28), cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.axis("off")
    fig.colorbar(image, ax=axes, shrink=0.8, label="weight (red: ink here raises Z, blue: lowers it)")
    fig.suptitle(f"Incoming weights of the first {n} hidden units")
    return fig


def plot_probabilities(probabilities, ax=None):
    """A bar for each digit 0-9, the network's chosen digit highlighted."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 2.8))
    colours = ["tab:gray"] * 10
    colours[int(np.argmax(probabilities))] = "tab:orange"
    ax.bar(range(10), np.asarray(probabilities) * 100, color=colours)
    ax.set(xticks=range(10), xlabel="digit", ylabel="probability (%)", ylim=(0, 100))
    return ax.figure


def plot_steps(drawing, cols=4):
    """Each preprocessing step's image side by side, ending with exactly what the network sees."""
    steps = list(drawing.steps.items())
    rows = -(-len(steps) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 3, rows * 3.2), squeeze=False)
    for ax, (i, (title, image)) in zip(axes.flat, enumerate(steps), strict=False):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"{i + 1}. {title}\n{image.shape[1]}x{image.shape[0]} px", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes.flat[len(steps):]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_prediction(drawing, probabilities):
    """What the network saw (28x28) next to its ten probabilities."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3), gridspec_kw={"width_ratios": [1, 2.4]})
    left.imshow(drawing.image, cmap="gray", vmin=0, vmax=255)
    left.set_title("what the network sees (28x28)", fontsize=9)
    left.axis("off")
    plot_probabilities(probabilities, right)
    right.set_title(f"its guess: {int(np.argmax(probabilities))}", fontsize=10)
    fig.tight_layout()
    return fig


def plot_filters(W, cols=8):
    """A convolution's kernels for its first input channel, W (k, k, c_in, c_out): one small image each."""
    k, _, _, c_out = W.shape
    rows = -(-c_out // cols)
    limit = float(np.abs(W[:, :, 0, :]).max())
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.0 + 1.2, rows * 1.0))
    for o, ax in enumerate(axes.flat):
        ax.axis("off")
        if o < c_out:
            image = ax.imshow(W[:, :, 0, o], cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.colorbar(image, ax=axes, shrink=0.8, label="weight (red: ink here raises the output, blue: lowers)")
    fig.suptitle(f"The {c_out} learned {k}x{k} filters of the first convolution")
    return fig


def plot_feature_maps(digit, maps, cols=8, title="What each filter finds in this digit"):
    """A digit (28, 28) next to a layer's output for it, maps (H, W, channels): one image per channel, all
    on one colour scale (black: 0, the filter found nothing there), so the maps can be compared."""
    channels = maps.shape[2]
    rows = -(-channels // cols)
    fig, axes = plt.subplots(rows, cols + 1, figsize=((cols + 1) * 1.1, rows * 1.1))
    axes = np.atleast_2d(axes)
    for ax in axes.flat:
        ax.axis("off")
    axes[0, 0].imshow(digit, cmap="gray")
    axes[0, 0].set_title("input", fontsize=8)
    top = float(maps.max()) or 1.0
    for c in range(channels):
        image = axes[c // cols, 1 + c % cols].imshow(maps[:, :, c], cmap="magma", vmin=0, vmax=top)
        axes[c // cols, 1 + c % cols].set_title(str(c), fontsize=7)
    fig.colorbar(image, ax=axes[:, 1:], shrink=0.8, label="output after ReLU")
    fig.suptitle(title)
    return fig


def plot_shift_accuracy(shifts, accuracies):
    """Accuracy (%) against how many pixels the digits were moved, one line per network:
    accuracies = {name: [accuracy for each shift]}."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, values in accuracies.items():
        ax.plot(shifts, np.array(values) * 100, "o-", label=name)
    ax.set(xlabel="digits moved by (pixels)", ylabel="accuracy (%)", title="Reading digits moved off centre",
           xticks=list(shifts))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig
