"""mnist_demo.model: every architecture's shapes and size, and the Hub mixin's save -> load round trip."""

import json

import pytest
import torch

from mnist_demo.model import ARCHITECTURES, DigitNet, count_parameters


def conv(c_in: int, c_out: int, k: int) -> int:
    """A bias-free convolution followed by BatchNorm (its weight and bias)."""
    return c_in * c_out * k * k + 2 * c_out


def linear(n_in: int, n_out: int) -> int:
    return n_in * n_out + n_out


def digit_cnn(w: int) -> int:
    return (
        conv(1, w, 5)
        + conv(w, 2 * w, 3)
        + conv(2 * w, 2 * w, 3)
        + conv(2 * w, 4 * w, 3)
        + conv(4 * w, 4 * w, 3)
        + linear(4 * w * 3 * 3, 10)
    )


# Counted by hand from each architecture's description, independently of the code.
PARAMETERS = {
    "mlp": linear(784, 128) + linear(128, 64) + linear(64, 10),  # 109,386
    "tutorial-cnn": conv(1, 32, 3) + conv(32, 64, 3) + linear(64 * 7 * 7, 128) + linear(128, 10),  # 421,738
    "cnn": digit_cnn(32),  # 289,642
    "cnn-small": digit_cnn(16),  # 75,706
    "cnn-fast": conv(1, 16, 5) + conv(16, 32, 3) + linear(32 * 5 * 5, 128) + linear(128, 10),  # 108,922
}


def test_every_architecture_is_counted():
    assert set(PARAMETERS) == set(ARCHITECTURES)
    assert PARAMETERS["cnn"] == 289_642 and PARAMETERS["cnn-small"] == 75_706


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_shapes_and_parameter_count(arch):
    model = DigitNet(arch)
    assert count_parameters(model) == PARAMETERS[arch]
    for training in (True, False):
        model.train(training)
        assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    assert model.calibrated_logits(torch.rand(1, 1, 28, 28)).shape == (1, 10)


def test_unknown_architecture_is_named():
    with pytest.raises(ValueError, match="unknown architecture 'resnet'.*cnn-small"):
        DigitNet("resnet")


def test_temperature_divides_the_logits():
    model = DigitNet("mlp").eval()
    x = torch.rand(4, 1, 28, 28)
    model.temperature.fill_(2.5)
    torch.testing.assert_close(model.calibrated_logits(x), model(x) / 2.5)


@pytest.mark.parametrize("arch", ["mlp", "cnn-small"])
def test_save_load_round_trip_gives_identical_logits(arch, tmp_path):
    model = DigitNet(arch)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.01)  # not the initialisation a fresh model would get
    model.temperature.fill_(1.3)
    model.ood_threshold.fill_(0.42)
    model.eval().save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text()) == {"arch": arch}
    assert not [p for p in tmp_path.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".pkl")]

    loaded = DigitNet.from_pretrained(tmp_path, strict=True)
    assert loaded.arch == arch and not loaded.training
    x = torch.rand(8, 1, 28, 28)
    assert torch.equal(loaded(x), model(x))
    assert loaded.temperature.item() == pytest.approx(1.3) and loaded.ood_threshold.item() == pytest.approx(0.42)
