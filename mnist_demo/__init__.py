"""mnist-demo: a CNN that reads handwritten digits, its training, and what the demo app needs.

from mnist_demo import Classifier
Classifier.from_pretrained().classify("digit.png")
"""

import importlib

# Where each name lives. They are imported on first use: Classifier needs torch, whose import
# takes 1.5-2 s, and the app serves its page before that; `python -m mnist_demo.<module>` also
# runs cleanly only when the package has not imported that module already.
EXPORTS = {
    "Classifier": "classifier",
    "WeightsError": "loading",
    "ImageError": "picture",
    "BlankImageError": "picture",
    "to_mnist": "preprocess",
}
__all__ = list(EXPORTS)


def __getattr__(name: str):
    if name not in EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{EXPORTS[name]}", __name__), name)
