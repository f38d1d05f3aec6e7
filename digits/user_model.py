"""The user's own model: the base model plus what their corrections taught it.

Three files take part:
  the base model           models/trained_mlp.npz if you trained one, else the shipped models/mnist_mlp.npz
  the user model           models/user_<base>.npz: the base model after learning your corrections,
                           one per base model (the dense and the convolutional network each have theirs)
  the user's samples       data/user_samples.csv: every drawing you corrected, with its right digit
The samples are the truth; the user model can always be rebuilt from them. So a correction appends its
drawing to the samples first and then saves the model, both under a lock so two corrections (the
canvas and a terminal) never interleave. If the program is killed between the two writes, the corrections
were made with the other network, or the base model was retrained since, the next start finds the model
behind the samples and learns what is missing from them (saying so, one line per correction; Ctrl-C
skips the rest until next time): nothing the user taught is ever lost.

The notebook, the canvas and the command line each hold one UserModel; it is the only place that
decides which model is used.
"""

import datetime
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nn import files
from nn.errors import NNError
from nn.network import scale_pixels
from nn.persist import load_model, model_sha256, read_record, save_model

from . import paths
from .data import CSV_HEADER, load_digits
from .learn import LearnSettings, learn

LOCK_TIMEOUT = 120       # seconds to wait for another correction to finish before giving up


@dataclass
class Correction:
    """What one correction did: the learning result, and a sentence for the user."""

    learned: object          # learn.Learned
    message: str


