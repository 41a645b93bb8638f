"""Training in the app: one run at a time, capped, on one core, and the models people train kept per session.

    trainer = Trainer(data_dir=None, models=SessionModels())
    recipe = checked_recipe("cnn-fast", epochs=1)           # ValueError in plain words for bad values
    for update in trainer.train(recipe, session="abc"):     # {"epoch", "step", "steps", "loss", ...}
        print(update)                                       # the last one has "test_accuracy" (percent)
    trainer.models.get("abc")                               # a Classifier, in memory only
    trainer.train(recipe, "abc", corrections="~/.cache/mnist-demo/corrections")   # people's corrections too

The loop is `mnist_demo.training`'s, the one train.py runs; people's corrections are mixed in as
`train.py --corrections` mixes them (`mnist_demo.corrections.training_corrections`). A run is stopped by `Trainer.stop`
or by the time cap, and still reports what it had learnt by then. Models live in memory,
keyed by the browser session, at most a few server-wide: the oldest is dropped first.
"""

import contextlib
import queue
import threading
import time
from collections import OrderedDict
from pathlib import Path

from .loading import ModelFolder

NETWORKS = ("mlp", "tutorial-cnn", "cnn-fast")  # the tutorials' two networks, and the fast preset's
DEFAULT_NETWORK = "cnn-fast"
MAX_EPOCHS = 3
MAX_SECONDS = 120  # a run's cap, so one person cannot hold the one training slot for long
MAX_BATCH_SIZE = 2048  # 27 steps an epoch at least: enough for the OneCycle schedule
MAX_LR = 1.0
DEFAULT_LR = 1e-2  # the fast preset's, which also suits the mlp and the tutorial CNN in 1-3 epochs
DEFAULT_BATCH_SIZE = 256
BETA2 = 0.9  # Adam's second moment over ~10 steps, not ~1000: it adapts in time in a short run
SESSION_MODELS = 4  # models kept server-wide; each is 0.1-1.7 MB, the cap bounds the memory anyway
UPDATES_PER_EPOCH = 10  # points on the curves per epoch
VAL_SAMPLE = 1000  # validation images scored at each point inside an epoch (all 5,000 at its end)
MISTAKES_SHOWN = 12
SOURCE = "your model, trained in this browser session"


class TrainingError(Exception):
    """A run that could not start (no MNIST, say); the message is for a person."""


def checked_recipe(
    model: str = DEFAULT_NETWORK,
    epochs: int = 1,
    lr: float = DEFAULT_LR,
    batch_size: int = DEFAULT_BATCH_SIZE,
    augment: bool = False,
):
    """The Recipe for these choices, or a ValueError saying in plain words which value is wrong and why."""
    from .training import Recipe

    if model not in NETWORKS:
        raise ValueError(f"Unknown network {model!r}: choose one of {', '.join(NETWORKS)}.")
    if not is_whole(epochs) or not 1 <= epochs <= MAX_EPOCHS:
        raise ValueError(
            f"Epochs must be a whole number from 1 to {MAX_EPOCHS}, not {epochs!r}: "
            "training here is capped so that everyone gets a turn."
        )
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr <= MAX_LR:
        raise ValueError(f"The learning rate must be a number above 0 and at most {MAX_LR:g}, not {lr!r}.")
    if not is_whole(batch_size) or not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"The batch size must be a whole number from 1 to {MAX_BATCH_SIZE}, not {batch_size!r}.")
    return Recipe(
        arch=model,
        epochs=int(epochs),
        lr=float(lr),
        batch_size=int(batch_size),
        augment=bool(augment),
        beta2=BETA2,
        device="cpu",
    )


def corrections_to_learn(store, wanted: bool) -> Path | None:
    """The folder of people's corrections a run learns from when `wanted`: the app's `store`'s
    (`corrections.CorrectionStore`); ValueError in plain words when it keeps none."""
    if not wanted:
        return None
    if store is None or not store.count:
        raise ValueError("There are no people's corrections to learn from: this app has not kept any yet.")
    return store.folder


def is_whole(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and float(value).is_integer()


class SessionModels:
    """Trained classifiers by browser session, in memory, at most `capacity` of them: the oldest goes first."""

    def __init__(self, capacity: int = SESSION_MODELS):
        self.capacity = capacity
        self._models: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, session: str, classifier) -> None:
        with self._lock:
            self._models.pop(session, None)
            self._models[session] = classifier
            while len(self._models) > self.capacity:
                self._models.popitem(last=False)

    def get(self, session: str | None):
        with self._lock:
            return self._models.get(session) if session else None

    def drop(self, session: str | None) -> None:
        with self._lock:
            self._models.pop(session, None)

    def __len__(self) -> int:
        return len(self._models)


