"""Does a drawing look like one digit? A network trained on digits answers with a digit for anything, even
random noise, a scribble, a smiley or a number of several digits; this module says when not to believe it.

    message = doubt(drawing, net)    # None, or "this does not look like a digit: ..." /
                                     # "this looks like more than one digit: ..."

The network's answer is only worth giving when the drawing is like the digits it learned from. Three
kinds of evidence, each compared with what real digits show (LIMITS):

0. The canvas: a drawing is strokes on a plain background; a photo has mid-tones everywhere (Drawing.tones).
1. The layout of the ink before it was cropped (Drawing.parts): several marks of a digit's height side
   by side are several digits; marks inside a closed loop (eyes in a face) are no digit, nor are many
   separate marks (noise), nor ink much wider than tall (digits written so close that they touch).
2. The 28x28 input: how much of it is ink, how many holes and separate pieces it has. Digits have at
   most 2 holes (an 8) and cover at most a quarter of the frame.
3. The network itself. Its score for its best digit (the largest output before softmax: Hendrycks et
   al.'s "max logit") is high for inputs like the digits it learned and low for unfamiliar ones, where
   softmax still turns a small lead into a confident-looking probability. Its last hidden layer should
   point the way of the guessed digit's output weights (a cosine). And a real digit is still read as
   the same digit when nudged (shifted 1.5 px, turned 12 degrees, 12% larger or smaller); a scribble's
   guess wanders.
4. A second network that has seen things that are not digits (digits/not_digit.py): letters, signs,
   shapes and scribbles drawn in code, against MNIST's and written digits. The first network's view
   of most capital letters (H, K, M, N, T, V, W, X, Y) is as digit-like as a digit's by every measure
   above; this one has learned what they look like.

The four numbers of 3 and 4 are also weighed together (unlikeness: a logistic regression fitted on real
digits and on things that are not, weigh): a drawing that each lets through on its own, by a little, is
refused when all of them lean the same way. The weighing adds refusals to the limits', never removes
one: weighed instead of the limits, the second network's log-odds outweighed the rest (it is fitted on
drawings like those that network learned from), and triangles that the convolutional network reads as a
confident 0 got through.

Each limit lies just beyond what MNIST training digits, re-drawn as canvases and preprocessed like any
drawing, show (benchmarks/refusal_eval.py --calibrate measures them): the score, agreement and steadiness
limits and the weighing's where 0.03% of those digits fall beyond, so that fewer than 1 real digit
drawing in 200 is refused. Those four depend on the model: each shipped model file carries its own in its
record, under "one_digit"; a model without any gets LIMITS and WEIGHING (the dense network's weighing),
and one whose limits were measured before there was a weighing is not weighed.

What it cannot do: tell a letter from the digit it resembles (S from 5, O from 0, l from 1): nobody
can, so the second network is not taught those letters. Its limit, like the others, holds for the
networks it was calibrated with.
"""

import cv2
import numpy as np

from nn.layers import softmax
from nn.network import scale_pixels

from .not_digit import digit_odds
from .preprocess import components

