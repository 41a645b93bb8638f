"""The training loop that train.py and the app's Train tab share: data, recipe, loop, calibration, test figures.

    from mnist_demo.training import Recipe, load_data, Run, calibrate
    run = Run(Recipe(arch="cnn-fast", epochs=1, batch_size=256, lr=1e-2), load_data("../shared/data"))
    run.fit(on_progress=print)        # {"epoch": 1, "step": 43, "steps": 215, "loss": 0.41, ...}
    calibrate(run)                    # the best epoch's weights, a temperature, the "not a digit" threshold

The 60,000 training images live on the device as one uint8 tensor and a batch is an index
into it; augmentation is a few batched tensor ops. AdamW with a OneCycle schedule; bf16
autocast where the hardware runs it natively. The epoch kept is the one with the best
validation accuracy (5,000 images held out of the training set); the test set is only read
for the final figures. Checkpoints are `mnist_demo.checkpoint`.
"""

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .calibration import expected_calibration_error, fit_temperature
from .data import (
    VALIDATION_SIZE,
    augment,
    index_batches,
    load_mnist,
    out_of_style,
    random_affine,
    split_train_val,
    to_unit_float,
)
from .model import DigitNet

NEGATIVE_WEIGHT = 0.5  # weight of the outlier-exposure loss against the digits' cross-entropy
NEGATIVE_FRACTION = 0.25  # negatives added to each batch, as a fraction of its digits
EXAMPLE_FRACTION = 0.25  # and digits as the reader sees them (`reader_examples`), when there are some
# People's corrections (`mnist_demo.corrections`): a few dozen must count against 55,000 MNIST digits. Each batch
# gets at least this fraction of corrections (with replacement, each randomly shifted, turned and scaled), and each
# counts as CORRECTION_WEIGHT digits in the loss. Set on validation digits (benchmarks/corrections_loop.py --dev):
# 54-58 corrections of mirrored 7s and 9s teach --preset fast to read 97-98% of other mirrored 7s and 9s, MNIST
# validation 99.2% (weight 3: 96-97% and 99.0%, the digits paying for it).
CORRECTION_FRACTION = 0.1
CORRECTION_WEIGHT = 2.0
MAX_FLAGGED_DIGITS = 0.01  # the "not a digit" threshold flags at most 1% of validation digits ...
MAX_FLAGGED_OUT_OF_STYLE = 0.03  # ... and at most 3% of them redrawn blurry, low-res, in marker or pencil
OUT_OF_STYLE_SEED = 2024  # the validation digits' redrawing for the threshold: the same in every run
MIN_STEPS = 8  # OneCycle warms up over a quarter of the steps, and that needs two of them at least
WEIGHT_DECAY = 5e-4
FULL_TRAIN_SIZE = 60_000 - VALIDATION_SIZE  # MNIST training images once validation is held out


