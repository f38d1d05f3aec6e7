"""Draw a digit in the notebook: a canvas widget that reads it as the stroke ends and learns from a
press of the right digit's button.

The widget records the points of every stroke it receives and renders them itself with
`strokes_to_image` (a pure function), then runs the same pipeline as the Paint path: preprocessing,
prediction, and `UserModel.correct` for a correction. Built on ipycanvas and ipywidgets, which
work in JupyterLab, Jupyter Notebook 7 and VS Code.
"""

from pathlib import Path

import cv2
import numpy as np

from nn.errors import explain

from . import interactive
from .preprocess import preprocess_grey
from .user_model import UserModel

SIZE = 280                # canvas pixels, square
BRUSH = 22                # brush diameter: about MNIST's stroke width relative to a digit filling the canvas


def strokes_to_image(strokes, size=SIZE):
    """Render strokes as a white-on-black uint8 image (size, size).

    strokes: a list of (points, width): points a list of (x, y) canvas pixels, width the brush diameter.
    Each stroke is a round-capped, round-joined line through its points; a single point is a dot.
    """
    image = np.zeros((size, size), np.uint8)
    for points, width in strokes:
        pts = np.round(np.asarray(points, np.float64).reshape(-1, 2) * 16).astype(np.int32)
        if len(pts) == 0:
            continue
        radius = max(1, int(round(width / 2)))
        # A polyline of one point draws nothing, and joins between short segments can show gaps:
        # a disc at every point gives the round brush a real pen leaves.
        cv2.polylines(image, [pts], False, 255, thickness=max(1, int(round(width))),
                      lineType=cv2.LINE_AA, shift=4)
        for x, y in pts:
            cv2.circle(image, (int(x), int(y)), radius * 16, 255, -1, lineType=cv2.LINE_AA, shift=4)
    return image


class DrawingPad:
    """The canvas, its buttons, and the guess; see show() for how a notebook gets one."""

    def __init__(self, user=None, image_path="test_image.png"):
        import ipywidgets as w
        from ipycanvas import Canvas

        self.user, self.image_path = user or UserModel(), image_path
        self.strokes, self.drawing_now = [], False
        said = []                 # e.g. "the base model changed: re-learning your corrections"
        self.net, which = self.user.load(say=said.append)
        self.prediction = None
        self.canvas = Canvas(width=SIZE, height=SIZE,
                             layout=w.Layout(width=f"{SIZE}px", height=f"{SIZE}px"))
        self.canvas.on_mouse_down(self._start)
        self.canvas.on_mouse_move(self._extend)
        self.canvas.on_mouse_up(self._finish)
        self.canvas.on_mouse_out(self._finish)
        self.canvas.on_touch_start(lambda touches: self._start(*touches[0]))
        self.canvas.on_touch_move(lambda touches: self._extend(*touches[0]))
        self.canvas.on_touch_end(lambda touches: self._finish())
        self.guess = w.HTML(_guess_html(None))
        self.bars = w.HTML(_bars_html(None))
        self.status = w.HTML(" ".join(said + [which[0].upper() + which[1:] + "."]))
        self.digit_buttons = [w.Button(description=str(d), layout=w.Layout(width="38px"),
                                       tooltip=f"it is a {d}: learn it") for d in range(10)]
        for d, button in enumerate(self.digit_buttons):
            button.on_click(lambda _, d=d: self._safely(self.correct, d))
        actions = {"Clear": self.clear, "Undo last correction": self.undo,
                   "Reset to base model": self.reset, f"Save as {Path(image_path).name}": self.save}
        self.action_buttons = []
        for label, action in actions.items():
            button = w.Button(description=label, layout=w.Layout(width="auto"))
            button.on_click(lambda _, action=action: self._safely(action))
            self.action_buttons.append(button)
        self.widget = w.VBox([
            w.HBox([self.canvas, w.VBox([self.guess, self.bars], layout=w.Layout(margin="0 0 0 16px"))]),
            w.HTML("Wrong? Press the right digit to teach it:"), w.HBox(self.digit_buttons),
            w.HBox(self.action_buttons), self.status])
        self.clear()

    # --- drawing -----------------------------------------------------------------------------------

    def _start(self, x, y):
        if not self.strokes:            # a new drawing: what was said about the last one no longer holds
            self._now_using("")
        self.drawing_now = True
        self.strokes.append(([(x, y)], BRUSH))
        self._dot(x, y)

    def _extend(self, x, y):
        if not self.drawing_now:
            return
        points = self.strokes[-1][0]
        x0, y0 = points[-1]
        points.append((x, y))
        self.canvas.stroke_line(x0, y0, x, y)

    def _finish(self, x=None, y=None):
        if not self.drawing_now:
            return
        self.drawing_now = False
        if x is not None:
            self._extend(x, y)
        self.predict()

    def _dot(self, x, y):
        self.canvas.fill_circle(x, y, BRUSH / 2)

    # --- actions -----------------------------------------------------------------------------------

    def _safely(self, action, *args):
        """Run a button's action; an expected failure becomes the status line, not a lost traceback."""
        try:
            action(*args)
        except Exception as e:
            line = explain(e)
            if line is None:
                raise
            self.status.value = f"⚠️ {line}"

    def image(self):
        """What has been drawn, as a white-on-black uint8 image."""
        return strokes_to_image(self.strokes)

    def predict(self):
        """Read the drawing and show the guess and the ten probabilities."""
        try:
            drawing = preprocess_grey(self.image().astype(np.float32) / 255, name="the canvas")
        except Exception as e:
            if explain(e) is None:
                raise
            self.prediction = None
            self.guess.value, self.bars.value = _guess_html(None), _bars_html(None)
            self.status.value = explain(e)
            return
        self.prediction = interactive.predict_drawings(self.net, [drawing])[0]
        self.guess.value = _guess_html(self.prediction)
        self.bars.value = _bars_html(self.prediction.probabilities)

    def correct(self, digit):
        """Learn that the drawing is `digit` (the same function as the typed correction), and keep it.

        The page says so at once and the buttons wait, so nobody presses twice or thinks it hung.
        """
        if self.prediction is None:
            self.status.value = "Draw a digit first, then press the right digit."
            return
        learning = f"<b class='nn-learning'>⏳ Learning from your {digit}…</b>"
        self.status.value = f"{learning} (about a second)"
        for button in self.digit_buttons + self.action_buttons:
            button.disabled = True

        def progress(steps):
            self.status.value = f"{learning} ({steps} steps)"

        try:
            self.net, correction = self.user.correct(self.net, self.prediction.drawing.image, digit,
                                                     progress)
        finally:
            for button in self.digit_buttons + self.action_buttons:
                button.disabled = False
        self.status.value = correction.message[0].upper() + correction.message[1:] + "."
        self.predict()

    def undo(self):
        self.net, message = self.user.undo()
        self._now_using(message.capitalize())

    def reset(self):
        self.net = self.user.reset()
        self._now_using("Back to the base model.")

    def _now_using(self, message):
        which = self.user.describe(self.net)
        self.status.value = f"{message} Now {which}." if message else which[0].upper() + which[1:] + "."
        if self.strokes:
            self.predict()

    def save(self):
        """Write the drawing to image_path (white on black), atomically; never over an existing file
        (the user's own Paint drawing, say): then to the first free name_2.png, name_3.png, ..."""
        from nn.files import atomic_write, shown

        path, n = Path(self.image_path), 1
        while path.exists():
            n += 1
            path = Path(self.image_path).with_name(f"{Path(self.image_path).stem}_{n}.png")
        ok, png = cv2.imencode(".png", self.image())
        with atomic_write(path) as f:
            f.write(png.tobytes())
        kept = f" ({shown(self.image_path)} was already there, and is kept as it was)" if n > 1 else ""
        self.status.value = f"Saved the drawing as {shown(path)}{kept}."

    def clear(self):
        had_drawing = bool(self.strokes)
        self.strokes, self.drawing_now, self.prediction = [], False, None
        if had_drawing:                 # (at start-up the status keeps what loading the model said)
            self._now_using("")
        self.canvas.fill_style = "black"
        self.canvas.fill_rect(0, 0, SIZE, SIZE)
        self.canvas.stroke_style = self.canvas.fill_style = "white"
        self.canvas.line_width = BRUSH
        self.canvas.line_cap = self.canvas.line_join = "round"
        self.guess.value, self.bars.value = _guess_html(None), _bars_html(None)