# Each: just beyond the largest (or smallest) value that re-drawn MNIST training digits show.
LIMITS = {
    "tones": 0.09,          # share of the canvas in mid-tones; drawings have at most 0.07, photos more
    "side_by_side": 1,      # marks of the digit's height side by side; a digit is one column of ink
    "width": 1.9,           # width / height of all the ink; MNIST's widest digits are about 1.7
    "inside_loops": 0,      # marks inside a closed loop, like eyes in a face
    "marks": 2,             # separate marks larger than a tenth of the largest (a 5's detached bar)
    "inked": 0.26,          # share of the 28x28 input that is ink; digits cover at most 0.25
    "holes": 3,             # closed loops in the 28x28 input: an 8 has 2, a few untidy ones 3
    "pieces": 4,            # separate pieces of ink in the 28x28 input
    "score": 3.0,           # the network's largest output must be at least this (shipped model)
    "agreement": 0.085,     # cosine of its hidden activity with its guess's weights, at least this
    "steadiness": 0.25,     # its guess's mean probability over nudged copies must be at least this
    "digit_odds": -1.0,     # the not-a-digit network's log-odds that it is a digit, at least this
}
LOW = ("score", "agreement", "steadiness", "digit_odds")   # a drawing must stay above these; below the rest
# The limits that depend on the digit network, measured for each model file (refusal_eval --calibrate).
# digit_odds is not one: it belongs to the not-a-digit network. Its limit lies beyond all but 0.07% of
# re-drawn MNIST training digits (0 refused 0.18% of them; both measured with the network shipped before
# the current one, whose held-out run flags 0.1% of unseen digits at it), and is not measured per model:
# measured on MNIST alone it would end up refusing the writers MNIST lacks.
OWN = ("score", "agreement", "steadiness")
# The four that tell what the two networks see are also weighed together (unlikeness): a drawing that
# each of them lets through on its own is refused when all of them lean the same way.
WEIGHED = LOW
ODDS = 15.0                 # the log-odds are clipped to +/- this there (+inf: no second network)
# The weighing of models/mnist_mlp.npz, for a model file that carries none of its own (one trained here:
# benchmarks/refusal_eval.py --calibrate measures one for any model and saves it in the file).
WEIGHING = {"mean": [13.9947, 0.2095, 0.9844, 8.7668], "scale": [3.9122, 0.0342, 0.0598, 3.2474],
            "weights": [-0.7478, -0.3792, -0.2054, -3.0479], "bias": -7.6623, "limit": 4.7428}
BIG = 0.1                   # a mark counts if at least this share of the largest mark's area...
INSIDE = 0.04               # ...or, inside a loop, this share (an eye is 5% or more, a pen's speck less)
TALL = 0.5                  # a column of marks counts as a digit if this share of the ink's height
REASONS = {
    "tones": "{:.0%} of it is in mid-tones, as in a photo or noise",
    "inside_loops": "{} marks inside a closed loop",
    "marks": "{} separate marks",
    "inked": "{:.0%} of it is ink",
    "holes": "{} closed loops",
    "pieces": "{} separate pieces",
    "score": "the network finds no digit in it (its best score is {:.1f})",
    "agreement": "what the network sees is unlike any digit (agreement {:.2f})",
    "steadiness": "its guess changes when the drawing is nudged",
    "digit_odds": "it looks like a letter, a sign or a shape",
    "weighed": "taken together, what the two networks see is unlike a digit (most of all its {})",
}
# How the weighing's reason names the number that pushed it over most.
PUSHES = {"score": "highest score", "agreement": "agreement with its guess",
          "steadiness": "steadiness under small shifts and turns",
          "digit_odds": "likeness to letters and shapes"}


def doubt(drawing, net):
    """None if the drawing looks like one digit to `net`; else one line saying why not, starting
    "this looks like more than one digit" or "this does not look like a digit"."""
    return doubt_of(evidence(drawing, net), net)


def doubt_of(e, net):
    """doubt's answer from a drawing's evidence e (for a caller that keeps the evidence too)."""
    limits, weighing = limits_of(net), weighing_of(net)
    beyond = [k for k in LIMITS if (e[k] < limits[k] if k in LOW else e[k] > limits[k])]
    pushed_by = None
    if weighing is not None:
        u, pushed_by = unlikeness(e, weighing)
        if not u <= weighing["limit"]:                     # NaN too: no digit shows that
            beyond.append("weighed")
            e = {**e, "weighed": PUSHES[pushed_by]}
    drawn = "tones" not in beyond                          # a photo is no drawing, of one digit or more
    if drawn and "side_by_side" in beyond and e["marks"] <= e["side_by_side"] + 1:   # noise: more marks
        return (f"this looks like more than one digit: {e['side_by_side']} marks side by side. "
                "Draw one digit at a time.")
    untidy = {"inside_loops", "marks", "inked", "holes", "pieces"}
    if drawn and "width" in beyond and not set(beyond) & untidy:
        return (f"this looks like more than one digit: the ink is {e['width']:.1f} times as wide as it "
                "is tall. Draw one digit at a time.")
    letter_like = "digit_odds" in beyond or ("weighed" in beyond and pushed_by == "digit_odds")
    if drawn and letter_like and not set(beyond) & (untidy | {"score"}):   # digit-like to the first
        # network, yet the second has seen such things: a letter, a sign or a shape
        return ("this looks like a letter, a sign or a shape, not a digit. Draw one digit, large and "
                "clear, in the middle of the canvas.")
    found = [REASONS[k].format(e[k]) for k in beyond if k in REASONS]
    if found:
        return ("this does not look like a digit: " + "; ".join(found[:2])
                + ". Draw one digit, large and clear, in the middle of the canvas.")
    return None


