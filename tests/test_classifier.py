"""mnist_demo.classifier: loading (packaged, folder, Hub), refusing bad or pickled weights, predicting."""

import json
import logging
import os
import pickle
import subprocess
import sys
from pathlib import Path

import httpx2
import numpy as np
import pytest
import torch
from huggingface_hub.errors import (
    GatedRepoError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from safetensors.torch import load_file, save_file

from mnist_demo import Classifier, WeightsError
from mnist_demo.artifacts import save_model
from mnist_demo.loading import PACKAGED_WEIGHTS, locate_with_fallback
from mnist_demo.model import DigitNet

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def weights_folder(tmp_path) -> Path:
    """A folder as train.py writes it, from a small untrained model with a non-default temperature."""
    model = DigitNet("cnn-small")
    model.temperature.fill_(1.7)
    folder = tmp_path / "weights"
    folder.mkdir()
    save_model(model, folder)
    return folder


@pytest.fixture
def no_pickle(monkeypatch):
    """Make every way of unpickling fail loudly, so a test proves none is used."""

    def refuse(*args, **kwargs):
        raise AssertionError("pickle must never be loaded")

    for target in ("torch.load", "pickle.load", "pickle.loads", "pickle.Unpickler"):
        monkeypatch.setattr(target, refuse)


def hub_error(cls, status: int, message: str = "error"):
    response = httpx2.Response(status, request=httpx2.Request("GET", "https://huggingface.co/api/models/x/y"))
    return cls(message, response=response)


# --- loading ---


def test_packaged_weights_load_offline_in_eval_mode(classifier):
    assert classifier.source == "packaged" and classifier.folder == PACKAGED_WEIGHTS
    assert isinstance(classifier.model, DigitNet) and not classifier.model.training
    assert classifier.hub_repo is None


def test_folder_round_trip_gives_identical_outputs(weights_folder, no_pickle, capsys):
    loaded = Classifier.from_pretrained(weights_folder)
    reference = DigitNet("cnn-small")
    reference.load_state_dict(load_file(str(weights_folder / "model.safetensors")))
    x = torch.rand(5, 1, 28, 28)
    assert torch.equal(loaded.model(x), reference.eval()(x))
    assert loaded.model.temperature.item() == pytest.approx(1.7)
    assert loaded.source == str(weights_folder) and loaded.hub_repo is None
    assert capsys.readouterr().out == ""  # no "Loading weights from local directory"


def rewrite_weights(folder: Path, change) -> None:
    tensors = load_file(str(folder / "model.safetensors"))
    change(tensors)
    save_file(tensors, str(folder / "model.safetensors"))


BROKEN = {
    "weights missing": (lambda f: (f / "model.safetensors").unlink(), ["model.safetensors", "missing"]),
    "config missing": (lambda f: (f / "config.json").unlink(), ["config.json", "missing"]),
    "weights truncated": (
        lambda f: (f / "model.safetensors").write_bytes((f / "model.safetensors").read_bytes()[:-100]),
        ["model.safetensors", "damaged"],
    ),
    "weights empty": (lambda f: (f / "model.safetensors").write_bytes(b""), ["model.safetensors", "damaged"]),
    "weights not safetensors": (
        lambda f: (f / "model.safetensors").write_bytes(b"<html>404</html>" * 50),
        ["model.safetensors", "not a safetensors file"],
    ),
    "wrong shape": (
        lambda f: rewrite_weights(f, lambda t: t.update({"net.head.2.weight": torch.zeros(10, 5)})),
        ["model.safetensors", "wrong shape", "net.head.2.weight", "[10, 5]", "[10, 576]"],
    ),
    "tensor missing": (
        lambda f: rewrite_weights(f, lambda t: t.pop("temperature")),
        ["model.safetensors", "missing", "temperature"],
    ),
    "other architecture": (
        lambda f: (f / "config.json").write_text('{"arch": "cnn"}'),
        ["model.safetensors", "'cnn' architecture", "config.json", "wrong shape"],
    ),
    "config not json": (lambda f: (f / "config.json").write_text('{"arch": '), ["config.json", "not valid JSON"]),
    "unknown architecture": (
        lambda f: (f / "config.json").write_text('{"arch": "resnet"}'),
        ["config.json", "architecture", "cnn-small"],
    ),
    "unknown setting": (
        lambda f: (f / "config.json").write_text('{"arch": "cnn", "width": 3}'),
        ["config.json", "width"],
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_broken_weights_give_one_clear_error(case, weights_folder, no_pickle):
    damage, words = BROKEN[case]
    damage(weights_folder)
    with pytest.raises(WeightsError) as error:
        Classifier.from_pretrained(weights_folder)
    message = str(error.value)
    assert message.startswith(f"Cannot load {weights_folder}: ") and "\n" not in message
    for word in words:
        assert word in message


def test_pickled_weights_are_refused_without_being_read(weights_folder, no_pickle):
    state = DigitNet("cnn-small").state_dict()
    (weights_folder / "model.safetensors").unlink()
    (weights_folder / "pytorch_model.bin").write_bytes(pickle.dumps(state))  # what an old Hub repo may hold
    with pytest.raises(WeightsError, match="pytorch_model.bin.*pickle files are never loaded"):
        Classifier.from_pretrained(weights_folder)


def test_hub_repo_with_only_pickled_weights_is_refused(weights_folder, no_pickle, monkeypatch):
    (weights_folder / "model.safetensors").unlink()
    (weights_folder / "pytorch_model.bin").write_bytes(b"\x80\x04 not to be unpickled")
    monkeypatch.setattr("huggingface_hub.snapshot_download", lambda *args, **kwargs: str(weights_folder))
    with pytest.raises(WeightsError, match="the Hub repo someone/old-model: .*pytorch_model.bin.*never loaded"):
        Classifier.from_pretrained("someone/old-model")


def test_hub_repo_loads_through_snapshot_download(weights_folder, monkeypatch):
    calls = []

    def snapshot_download(repo_id, revision=None, allow_patterns=None):
        calls.append((repo_id, revision, allow_patterns))
        return str(weights_folder)

    monkeypatch.setattr("huggingface_hub.snapshot_download", snapshot_download)
    loaded = Classifier.from_pretrained("someone/mnist", revision="v1")
    assert loaded.hub_repo == "someone/mnist" and loaded.folder == weights_folder
    repo_id, revision, patterns = calls[0]
    assert (repo_id, revision) == ("someone/mnist", "v1")
    assert not any(p.endswith((".bin", ".pt", ".pth", ".pkl")) or p == "*" for p in patterns)


def connect_error() -> Exception:
    error = LocalEntryNotFoundError("Got: ConnectError: [Errno -2] Name or service not known\nAn error happened...")
    error.__cause__ = httpx2.ConnectError("[Errno -2] Name or service not known")
    return error


def offline_error() -> Exception:
    error = LocalEntryNotFoundError("Cannot find an appropriate cached snapshot folder...")
    error.__cause__ = OfflineModeIsEnabled("offline")
    return error


HUB_FAILURES = {
    "unreachable": (connect_error, ["could not be reached", "not in the local Hub cache"]),
    "offline mode": (offline_error, ["HF_HUB_OFFLINE", "not in the local Hub cache"]),
    "not found or private": (lambda: hub_error(RepositoryNotFoundError, 404), ["not found", "private", "HF_TOKEN"]),
    "gated": (lambda: hub_error(GatedRepoError, 403), ["gated"]),
    "bad revision": (lambda: hub_error(RevisionNotFoundError, 404), ["revision 'v9'"]),
}


@pytest.mark.parametrize("case", HUB_FAILURES)
def test_hub_failures_are_explained_in_plain_words(case, monkeypatch):
    make_error, words = HUB_FAILURES[case]
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # online unless the case says otherwise, whatever the shell exports
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)

    def snapshot_download(*args, **kwargs):
        raise make_error()

    monkeypatch.setattr("huggingface_hub.snapshot_download", snapshot_download)
    with pytest.raises(WeightsError) as error:
        Classifier.from_pretrained("someone/mnist", revision="v9")
    message = str(error.value)
    assert message.startswith("Cannot load weights from the Hub repo someone/mnist: ") and "\n" not in message
    assert "Got:" not in message and "snapshot" not in message
    for word in words:
        assert word in message


def test_a_path_that_does_not_exist_is_not_sent_to_the_hub(tmp_path):
    with pytest.raises(WeightsError, match="no such folder"):
        Classifier.from_pretrained(tmp_path / "nowhere")


def test_fallback_to_packaged_weights_with_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="mnist_demo"):
        model_folder, warning = locate_with_fallback(str(tmp_path / "nowhere"))
    classifier = Classifier.from_folder(model_folder)
    assert classifier.source == "packaged"
    assert warning.endswith("Using the packaged weights instead.") and str(tmp_path / "nowhere") in warning
    assert [r.getMessage() for r in caplog.records] == [warning]
    assert locate_with_fallback(None)[1] is None


@pytest.mark.slow
def test_offline_hub_repo_falls_back_to_packaged_weights(tmp_path):
    """The real thing: HF_HUB_OFFLINE=1, an empty Hub cache, an uncached repo id."""
    script = (
        "import logging; logging.basicConfig(format='%(levelname)s %(name)s: %(message)s')\n"
        "from mnist_demo import Classifier\n"
        "from mnist_demo.loading import locate_with_fallback\n"
        "model_folder, warning = locate_with_fallback('someone/never-downloaded')\n"
        "classifier = Classifier.from_folder(model_folder)\n"
        "print('source:', classifier.source)\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "PYTHONPATH": str(REPO_ROOT)}
    env.pop("HF_HUB_CACHE", None)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "source: packaged\n"  # nothing else printed
    assert done.stderr.strip() == (
        "WARNING mnist_demo: Cannot load weights from the Hub repo someone/never-downloaded: Hub downloads are "
        "switched off (HF_HUB_OFFLINE is set) and the repo is not in the local Hub cache. Using the packaged weights "
        "instead."
    )


# --- predicting ---


def test_probabilities_are_float32_and_sum_to_one(classifier):
    images = np.random.default_rng(0).integers(0, 256, (37, 28, 28), dtype=np.uint8)
    probabilities = classifier.predict_mnist(images)
    assert probabilities.shape == (37, 10) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert (probabilities >= 0).all()


def test_batching_does_not_change_predictions(classifier):
    images = np.random.default_rng(1).integers(0, 256, (25, 28, 28), dtype=np.uint8)
    np.testing.assert_allclose(
        classifier.predict_mnist(images, batch_size=7), classifier.predict_mnist(images), atol=1e-6
    )
    np.testing.assert_array_equal(classifier.predict_mnist(images[3]), classifier.predict_mnist(images[3:4]))


def test_predict_rejects_what_is_not_mnist_format(classifier):
    with pytest.raises(ValueError, match=r"uint8 images of shape \[N, 28, 28\]"):
        classifier.predict_mnist(np.zeros((2, 28, 28), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\[2, 32, 32\]"):
        classifier.predict_mnist(np.zeros((2, 32, 32), dtype=np.uint8))


def test_predict_does_not_track_gradients(classifier):
    """Inside the forward pass no autograd graph is built (the weights do require gradients: training and the
    saliency map need them), and the caller's own grad mode is left as it was."""
    seen = []

    def record(module, inputs, output):
        seen.append((torch.is_grad_enabled(), output.requires_grad))

    hook = classifier.model.register_forward_hook(record)
    try:
        classifier.predict_mnist(np.zeros((3, 28, 28), dtype=np.uint8))
    finally:
        hook.remove()
    assert any(p.requires_grad for p in classifier.model.parameters())
    assert seen == [(False, False)]
    assert all(p.grad is None for p in classifier.model.parameters())
    assert torch.is_grad_enabled()


@pytest.mark.slow
def test_packaged_weights_score_at_least_99_6_percent(classifier, mnist_test):
    """Fails with the placeholder weights of a 1-epoch run (96.6%) until the shipped ones replace them."""
    images, labels = mnist_test
    accuracy = (classifier.predict_mnist(images).argmax(axis=1) == labels).mean()
    assert accuracy >= 0.996, f"packaged weights: {accuracy:.2%} on the MNIST test set"
    metrics = json.loads((PACKAGED_WEIGHTS / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] == pytest.approx(accuracy, abs=1e-3)  # the card tells the truth
