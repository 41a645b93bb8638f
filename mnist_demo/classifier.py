"""Load a trained model (packaged, a local folder, or a Hub repo) and classify pictures of digits.

    from mnist_demo import Classifier
    classifier = Classifier.from_pretrained()            # the weights packaged with mnist_demo
    classifier.classify("digit.png")                     # {"0": 0.001, ..., "7": 0.98, ...}

Only safetensors weights and JSON are ever read: no pickle.
"""

import json
import logging
import os
from pathlib import Path

import numpy as np
import torch

from .model import DigitNet
from .preprocess import to_mnist

PACKAGED_WEIGHTS = Path(__file__).parent / "weights"
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
# What a Hub download fetches: weights, config, card, metrics, plots, mistakes. Never pickles.
HUB_FILES = ["*.safetensors", "*.json", "*.md", "*.png"]
LABELS = [str(d) for d in range(10)]


class WeightsError(RuntimeError):
    """Weights that cannot be loaded; the message names the source and the reason."""


class Classifier:
    """A trained `DigitNet` in eval mode plus the folder of artifacts it came from."""

    def __init__(self, model: DigitNet, folder: Path, source: str):
        self.model = model.eval()
        self.folder = Path(folder)
        self.source = source
        self.hub_repo = None if source in ("packaged", str(folder)) else source

    @classmethod
    def from_pretrained(cls, source: str | os.PathLike | None = None, revision: str | None = None) -> "Classifier":
        """`None`: the packaged weights; a folder written by train.py; or a Hub repo id `user/name`."""
        if source is None:
            return cls(load_folder(PACKAGED_WEIGHTS, "the packaged weights"), PACKAGED_WEIGHTS, "packaged")
        if Path(source).is_dir():
            return cls(load_folder(Path(source), str(source)), Path(source), str(source))
        if looks_like_path(str(source)):
            raise WeightsError(f"Cannot load weights from {source}: no such folder.")
        folder = download_from_hub(str(source), revision)
        return cls(load_folder(folder, f"the Hub repo {source}"), folder, str(source))

    @torch.inference_mode()
    def predict_mnist(self, images: np.ndarray, batch_size: int = 2000) -> np.ndarray:
        """uint8 [N, 28, 28] in MNIST's format -> float32 [N, 10] calibrated probabilities."""
        images = np.asarray(images)
        if images.ndim == 2:
            images = images[None]
        x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.uint8))
        probabilities = [
            torch.softmax(self.model.calibrated_logits(batch.unsqueeze(1).float() / 255), dim=1)
            for batch in x.split(batch_size)
        ]
        return torch.cat(probabilities).numpy().astype(np.float32)

    def classify(self, image) -> dict[str, float]:
        """Any picture of one digit -> {"0": p0, ..., "9": p9}. Raises ImageError / BlankImageError."""
        return probabilities_by_label(self.predict_mnist(to_mnist(image))[0])


def probabilities_by_label(probabilities: np.ndarray) -> dict[str, float]:
    return {label: float(p) for label, p in zip(LABELS, probabilities)}


def looks_like_path(source: str) -> bool:
    """A Hub repo id is `name` or `user/name`; anything else is meant as a folder."""
    return source.startswith((".", "/", "~")) or source.count("/") > 1 or os.sep in source.replace("/", "")


def download_from_hub(repo_id: str, revision: str | None) -> Path:
    """The repo's files in the local Hub cache (honours HF_HUB_OFFLINE and HF_HOME)."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, revision=revision, allow_patterns=HUB_FILES))
    except Exception as error:  # offline, unknown repo, private, bad revision...
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise WeightsError(f"Cannot load weights from the Hub repo {repo_id}: {reason}") from None


def load_folder(folder: Path, source: str) -> DigitNet:
    """A DigitNet from `config.json` + `model.safetensors`, checked file by file, loaded strictly."""
    config = read_config(folder / CONFIG_FILE, source)
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise WeightsError(f"Cannot load {source}: {WEIGHTS_FILE} is missing from {folder}.")
    try:
        return DigitNet.from_pretrained(folder, strict=True, **config)
    except RuntimeError as error:  # missing / unexpected keys or wrong shapes
        reason = " ".join(str(error).split())[:300]
        raise WeightsError(f"Cannot load {source}: {WEIGHTS_FILE} does not fit the architecture in {CONFIG_FILE}: {reason}") from None
    except Exception as error:  # safetensors' own errors: truncated header, bad JSON, ...
        raise WeightsError(f"Cannot load {source}: {WEIGHTS_FILE} is not a valid safetensors file ({error}).") from None


def read_config(path: Path, source: str) -> dict:
    if not path.is_file():
        raise WeightsError(f"Cannot load {source}: {CONFIG_FILE} is missing from {path.parent}.")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise WeightsError(f"Cannot load {source}: {CONFIG_FILE} is not valid JSON ({error}).") from None
    from .model import ARCHITECTURES

    if not isinstance(config, dict) or config.get("arch") not in ARCHITECTURES:
        raise WeightsError(f"Cannot load {source}: {CONFIG_FILE} must name an architecture, one of {', '.join(ARCHITECTURES)}.")
    return config


def load_with_fallback(source: str | None) -> tuple[Classifier, str | None]:
    """The classifier from `source`, or the packaged one with a warning when `source` cannot be loaded.

    A Space whose Hub repo is unreachable still starts, and says why it is not using it.
    """
    try:
        return Classifier.from_pretrained(source), None
    except WeightsError as error:
        if source is None:
            raise
        warning = f"{error} Using the packaged weights instead."
        logging.getLogger("mnist_demo").warning(warning)
        return Classifier.from_pretrained(None), warning