def evidence(drawing, net):
    """Everything doubt looks at, as a dict of numbers named like LIMITS."""
    return {"tones": drawing.tones, **layout(drawing.parts), **ink_statistics(drawing.image),
            **network_view(drawing.image, net), "digit_odds": digit_odds(drawing.image)}


def limits_of(net):
    """LIMITS, with the model file's own score, agreement and steadiness limits (record["one_digit"])."""
    own = (net.record or {}).get("one_digit") or {}
    return {**LIMITS, **{k: own[k] for k in OWN if k in own}}


def weighing_of(net):
    """The model file's own weighing (record["one_digit"]["weighing"]); WEIGHING for a model that has no
    limits of its own; None for one whose limits were measured before there was a weighing (another
    model's weighing does not fit its numbers)."""
    own = (net.record or {}).get("one_digit") or {}
    return own.get("weighing", None if own else WEIGHING)


def unlikeness(e, weighing):
    """How unlike a digit the two networks find a drawing, from its evidence e: the log-odds that it is
    not a digit, by a logistic regression fitted on real digits and on things that are not (weigh),

        u = b + sum_i w_i (x_i - mean_i) / scale_i,   x = (score, agreement, steadiness, digit odds)

    (mean and scale: the real digits'). Returns (u, the name of the x that pushes u up most: the reason
    given when u is beyond the limit)."""
    z = (_weighed(e) - np.asarray(weighing["mean"])) / np.asarray(weighing["scale"])
    if np.isinf(e["digit_odds"]):          # no second network to ask: its number says nothing either way
        z[WEIGHED.index("digit_odds")] = 0.0
    push = np.asarray(weighing["weights"]) * z
    return float(weighing["bias"] + push.sum()), WEIGHED[int(push.argmax())]


def weigh(digits, others, share, steps=30, ridge=1e-3):
    """The weighing that tells real digits (evidence dicts) from things that are not (`others`), fitted
    by Newton's method on the logistic loss with each of the two weighing the same; its limit is the
    unlikeness beyond which `share` of these digits fall. Each weight says how far one spread of that
    x among real digits moves the log-odds (a small ridge keeps them finite if the two never overlap)."""
    if not digits or not others:
        raise ValueError("weigh needs evidence of real digits and of things that are not digits")
    D, N = np.array([_weighed(e) for e in digits]), np.array([_weighed(e) for e in others])
    mean, scale = D.mean(axis=0), D.std(axis=0) + 1e-9
    X = np.column_stack([np.ones(len(D) + len(N)), (np.vstack([D, N]) - mean) / scale])
    y = np.repeat([0.0, 1.0], [len(D), len(N)])
    c = np.repeat([0.5 / len(D), 0.5 / len(N)], [len(D), len(N)])     # each of the two sums to 1/2
    r = ridge * np.r_[0.0, np.ones(len(WEIGHED))]                       # the bias is not pulled to 0
    beta = np.zeros(X.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-X @ beta))
        gradient = X.T @ (c * (p - y)) + r * beta
        hessian = (X * (c * p * (1 - p))[:, None]).T @ X + np.diag(r)
        beta -= np.linalg.solve(hessian, gradient)
    limit = np.quantile(X[:len(D)] @ beta, 1 - share)
    return {"mean": mean.tolist(), "scale": scale.tolist(), "weights": beta[1:].tolist(),
            "bias": float(beta[0]), "limit": float(limit)}


def _weighed(e):
    """The x of unlikeness, from evidence e."""
    return np.array([e["score"], e["agreement"], e["steadiness"], np.clip(e["digit_odds"], -ODDS, ODDS)])


