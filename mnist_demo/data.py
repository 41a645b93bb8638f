"""MNIST as tensors resident on the training device, batched by index, augmented in batches.

The IDX files are read straight into tensors (torchvision only downloads them when they
are missing); after that the training loop never touches PIL or a DataLoader: the 60,000 images
live as one uint8 tensor on the device, a batch is an index into it, and augmentation is a
handful of batched tensor ops.

    python -m mnist_demo.data --data-dir ../shared/data   # prints the split sizes
"""

import argparse
import math
import os
import struct
from pathlib import Path

import torch
import torch.nn.functional as F

VALIDATION_SIZE = 5000  # held out of the 60,000 training images to pick checkpoints and calibrate
SPLIT_SEED = 1234  # fixed, so every run validates on the same 5,000 images


class DataError(ValueError):
    """MNIST files that are missing and cannot be downloaded, or damaged; the message says which and why."""


def default_data_dir() -> Path:
    """`MNIST_DATA_DIR` when set, else a cache folder torchvision downloads into."""
    if os.environ.get("MNIST_DATA_DIR"):
        return Path(os.environ["MNIST_DATA_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mnist-demo"


def load_mnist(data_dir: Path | str | None = None, train: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Images as uint8 [N, 28, 28] (white on black) and labels as int64 [N].

    Reads the IDX files under `data_dir/MNIST/raw`, downloading them with torchvision only
    when missing: importing torchvision costs about a second (it pulls in torch._dynamo),
    as much as a third of a whole `train.py --preset fast` run's fixed cost.
    """
    root = Path(data_dir) if data_dir else default_data_dir()
    images, labels = idx_paths(root, train)
    if not (images.is_file() and labels.is_file()):
        download(root, train)
    return read_idx(images), read_idx(labels).long()


def idx_paths(root: Path, train: bool) -> tuple[Path, Path]:
    """Where torchvision's layout keeps the images and labels IDX files of the training or test set."""
    prefix = "train" if train else "t10k"
    return tuple(root / "MNIST" / "raw" / f"{prefix}-{kind}" for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"))


def mnist_on_disk(data_dir: Path | str | None = None) -> bool:
    """Whether all four IDX files are there, so that `load_mnist` needs no download."""
    root = Path(data_dir) if data_dir else default_data_dir()
    return all(path.is_file() for train in (True, False) for path in idx_paths(root, train))


def download(root: Path, train: bool) -> None:
    """torchvision fetches, checks and unpacks the IDX files into root/MNIST/raw."""
    from torchvision.datasets import MNIST

    try:
        MNIST(str(root), train=train, download=True)
    except Exception as error:  # offline, a proxy, a full disk...
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataError(
            f"MNIST is not in {root / 'MNIST' / 'raw'} and could not be downloaded ({reason.rstrip(':')}). "
            "Point --data-dir or MNIST_DATA_DIR at a folder holding MNIST/raw/*-ubyte, or connect to the "
            "internet."
        ) from None


def read_idx(path: Path) -> torch.Tensor:
    """A uint8 IDX file (MNIST's format: 0, 0, type 0x08, ndim, big-endian sizes, the bytes) as a tensor."""
    data = path.read_bytes()
    ndim = data[3] if len(data) >= 4 else 0
    header = 4 + 4 * ndim
    if data[:3] != b"\x00\x00\x08" or not 1 <= ndim <= 3 or len(data) < header:
        raise DataError(f"{path} is not a uint8 IDX file (MNIST's format): delete it to download it again")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    if len(data) - header != math.prod(shape):
        raise DataError(
            f"{path} is truncated: {len(data) - header} bytes of data where its header says "
            f"{math.prod(shape)}; delete it to download it again"
        )
    return torch.frombuffer(bytearray(data), dtype=torch.uint8, offset=header).reshape(shape)


def split_train_val(images: torch.Tensor, labels: torch.Tensor, val_size: int = VALIDATION_SIZE):
    """A fixed, seeded split: ((train_images, train_labels), (val_images, val_labels))."""
    val_size = min(val_size, len(images) // 10 or 1)
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(SPLIT_SEED))
    val, train = order[:val_size], order[val_size:]
    return (images[train], labels[train]), (images[val], labels[val])


def to_unit_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 [N, 28, 28] -> float [N, 1, 28, 28] in 0..1, the networks' input."""
    return images.unsqueeze(1).float().div_(255)


def index_batches(
    n: int,
    batch_size: int,
    shuffle: bool,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
):
    """Index tensors covering range(n) in batches (shuffled with `generator` when asked), on `device`.

    The order is drawn on the CPU (so a seed gives the same order everywhere) and copied
    to the device once: a copy per batch would make the host wait for the GPU at every step.
    """
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    return order.to(device).split(batch_size) if device is not None else order.split(batch_size)


def random_affine(
    x: torch.Tensor, rotate_deg: float = 12.0, scale: float = 0.12, shear_deg: float = 10.0, translate: float = 0.12
) -> torch.Tensor:
    """Rotate, scale, shear and shift every image of a batch by its own random amount.

    One affine grid for the batch and one grid_sample: no per-image Python. Translation
    is a fraction of the image size.
    """
    n, device = x.shape[0], x.device
    uniform = lambda bound: (torch.rand(n, device=device) * 2 - 1) * bound  # noqa: E731
    angle = uniform(math.radians(rotate_deg))
    shear = uniform(math.radians(shear_deg))
    zoom = 1 + uniform(scale)
    cos, sin, tan = torch.cos(angle), torch.sin(angle), torch.tan(shear)
    # grid_sample maps output coordinates to input ones, so this is the inverse transform.
    theta = torch.stack(
        [
            torch.stack([cos / zoom, (-sin + cos * tan) / zoom, uniform(2 * translate)], dim=1),
            torch.stack([sin / zoom, (cos + sin * tan) / zoom, uniform(2 * translate)], dim=1),
        ],
        dim=1,
    )
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def random_stroke_width(x: torch.Tensor, probability: float = 0.3) -> torch.Tensor:
    """Thicken (grey dilation) or thin (grey erosion) a random part of the batch by one pixel.

    Drawn digits come with any pen; this keeps the model from tying a digit to MNIST's
    own stroke width.
    """
    choice = torch.rand(x.shape[0], 1, 1, 1, device=x.device)
    thicker = F.max_pool2d(x, 3, stride=1, padding=1)
    thinner = -F.max_pool2d(-x, 2, stride=1, padding=0)
    thinner = F.pad(thinner, (0, 1, 0, 1))
    out = torch.where(choice < probability / 2, thicker, x)
    return torch.where((choice >= probability / 2) & (choice < probability), thinner, out)


def blurred(x: torch.Tensor, passes: int = 1) -> torch.Tensor:
    """A 5x5 binomial (near-Gaussian) blur, `passes` times: a photo's soft focus, a scan's smoothing."""
    taps = torch.tensor([1, 4, 6, 4, 1], dtype=x.dtype, device=x.device)
    kernel = (taps[:, None] * taps[None, :] / 256).expand(1, 1, 5, 5)
    for _ in range(passes):
        x = F.conv2d(x, kernel, padding=2)
    return x


def restyled(x: torch.Tensor, style: torch.Tensor, side: int) -> torch.Tensor:
    """Each digit redrawn in its `style` [N, 1, 1, 1]: 0 blurry, 1 low-resolution (`side` px, scaled back up
    smoothly), 2 thick marker, 3 thin faint pencil; brightest pixel 1 (0.6 for pencil)."""
    low_res = F.interpolate(F.interpolate(x, size=side, mode="area"), size=28, mode="bilinear", align_corners=False)
    marker = F.max_pool2d(F.max_pool2d(x, 3, stride=1, padding=1), 3, stride=1, padding=1)
    pencil = F.pad(-F.max_pool2d(-x, 2, stride=1), (0, 1, 0, 1))
    out = torch.where(
        style == 0, blurred(x, 2), torch.where(style == 1, low_res, torch.where(style == 2, marker, pencil))
    )
    return out / out.amax(dim=(1, 2, 3), keepdim=True).clamp(min=1e-6) * torch.where(style == 3, 0.6, 1.0)


def out_of_style(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each digit of a float batch [N, 1, 28, 28] in 0..1 redrawn in one of four styles MNIST lacks:
    blurry, low-resolution (10-14 px, scaled back up smoothly), thick marker, thin faint pencil.

    Digits all the same: "not a digit" must not flag them (`training.calibrate` sets its threshold
    on validation digits in MNIST's style and in these).
    """
    style = torch.randint(0, 4, (x.shape[0], 1, 1, 1), generator=generator).to(x.device)
    return restyled(x, style, int(torch.randint(10, 15, (1,), generator=generator)))


def random_style(x: torch.Tensor, probability: float = 0.25) -> torch.Tensor:
    """Redraw a random part of the batch blurry, low-resolution, in marker or in pencil (`restyled`)."""
    n, device = x.shape[0], x.device
    style = torch.randint(0, 4, (n, 1, 1, 1), device=device)
    chosen = torch.rand(n, 1, 1, 1, device=device) < probability
    return torch.where(chosen, restyled(x, style, int(torch.randint(10, 15, (1,)))), x)


def random_paper(x: torch.Tensor, probability: float = 0.25) -> torch.Tensor:
    """What a photo's cleaned ink can still hold, on a random part of the batch: an uneven faint
    background (a leftover of the paper's light), sensor noise, and now and then a faint ruled line.

    `photo.paper_ink` removes most of the paper; this teaches the network to ignore the rest
    instead of reading it as strokes.
    """
    n, device, dtype = x.shape[0], x.device, x.dtype
    chosen = (torch.rand(n, 1, 1, 1, device=device) < probability).to(dtype)
    uniform = lambda low, high: low + (high - low) * torch.rand(n, 1, 1, 1, device=device, dtype=dtype)  # noqa: E731
    coords = torch.linspace(-1, 1, 28, device=device, dtype=dtype)
    row, col = coords.view(1, 1, 28, 1), coords.view(1, 1, 1, 28)
    angle = uniform(0, 2 * math.pi)
    ramp = (col * torch.cos(angle) + row * torch.sin(angle) + 1) / 2  # 0..1 across the picture
    background = uniform(0, 0.12) * ramp + uniform(0, 0.05)
    noise = uniform(0, 0.06) * torch.randn_like(x)
    # A near-horizontal line of one or two pixels, on a third of the chosen pictures.
    tilt, offset = uniform(-0.15, 0.15), uniform(-0.9, 0.9)
    line = (torch.abs(row - offset - tilt * col) < uniform(0.04, 0.09)).to(dtype)
    line = line * uniform(0.1, 0.35) * (torch.rand(n, 1, 1, 1, device=device) < 1 / 3).to(dtype)
    residue = blurred(background + line, 1) + noise
    return (x + chosen * residue).clamp_(0, 1)


def soft_lines(starts: torch.Tensor, ends: torch.Tensor, width: torch.Tensor, side: int = 28) -> torch.Tensor:
    """Anti-aliased straight strokes [N, 1, side, side] in 0..1, one per image: from `starts` to `ends` ([N, 2],
    x and y in pixels), `width` [N] pixels wide: each pixel's ink falls off over one pixel past the pen's edge."""
    coords = torch.arange(side, device=starts.device, dtype=starts.dtype)
    xs, ys = coords.view(1, 1, side), coords.view(1, side, 1)
    (x0, y0), (dx, dy) = (v.view(-1, 1, 1) for v in starts.T), (v.view(-1, 1, 1) for v in (ends - starts).T)
    along = (((xs - x0) * dx + (ys - y0) * dy) / (dx * dx + dy * dy).clamp(min=1e-6)).clamp(0, 1)
    distance = torch.hypot(xs - x0 - along * dx, ys - y0 - along * dy)
    return (width.view(-1, 1, 1) / 2 + 0.5 - distance).clamp(0, 1).unsqueeze(1)


def ink_rows(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The first and last rows [N] (float) of each image's clear ink (above half the brightest); 0 and 27 for none."""
    rows = x[:, 0].amax(dim=2) > 0.5
    top = rows.float().argmax(dim=1)
    bottom = rows.shape[1] - 1 - rows.flip(1).float().argmax(dim=1)
    return top.to(x.dtype), torch.where(rows.any(1), bottom, rows.shape[1] - 1).to(x.dtype)


def ink_centre(x: torch.Tensor, first: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
    """The mean column [N] of each image's ink between rows `first` and `last` [N], inclusive."""
    rows = torch.arange(x.shape[2], device=x.device, dtype=x.dtype).view(1, -1, 1)
    band = x[:, 0] * ((rows >= first.view(-1, 1, 1)) & (rows <= last.view(-1, 1, 1)))
    weights = band.sum(dim=1)
    columns = torch.arange(x.shape[3], device=x.device, dtype=x.dtype)
    return (weights * columns).sum(1) / weights.sum(1).clamp(min=1e-6)


def everyones_strokes(x: torch.Tensor, labels: torch.Tensor, probability: float = 0.4) -> torch.Tensor:
    """A part of the 1s given a flag (a straight up-stroke into the top, 20-55 degrees off the stem, a fifth to
    half the height; a third of them a foot too), and of the 7s a bar across the stem: as most of Europe and
    Latin America write them, where MNIST's writers (American) mostly did not."""
    n, device, dtype = x.shape[0], x.device, x.dtype
    uniform = lambda low, high: low + (high - low) * torch.rand(n, device=device, dtype=dtype)  # noqa: E731
    top, bottom = ink_rows(x)
    height = (bottom - top).clamp(min=4)
    x_top, x_bottom = ink_centre(x, top, top + 1), ink_centre(x, bottom - 1, bottom)
    pen = uniform(1.5, 3.0)
    # The flag: from the top of the stem, turned 20-55 degrees off the stem's direction, to its left.
    stem = torch.atan2(bottom - top, x_bottom - x_top)
    turn, length = stem + torch.deg2rad(uniform(20, 55)), uniform(0.2, 0.5) * height
    peak = torch.stack([x_top, top + pen / 2], dim=1)
    flag = soft_lines(peak, peak + length[:, None] * torch.stack([turn.cos(), turn.sin()], dim=1), pen)
    half = uniform(0.1, 0.25) * height
    foot_y = bottom - pen / 2
    foot = soft_lines(
        torch.stack([x_bottom - half, foot_y], dim=1), torch.stack([x_bottom + half, foot_y], dim=1), pen
    ) * (torch.rand(n, 1, 1, 1, device=device) < 1 / 3)
    # The bar: across the stem, 40-65% of the way down, level or a little tilted.
    bar_y = top + uniform(0.4, 0.65) * height
    bar_x = ink_centre(x, bar_y.floor() - 1, bar_y.floor() + 1) + uniform(-0.1, 0.1) * height
    across, tilt = uniform(0.1, 0.3) * height, uniform(-0.08, 0.08) * height
    bar = soft_lines(
        torch.stack([bar_x - across, bar_y + tilt], dim=1), torch.stack([bar_x + across, bar_y - tilt], dim=1), pen
    )
    chosen = (torch.rand(n, device=device) < probability).view(-1, 1, 1, 1)
    one, seven = (labels == 1).view(-1, 1, 1, 1) & chosen, (labels == 7).view(-1, 1, 1, 1) & chosen
    return torch.maximum(x, torch.where(one, torch.maximum(flag, foot), torch.where(seven, bar, torch.zeros_like(x))))


def random_gaps(x: torch.Tensor, probability: float = 0.15) -> torch.Tensor:
    """Lift the pen: a disc 1.6-4 px across wiped out of a random part of the batch at a random point of its ink,
    which opens a loop (a 6 or a 0 not closed), parts a stroke or leaves a 4 open at its top."""
    n, device, dtype = x.shape[0], x.device, x.dtype
    side = x.shape[-1]
    ink = (x[:, 0] > 0.5).flatten(1).to(dtype) + 1e-6
    at = torch.multinomial(ink, 1).squeeze(1)
    row, col = (at // side).to(dtype).view(-1, 1, 1), (at % side).to(dtype).view(-1, 1, 1)
    coords = torch.arange(side, device=device, dtype=dtype)
    radius = (0.8 + 1.2 * torch.rand(n, 1, 1, device=device, dtype=dtype)) ** 2
    wiped = ((coords.view(1, -1, 1) - row) ** 2 + (coords.view(1, 1, -1) - col) ** 2 < radius).unsqueeze(1)
    chosen = (torch.rand(n, 1, 1, 1, device=device) < probability) & wiped
    return torch.where(chosen, torch.zeros_like(x), x)


def random_proportions(x: torch.Tensor, probability: float = 0.2) -> torch.Tensor:
    """Redraw a random part of the batch with its top or its bottom larger (a power warp of the rows, exponent
    0.67-1.5): a 6 with a small loop under a long stem, a 9 with a big head, a 2 with a tall curve."""
    n, device, dtype = x.shape[0], x.device, x.dtype
    side = x.shape[-1]
    power = torch.exp((torch.rand(n, device=device, dtype=dtype) * 2 - 1) * math.log(1.5)).view(-1, 1, 1)
    rows = torch.linspace(-1, 1, side, device=device, dtype=dtype).view(1, -1, 1).expand(n, side, side)
    cols = torch.linspace(-1, 1, side, device=device, dtype=dtype).view(1, 1, -1).expand(n, side, side)
    source_rows = 2 * ((rows + 1) / 2) ** power - 1
    # grid_sample's pixel centres sit at (2i + 1) / side - 1 with align_corners=False: map the linspace onto them.
    grid = torch.stack([cols, source_rows], dim=-1) * (side - 1) / side
    warped = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    chosen = torch.rand(n, 1, 1, 1, device=device) < probability
    return torch.where(chosen, warped, x)


def augment(x: torch.Tensor, labels: torch.Tensor | None = None, flagged: float = 0.4) -> torch.Tensor:
    """The training augmentation for a float batch [N, 1, 28, 28] in 0..1: how people write (a `flagged` share of
    the 1s flagged and of the 7s crossed, given the `labels` [N], -1 for a non-digit), shape (proportions, affine),
    pen (lifts, stroke width), style (blur, low resolution, marker, pencil) and paper (background, noise, lines)."""
    if labels is not None and flagged:
        x = everyones_strokes(x, labels, flagged)
    shaped = random_affine(random_proportions(x))
    return random_paper(random_style(random_stroke_width(random_gaps(shaped))))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument(
        "--data-dir", default=None, help="folder holding MNIST/raw (default: $MNIST_DATA_DIR or a cache)"
    )
    args = parser.parse_args()
    try:
        images, labels = load_mnist(args.data_dir, train=True)
        test_x, _ = load_mnist(args.data_dir, train=False)
    except DataError as error:
        parser.exit(1, f"{error}\n")
    (train_x, _), (val_x, _) = split_train_val(images, labels)
    print(f"train {len(train_x)}  val {len(val_x)}  test {len(test_x)}  mean {images.float().mean() / 255:.4f}")


if __name__ == "__main__":
    main()
