"""What train.py leaves in its output folder, written atomically, and how the app reads it back.

model.safetensors, config.json   the weights and the arguments that rebuild the model
README.md                        the model card (YAML metadata for the Hub, then the text)
metrics.json                     per-epoch history, val/test accuracy, calibration, timing
training_curves.png              loss and accuracy per epoch
confusion_matrix.png             the test set's 10x10 confusion matrix
misclassified.safetensors        every test image the model gets wrong, with its probabilities
"""

import json
import os
import tempfile
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

METRICS_FILE = "metrics.json"
CURVES_FILE = "training_curves.png"
CONFUSION_FILE = "confusion_matrix.png"
MISCLASSIFIED_FILE = "misclassified.safetensors"
CARD_FILE = "README.md"


def atomic_write(path: Path, write) -> None:
    """Call write(temporary_path), then rename onto `path`: readers see the old file or the new, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_save_tensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp)))


def save_model(model, out: Path) -> None:
    """model.safetensors + config.json through the Hub mixin, each moved into place atomically."""
    with tempfile.TemporaryDirectory(dir=out, prefix=".save-") as staging:
        model.save_pretrained(staging)
        for name in ("model.safetensors", "config.json"):
            os.chmod(Path(staging) / name, 0o666 & ~current_umask())  # safetensors writes 0600
            os.replace(Path(staging) / name, Path(out) / name)


def write_metrics(out: Path, metrics: dict) -> None:
    atomic_write_text(Path(out) / METRICS_FILE, json.dumps(metrics, indent=2) + "\n")


def read_metrics(folder: Path) -> dict:
    path = Path(folder) / METRICS_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def save_misclassified(out: Path, images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray) -> None:
    """Every test image whose predicted digit differs from its label."""
    wrong = probabilities.argmax(axis=1) != labels
    atomic_save_tensors(
        Path(out) / MISCLASSIFIED_FILE,
        {
            "images": np.ascontiguousarray(images[wrong], dtype=np.uint8),
            "labels": labels[wrong].astype(np.int64),
            "predictions": probabilities[wrong].argmax(axis=1).astype(np.int64),
            "probabilities": probabilities[wrong].astype(np.float32),
            "indices": np.flatnonzero(wrong).astype(np.int64),
        },
    )


def load_misclassified(folder: Path) -> dict[str, np.ndarray] | None:
    path = Path(folder) / MISCLASSIFIED_FILE
    return load_file(str(path)) if path.is_file() else None


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, classes: int = 10) -> np.ndarray:
    return np.bincount(labels * classes + predictions, minlength=classes * classes).reshape(classes, classes)


def plot_training_curves(out: Path, history: list[dict]) -> None:
    """Loss and accuracy per epoch, train and validation, as the tutorials plot them."""
    from matplotlib.figure import Figure  # no pyplot: no backend state, and quicker to import

    epochs = [h["epoch"] for h in history]
    fig = Figure(figsize=(10, 4), layout="tight")
    loss_ax, acc_ax = fig.subplots(1, 2)
    loss_ax.plot(epochs, [h["train_loss"] for h in history], "o-", label="train")
    loss_ax.plot(epochs, [h["val_loss"] for h in history], "o-", label="validation")
    loss_ax.set(title="Loss", xlabel="epoch", ylabel="cross-entropy")
    acc_ax.plot(epochs, [100 * h["train_acc"] for h in history], "o-", label="train")
    acc_ax.plot(epochs, [100 * h["val_acc"] for h in history], "o-", label="validation")
    acc_ax.set(title="Accuracy", xlabel="epoch", ylabel="%")
    for ax in (loss_ax, acc_ax):
        ax.set_xticks(epochs)
        ax.grid(alpha=0.3)
        ax.legend()
    atomic_write(Path(out) / CURVES_FILE, lambda tmp: fig.savefig(tmp, format="png", dpi=100))


def plot_confusion_matrix(out: Path, matrix: np.ndarray) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 5.5), layout="tight")
    ax = fig.subplots()
    off_diagonal = matrix - np.diag(np.diag(matrix))
    ax.imshow(off_diagonal, cmap="Reds")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center", fontsize=7, color="black" if i != j else "green")
    ax.set(
        xticks=range(10),
        yticks=range(10),
        xlabel="predicted",
        ylabel="true",
        title=f"Test set: {int(off_diagonal.sum())} of {int(matrix.sum()):,} wrong",
    )
    atomic_write(Path(out) / CONFUSION_FILE, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