class UserModel:
    """Which model is used, learning from corrections, undo and reset, for one user's files."""

    def __init__(self, model_path=None, samples_path=None, base_path=None):
        self.base_path = Path(base_path or paths.base_model())
        self.model_path = Path(model_path or paths.user_model(self.base_path))
        self.samples_path = Path(samples_path or paths.USER_SAMPLES)
        self.undo_path = self.model_path.with_name(f".{self.model_path.name}.undo.npz")
        self.lock_path = self.model_path.with_name(f".{self.model_path.name}.lock")
        self._loaded = None          # sha256 of the user model file when we last read or wrote it

    # --- which model ------------------------------------------------------------------------------

    def load(self, say=print):
        """(network, a sentence saying which model it is), repairing the user model if it is stale.

        The user model is used when it was learned on the current base model; if the base changed
        (retrained) or the model is behind the samples (a correction was interrupted), the missing
        corrections are re-learned from the samples first, and `say` is told.
        """
        with self._lock():
            files.remove_stale_temporary_files(self.model_path.parent)
            net = self._load_or_repair(say)
        return net, self.describe(net)

    def describe(self, net):
        """A sentence saying which model `net` is."""
        n = len(net.record.get("corrections", []))
        if n:
            return (f"using your own model ({files.shown(self.model_path)}: the base model "
                    f"{files.shown(self.base_path)} plus {n} correction{'s' * (n != 1)})")
        shipped = self.base_path.resolve() in {paths.shipped_model(a).resolve() for a in paths.SHIPPED_NAMES}
        kind = "the shipped model, trained on MNIST" if shipped else "your trained model"
        return f"using {kind}: {files.shown(self.base_path)}"

    def _load_or_repair(self, say):
        base = load_model(self.base_path)
        samples = self.samples()
        n_samples = 0 if samples is None else len(samples[1])
        if not self.model_path.exists() and (n_samples == 0 or self._first_sample(n_samples) == n_samples):
            return base                                    # nothing of yours: the base file is read once
        base_sha = model_sha256(self.base_path)
        if self.model_path.exists():
            net = load_model(self.model_path)
            user = net.record.get("user", {})
            if user.get("base_sha256") != base_sha:
                first = int(user.get("first_sample", 0))
                say(f"The base model {files.shown(self.base_path)} was retrained since your corrections "
                    f"were learned on it: learning your {n_samples - first} corrections again on the new "
                    f"one (they are kept in {files.shown(self.samples_path)}).")
                net = self._fresh_from(base, base_sha, first)
        else:
            net = self._fresh_from(base, base_sha, self._first_sample(n_samples))
        learned = net.record["user"]["first_sample"] + len(net.record["corrections"])
        if learned > n_samples:
            raise NNError(f"{files.shown(self.model_path)} has learned {learned} corrections but "
                          f"{files.shown(self.samples_path)} holds only {n_samples}: the samples file was "
                          "edited or replaced. Reset (RESET_TO_BASE = True, or `python -m digits reset`) to "
                          "start again from the base model.")
        if learned < n_samples:
            self._catch_up(net, samples, learned, say)
        self._loaded = model_sha256(self.model_path)
        return net

    def _catch_up(self, net, samples, learned, say):
        """Learn sample rows learned.. onto net and save it, one line each; Ctrl-C keeps what is done."""
        n = len(samples[1]) - learned
        say(f"{n} of your corrections in {files.shown(self.samples_path)} are not in "
            f"{files.shown(self.model_path)} yet (made with another network, or interrupted): learning "
            "them now (Ctrl-C skips the rest until next time).")
        for k, i in enumerate(range(learned, learned + n), 1):
            weights = net.flat.copy()
            try:
                result = self._learn_row(net, samples, i)
            except KeyboardInterrupt:
                net.flat[...] = weights                  # the one interrupted is not half kept
                say(f"skipped: {k - 1} of {n} learned; the rest will be learned next time.")
                break
            say(f"  {k} of {n}: a {result.label}, {result.seconds:.1f} s")
        self._save(net)

    def _first_sample(self, n_samples):
        """Where a new user model starts in the samples: where the user's other models (of other base
        models) start, since a reset resets them all; with none, after every sample (a fresh start)."""
        for other in sorted(self.model_path.parent.glob("user_*.npz")):
            try:
                return int(read_record(other)["user"]["first_sample"])
            except (NNError, KeyError, TypeError, ValueError):
                continue
        return n_samples

    def _fresh_from(self, base, base_sha, first_sample):
        net = base.copy()
        net.record = {**base.record, "corrections": [],
                      "user": {"base": files.shown(self.base_path), "base_sha256": base_sha,
                               "first_sample": first_sample}}
        return net

    # --- learning from a correction ---------------------------------------------------------------

    def correct(self, net, image, label, progress=None):
        """Teach `net` (the network the caller holds) that the 28x28 uint8 `image` is `label`; keep it.

        Returns (network, Correction): the network to use from now on (the one given, trained in
        place, unless another program saved a newer user model meanwhile: then that one, trained).
        progress: passed to learn.learn, called every few steps (the canvas shows it).
        The sample is appended first, then the model saved; a failure before the model is saved
        takes the sample back, so both files stay as they were. A drawing the network already reads
        as `label` is neither learned nor kept (Correction.learned is None), wherever it comes from.
        """
        with self._lock():
            net = self._current(net)
            if reads_as(net, image, label):
                return net, Correction(None, already_right(label))
            samples = self.samples()
            row = 0 if samples is None else len(samples[1])
            before_bytes = self.model_path.read_bytes() if self.model_path.exists() else None
            self._append_sample(image, label)
            try:
                learned = self._learn_row(net, self.samples(), row, progress)
                self._save(net, before_bytes)
            except BaseException:
                self._drop_last_sample(row)
                raise
        message = f"{describe(learned)}; saved {files.shown(self.model_path)}"
        return net, Correction(learned, message)

    def _current(self, net):
        """The network to train. With a user model on disk: the caller's network if it is that model as
        we last read or wrote it; else (another program saved a newer one, or the caller holds the base
        model) the one on disk. Without one: the caller's, made a user model if it is the base (after
        learning the corrections made with another network, if any)."""
        if self.model_path.exists():
            if model_sha256(self.model_path) != self._loaded or "user" not in net.record:
                return self._load_or_repair(lambda _: None)
            return net
        if "user" in net.record:
            return net
        n = self._count_samples()
        if self._first_sample(n) < n:
            return self._load_or_repair(lambda _: None)
        return self._fresh_from(net, model_sha256(self.base_path), n)

    def _learn_row(self, net, samples, i, progress=None):
        """Learn sample row i on net (in place), rehearsing the rows before it; record it."""
        images, labels = samples
        first = net.record["user"]["first_sample"]
        earlier = (images[first:i], labels[first:i]) if i > first else None
        n = len(net.record["corrections"])
        learned = learn(net, images[i].reshape(28, 28), int(labels[i]), earlier=earlier,
                        settings=LearnSettings(seed=n), progress=progress)
        net.record["corrections"].append({
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "label": int(labels[i]), "steps": learned.steps,
            "before": round(float(learned.before[learned.label]), 4),
            "after": round(float(learned.after[learned.label]), 4), "kept": learned.kept})
        return learned

    def _save(self, net, previous_bytes=None):
        """Save the user model, then keep the one it replaces (previous_bytes) for undo.

        The undo copy is written only after the model is safely saved, so a failed save leaves the
        undo copy as it was; without a previous model (or if that copy cannot be written) there is
        no undo copy, and undo falls back to what the corrections record allows.
        """
        save_model(net, self.model_path)
        self._loaded = model_sha256(self.model_path)
        try:
            if previous_bytes is None:
                self.undo_path.unlink(missing_ok=True)
            else:
                with files.atomic_write(self.undo_path) as f:
                    f.write(previous_bytes)
        except OSError:
            self.undo_path.unlink(missing_ok=True)

    # --- undo and reset ---------------------------------------------------------------------------

    def undo(self):
        """Take back the latest correction: the model as it was before it, and its sample removed.

        Returns (network now in use, a sentence). Only the latest correction can be undone.
        """
        with self._lock():
            net = load_model(self.model_path) if self.model_path.exists() else None
            corrections = net.record.get("corrections", []) if net else []
            if not corrections:
                return self._load_or_repair(lambda _: None), "nothing to undo."
            if self.undo_path.exists():
                os.replace(self.undo_path, self.model_path)
            elif len(corrections) == 1:
                self.model_path.unlink()
            else:
                return net, "nothing to undo: only the latest correction can be undone."
            self._drop_last_sample(self._count_samples() - 1)
            net = self._load_or_repair(lambda _: None)
        return net, "undid the latest correction."

    def reset(self, forget_samples=False):
        """Go back to the base model, for every network: the user models of all base models are deleted.
        Your drawings stay in the samples file (to train on them) unless forget_samples; either way, the
        next correction starts from the base model and rehearses only drawings corrected after this
        reset."""
        with self._lock():
            models = {self.model_path, *self.model_path.parent.glob("user_*.npz")}
            undo = {m.with_name(f".{m.name}.undo.npz") for m in models}
            for path in sorted(models | undo) + ([self.samples_path] if forget_samples else []):
                path.unlink(missing_ok=True)
            self._loaded = None
        return load_model(self.base_path)

    # --- the samples file -------------------------------------------------------------------------

    def samples(self):
        """(images (n, 784) uint8, labels (n,)), or None; a half-written last line is dropped first."""
        if not self.samples_path.exists():
            return None
        self._repair_last_line()
        try:
            return load_digits(self.samples_path)
        except NNError as e:
            if "holds no digits" in str(e):
                return None
            raise

    def _count_samples(self):
        samples = self.samples()
        return 0 if samples is None else len(samples[1])

    def _append_sample(self, image, label):
        """Add one line to the samples file (creating it with its header); one write, then fsync."""
        line = ",".join(map(str, [int(label), *np.asarray(image, np.uint8).ravel()])) + "\n"
        if not self.samples_path.exists():
            with files.atomic_write(self.samples_path, "w") as f:
                f.write(CSV_HEADER + "\n")
        fd = os.open(self.samples_path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def _drop_last_sample(self, keep):
        """Keep only the first `keep` sample lines (undo, or a correction that failed)."""
        if not self.samples_path.exists():
            return
        lines = self.samples_path.read_text().splitlines(keepends=True)
        if keep <= 0:
            self.samples_path.unlink()
            return
        with files.atomic_write(self.samples_path, "w") as f:
            f.writelines(lines[:keep + 1])

    def _repair_last_line(self):
        """A kill in the middle of appending leaves a line without its newline: drop that line."""
        with open(self.samples_path, "rb+") as f:
            data = f.read()
            if data and not data.endswith(b"\n"):
                f.truncate(data.rfind(b"\n") + 1)

    # --- the lock ---------------------------------------------------------------------------------

    @contextmanager
    def _lock(self):
        """Hold the user's files for one change; another program waits (up to LOCK_TIMEOUT) its turn."""
        from filelock import FileLock, Timeout

        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.lock_path))
        try:
            lock.acquire(timeout=LOCK_TIMEOUT)
        except Timeout:
            raise NNError(f"another program has been learning a correction for {LOCK_TIMEOUT} s "
                          f"({files.shown(self.lock_path)} is locked): wait for it to finish, then "
                          "try again.") from None
        try:
            yield
        finally:
            lock.release()


def reads_as(net, image, label):
    """Whether net already reads the 28x28 uint8 image as label: then there is nothing to learn."""
    return int(net.predict(scale_pixels(np.asarray(image).reshape(1, -1)))[0]) == label


def already_right(label):
    """What every front end says when there is nothing to learn."""
    return f"the network already reads {label}: nothing to learn, and the drawing was not kept"


def describe(learned):
    """What a correction did, in one sentence: the guess before and after, how fresh variations of the
    drawing read, and whether the certified finish held anything back."""
    label, before, after = learned.label, int(learned.before.argmax()), int(learned.after.argmax())
    said = (f"learned that this is a {label} (read as {before} before, {after} now, {learned.steps} steps, "
            f"{learned.seconds:.2f} s); fresh variations of it read as {label}: "
            f"{learned.variations_before:.0%} before, {learned.variations_after:.0%} now; "
            f"none of the {learned.checked:,} remembered digits it checked was forgotten")
    if learned.kept < 1:
        said += (f" (to keep them, only {learned.kept:.0%} of the change was kept"
                 + ("" if learned.fixed else f", and this drawing still reads {after}: it looks too much "
                                             "like digits it knows to learn it without misreading them")
                 + ")")
    return said
