"""A trained reader of whole numbers: one network reads a row of digits at once (CTC), with no hand-set cuts.

A number's ink is scaled to MNIST's height (`strip_of`: 20 px of ink in a 28 px tall strip,
strokes brought to MNIST's width). A small CNN turns each 2-pixel column of the strip into a
feature vector; 1-D convolutions across the columns give each one the probabilities of "no new
mark here" (CTC's blank), of each digit, and of a mark that is not a digit (a letter, a sign, a
scribble). Greedy CTC decoding reads the marks left to right, and where each was read says
where it is (`segment.read_digits` turns that into boxes). It learns from rows composed of MNIST
training digits (`composed_numbers`): touching and overlapping, close and far apart, uneven in
size and line, with flagged 1s and crossed 7s, and some rows with non-digits among them.

    python -m mnist_demo.number_reader --data-dir ../shared/data --out runs/number-reader   # train, ~36 min
"""

import argparse
import contextlib
import io
import math
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn
from torch.nn import functional as F

from .model import MNIST_MEAN, MNIST_STD, conv_bn_relu
from .preprocess import DIGIT_BOX, MNIST_SIZE, at_mnist_scale, crop_to_ink, resize

PACKAGED_READER = Path(__file__).parent / "weights" / "number-reader"

BLANK = 0  # CTC's "no new mark in this column"; digit d is class d + 1
NOT_A_DIGIT = 11  # a mark that is not a digit, written "X" in training texts
CLASSES = 12
COLUMN_STRIDE = 2  # strip pixels per output column
MARGIN = (MNIST_SIZE - DIGIT_BOX) // 2  # strip pixels around the ink, as MNIST's 4 px
MAX_STRIP_WIDTH = 28 * 12  # about a dozen digits: a row longer than this is not read as one number
# A mark is not a digit where any column near it gives "not a digit" this much probability, even when a digit
# won that column. Set on the development sets (`heldout_eval.py --dev --count 200`): rows read as two or more
# digits, 9 of 15 letters, signs and scribbles and 4 of 8 things so read are flagged, 6 of 597 real numbers and
# photos of digits too. Checked again with the 24-wide reader (dev, 300 each): 0.06 flagged letters 90.3% -> 91.3% and
# things 97.0% -> 97.3%, and read fewer numbers (pen / composed / flagged 98.3 / 93.7 / 95.0% -> 98.0 / 93.3 / 94.7%).
DOUBT = 0.1
# A strip is read as written and moved a pixel up, down, left and right, and the five readings' column probabilities
# averaged (test-time augmentation; a strip's margin is empty, so nothing is lost at its edges). With the 16-wide
# reader, on the development sets (`heldout_eval.py --dev`, 300 each; 600 with --seed 50), against one reading:
# numbers pen / composed / flagged 95.3 / 94.0 / 94.3% -> 96.0 / 94.7 / 94.3% (96.3 / 92.5 / 90.8% -> 96.7 / 92.2 /
# 91.7%); letters, signs and scribbles flagged 90.3% -> 91.0% (90.3% -> 91.2%), things 97.0% -> 98.3% (96.5% ->
# 97.7%); photos, real digits as before. DOUBT at 0.07 instead flagged fewer and read fewer numbers (96.2 / 91.8 /
# 90.3%, 91.0%, 96.8%).
SHIFTS = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))  # (rows, columns)
# Channels of the first layer: 24 reads numbers better than 16 on the development sets (CHANGELOG, issue 17), for
# about 1 ms more a number.
NETWORK_WIDTH = 24


@dataclass(frozen=True)
class Mark:
    """One mark the reader read: a digit (0-9) or not a digit (-1), the strip columns [first, last] where it
    read it, and its digits' probabilities there (float32 [10], summing to 1: its best reading as a digit)."""

    digit: int
    first: int
    last: int
    probabilities: np.ndarray