@dataclass
class Recipe:
    """What a run trains and how: train.py fills it from its flags and presets, the Train tab from its choices."""

    arch: str
    epochs: int
    batch_size: int
    lr: float  # the OneCycle schedule's peak
    augment: bool = False
    flagged: float = 0.4  # with augment: the share of 1s given a flag and of 7s a bar (`data.everyones_strokes`)
    beta2: float = 0.999  # AdamW's second-moment decay
    weight_decay: float = WEIGHT_DECAY
    negatives: int = 0  # generated non-digits for the "not a digit" detector
    scans: int = 0  # training digits scanned small and read back (`reader_examples.scanned_digits`)
    seed: int = 0
    limit: int | None = None  # train on the first N training images only
    device: str = "auto"
    precision: str = "auto"
    compile: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Data:
    """MNIST split into training, validation (held out of the training images) and test tensors, on the CPU."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor


class StopTraining(Exception):
    """Raised inside the loop when the run is asked to stop (a Stop button, a time cap)."""


def load_data(data_dir=None) -> Data:
    """MNIST from `data_dir` (downloaded there when missing; DataError when that fails)."""
    images, labels = load_mnist(data_dir, train=True)
    (train_x, train_y), (val_x, val_y) = split_train_val(images, labels)
    test_x, test_y = load_mnist(data_dir, train=False)
    return Data(train_x, train_y, val_x, val_y, test_x, test_y)


def total_steps(images: int, batch_size: int, epochs: int) -> int:
    """Optimizer steps in a run over `images` training images: every epoch ends with a partial batch."""
    return epochs * -(-images // batch_size)


def too_few_steps(images: int, batch_size: int, epochs: int) -> str | None:
    """Why `images` training images make too short a schedule, or None when they do not."""
    steps = total_steps(images, batch_size, epochs)
    if steps >= MIN_STEPS:
        return None
    return (
        f"{images:,} training images in batches of {batch_size} for {epochs} epoch(s) make {steps} "
        f"optimizer step(s); the OneCycle learning-rate schedule needs at least {MIN_STEPS}: raise --limit or "
        "--epochs, or lower --batch-size."
    )


def pick_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif torch.backends.mps.is_available():
            name = "mps"
        else:
            name = "cpu"
    return torch.device(name)


def pick_autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """bf16 where the hardware runs it natively (CUDA; CPUs with AVX-512 bf16 or AMX, or Arm's bf16), else
    fp32. Elsewhere oneDNN emulates bf16: a cnn-fast step took 1.7x as long as fp32 on an AVX-512 CPU
    without bf16, 8x on AVX2 (benchmarks/train_speed.py --kernels-only)."""
    if precision == "fp32" or device.type == "mps":
        return None
    if precision == "bf16" or device.type == "cuda":
        return torch.bfloat16
    return torch.bfloat16 if cpu_runs_bf16() else None


def cpu_runs_bf16() -> bool:
    """Whether this CPU has bf16 instructions and oneDNN may use them (ONEDNN_MAX_CPU_ISA can forbid them)."""
    capabilities = torch.cpu.get_capabilities()
    hardware = any(capabilities.get(name) for name in ("avx512_bf16", "amx_bf16", "bf16", "sve_bf16"))
    return hardware and torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


def device_text(device: torch.device) -> str:
    """The device, and on a CPU the kernels torch picked for it: "cpu (AVX2)", "cpu (AVX512)", "cuda"."""
    return f"cpu ({torch.backends.cpu.get_cpu_capability()})" if device.type == "cpu" else device.type


class Run:
    """One training run: the recipe, the data and the model on the device, the optimizer, the history."""

    def __init__(
        self,
        recipe: Recipe,
        data: Data,
        negatives: np.ndarray | None = None,
        examples: tuple[np.ndarray, np.ndarray] | None = None,
        corrections: tuple[np.ndarray, np.ndarray] | None = None,
    ):
        """`negatives`: non-digits, uint8 [N, 28, 28]; `examples`: more labelled digits (images, labels), both
        mixed into every batch; `corrections`: people's corrected digits (images, labels), mixed in and weighed
        more (CORRECTION_FRACTION, CORRECTION_WEIGHT)."""
        self.recipe = recipe
        self.device = pick_device(recipe.device)
        self.autocast_dtype = pick_autocast_dtype(recipe.precision, self.device)
        # Built once and entered wherever the model runs (nanoGPT's `ctx`).
        self.ctx = torch.autocast(
            self.device.type, dtype=self.autocast_dtype or torch.float32, enabled=self.autocast_dtype is not None
        )
        torch.manual_seed(recipe.seed)
        limit = slice(None, recipe.limit)
        self.train_x, self.train_y = data.train_x[limit].to(self.device), data.train_y[limit].to(self.device)
        self.val_x, self.val_y = data.val_x.to(self.device), data.val_y.to(self.device)
        self.test_x, self.test_y = data.test_x.to(self.device), data.test_y.to(self.device)
        self.negatives = torch.from_numpy(negatives).to(self.device) if negatives is not None else None
        self.examples = tuple(torch.from_numpy(a).to(self.device) for a in examples) if examples is not None else None
        self.corrections = None
        if corrections is not None and len(corrections[1]):
            images, labels = (torch.as_tensor(np.asarray(a)).to(self.device) for a in corrections)
            self.corrections = (images, labels.long())
        self.model = DigitNet(recipe.arch).to(self.device)  # the uncompiled model: the one saved
        # channels_last is what oneDNN's and cuDNN's convolutions run natively, in fp32 too: a cnn-fast step
        # took 1.4x as long without it on an AVX-512 CPU, 1.7x on AVX2 (benchmarks/train_speed.py).
        self.channels_last = self.device.type in ("cpu", "cuda")
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.forward = torch.compile(self.model) if recipe.compile else self.model
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=recipe.lr, betas=(0.9, recipe.beta2), weight_decay=recipe.weight_decay
        )
        self.steps = total_steps(len(self.train_x), recipe.batch_size, recipe.epochs)
        self.scheduler = torch.optim.lr_scheduler.OneCycleLR(
            self.optimizer, max_lr=recipe.lr, total_steps=self.steps, pct_start=0.25
        )
        self.shuffle = torch.Generator().manual_seed(recipe.seed)
        self.history: list[dict] = []
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_val_acc = -1.0
        self.best_val_logits: torch.Tensor | None = None
        self.seconds = 0.0

    def inputs(self, images: torch.Tensor) -> torch.Tensor:
        x = to_unit_float(images)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def train_step(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        negatives: torch.Tensor | None,
        examples: tuple[torch.Tensor, torch.Tensor] | None = None,
        corrected: tuple[torch.Tensor, torch.Tensor] | None = None,
    ):
        """One optimizer step on digits `x` (labels `y`), more labelled `examples`, people's `corrected` digits (each
        weighing CORRECTION_WEIGHT digits) and `negatives`; returns the digits' summed loss and how many of them it
        read right (device tensors: no sync)."""
        count = len(x)
        if examples is not None:
            x, y = torch.cat([x, examples[0]]), torch.cat([y, examples[1]])
        digits = len(x)
        if corrected is not None:
            x, y = torch.cat([x, corrected[0]]), torch.cat([y, corrected[1]])
        with self.ctx:
            batch = x if negatives is None else torch.cat([x, negatives])
            if self.recipe.augment:
                labels = y if negatives is None else torch.cat([y, y.new_full((len(negatives),), -1)])
                batch = augment(batch, labels, self.recipe.flagged)
            logits = self.forward(batch).float()
            digit_logits = logits[: len(x)]
            losses = F.cross_entropy(digit_logits, y, reduction="none")
            loss = losses[:digits].mean() + CORRECTION_WEIGHT * losses[digits:].sum() / digits
            if negatives is not None:  # outlier exposure: cross-entropy to the uniform distribution
                loss = loss + NEGATIVE_WEIGHT * -F.log_softmax(logits[len(x) :], dim=1).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        return loss.detach() * count, (digit_logits[:count].argmax(1) == y[:count]).sum()

    def sample_corrections(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor] | None:
        """People's corrected digits for one batch: CORRECTION_FRACTION of it, or as many as keep each correction
        seen about once an epoch when there are many."""
        if self.corrections is None:
            return None
        images, labels = self.corrections
        share = max(CORRECTION_FRACTION, len(labels) / len(self.train_x))
        pick = torch.randint(len(labels), (max(1, round(batch_size * share)),), device=self.device)
        picked = self.inputs(images[pick])
        # A few dozen pictures teach their kind only when seen in many poses (augment, when on, covers the batch).
        return (picked if self.recipe.augment else random_affine(picked)), labels[pick]

    def sample_negatives(self, batch_size: int) -> torch.Tensor | None:
        if self.negatives is None:
            return None
        count = max(1, int(batch_size * NEGATIVE_FRACTION))
        return self.inputs(self.negatives[torch.randint(len(self.negatives), (count,), device=self.device)])

    def sample_examples(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor] | None:
        if self.examples is None:
            return None
        images, labels = self.examples
        pick = torch.randint(len(images), (max(1, int(batch_size * EXAMPLE_FRACTION)),), device=self.device)
        return self.inputs(images[pick]), labels[pick]

    def train_epoch(
        self, epoch: int, on_progress=None, updates: int = 0, val_sample: int = 0, should_stop=None
    ) -> tuple[float, float]:
        """One pass over the training images; `updates` times in it, `on_progress` gets the loss so far
        (and the accuracy on `val_sample` validation images, when asked); `should_stop()` ends it early."""
        self.model.train()
        batches = index_batches(
            len(self.train_x), self.recipe.batch_size, shuffle=True, generator=self.shuffle, device=self.device
        )
        every = max(1, len(batches) // updates) if updates else 0
        loss_sum = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        seen, done_before = 0, (epoch - 1) * len(batches)
        for step, index in enumerate(batches, 1):
            if should_stop is not None and should_stop():
                raise StopTraining
            batch_loss, batch_correct = self.train_step(
                self.inputs(self.train_x[index]),
                self.train_y[index],
                self.sample_negatives(len(index)),
                self.sample_examples(len(index)),
                self.sample_corrections(len(index)),
            )
            loss_sum += batch_loss
            correct += batch_correct
            seen += len(index)
            if on_progress is not None and every and step % every == 0 and step < len(batches):
                # reading the loss syncs the GPU: only at these few points
                update = {
                    "epoch": epoch,
                    "step": done_before + step,
                    "steps": self.steps,
                    "loss": loss_sum.item() / seen,
                }
                if val_sample:
                    update["val_accuracy"] = self.evaluate(self.val_x[:val_sample], self.val_y[:val_sample])[1]
                    self.model.train()
                on_progress(update)
        return loss_sum.item() / seen, correct.item() / seen

    @torch.no_grad()
    def logits(self, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        self.model.eval()
        with self.ctx:
            return torch.cat([self.forward(self.inputs(batch)).float() for batch in images.split(batch_size)])

    def evaluate(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
        return loss_and_accuracy(self.logits(images), labels)

    def fit(
        self,
        on_progress: Callable[[dict], None] | None = None,
        on_epoch: Callable[[dict], None] | None = None,
        updates_per_epoch: int = 0,
        val_sample: int = 0,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        """Train the epochs not yet in `history`. `on_progress` gets `updates_per_epoch` dicts per epoch
        ("epoch", "step", "steps", "loss", and "val_accuracy" on `val_sample` images when non-zero);
        `on_epoch` gets each epoch's history record, after the full validation. StopTraining when
        `should_stop()` turns true; the epochs finished until then stay in `history` and `best_state`."""
        for epoch in range(len(self.history) + 1, self.recipe.epochs + 1):
            started = time.perf_counter()
            train_loss, train_acc = self.train_epoch(epoch, on_progress, updates_per_epoch, val_sample, should_stop)
            val_logits = self.logits(self.val_x)
            val_loss, val_acc = loss_and_accuracy(val_logits, self.val_y)
            seconds = time.perf_counter() - started
            self.seconds += seconds
            record = {
                "epoch": epoch,
                "train_loss": train_loss,
                "train_acc": train_acc,
                "val_loss": val_loss,
                "val_acc": val_acc,
                "lr": self.scheduler.get_last_lr()[0],
                "seconds": seconds,
            }
            self.history.append(record)
            if val_acc > self.best_val_acc:
                self.best_val_acc, self.best_val_logits = val_acc, val_logits  # calibrate reuses them
                self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            if on_epoch is not None:
                on_epoch(record)


def loss_and_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    return F.cross_entropy(logits, labels).item(), (logits.argmax(1) == labels).float().mean().item()


def calibrate(run: Run, held_out_negatives: np.ndarray | None = None) -> dict:
    """The best epoch's weights, then the temperature fitted on validation (kept only when it lowers the
    validation ECE), then the 'not a digit' threshold.

    The threshold is the highest that flags at most `MAX_FLAGGED_DIGITS` of the validation digits and
    at most `MAX_FLAGGED_OUT_OF_STYLE` of the same digits redrawn out of MNIST's style
    (`data.out_of_style`: blurry, low-resolution, marker, pencil), so that real digits in those styles
    are trusted too; the rates on each side are reported, with `held_out_negatives` (non-digits never
    trained on) on the other.
    """
    model = run.model
    if run.best_state is not None:  # None when a run was stopped inside its first epoch: keep what it has
        model.load_state_dict(run.best_state)
    val_logits = run.best_val_logits if run.best_val_logits is not None else run.logits(run.val_x)
    result = temperature_choice(val_logits, run.val_y)
    temperature = result["temperature"]
    model.temperature.fill_(temperature)
    if run.negatives is not None and held_out_negatives is not None:
        top = lambda logits: torch.softmax(logits / temperature, 1).max(1).values.float()  # noqa: E731
        digit_top = top(val_logits)
        restyled = out_of_style(to_unit_float(run.val_x), torch.Generator().manual_seed(OUT_OF_STYLE_SEED))
        restyled_top = top(run.logits(restyled.squeeze(1).mul(255).round().to(torch.uint8)))
        negative_top = top(run.logits(torch.from_numpy(held_out_negatives).to(run.device)))
        threshold = min(
            float(torch.quantile(digit_top, MAX_FLAGGED_DIGITS)),
            float(torch.quantile(restyled_top, MAX_FLAGGED_OUT_OF_STYLE)),
        )
        model.ood_threshold.fill_(threshold)
        result["not_a_digit"] = {
            "threshold": threshold,
            "val_digits_flagged": float((digit_top < threshold).float().mean()),
            "out_of_style_digits_flagged": float((restyled_top < threshold).float().mean()),
            "held_out_non_digits_flagged": float((negative_top < threshold).float().mean()),
        }
    return result


def temperature_choice(val_logits: torch.Tensor, val_labels: torch.Tensor) -> dict:
    """The fitted temperature when it lowers the validation ECE, else 1 (no scaling); both ECEs and the choice."""
    fitted = fit_temperature(val_logits, val_labels)
    labels = val_labels.cpu().numpy()
    ece = {
        name: expected_calibration_error(torch.softmax(val_logits / t, 1).cpu().numpy(), labels)
        for name, t in (("unscaled", 1.0), ("scaled", fitted))
    }
    kept = ece["scaled"] < ece["unscaled"]
    return {
        "temperature": fitted if kept else 1.0,
        "fitted_temperature": fitted,
        "temperature_kept": kept,
        "val_ece": ece,
    }


def calibrated_probabilities(run: Run, images: np.ndarray) -> np.ndarray:
    """The calibrated probabilities [N, 10] of the run's model for uint8 [N, 28, 28] images."""
    logits = run.logits(torch.from_numpy(np.ascontiguousarray(images, dtype=np.uint8)).to(run.device))
    return torch.softmax(logits / float(run.model.temperature), 1).cpu().numpy()


def corrections_report(run: Run, corrections) -> dict:
    """What a run learned from people's corrections (`corrections.TrainingCorrections`), and how the held-out ones
    read before (the answers people corrected) and after (this run's model): for metrics.json and the Train tab."""
    from .corrections import held_out_score

    score = held_out_score(
        corrections.held_out, lambda images: calibrated_probabilities(run, images), float(run.model.ood_threshold)
    )
    return {
        "digits": len(corrections.labels),
        "non_digits": len(corrections.non_digits),
        "skipped": corrections.skipped,
        "weight": CORRECTION_WEIGHT,
        "held_out": score,
    }


def probabilities_on_test_set(run: Run) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """On the test set: (calibrated probabilities [N, 10], uncalibrated ones, labels [N])."""
    logits = run.logits(run.test_x)
    temperature = float(run.model.temperature)
    calibrated = torch.softmax(logits / temperature, 1).cpu().numpy()
    return calibrated, torch.softmax(logits, 1).cpu().numpy(), run.test_y.cpu().numpy()