class Trainer:
    """The app's one training slot: MNIST loaded once, one run at a time, each capped at `max_seconds`."""

    def __init__(
        self, data_dir: str | Path | None = None, models: SessionModels | None = None, max_seconds: float = MAX_SECONDS
    ):
        self.data_dir = data_dir
        self.models = models if models is not None else SessionModels()
        self.max_seconds = max_seconds
        self._data = None
        self._slot = threading.Lock()
        self._stop = threading.Event()
        self._session: str | None = None

    def data(self):
        """MNIST, read (or downloaded) on first use; TrainingError saying where to get it when that fails."""
        from .data import DataError
        from .training import load_data

        if self._data is None:
            try:
                self._data = load_data(self.data_dir)
            except DataError as error:
                raise TrainingError(str(error)) from None
        return self._data

    def stop(self, session: str | None) -> bool:
        """Stop the run of `session`, if it is the one running; whether it was."""
        if session is not None and session == self._session:
            self._stop.set()
            return True
        return False

    def train(self, recipe, session: str, corrections: str | Path | None = None):
        """Train `recipe` for `session`, yielding progress dicts; the last has the test figures and mistakes.
        With a `corrections` folder, its entries are learned too, and the last update says how the held-out
        ones read ("corrections").

        The loop runs in its own thread on one core; this generator only relays its updates, so a
        consumer that goes away (a closed page, a cancelled event) stops the run too.
        """
        with self._slot:
            self._stop.clear()
            self._session = session
            try:
                yield from self._relay(recipe, session, corrections)
            finally:
                self._stop.set()  # if the consumer left early, the training thread ends at its next step
                self._session = None

    def _relay(self, recipe, session: str, corrections):
        data = self.data()
        people = people_corrections(corrections) if corrections is not None else None
        updates: queue.Queue = queue.Queue()
        thread = threading.Thread(
            target=self._run, args=(recipe, data, people, session, updates), name="training", daemon=True
        )
        thread.start()
        while True:
            update = updates.get()
            if update is None:
                break
            if isinstance(update, BaseException):
                raise update
            yield update
        thread.join()

    def _run(self, recipe, data, people, session: str, updates: queue.Queue) -> None:
        import torch

        from .training import Run, StopTraining

        torch.set_num_threads(1)  # drawing keeps the other core(s): predictions run beside the training
        started = time.monotonic()
        stopped = {"reason": None}

        def should_stop() -> bool:
            if self._stop.is_set():
                stopped["reason"] = "stopped"
            elif time.monotonic() - started > self.max_seconds:
                stopped["reason"] = f"stopped at the {self.max_seconds:.0f} s cap"
            return stopped["reason"] is not None

        def relay(update: dict) -> None:
            updates.put(with_timing(update, started, self.max_seconds))

        def on_epoch(record: dict) -> None:
            steps = run.steps
            relay(
                {
                    "epoch": record["epoch"],
                    "step": record["epoch"] * steps // recipe.epochs,
                    "steps": steps,
                    "loss": record["train_loss"],
                    "val_accuracy": record["val_acc"],
                }
            )

        try:
            run = Run(recipe, data, **(people.run_inputs() if people is not None else {}))
            with contextlib.suppress(StopTraining):
                run.fit(
                    on_progress=relay,
                    on_epoch=on_epoch,
                    updates_per_epoch=UPDATES_PER_EPOCH,
                    val_sample=VAL_SAMPLE,
                    should_stop=should_stop,
                )
            updates.put(self._finish(run, people, session, started, stopped["reason"]))
        except BaseException as error:  # relayed to the consumer, which raises it
            updates.put(error)
        finally:
            updates.put(None)

    def _finish(self, run, people, session: str, started: float, stopped: str | None) -> dict:
        """Calibrate, score the test set (and the held-out corrections), keep the model for the session; the last
        update."""
        from .classifier import Classifier
        from .training import calibrate, corrections_report, probabilities_on_test_set

        calibrate(run)
        probabilities, _, labels = probabilities_on_test_set(run)
        predictions = probabilities.argmax(1)
        wrong = (predictions != labels).nonzero()[0]
        classifier = Classifier(run.model.cpu().eval(), ModelFolder(Path("."), SOURCE))
        self.models.put(session, classifier)
        last = run.history[-1] if run.history else {}
        return with_timing(
            {
                "epoch": len(run.history),
                "step": run.scheduler.last_epoch,
                "steps": run.steps,
                "loss": last.get("train_loss", float("nan")),
                "val_accuracy": run.best_val_acc if run.history else None,
                "test_accuracy": round(100 * float((predictions == labels).mean()), 2),
                "test_mistakes": len(wrong),
                "test_images": len(labels),
                "mistakes": [
                    {
                        "index": int(i),
                        "label": int(labels[i]),
                        "predicted": int(predictions[i]),
                        "confidence": round(float(probabilities[i].max()), 4),
                    }
                    for i in wrong[:MISTAKES_SHOWN]
                ],
                "stopped": stopped,
                "done": True,
            }
            | ({"corrections": corrections_report(run, people)} if people is not None else {}),
            started,
            self.max_seconds,
        )


