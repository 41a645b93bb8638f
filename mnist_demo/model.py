"""The networks: the seeds' two tutorial models, the project's own CNN, and a quick one for the fast preset.

Every architecture is wrapped in `DigitNet`, which inherits huggingface_hub's
`PyTorchModelHubMixin`: its plain `__init__` arguments become `config.json`, the
weights go to `model.safetensors`, and `DigitNet.from_pretrained(folder)` rebuilds
the exact network from those two files. The wrapper also carries two numbers fitted
after training as buffers, so they travel with the weights: the softmax temperature
(calibration) and the "not a digit" threshold.

    python -c "from mnist_demo.model import DigitNet; print(DigitNet('cnn'))"
"""

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

# MNIST's pixel mean and std (of the training set, on a 0..1 scale); the network
# normalises inside forward() so every caller feeds plain 0..1 images.
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081
NUM_CLASSES = 10


def conv_bn_relu(in_channels: int, out_channels: int, kernel_size: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class TutorialMLP(nn.Module):
    """The seeds' fully connected network: 784 -> 128 -> 64 -> 10."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Flatten(),
            nn.Linear(28 * 28, 128),
            nn.ReLU(),
            nn.Linear(128, 64),
            nn.ReLU(),
            nn.Linear(64, NUM_CLASSES),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class TutorialCNN(nn.Module):
    """The seeds' two-block CNN (32 and 64 channels, BatchNorm, max-pool, dropout 0.4, 128-unit head)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn_relu(1, 32),
            nn.MaxPool2d(2),  # 28 -> 14
            conv_bn_relu(32, 64),
            nn.MaxPool2d(2),  # 14 -> 7
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(0.4),
            nn.Linear(64 * 7 * 7, 128),
            nn.ReLU(),
            nn.Dropout(0.4),
            nn.Linear(128, NUM_CLASSES),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class DigitCNN(nn.Module):
    """The project's CNN: three stages of 3x3 conv-BN-ReLU, each halving the resolution.

    A 5x5 stem at full resolution, two convolutions at 14x14 and two at 7x7, then a
    small linear head over the 3x3 map (it keeps where strokes are, which global
    pooling would throw away). `width` scales every stage: 32 gives the shipped
    model, 16 the quick one of the fast preset.
    """

    def __init__(self, width: int = 32, dropout: float = 0.25):
        super().__init__()
        c1, c2, c3 = width, 2 * width, 4 * width
        self.features = nn.Sequential(
            conv_bn_relu(1, c1, kernel_size=5),
            nn.MaxPool2d(2),  # 28 -> 14
            conv_bn_relu(c1, c2),
            conv_bn_relu(c2, c2),
            nn.MaxPool2d(2),  # 14 -> 7
            conv_bn_relu(c2, c3),
            conv_bn_relu(c3, c3),
            nn.MaxPool2d(2),  # 7 -> 3
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(c3 * 3 * 3, NUM_CLASSES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class FastCNN(nn.Module):
    """The fast preset's network: two convolutions and a 128-unit hidden layer, ~0.62 M multiply-adds per image.

    A ninth of cnn-small's compute, and 99% test accuracy in two epochs. The first convolution
    strides by 2 instead of being max-pooled: on a CPU the pooling, BatchNorm and ReLU of a
    full-resolution map cost more than the convolution itself (a step took 1.5-1.7x as long). The
    second is max-pooled before its BatchNorm and ReLU, which then touch a quarter of the values.
    """

    def __init__(self, c1: int = 16, c2: int = 32, hidden: int = 128):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 5, stride=2, bias=False),  # 28 -> 12
            nn.BatchNorm2d(c1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c1, c2, 3, bias=False),  # 12 -> 10
            nn.MaxPool2d(2),  # 10 -> 5
            nn.BatchNorm2d(c2),
            nn.ReLU(inplace=True),
        )
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(c2 * 5 * 5, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, NUM_CLASSES)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


ARCHITECTURES = {
    "mlp": (TutorialMLP, {}),
    "tutorial-cnn": (TutorialCNN, {}),
    "cnn": (DigitCNN, {"width": 32}),
    "cnn-small": (DigitCNN, {"width": 16}),
    "cnn-fast": (FastCNN, {}),
}


class DigitNet(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="mnist-demo",
    tags=["mnist", "image-classification", "mnist-demo"],
    pipeline_tag="image-classification",
    license="mit",
):
    """One of `ARCHITECTURES`, taking 0..1 images [N, 1, 28, 28] (white digit on black) to logits.

    `temperature` divides the logits for calibrated probabilities; `ood_threshold` is the
    lowest calibrated top probability still read as a digit. Both are buffers fitted by
    train.py after training and saved with the weights.
    """

    def __init__(self, arch: str = "cnn"):
        super().__init__()
        if arch not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHITECTURES)}")
        network_class, kwargs = ARCHITECTURES[arch]
        self.arch = arch
        self.net = network_class(**kwargs)
        self.register_buffer("temperature", torch.ones(()))
        self.register_buffer("ood_threshold", torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - MNIST_MEAN) / MNIST_STD)

    def calibrated_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self(x) / self.temperature


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
