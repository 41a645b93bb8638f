"""A trained model, loaded from the packaged weights, a local folder or a Hub repo, that classifies pictures of digits.

    from mnist_demo import Classifier
    classifier = Classifier.from_pretrained()            # the weights packaged with mnist_demo
    classifier.classify("digit.png")                     # {"0": 0.001, ..., "7": 0.98, ...}

Where the weights come from and the checks that need no torch are `mnist_demo.loading`;
here the files are checked against the architecture and loaded strictly. Only safetensors
weights and JSON are ever read: no pickle. torch is imported when a model is loaded, not
with this module: the app builds its page with `DIGIT_LABELS` while torch still loads.
"""

import contextlib
import inspect
import io
import os
from pathlib import Path

import numpy as np

from .loading import CONFIG_FILE, WEIGHTS_FILE, ModelFolder, WeightsError, check_files, locate
from .preprocess import Ink, ink_box, ink_to_mnist, locate_ink, to_mnist
from .segment import Digit, input_box, read_digits

DIGIT_LABELS = tuple(str(d) for d in range(10))  # the model's ten classes, as every answer names them


class Classifier:
    """A trained `DigitNet` in eval mode plus the folder of artifacts it came from."""

    def __init__(self, model, model_folder: ModelFolder):
        self.model = model.eval()
        self.model_folder = model_folder
        self._reader = None

    @property
    def reader(self):
        """The number reader (`number_reader.NumberReader`): the packaged one, loaded on first use."""
        if self._reader is None:
            from .number_reader import load_reader

            self._reader = load_reader()
        return self._reader

    @classmethod
    def from_pretrained(cls, source: str | os.PathLike | None = None, revision: str | None = None) -> "Classifier":
        """`None`: the packaged weights; a folder written by train.py; or a Hub repo id `user/name`."""
        return cls.from_folder(locate(source, revision))

    @classmethod
    def from_folder(cls, model_folder: ModelFolder) -> "Classifier":
        return cls(load_folder(model_folder), model_folder)

    @property
    def folder(self) -> Path:
        return self.model_folder.path

    @property
    def source(self) -> str:
        return self.model_folder.source

    @property
    def hub_repo(self) -> str | None:
        return self.model_folder.hub_repo

    def warm_up(self) -> None:
        """One prediction and one explanation, so that the first person's drawing does not pay for
        torch's first-call set-up."""
        blank = np.zeros((28, 28), dtype=np.uint8)
        self.predict_mnist(blank)
        self.explain(blank)
        self.reader.read(np.zeros((28, 56), dtype=np.float32))

    def predict_mnist(self, images: np.ndarray, batch_size: int = 2000) -> np.ndarray:
        """uint8 [N, 28, 28] in MNIST's format -> float32 [N, 10] calibrated probabilities."""
        import torch

        images = np.asarray(images)
        if images.ndim == 2:
            images = images[None]
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
            raise ValueError(
                f"predict_mnist takes uint8 images of shape [N, 28, 28] (MNIST's format), not "
                f"{images.dtype} {list(images.shape)}; classify() accepts any picture."
            )
        x = torch.from_numpy(np.ascontiguousarray(images))
        with torch.inference_mode():
            probabilities = [
                torch.softmax(self.model.calibrated_logits(batch.unsqueeze(1).float() / 255), dim=1)
                for batch in x.split(batch_size)
            ]
            return torch.cat(probabilities).numpy().astype(np.float32)

    def classify(self, image) -> dict[str, float]:
        """Any picture of one digit (or its `Ink`) -> {"0": p0, ..., "9": p9}. Raises ImageError / BlankImageError."""
        return probabilities_by_label(self.predict_mnist(to_mnist(image))[0])

    def not_a_digit(self, probabilities: np.ndarray) -> np.ndarray:
        """True where calibrated probabilities [..., 10] are too unsure to be a digit: below the `ood_threshold`
        stored with the weights (0 for a model trained without one). The one place that decides it."""
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
        return self.read_ink(locate_ink(image))[1]

    def read_ink(self, ink: Ink) -> tuple[list[Digit], dict]:
        """The digits of located ink, left to right, and `read`'s answer: what `read` and the Draw tab share."""
        digits = read_digits(ink, self.reader)
        if not digits:  # one mark: the classifier's answer, as the Draw tab gives it
            digits = [self.one_digit(ink)]
        return digits, number_answer(digits)

    def one_digit(self, ink: Ink) -> Digit:
        """The whole ink read as one digit by the classifier, "not a digit" by its threshold."""
        top, bottom, left, right = ink_box(ink.map)  # as to_mnist(ink) would, once for the image and the box
        mnist = ink_to_mnist(ink.map[top:bottom, left:right])
        probabilities = self.predict_mnist(mnist)[0]
        box = input_box((left, top, right, bottom), ink)
        return Digit(box, mnist, probabilities, not_a_digit=bool(self.not_a_digit(probabilities)))

    def explain(self, mnist: np.ndarray, digit: int | None = None) -> np.ndarray:
        """Why the model reads an MNIST-style uint8 [28, 28] image as `digit` (default: its answer):
        integrated-gradients attributions, float32 [28, 28], positive for, negative against."""
        from .explain import integrated_gradients

        return integrated_gradients(self.model, mnist, digit)[0]


