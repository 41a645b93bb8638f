"""Why the model said it: integrated gradients on the 28x28 input, and a heat map to show beside it.

Integrated gradients (Sundararajan et al., 2017) credits each pixel with its share of the
step from a black image (no ink, MNIST's background) to the drawing: the gradient of the
digit's logit, averaged along that straight path, times the pixel's ink. The shares add
up to logit(drawing) - logit(black), so the map is an account of the score, not just a
picture of where the gradient is steep. The path is one batch of STEPS images: one
forward and one backward pass, a few tens of milliseconds on a CPU.

Red pixels speak for the digit, blue ones against it.

    python -m mnist_demo.explain digit.png   # prints the saliency of the predicted digit as text
"""

import sys

import numpy as np
import torch

STEPS = 16          # points on the path (midpoint rule): the sum is within a few % of the exact integral
OVERLAY_SCALE = 10  # the 28x28 map is shown as 280x280, each pixel a 10x10 block
FOR = np.array([220, 30, 30], dtype=np.float32)      # red: evidence for the digit
AGAINST = np.array([30, 90, 230], dtype=np.float32)  # blue: evidence against it


def integrated_gradients(model: torch.nn.Module, mnist: np.ndarray, target: int | None = None,
                         steps: int = STEPS) -> tuple[np.ndarray, int]:
    """Per-pixel attributions float32 [28, 28] for `target` (default: the predicted digit), and that digit.

    `model` maps 0..1 images [N, 1, 28, 28] to logits; `mnist` is uint8 [28, 28] as MNIST.
    """
    x = torch.from_numpy(np.asarray(mnist, dtype=np.float32) / 255).reshape(1, 1, 28, 28)
    alphas = ((torch.arange(steps, dtype=torch.float32) + 0.5) / steps).reshape(steps, 1, 1, 1)
    with torch.enable_grad():
        path = (alphas * x).requires_grad_(True)  # the baseline is black: x * alpha walks from 0 to x
        logits = model(path)
        if target is None:
            with torch.no_grad():
                target = int(model(x).argmax(dim=1))
        gradients, = torch.autograd.grad(logits[:, target].sum(), path)
    attributions = (x * gradients.mean(dim=0, keepdim=True))[0, 0]
    return attributions.detach().numpy().astype(np.float32), target


def overlay(mnist: np.ndarray, attributions: np.ndarray, scale: int = OVERLAY_SCALE) -> np.ndarray:
    """An RGB uint8 [28*scale, 28*scale, 3] heat map: the digit in grey, red where it counts for, blue against.

    Shown averaged over 3x3 pixels and on the ink only: one pixel's share flickers from
    red to blue along a stroke (ReLUs and max-pools switch on and off along the path),
    while a stroke's share, the thing worth seeing, is steady.
    """
    attributions = box_blur(np.asarray(attributions, dtype=np.float32)) * (np.asarray(mnist) > 0)
    strength = np.abs(attributions)
    top = float(np.percentile(strength, 99.5)) or float(strength.max()) or 1.0
    weight = np.clip(strength / top, 0, 1)[..., None]
    colour = np.where(attributions[..., None] >= 0, FOR, AGAINST)
    grey = (40 + 0.45 * np.asarray(mnist, dtype=np.float32))[..., None].repeat(3, axis=2)
    image = grey * (1 - weight) + colour * weight
    image = np.round(image).astype(np.uint8)
    return image.repeat(scale, axis=0).repeat(scale, axis=1)


def box_blur(image: np.ndarray) -> np.ndarray:
    """The mean over each pixel's 3x3 neighbourhood (zeros beyond the border)."""
    padded = np.pad(image, 1)
    h, w = image.shape
    return sum(padded[dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)) / 9


def main():
    from .classifier import Classifier
    from .preprocess import ImageError, to_mnist

    classifier = Classifier.from_pretrained()
    try:
        mnist = to_mnist(sys.argv[1])
    except ImageError as error:
        sys.exit(str(error))
    attributions, digit = integrated_gradients(classifier.model, mnist)
    print(f"why a {digit}: + for, - against")
    top = np.abs(attributions).max() or 1.0
    for row in attributions / top:
        print("".join("+" if v > 0.2 else "-" if v < -0.2 else ("." if m else " ") for v, m in zip(row, row != 0)))


if __name__ == "__main__":
    main()
