"""mnist-demo: a CNN that reads handwritten digits, its training, and what the demo app needs.

    from mnist_demo import Classifier
    Classifier.from_pretrained().classify("digit.png")
"""

from .loading import WeightsError
from .preprocess import BlankImageError, ImageError, to_mnist

__all__ = ["Classifier", "WeightsError", "ImageError", "BlankImageError", "to_mnist"]


def __getattr__(name: str):
    # Classifier needs torch, whose import takes 1.5-2 s: it is imported on first use, so that
    # `import mnist_demo` stays light and the app can serve its page while torch loads.
    if name == "Classifier":
        from .classifier import Classifier

        return Classifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