def number_strip(ink: np.ndarray) -> np.ndarray:
    """An ink map -> the strip the reader reads (`strip_of` its clearly inked box)."""
    return strip_of(crop_to_ink(ink))


def strip_of(cropped: np.ndarray) -> np.ndarray:
    """Ink cropped to its box -> float32 [28, W] in 0..1: 20 px tall with MARGIN px around, as MNIST scales a digit.
    Strip column x is cropped column (x - MARGIN) * height / 20."""
    return np.pad(at_mnist_scale(cropped, cropped.shape[0]), MARGIN).astype(np.float32)


class NumberReader(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="mnist-demo",
    tags=["mnist", "ctc", "mnist-demo"],
    license="mit",
):
    """Strips [N, 1, 28, W] (0..1) -> log-probabilities [W / 2, N, 12] per column: blank, 0..9, not a digit."""

    def __init__(self, width: int = NETWORK_WIDTH):
        super().__init__()
        c1, c2, c3 = width, 2 * width, 4 * width
        self.features = nn.Sequential(
            conv_bn_relu(1, c1, kernel_size=5),
            nn.MaxPool2d(2),  # 28 -> 14, W -> W/2
            conv_bn_relu(c1, c2),
            conv_bn_relu(c2, c2),
            nn.MaxPool2d((2, 1)),  # 14 -> 7
            conv_bn_relu(c2, c3),
            conv_bn_relu(c3, c3),
            nn.MaxPool2d((7, 1)),  # 7 -> 1: each column sees the whole height
        )
        self.context = nn.Sequential(  # each column sees about two digits each side
            nn.Conv1d(c3, 2 * c3, 5, padding=2, bias=False),
            nn.BatchNorm1d(2 * c3),
            nn.ReLU(inplace=True),
            nn.Conv1d(2 * c3, 2 * c3, 5, padding=2, bias=False),
            nn.BatchNorm1d(2 * c3),
            nn.ReLU(inplace=True),
            nn.Dropout(0.2),
            nn.Conv1d(2 * c3, CLASSES, 1),
        )

    def forward(self, strips: torch.Tensor) -> torch.Tensor:
        columns = self.features((strips - MNIST_MEAN) / MNIST_STD).squeeze(2)  # [N, C, W/2]
        return F.log_softmax(self.context(columns), dim=1).permute(2, 0, 1)

    def read(self, strip: np.ndarray) -> list[Mark]:
        """The marks of one strip (float32 [28, W]), left to right."""
        return marks_of(column_log_probs(self, [strip])[0])


def load_reader(folder: Path | None = None) -> NumberReader:
    """The number reader saved in `folder` (config.json + model.safetensors), by default the packaged one."""
    with contextlib.redirect_stdout(io.StringIO()):  # the mixin prints "Loading weights from local directory"
        return NumberReader.from_pretrained(folder or PACKAGED_READER).eval()


def marks_of(log_probs: np.ndarray) -> list[Mark]:
    """Greedy CTC decoding of one strip's [T, 12] log-probabilities: a column's most likely class starts a mark
    where it differs from the column before and is not blank. The mark nearest the column most likely not a
    digit is not a digit when that column's probability of it reaches DOUBT."""
    best = log_probs.argmax(axis=1)
    runs: list[list[int]] = []  # [class, first column, last column]
    previous = BLANK
    for t, label in enumerate(best):
        if label != BLANK and label == previous:
            runs[-1][2] = t
        elif label != BLANK:
            runs.append([int(label), t, t])
        previous = label
    doubtful = -1
    if runs and float(np.exp(log_probs[:, NOT_A_DIGIT]).max()) >= DOUBT:
        column = int(log_probs[:, NOT_A_DIGIT].argmax())
        doubtful = min(range(len(runs)), key=lambda k: max(runs[k][1] - column, column - runs[k][2], 0))
    marks = []
    for k, (label, first, last) in enumerate(runs):
        digits = np.exp(log_probs[first : last + 1, 1:NOT_A_DIGIT].astype(np.float64))
        peak = digits[digits.sum(axis=1).argmax()]
        marks.append(
            Mark(
                -1 if label == NOT_A_DIGIT or k == doubtful else label - 1,
                first * COLUMN_STRIDE,
                (last + 1) * COLUMN_STRIDE - 1,
                (peak / peak.sum()).astype(np.float32),
            )
        )
    return marks