def _guess_html(prediction):
    """The answer: the guess, or, when the drawing does not look like one digit, that (and the guess
    only as what it would be if it were a digit)."""
    if prediction is None:
        return "<h3 class='nn-guess'>Draw a digit</h3>"
    if prediction.doubt:
        what, _, advice = prediction.doubt.partition(". ")
        headline, _, why = what.partition(": ")
        headline = headline.replace("this ", "", 1)
        why += f" (if it were a digit: {prediction.digit}, {prediction.confidence:.0%}). {advice}"
        return f"<h3 class='nn-guess'>{headline[0].upper() + headline[1:]}</h3><small>{why.strip()}</small>"
    text = f"Guess: {prediction.digit} ({prediction.confidence:.0%})"
    note = f"<br><small>unsure: maybe {prediction.runner_up}</small>" if prediction.unsure else ""
    return f"<h3 class='nn-guess'>{text}</h3>{note}"


def _bars_html(probabilities):
    if probabilities is None:
        probabilities = np.zeros(10)
    top = int(np.argmax(probabilities)) if probabilities.any() else -1
    rows = "".join(
        f"<div style='display:flex;align-items:center;height:18px;font-family:monospace'>{d}&nbsp;"
        f"<div style='background:{'#f28e2b' if d == top else '#999'};height:12px;"
        f"width:{p * 160:.0f}px'></div>&nbsp;{p:.0%}</div>" for d, p in enumerate(probabilities))
    return f"<div class='nn-bars'>{rows}</div>"


PAINT_PATH = ("Draw in Paint instead, save it as test_image.png, and run the notebook from the top "
              "(sections 2-5).")


def show(user=None, image_path="test_image.png"):
    """Display a DrawingPad where a person is at the notebook; elsewhere say how to use the Paint path.

    A notebook run headless (papermill, nbconvert) or shown on the web cannot draw, so it gets a line of
    text instead of a widget that would show as a frozen placeholder.
    """
    from IPython.display import display

    if not interactive.person_at_notebook():
        print("The canvas needs a notebook app with a person at it (JupyterLab, Jupyter Notebook 7 or "
              "VS Code); this run has none. " + PAINT_PATH)
        return None
    try:
        pad = DrawingPad(user, image_path)
    except ImportError:
        print("The canvas needs ipycanvas and ipywidgets (pip install -r requirements.txt). " + PAINT_PATH)
        return None
    display(pad.widget)
    return pad