def probabilities_by_label(probabilities: np.ndarray) -> dict[str, float]:
    """Ten probabilities -> {"0": p0, ..., "9": p9}, as `Classifier.classify` and a gr.Label give them."""
    return {label: float(p) for label, p in zip(DIGIT_LABELS, probabilities, strict=True)}


def number_answer(digits: list[Digit]) -> dict:
    """`Classifier.read`'s JSON-ready answer: the number, each digit, and whether any part is not a digit."""
    parts = [
        {
            "digit": DIGIT_LABELS[int(d.probabilities.argmax())],
            "confidence": float(d.probabilities.max()),
            "box": [int(v) for v in d.box],
            "not_a_digit": d.not_a_digit,
        }
        for d in digits
    ]
    return {
        "number": "".join(p["digit"] for p in parts),
        "digits": parts,
        "not_a_digit": any(d.not_a_digit for d in digits),
    }


def load_folder(model_folder: ModelFolder):
    """A DigitNet from `config.json` + `model.safetensors`, checked file by file, loaded strictly."""
    from .model import DigitNet

    source, folder = model_folder.description, model_folder.path
    config, shapes = check_files(model_folder)
    check_config(config, source)
    check_shapes(shapes, DigitNet(**config), source)
    try:
        # the mixin prints "Loading weights from local directory" every time
        with contextlib.redirect_stdout(io.StringIO()):
            return DigitNet.from_pretrained(folder, strict=True, **config)
    except RuntimeError as error:  # check_shapes has caught what load_state_dict checks; this is the safety net
        reason = " ".join(str(error).split())[:300]
        raise WeightsError(
            f"Cannot load {source}: {WEIGHTS_FILE} does not fit the architecture in {CONFIG_FILE}: {reason}"
        ) from None
    except Exception as error:  # safetensors' own errors: data cut short after a valid header, ...
        raise WeightsError(f"Cannot load {source}: {WEIGHTS_FILE} is damaged ({error}).") from None


def check_shapes(found: dict[str, list[int]], model, source: str) -> None:
    """Compare the file's tensor names and shapes (its header only) with the model's, to say what does not fit."""
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
        problems.append(
            f"{len(wrong_shape)} tensor(s) of the wrong shape, e.g. {name} is {found[name]} "
            f"where {expected[name]} is expected"
        )
    if problems:
        raise WeightsError(
            f"Cannot load {source}: {WEIGHTS_FILE} does not fit the {model.arch!r} architecture "
            f"named in {CONFIG_FILE}: {'; '.join(problems)}."
        )


def check_config(config: dict, source: str) -> None:
    from .model import ARCHITECTURES, DigitNet

    if config.get("arch") not in ARCHITECTURES:
        raise WeightsError(
            f"Cannot load {source}: {CONFIG_FILE} must name an architecture, one of {', '.join(ARCHITECTURES)}."
        )
    unknown = sorted(set(config) - set(inspect.signature(DigitNet).parameters))
    if unknown:
        raise WeightsError(
            f"Cannot load {source}: {CONFIG_FILE} has settings this version of mnist-demo does not "
            f"know: {', '.join(unknown)}."
        )
