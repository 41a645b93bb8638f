"""Shared fixtures: a clean Hub environment for every test, the packaged classifier, real MNIST (from
MNIST_DATA_DIR), tiny IDX files and a HfApi that records instead of uploading.

    MNIST_DATA_DIR=/path/to/data python -m pytest -m "not slow"   # the quick loop
"""

import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from huggingface_hub.utils import filter_repo_objects

from mnist_demo import Classifier

HUB_TOKEN_VARIABLES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
HUB_OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


@pytest.fixture(autouse=True)
def clean_hub_environment(monkeypatch, tmp_path_factory) -> Path:
    """Every test starts from the same Hub environment, whatever the shell says: online, no token, no saved
    login and an empty Hub cache of its own. A test that needs something else sets it (see `set_hub_offline`).

    huggingface_hub reads HF_HUB_OFFLINE, HF_HOME and the cache paths once, at import, so its constants are
    patched as well as the variables (the variables reach the subprocesses tests start).
    """
    home = tmp_path_factory.mktemp("hf-home")
    for name in (*HUB_TOKEN_VARIABLES, *HUB_OFFLINE_VARIABLES, "HF_HUB_CACHE", "HF_TOKEN_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HOME", str(home))
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HOME", str(home))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(home / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(home / "stored_tokens"))
    set_hub_offline(monkeypatch, False)
    return home


def set_hub_offline(monkeypatch, offline: bool) -> None:
    """HF_HUB_OFFLINE for this test, in the environment and in huggingface_hub's constant read at import."""
    from huggingface_hub import constants

    if offline:
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    else:
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)


@pytest.fixture
def hub_offline(monkeypatch) -> None:
    """HF_HUB_OFFLINE=1 for this test: Hub downloads come only from the (empty) cache."""
    set_hub_offline(monkeypatch, True)


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    return Classifier.from_pretrained()


@pytest.fixture
def mismatched_folder(tmp_path) -> Path:
    """Files that pass every check made without torch, but whose tensors do not fit the architecture named."""
    from mnist_demo.artifacts import save_model
    from mnist_demo.model import DigitNet

    folder = tmp_path / "mismatched"
    folder.mkdir()
    save_model(DigitNet("cnn-small"), folder)
    (folder / "config.json").write_text(json.dumps({"arch": "cnn"}))
    return folder


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The real MNIST. CI sets MNIST_DATA_DIR, so there this never skips."""
    folder = os.environ.get("MNIST_DATA_DIR")
    if not folder:
        if os.environ.get("CI"):
            pytest.fail("MNIST_DATA_DIR must be set in CI")
        pytest.skip("set MNIST_DATA_DIR to a folder holding MNIST/raw to run the tests on real MNIST")
    return Path(folder)


@pytest.fixture(scope="session")
def mnist_test(mnist_dir):
    """The 10,000 real test images (uint8 [N, 28, 28]) and labels, as numpy."""
    from mnist_demo.data import load_mnist

    images, labels = load_mnist(mnist_dir, train=False)
    return images.numpy(), labels.numpy()


def write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX file as MNIST ships it: magic (0, 0, type 0x08 = uint8, ndim), big-endian sizes, bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def synthetic_digits(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Easily told-apart 28x28 images: digit d is a bright bar at row 4 + 2d, blurred by noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count).astype(np.uint8)
    images = (rng.random((count, 28, 28)) * 40).astype(np.uint8)
    for image, label in zip(images, labels):
        image[4 + 2 * label : 6 + 2 * label, 4:24] = 255
    return images, labels


@pytest.fixture(scope="session")
def tiny_mnist_dir(tmp_path_factory) -> Path:
    """A data dir in torchvision's layout with 600 train and 200 test synthetic images."""
    root = tmp_path_factory.mktemp("tiny-mnist")
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, count, seed in (("train", 600, 0), ("t10k", 200, 1)):
        images, labels = synthetic_digits(count, seed)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return root


class RecordingHfApi:
    """Stands in for huggingface_hub.HfApi: records what would be created and uploaded."""

    calls: list[tuple[str, dict]] = []

    def __init__(self, *args, **kwargs):
        self.calls.append(("init", kwargs))

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))

    def upload_folder(self, *, folder_path, repo_id, ignore_patterns=None, **kwargs):
        present = sorted(p.name for p in Path(folder_path).iterdir())
        uploaded = set(filter_repo_objects(present, ignore_patterns=ignore_patterns))  # how the Hub client filters
        self.calls.append(
            ("upload_folder", {"folder_path": folder_path, "repo_id": repo_id, "uploaded": uploaded, **kwargs})
        )
