"""mnist_demo.calibration: the fitted temperature recovers a known one, and the ECE matches its definition."""

import numpy as np
import pytest
import torch

from mnist_demo.calibration import expected_calibration_error, fit_temperature


def sampled_labels(logits: torch.Tensor, temperature: float, seed: int) -> torch.Tensor:
    """Labels drawn from softmax(logits / temperature): for them, that temperature is the right one."""
    generator = torch.Generator().manual_seed(seed)
    return torch.multinomial(torch.softmax(logits / temperature, dim=1), 1, generator=generator).squeeze(1)


@pytest.mark.parametrize("true_temperature", [0.5, 2.0])
def test_fit_recovers_a_known_temperature(true_temperature):
    logits = torch.randn(10_000, 10, generator=torch.Generator().manual_seed(0)) * 3
    labels = sampled_labels(logits, true_temperature, seed=1)
    assert fit_temperature(logits, labels) == pytest.approx(true_temperature, rel=0.05)


def test_ece_by_hand():
    # always 100% sure, right 7 times out of 10: one bin, |0.7 - 1.0| = 0.3
    probabilities = np.eye(10)[[0] * 10]
    labels = np.array([0] * 7 + [1] * 3)
    assert expected_calibration_error(probabilities, labels) == pytest.approx(0.3)
    # two bins of 5: 60% sure and right 3 times (0), 90% sure and right 5 times (0.1): weighted 0.05
    confident = np.full((10, 10), 0.1 / 9)
    confident[:5, 0], confident[5:, 0] = 0.6, 0.9
    confident[:5, 1:] = 0.4 / 9
    labels = np.array([0, 0, 0, 1, 1, 0, 0, 0, 0, 0])
    assert expected_calibration_error(confident, labels) == pytest.approx(0.05)


def test_well_calibrated_predictions_have_a_small_ece():
    logits = torch.randn(20_000, 10, generator=torch.Generator().manual_seed(2)) * 2
    labels = sampled_labels(logits, 1.0, seed=3)
    assert expected_calibration_error(torch.softmax(logits, 1).numpy(), labels.numpy()) < 0.02


def test_temperature_scaling_fixes_overconfidence_and_keeps_every_prediction():
    logits = torch.randn(10_000, 10, generator=torch.Generator().manual_seed(4)) * 3
    labels = sampled_labels(logits, 2.5, seed=5)  # the raw logits are overconfident
    temperature = fit_temperature(logits, labels)
    raw = torch.softmax(logits, 1).numpy()
    calibrated = torch.softmax(logits / temperature, 1).numpy()
    assert expected_calibration_error(calibrated, labels.numpy()) < expected_calibration_error(raw, labels.numpy()) / 3
    np.testing.assert_array_equal(calibrated.argmax(1), raw.argmax(1))
