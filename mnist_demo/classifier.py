"""Load a trained model (packaged, a local folder, or a Hub repo) and classify pictures of digits.

    from mnist_demo import Classifier
    classifier = Classifier.from_pretrained()            # the weights packaged with mnist_demo
    classifier.classify("digit.png")                     # {"0": 0.001, ..., "7": 0.98, ...}

Only safetensors weights and JSON are ever read: no pickle.
"""

import contextlib
import inspect
import io
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
PICKLE_SUFFIXES = {".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle"}


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
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
            raise ValueError(f"predict_mnist takes uint8 images of shape [N, 28, 28] (MNIST's format), not "
                             f"{images.dtype} {list(images.shape)}; classify() accepts any picture.")
        x = torch.from_numpy(np.ascontiguousarray(images))
        probabilities = [
            torch.softmax(self.model.calibrated_logits(batch.unsqueeze(1).float() / 255), dim=1)
            for batch in x.split(batch_size)
        ]
        return torch.cat(probabilities).numpy().astype(np.float32)

    def classify(self, image) -> dict[str, float]:
        """Any picture of one digit -> {"0": p0, ..., "9": p9}. Raises ImageError / BlankImageError."""
        return probabilities_by_label(self.predict_mnist(to_mnist(image))[0])

    def not_a_digit(self, probabilities: np.ndarray) -> np.ndarray:
        """True where calibrated probabilities [..., 10] are too unsure to be a digit (below `ood_threshold`)."""
        return np.asarray(probabilities).max(axis=-1) < float(self.model.ood_threshold)

    def read(self, image) -> dict:
        """A drawing of a whole number, digits written left to right, -> what it says:

            {"number": "2026", "not_a_digit": False,
             "digits": [{"digit": "2", "confidence": 0.99, "box": [x0, y0, x1, y1], "not_a_digit": False}, ...]}

        Boxes are in the input image's pixels, right and bottom exclusive. "not_a_digit" is True
        when any part of the drawing does not look like a digit (that part's own flag says which);
        "number" is then still the model's best reading, to be shown only with that warning.
        Raises ImageError for unusable input and BlankImageError when there is no ink, as
        `classify` does.
        """
        from .segment import read_digits, reading

        digits = read_digits(image, self.predict_mnist)
        return reading(digits, self.not_a_digit(np.stack([d.probabilities for d in digits])))

    def explain(self, mnist: np.ndarray, digit: int | None = None) -> np.ndarray:
        """Why the model reads an MNIST-style uint8 [28, 28] image as `digit` (default: its answer):
        integrated-gradients attributions, float32 [28, 28], positive for, negative against."""
        from .explain import integrated_gradients

        return integrated_gradients(self.model, mnist, digit)[0]


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
        raise WeightsError(f"Cannot load weights from the Hub repo {repo_id}: {hub_failure(error, revision)}") from None


def hub_failure(error: Exception, revision: str | None) -> str:
    """Why a Hub download failed, in words (huggingface_hub's messages speak of its cache internals)."""
    from huggingface_hub import constants
    from huggingface_hub.errors import (GatedRepoError, HfHubHTTPError, HFValidationError, LocalEntryNotFoundError,
                                        OfflineModeIsEnabled, RepositoryNotFoundError, RevisionNotFoundError)

    not_cached = "and the repo is not in the local Hub cache."
    if isinstance(error, GatedRepoError):
        return "the repo is gated: accept its conditions on its Hub page, then log in (hf auth login) or set HF_TOKEN."
    if isinstance(error, RepositoryNotFoundError):
        return ("the repo was not found on the Hub: it does not exist, or it is private and no token with access "
                "to it was given (set HF_TOKEN or run hf auth login).")
    if isinstance(error, RevisionNotFoundError):
        return f"the repo has no revision {revision!r}."
    if isinstance(error, HFValidationError):
        return "it is neither an existing folder nor a valid Hub repo id (user/name)."
    if isinstance(error, LocalEntryNotFoundError):
        cause = error.__cause__
        if constants.is_offline_mode() or isinstance(cause, OfflineModeIsEnabled):
            return f"Hub downloads are switched off (HF_HUB_OFFLINE is set) {not_cached}"
        if isinstance(cause, HfHubHTTPError) and cause.response is not None:
            return f"the Hub answered with an error (HTTP {cause.response.status_code}) {not_cached}"
        return f"the Hub could not be reached (no internet connection?) {not_cached}"
    if isinstance(error, HfHubHTTPError) and error.response is not None and error.response.status_code == 401:
        return "the Hub refused the token (401 Unauthorized): check HF_TOKEN or run hf auth login."
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


def load_folder(folder: Path, source: str) -> DigitNet:
    """A DigitNet from `config.json` + `model.safetensors`, checked file by file, loaded strictly."""
    config = read_config(folder / CONFIG_FILE, source)
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise WeightsError(f"Cannot load {source}: {WEIGHTS_FILE} is missing from {folder}.{pickle_note(folder)}")
    check_weights(weights, DigitNet(**config), source)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the mixin prints "Loading weights from local directory" every time
            return DigitNet.from_pretrained(folder, strict=True, **config)
    except RuntimeError as error:  # check_weights has caught what load_state_dict checks; this is the safety net
        reason = " ".join(str(error).split())[:300]
        raise WeightsError(f"Cannot load {source}: {WEIGHTS_FILE} does not fit the architecture in {CONFIG_FILE}: {reason}") from None
    except Exception as error:  # safetensors' own errors: data cut short after a valid header, ...
        raise WeightsError(f"Cannot load {source}: {WEIGHTS_FILE} is damaged ({error}).") from None


def pickle_note(folder: Path) -> str:
    """Why a folder holding only pickled weights (pytorch_model.bin, *.pt) is refused."""
    pickles = sorted(p.name for p in folder.glob("*") if p.suffix in PICKLE_SUFFIXES)
    if not pickles:
        return ""
    return (f" It holds {', '.join(pickles)}, but only safetensors weights are read: pickle files are never loaded, "
            "since loading one can run arbitrary code.")


def check_weights(path: Path, model: DigitNet, source: str) -> None:
    """Compare the file's tensor names and shapes (its header only) with the model's, to say what does not fit."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as file:
            found = {name: list(file.get_slice(name).get_shape()) for name in file.keys()}
    except Exception as error:  # truncated, empty, not safetensors at all, a damaged header...
        raise WeightsError(f"Cannot load {source}: {WEIGHTS_FILE} is damaged or not a safetensors file ({error}).") from None
    expected = {name: list(tensor.shape) for name, tensor in model.state_dict().items()}
    missing = [name for name in expected if name not in found]
    unexpected = [name for name in found if name not in expected]
    wrong_shape = [name for name in expected if name in found and found[name] != expected[name]]
    problems = []
    if missing:
        problems.append(f"{len(missing)} tensor(s) missing, e.g. {missing[0]}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected tensor(s), e.g. {unexpected[0]}")
    if wrong_shape:
        name = wrong_shape[0]
        problems.append(f"{len(wrong_shape)} tensor(s) of the wrong shape, e.g. {name} is {found[name]} where {expected[name]} is expected")
    if problems:
        raise WeightsError(f"Cannot load {source}: {WEIGHTS_FILE} does not fit the {model.arch!r} architecture named in "
                           f"{CONFIG_FILE}: {'; '.join(problems)}.")


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
    unknown = sorted(set(config) - set(inspect.signature(DigitNet).parameters))
    if unknown:
        raise WeightsError(f"Cannot load {source}: {CONFIG_FILE} has settings this version of mnist-demo does not know: "
                           f"{', '.join(unknown)}.")
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