def layout(parts):
    """From Drawing.parts (x, y, width, height, area, inside a loop; one row per mark of ink):
    side_by_side: how many columns of marks, each at least TALL of the ink's height, stand side by side
    (marks overlapping left to right belong to one column); width: the ink's width / height;
    inside_loops: marks inside another's loop (at least INSIDE of the largest's area); marks: marks of
    at least BIG of the largest's area."""
    if len(parts) == 0:
        return {"side_by_side": 0, "width": 0.0, "inside_loops": 0, "marks": 0}
    x0, y0, w, h, area, inside = (parts[:, k].astype(float) for k in range(6))
    top, bottom = y0.min(), (y0 + h).max()
    big = area >= BIG * area.max()
    inside = (inside > 0) & (area >= INSIDE * area.max())
    columns = []                                    # [left, right, top, bottom] of each column
    for i in np.argsort(x0):
        if not big[i]:
            continue
        if columns and x0[i] < columns[-1][1]:
            c = columns[-1]
            columns[-1] = [c[0], max(c[1], x0[i] + w[i]), min(c[2], y0[i]), max(c[3], y0[i] + h[i])]
        else:
            columns.append([x0[i], x0[i] + w[i], y0[i], y0[i] + h[i]])
    tall = sum(c[3] - c[2] >= TALL * (bottom - top) for c in columns)
    return {"side_by_side": int(tall), "width": float(((x0 + w).max() - x0.min()) / (bottom - top)),
            "inside_loops": int(inside.sum()), "marks": int(big.sum())}


def ink_statistics(image):
    """From the (28, 28) uint8 input: inked (share of pixels over half ink), holes (pieces of background
    enclosed by ink, of 2 pixels or more) and pieces (separate pieces of ink)."""
    solid = (image > 127).astype(np.uint8)
    pieces, _ = cv2.connectedComponents(solid, connectivity=8)
    count, _, stats, _ = components(1 - solid, 4)
    x0, y0 = stats[1:, cv2.CC_STAT_LEFT], stats[1:, cv2.CC_STAT_TOP]
    enclosed = (x0 > 0) & (y0 > 0) & (x0 + stats[1:, cv2.CC_STAT_WIDTH] < image.shape[1]) \
        & (y0 + stats[1:, cv2.CC_STAT_HEIGHT] < image.shape[0])
    holes = int((enclosed & (stats[1:, cv2.CC_STAT_AREA] >= 2)).sum())
    return {"inked": float(solid.mean()), "holes": holes, "pieces": int(pieces - 1)}


def _nudges():
    """The 44 affine maps of nudged: each shift (1.5 px), turn (12 degrees) and scale (12%), and mixes."""
    maps = []
    for angle in (-12, 0, 12):
        for scale in (0.88, 1.0, 1.12):
            for dx, dy in ((0, 0), (1.5, 0), (-1.5, 0), (0, 1.5), (0, -1.5)):
                if (angle, scale, dx, dy) != (0, 1.0, 0, 0):
                    M = cv2.getRotationMatrix2D((14, 14), angle, scale)
                    M[:, 2] += (dx, dy)
                    maps.append(M)
    return tuple(maps)


NUDGES = _nudges()


def nudged(image):
    """44 copies of a (28, 28) input, each shifted (1.5 px), turned (12 degrees) or scaled (12%), or a mix."""
    return np.stack([cv2.warpAffine(image, M, (28, 28), flags=cv2.INTER_LINEAR) for M in NUDGES])


def network_view(image, net):
    """score: the network's largest output (before softmax) for the input. agreement: the cosine between
    the last hidden layer's activity and the output weights of the digit it names (how squarely what the
    network sees points to that digit; a cosine, so the same for any scale of weights). steadiness: the
    mean probability it gives its guess over the nudged copies."""
    X = scale_pixels(np.concatenate([image[None], nudged(image)]))
    A, Z = net.hidden_and_scores(X)                  # A: last hidden layer (45, n); Z: scores (45, 10)
    P = softmax(Z)
    guess = int(P[0].argmax())
    w = net.layers[-1].params["W"][:, guess]
    agreement = float(A[0] @ w / (np.linalg.norm(A[0]) * np.linalg.norm(w) + 1e-12))
    return {"score": float(Z[0].max()), "agreement": agreement, "steadiness": float(P[1:, guess].mean())}