def pad_strips(strips: list[np.ndarray]) -> tuple[torch.Tensor, list[int]]:
    """A batch [N, 1, 28, W] of strips, zero-padded on the right to the widest, and each one's width."""
    widths = [s.shape[1] for s in strips]
    width = math.ceil(max(widths) / COLUMN_STRIDE) * COLUMN_STRIDE
    batch = np.zeros((len(strips), 1, MNIST_SIZE, width), dtype=np.float32)
    for k, s in enumerate(strips):
        batch[k, 0, :, : s.shape[1]] = s
    return torch.from_numpy(batch), widths


def column_log_probs(model: NumberReader, strips: list[np.ndarray], batch_size: int = 64) -> list[np.ndarray]:
    """Each strip's log-probabilities [W // 2, 12], one row per whole output column, as training counts them:
    the mean of the probabilities read from the strip moved by each of SHIFTS. `batch_size` strips at a time."""
    read = []
    for start in range(0, len(strips), batch_size):
        chunk = strips[start : start + batch_size]
        batch, widths = pad_strips([np.roll(strip, shift, axis=(0, 1)) for strip in chunk for shift in SHIFTS])
        with torch.inference_mode():
            probabilities = model(batch).exp().permute(1, 0, 2).unflatten(0, (len(chunk), len(SHIFTS))).mean(1)
        log_probs = probabilities.clamp(min=1e-30).log().numpy()
        read += [lp[: w // COLUMN_STRIDE] for lp, w in zip(log_probs, widths[:: len(SHIFTS)])]
    return read


def texts_read(model: NumberReader, strips: list[np.ndarray]) -> list[str]:
    """What the reader reads in each strip, as training texts are written (digits, "X" for a non-digit)."""
    return [
        "".join("X" if m.digit < 0 else str(m.digit) for m in marks_of(lp)) for lp in column_log_probs(model, strips)
    ]


# --- training data ---


def composed_numbers(images: torch.Tensor, labels: torch.Tensor, count: int, seed: int = 0, not_digits: float = 0.3):
    """`count` rows of 1-6 of these digits (uint8 [N, 28, 28]), each augmented as the classifier's training digits
    are, written side by side; a `not_digits` share of the rows holds non-digits too (`negatives`: letters, signs,
    scribbles, things; some stretched up to 3.5 times as wide), each read as "X". Returns strips (list of float32
    [28, W]) and what they say (list of str)."""
    from .data import (
        everyones_strokes,
        random_affine,
        random_gaps,
        random_proportions,
        random_stroke_width,
        random_style,
    )
    from .negatives import make_negatives

    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    lengths = rng.choice(np.arange(1, 7), size=count, p=[0.1, 0.18, 0.18, 0.18, 0.18, 0.18])
    mixed = rng.random(count) < not_digits
    is_other = np.concatenate(
        [
            (rng.random(n) < 0.5) | (np.arange(n) == rng.integers(n)) if m else np.zeros(n, bool)
            for n, m in zip(lengths, mixed)
        ]
    )
    picks = rng.integers(len(images), size=len(is_other))
    tiles = images[picks].clone()
    if is_other.any():
        tiles[torch.from_numpy(is_other)] = torch.from_numpy(make_negatives(int(is_other.sum()), seed=seed))
    tile_labels = torch.where(torch.from_numpy(is_other), -1, labels[picks])
    shaped = []
    for start in range(0, len(tiles), 4096):
        x, y = tiles[start : start + 4096].float().div(255).unsqueeze(1), tile_labels[start : start + 4096]
        x = random_affine(random_proportions(everyones_strokes(x, y)))
        shaped.append(random_style(random_stroke_width(random_gaps(x))))
    inks = torch.cat(shaped)[:, 0].numpy()
    inks = list(inks)
    for i in np.flatnonzero(is_other & (rng.random(len(is_other)) < 0.25)):
        inks[i] = loops(rng)
    stretches = np.where(is_other & (rng.random(len(is_other)) < 0.4), rng.uniform(1.3, 3.5, len(is_other)), 1.0)
    strips, texts, at = [], [], 0
    for length in lengths:
        chosen = range(at, at + length)
        at += length
        strips.append(number_strip(written_row([inks[i] for i in chosen], rng, [stretches[i] for i in chosen])))
        texts.append("".join("X" if tile_labels[i] < 0 else str(int(tile_labels[i])) for i in chosen))
    return strips, texts


def loops(rng) -> np.ndarray:
    """A row of 3-8 loops in one stroke (someone testing a pen, or crossing out), float32 ink 28 px tall: the pen
    turns at a wobbling rate while the hand drifts right."""
    steps = int(rng.integers(3, 9)) * 40
    turn = 2 * math.pi / 40 * (1 + np.cumsum(rng.normal(0, 0.01, steps))) * rng.choice([-1, 1])
    heading = np.cumsum(turn) + rng.uniform(0, 2 * math.pi)
    radius, drift = rng.uniform(5, 10), rng.uniform(0.3, 0.9)
    xs = np.cumsum(radius * 2 * math.pi / 40 * np.cos(heading) + drift * radius / 6)
    ys = np.cumsum(radius * 2 * math.pi / 40 * np.sin(heading)) * rng.uniform(0.7, 1.3)
    xs, ys = xs - xs.min() + 3, ys - ys.min() + 3
    canvas = np.zeros((int(ys.max()) + 4, int(xs.max()) + 4), dtype=np.float32)
    points = np.round(np.stack([xs, ys], axis=1) * 4).astype(np.int32)  # 2 fractional bits
    cv2.polylines(canvas, [points], False, 1.0, thickness=int(rng.integers(2, 4)), lineType=cv2.LINE_AA, shift=2)
    return canvas


def written_row(inks: list[np.ndarray], rng, stretches: list[float] | None = None) -> np.ndarray:
    """28x28 inks written left to right at about one height (75-120% of a 40 px line), each `stretches` times as
    wide (a long scribble), touching (up to a third of the narrower one overlapping), close or apart (up to 90% of
    the line), on a drifting baseline; a quarter of the rows get a few specks of dust, read as nothing."""
    line = 40
    placed = []
    for ink, stretch in zip(inks, stretches or [1.0] * len(inks)):
        rows, cols = np.flatnonzero(ink.max(1) > 0.2), np.flatnonzero(ink.max(0) > 0.2)
        if len(rows) == 0:
            continue
        ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        height = max(6, round(line * rng.uniform(0.75, 1.2) * ink.shape[0] / 20))
        ink = resize(ink, height / ink.shape[0])
        placed.append(cv2.resize(ink, (max(1, round(ink.shape[1] * stretch)), height)) if stretch != 1 else ink)
    spacing = rng.choice(3, p=[0.3, 0.4, 0.3])
    low, high = [(-0.25, 0.0), (0.0, 0.25), (0.25, 0.9)][spacing]
    lefts, x = [], 0
    for k, ink in enumerate(placed):
        lefts.append(x)
        if k + 1 < len(placed):
            gap = line * rng.uniform(low, high)
            gap = max(gap, -0.33 * min(ink.shape[1], placed[k + 1].shape[1]))
            x += ink.shape[1] + int(round(gap))
    width = max(left + ink.shape[1] for left, ink in zip(lefts, placed)) if placed else 1
    canvas = np.zeros((3 * line, max(width, 1)), dtype=np.float32)
    drift = rng.uniform(-0.1, 0.1) * line
    for k, (left, ink) in enumerate(zip(lefts, placed)):
        top = int(
            np.clip(line * 1.3 - ink.shape[0] + drift * k + rng.uniform(-0.06, 0.06) * line, 0, 3 * line - ink.shape[0])
        )
        region = canvas[top : top + ink.shape[0], left : left + ink.shape[1]]
        np.maximum(region, ink[: region.shape[0], : region.shape[1]], out=region)
    if rng.random() < 0.25:  # dust, or what a photo's paper leaves: specks 1-3 px of a 40 px line
        rows = np.flatnonzero(canvas.max(1) > 0.2)
        for _ in range(int(rng.integers(1, 4))):
            side = int(rng.integers(1, 4))
            y, x = int(rng.integers(rows[0], rows[-1] + 1)), int(rng.integers(0, canvas.shape[1]))
            canvas[y : y + side, x : x + side] = np.maximum(canvas[y : y + side, x : x + side], rng.uniform(0.3, 1))
    return canvas


def ctc_targets(texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    targets = [NOT_A_DIGIT if c == "X" else int(c) + 1 for text in texts for c in text]
    return torch.tensor(targets, dtype=torch.long), torch.tensor([len(t) for t in texts], dtype=torch.long)


def train(
    strips, texts, epochs: int, batch_size: int = 64, lr: float = 3e-3, seed: int = 0, width: int = NETWORK_WIDTH
) -> NumberReader:
    """CTC training, OneCycle AdamW; batches of strips of like widths (little padding), bf16 autocast on the CPU."""
    torch.manual_seed(seed)
    model = NumberReader(width)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    order_by_width = np.argsort([s.shape[1] for s in strips])
    batches = [order_by_width[i : i + batch_size] for i in range(0, len(strips), batch_size)]
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * len(batches))
    ctc = nn.CTCLoss(blank=BLANK, zero_infinity=True)
    shuffle = np.random.default_rng(seed)
    for epoch in range(epochs):
        model.train()
        started, total = time.perf_counter(), 0.0
        for b in shuffle.permutation(len(batches)):
            batch, widths = pad_strips([strips[i] for i in batches[b]])
            targets, target_lengths = ctc_targets([texts[i] for i in batches[b]])
            with torch.autocast("cpu", dtype=torch.bfloat16):
                log_probs = model(batch).float()
            columns = torch.tensor([w // COLUMN_STRIDE for w in widths], dtype=torch.long)
            loss = ctc(log_probs, targets, columns, target_lengths)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach())
        print(f"epoch {epoch + 1}/{epochs}  ctc loss {total / len(batches):.4f}  {time.perf_counter() - started:.0f} s")
    return model.eval()


def main():
    from .data import load_mnist, split_train_val

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data-dir", default=None, help="folder holding MNIST/raw (default: $MNIST_DATA_DIR or a cache)"
    )
    parser.add_argument("--out", default="runs/number-reader", help="output folder (default: %(default)s)")
    parser.add_argument("--count", type=int, default=150000, help="rows composed for training (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=6, help="epochs (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument(
        "--width", type=int, default=NETWORK_WIDTH, help="channels of the first layer (default: %(default)s)"
    )
    args = parser.parse_args()
    (train_x, train_y), (val_x, val_y) = split_train_val(*load_mnist(args.data_dir, train=True))
    started = time.perf_counter()
    strips, texts = composed_numbers(train_x, train_y, args.count, seed=args.seed)
    print(f"composed {len(strips):,} rows of training digits in {time.perf_counter() - started:.0f} s")
    model = train(strips, texts, args.epochs, seed=args.seed, width=args.width)
    val_strips, val_texts = composed_numbers(val_x, val_y, 2000, seed=args.seed + 1)
    exact = np.mean([a == b for a, b in zip(texts_read(model, val_strips), val_texts)])
    print(f"validation rows (validation digits) read exactly: {exact:.2%}")
    model.save_pretrained(args.out)
    print(f"saved to {args.out}")


if __name__ == "__main__":
    main()
