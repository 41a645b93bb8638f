"""Honest confidences: temperature scaling (Guo et al., 2017) and the expected calibration error.

The temperature is fitted on the validation split after training; dividing the logits
by it keeps every prediction and makes "90% sure" right about 90% of the time.
"""

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch itself is imported where it is used (see fit_temperature)
    import torch

ECE_BINS = 15


def fit_temperature(logits: "torch.Tensor", labels: "torch.Tensor") -> float:
    """The T > 0 minimising the negative log-likelihood of softmax(logits / T)."""
    # Imported here, not at the top: the app's Model tab reads ECE_BINS while it serves its first
    # page, before torch has loaded.
    import torch
    import torch.nn.functional as F

    logits, labels = logits.float().cpu(), labels.cpu()
    log_t = torch.zeros((), requires_grad=True)  # optimise log T so T stays positive
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimizer.step(closure)
    return log_t.detach().exp().item()


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """|accuracy - confidence| averaged over equal-width confidence bins, weighted by bin size."""
    probabilities, labels = np.asarray(probabilities), np.asarray(labels)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            error += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(error)
