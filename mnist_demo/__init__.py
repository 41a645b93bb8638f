"""mnist-demo: a CNN that reads handwritten digits, its training, and what the demo app needs.

    from mnist_demo import Classifier
    Classifier.from_pretrained().classify("digit.png")
"""

from .classifier import Classifier, WeightsError
from .preprocess import BlankImageError, ImageError, to_mnist

__all__ = ["Classifier", "WeightsError", "ImageError", "BlankImageError", "to_mnist"]
