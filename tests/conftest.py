"""What the test files share: a clean Hub environment for every test, the packaged classifier, real MNIST
(from MNIST_DATA_DIR), tiny IDX files and a recipe to train on them, a HfApi that records instead of
uploading, the app served on a free port, and the Chromium the browser tests drive with a page of it.

    MNIST_DATA_DIR=/path/to/data python -m pytest -m "not slow"   # the quick loop
"""

import json
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from huggingface_hub.utils import filter_repo_objects

from mnist_demo import Classifier

HUB_TOKEN_VARIABLES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
HUB_OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
PREDICTION_TIMEOUT_MS = 30_000  # headless software rendering and a busy CPU make each stroke slow
PAD_READY = "#sketchpad canvas[data-ready]"  # the pad's script has run: it listens to the pen
LABEL = "#probabilities .container"  # the label and its bars, without the progress timer
# Strokes as fractions of the canvas: a 7 (top bar, then the diagonal).
SEVEN = [[(0.28, 0.22), (0.72, 0.22)], [(0.72, 0.22), (0.6, 0.5), (0.45, 0.82)]]


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


@pytest.fixture(autouse=True)
def corrections_folder(monkeypatch, tmp_path_factory) -> Path:
    """Every test's app keeps people's corrections in a folder of its own, never in the user's cache."""
    folder = tmp_path_factory.mktemp("corrections")
    monkeypatch.setenv("MNIST_DEMO_CORRECTIONS_DIR", str(folder))
    return folder


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


@pytest.fixture(scope="session")
def tiny_data(tiny_mnist_dir):
    """The tiny IDX files as training.Data: 540 training, 60 validation and 200 test images."""
    from mnist_demo import training

    return training.load_data(tiny_mnist_dir)


def tiny_recipe(**changes):
    """A recipe that trains on `tiny_data` in a second or two: the mlp, 2 epochs of batches of 32, on the CPU."""
    from mnist_demo.training import Recipe

    return Recipe(**{"arch": "mlp", "epochs": 2, "batch_size": 32, "lr": 1e-2, "device": "cpu", **changes})


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


# --- the app, served as the tests run it ---


def serve_app(loader, **options) -> tuple:
    """`app.build_demo(loader, **options)` launched in this process on a free port: (the demo, its local URL).
    The caller closes the demo."""
    import app

    demo = app.build_demo(loader, **options)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **app.LAUNCH_OPTIONS)
    return demo, url


# --- the browser tests' Chromium, and drawing on the Draw tab ---


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, driven by Playwright (skips without it)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_app(browser, url: str, height: int = 1000, ready: str = PAD_READY):
    """A new desktop-sized page of the app at `url`, once `ready` is on it. The caller closes it."""
    page = browser.new_page(viewport={"width": 1280, "height": height})
    page.goto(url)
    page.wait_for_selector(ready)
    return page


def draw(page, strokes):
    """Draw each stroke with the mouse; wait, after each, for the prediction it triggers."""
    canvas = page.locator("#sketchpad canvas").first
    box = canvas.bounding_box()
    for stroke in strokes:
        before = probabilities_text(page)
        points = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:  # few mouse events: headless software rendering redraws on each
            page.mouse.move(*point)
        page.mouse.up()
        wait_until_changed(page, before)


def probabilities_text(page) -> str:
    return page.locator(LABEL).inner_text()


def wait_until_changed(page, before: str):
    page.wait_for_function(
        f"before => document.querySelector('{LABEL}')?.innerText !== before", arg=before, timeout=PREDICTION_TIMEOUT_MS
    )


def wait_for_label(page, text: str):
    page.wait_for_function(
        "text => document.querySelector('#probabilities [data-testid=label-output-value]')?.innerText.trim() === text",
        arg=text,
        timeout=PREDICTION_TIMEOUT_MS,
    )


def kept_corrections(folder, images, labels, predicted: str = "0"):
    """A corrections folder holding one correction per image (uint8 [28, 28]): `labels` the right answers."""
    from mnist_demo.corrections import CorrectionStore, RateLimit

    return keep_corrections(CorrectionStore(folder, rate=RateLimit(per_minute=10_000)), images, labels, predicted)


def keep_corrections(store, images, labels, predicted: str = "0"):
    """`store` with one more correction per image (uint8 [28, 28]), oldest first: the model said `predicted`."""
    from PIL import Image

    from mnist_demo.corrections import Correction

    for image, label in zip(images, labels):
        probabilities = [{str(d): 0.1 for d in range(10)}]
        store.save(Correction(Image.fromarray(255 - image), image, str(label), predicted, probabilities, "x"))
    return store
