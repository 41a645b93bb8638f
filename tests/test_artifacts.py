"""mnist_demo.artifacts: atomic writes that survive a crash mid-write, and the artifacts' writers and readers."""

import os

import numpy as np
import pytest

from mnist_demo import artifacts
from mnist_demo.model import DigitNet


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("interruption", [OSError("No space left on device"), KeyboardInterrupt()])
def test_a_crash_mid_write_leaves_the_old_file_intact(interruption, tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text('{"old": true}')

    def write_half(tmp):
        tmp.write_text('{"new": tr')  # cut short
        raise interruption

    with pytest.raises(type(interruption)):
        artifacts.atomic_write(path, write_half)
    assert path.read_text() == '{"old": true}'
    assert leftovers(tmp_path) == []


def test_atomic_write_replaces_and_keeps_the_usual_file_mode(tmp_path):
    path = tmp_path / "sub" / "card.md"
    artifacts.atomic_write_text(path, "first")
    artifacts.atomic_write_text(path, "second ✓")
    assert path.read_text(encoding="utf-8") == "second ✓"
    assert path.stat().st_mode & 0o777 == 0o666 & ~current_umask()
    assert leftovers(path.parent) == []


def test_save_model_writes_weights_and_config_readable_by_others(tmp_path):
    artifacts.save_model(DigitNet("mlp"), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model.safetensors"]  # no staging folder left
    for name in ("config.json", "model.safetensors"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~current_umask()


def test_metrics_round_trip(tmp_path):
    metrics = {"test": {"accuracy": 0.99}, "history": [{"epoch": 1}]}
    artifacts.write_metrics(tmp_path, metrics)
    assert artifacts.read_metrics(tmp_path) == metrics
    assert artifacts.read_metrics(tmp_path / "nothing-here") == {}


def test_misclassified_keeps_exactly_the_mistakes(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)
    labels = np.array([0, 1, 2, 3, 4, 5])
    probabilities = np.eye(10, dtype=np.float32)[[0, 7, 2, 3, 9, 5]]  # wrong at 1 and 4
    artifacts.save_misclassified(tmp_path, images, labels, probabilities)
    saved = artifacts.load_misclassified(tmp_path)
    np.testing.assert_array_equal(saved["indices"], [1, 4])
    np.testing.assert_array_equal(saved["labels"], [1, 4])
    np.testing.assert_array_equal(saved["predictions"], [7, 9])
    np.testing.assert_array_equal(saved["images"], images[[1, 4]])
    np.testing.assert_array_equal(saved["probabilities"], probabilities[[1, 4]])
    assert artifacts.load_misclassified(tmp_path / "nothing-here") is None


def test_confusion_matrix_counts_pairs():
    rng = np.random.default_rng(1)
    labels, predictions = rng.integers(0, 10, 500), rng.integers(0, 10, 500)
    expected = np.zeros((10, 10), dtype=int)
    for true, predicted in zip(labels, predictions):
        expected[true, predicted] += 1
    np.testing.assert_array_equal(artifacts.confusion_matrix(labels, predictions), expected)


def test_plots_are_pngs(tmp_path):
    history = [
        {"epoch": e, "train_loss": 1 / e, "val_loss": 1.1 / e, "train_acc": 1 - 0.1 / e, "val_acc": 1 - 0.12 / e}
        for e in (1, 2, 3)
    ]
    artifacts.plot_training_curves(tmp_path, history)
    artifacts.plot_confusion_matrix(tmp_path, np.diag(np.full(10, 100)) + 1)
    for name in (artifacts.CURVES_FILE, artifacts.CONFUSION_FILE):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert leftovers(tmp_path) == []