def people_corrections(folder: str | Path):
    """The corrections kept in `folder` as training data (`corrections.TrainingCorrections`), read as
    `train.py --corrections` reads them; TrainingError saying why when they cannot be read."""
    from .corrections import CorrectionError, read_entries, training_corrections

    if not Path(folder).expanduser().is_dir():
        raise TrainingError(f"No corrections folder {folder}.")
    try:
        return training_corrections(read_entries(folder))
    except CorrectionError as error:
        raise TrainingError(str(error)) from None


def with_timing(update: dict, started: float, cap: float) -> dict:
    """The update with the validation accuracy in percent, the seconds so far and, from the pace so far
    (and the time cap), the seconds left."""
    seconds = time.monotonic() - started
    update = dict(update, seconds=round(seconds, 1))
    if update.get("val_accuracy") is not None:
        update["val_accuracy"] = round(100 * update["val_accuracy"], 2)
    if not update.get("done"):
        pace = seconds * (update["steps"] - update["step"]) / max(update["step"], 1)
        update["seconds_left"] = round(max(0.0, min(pace, cap - seconds)), 1)
    return update


def mnist_note(data_dir) -> str | None:
    """For the Train tab, when MNIST is not on disk: where it will be downloaded, and how to point at a copy."""
    from .data import default_data_dir, mnist_on_disk

    if mnist_on_disk(data_dir):
        return None
    folder = Path(data_dir) if data_dir else default_data_dir()
    return (
        f"MNIST is not in {folder / 'MNIST' / 'raw'} yet: the first training downloads it there (about 11 MB). "
        "Without an internet connection, start the app with `--data-dir` (or set `MNIST_DATA_DIR`) pointing at "
        "a folder that holds `MNIST/raw/*-ubyte`."
    )


def progress_text(update: dict) -> str:
    """One line for people: where the run is, how it does, how long it has left."""
    if update.get("done"):
        return f"Done in {update['seconds']:.0f} s" + (f" ({update['stopped']})." if update.get("stopped") else ".")
    val = f" · validation accuracy {update['val_accuracy']:.1f}%" if update.get("val_accuracy") is not None else ""
    return (
        f"Epoch {update['epoch']} · step {update['step']} of {update['steps']} · loss {update['loss']:.3f}{val}"
        f" · about {update['seconds_left']:.0f} s left"
    )


def progress_bar(update: dict) -> str:
    """An HTML progress bar of the run's optimizer steps."""
    return f'<progress value="{update["step"]}" max="{update["steps"]}" style="width: 100%"></progress>'


def curve_frames(points: list[dict]):
    """The loss and validation-accuracy curves so far, as two DataFrames (step, loss) and (step, validation
    accuracy (%)): the Train tab's LinePlots' data."""
    import pandas as pd

    loss = pd.DataFrame({"step": [p["step"] for p in points], "loss": [p["loss"] for p in points]})
    scored = [p for p in points if p.get("val_accuracy") is not None]
    accuracy = pd.DataFrame(
        {"step": [p["step"] for p in scored], "validation accuracy (%)": [p["val_accuracy"] for p in scored]}
    )
    return loss, accuracy


def mistake_items(trainer: Trainer, final: dict) -> list:
    """The test images a finished run got wrong, for a gallery: (28x28 image, "a 4 read as 9 (97%)")."""
    images = trainer.data().test_x
    return [
        (images[m["index"]].numpy(), f"a {m['label']} read as {m['predicted']} ({m['confidence']:.0%})")
        for m in final["mistakes"]
    ]


def your_model_label(arch: str, final: dict) -> str:
    """The Draw tab's title for the model a finished run trained."""
    return f"Your model ({arch}, {final['epoch']} epoch(s), {final['test_accuracy']:.2f}% on the test set)"


def results_text(final: dict) -> str:
    """The test figures of a finished (or stopped) run, and what it learned from people's corrections."""
    text = (
        f"### Test accuracy: {final['test_accuracy']:.2f}%\n{final['test_mistakes']:,} of the "
        f"{final['test_images']:,} MNIST test images wrong (the test images were never trained on). Draw on the "
        "Draw tab to see your model and the packaged one read the same drawing side by side."
    )
    return text + (f"\n\n{corrections_text(final['corrections'])}" if final.get("corrections") else "")


def corrections_text(report: dict) -> str:
    """What a run learned from people's corrections (`training.corrections_report`), in words."""
    from .corrections import held_out_text

    learned = f"Learned from people's corrections: {report['digits']:,} digit(s)"
    if report["non_digits"]:
        learned += f" and {report['non_digits']:,} picture(s) that are no digit"
    return f"{learned}; {held_out_text(report['held_out'])}."
