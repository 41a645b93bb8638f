"""Train a digit classifier on MNIST, write its artifacts, and optionally push them to the Hub.

    python train.py --data-dir ../shared/data --out runs/best --preset best    # the shipped weights
    python train.py --data-dir ../shared/data --out runs/fast --preset fast    # >= 99% in seconds
    python train.py --out runs/quick --epochs 1 --limit 6000                   # a quick check
    python train.py --out runs/best --push-to-hub user/mnist-cnn               # also upload

The data lives on the device as one tensor and is batched by index; augmentation is
batched tensor ops. The epoch kept is the one with the best validation accuracy (5,000
images held out of the training set); the test set is only used for the final report.
Every file is written atomically, and a checkpoint after each epoch makes `--resume` work
after Ctrl-C or a crash.
"""

import argparse
import json
import os
import re
import shlex
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from mnist_demo import artifacts
from mnist_demo.artifacts import atomic_write, atomic_write_text
from mnist_demo.calibration import expected_calibration_error, fit_temperature
from mnist_demo.card import write_model_card
from mnist_demo.data import (VALIDATION_SIZE, DataError, augment, index_batches, load_mnist, split_train_val,
                             to_unit_float)
from mnist_demo.model import ARCHITECTURES, DigitNet, count_parameters

PRESETS = {
    # The recipe of the shipped weights: the full CNN, 15 epochs of OneCycle AdamW, with
    # generated non-digits for the "not a digit" detector.
    "best": {"arch": "cnn", "epochs": 15, "batch_size": 128, "lr": 3e-3, "negatives": 20000, "augment": True, "beta2": 0.999},
    # The quickest recipe to 99% test accuracy (benchmarks/train_speed.py): a network with a seventh
    # of cnn-small's compute, two epochs, no augmentation (it only pays off in longer runs), and
    # Adam's second moment averaged over ~10 steps instead of ~1000, which adapts in time in a short run.
    "fast": {"arch": "cnn-fast", "epochs": 2, "batch_size": 256, "lr": 1e-2, "negatives": 0, "augment": False, "beta2": 0.9},
}
NEGATIVE_WEIGHT = 0.5        # weight of the outlier-exposure loss against the digits' cross-entropy
NEGATIVE_FRACTION = 0.25     # negatives added to each batch, as a fraction of its digits
FULL_TRAIN_SIZE = 60_000 - VALIDATION_SIZE  # MNIST training images once validation is held out
MAX_FLAGGED_DIGITS = 0.01    # the "not a digit" threshold flags at most 1% of validation digits
CHECKPOINT_FILE = "training_state.safetensors"
CHECKPOINT_INFO = "training_state.json"
HUB_IGNORE = [CHECKPOINT_FILE, CHECKPOINT_INFO, ".*"]
RECIPE_FLAGS = ("arch", "epochs", "batch_size", "lr", "negatives", "augment", "beta2", "seed", "limit")  # --resume must match these
HF_TOKEN_PATTERN = re.compile(r"hf_[A-Za-z0-9]{10,}")
MIN_STEPS = 8  # OneCycle warms up over a quarter of the steps, and that needs two of them at least


def whole_number(minimum: int):
    """An argparse type: an integer of at least `minimum`, or a message saying so."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number of at least {minimum}, not {text!r}")
        return value
    return parse


def number_between(low: float, high: float):
    """An argparse type: a number strictly between `low` and `high` (`high` may be infinite)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or not low < value < high:
            limits = f"above {low:g}" if high == float("inf") else f"between {low:g} and {high:g}"
            raise argparse.ArgumentTypeError(f"must be a number {limits}, not {text!r}")
        return value
    return parse


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--data-dir", default=None, help="folder holding MNIST/raw; downloads there if missing (default: $MNIST_DATA_DIR, else ~/.cache/mnist-demo)")
    add("--out", default="runs/latest", help="output folder for weights and artifacts (default: %(default)s)")
    add("--preset", choices=PRESETS, default="best", help="recipe whose defaults the flags below override (default: %(default)s)")
    add("--arch", choices=ARCHITECTURES, default=None, help="network (default: from the preset: best=cnn, fast=cnn-fast)")
    add("--epochs", type=whole_number(1), default=None, help="epochs (default: from the preset: best=15, fast=2)")
    add("--batch-size", type=whole_number(1), default=None, help="batch size (default: from the preset: best=128, fast=256)")
    add("--lr", type=number_between(0, float("inf")), default=None, help="peak learning rate of the OneCycle schedule (default: from the preset: best=3e-3, fast=1e-2)")
    add("--augment", action=argparse.BooleanOptionalAction, default=None, help="random affine and stroke-width augmentation (default: from the preset: best=on, fast=off)")
    add("--beta2", type=number_between(0, 1), default=None, help="AdamW's second-moment decay (default: from the preset: best=0.999, fast=0.9)")
    add("--negatives", type=whole_number(0), default=None, help="generated non-digits for the 'not a digit' detector, 0 for none (default: from the preset: best=20000, fast=0; with --limit N, the share N/55000 of it)")
    add("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    add("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto", help="auto picks CUDA, then MPS, else CPU (default: %(default)s)")
    add("--precision", choices=["auto", "bf16", "fp32"], default="auto", help="auto: bf16 autocast on CUDA and on CPUs with native bf16, fp32 elsewhere (default: %(default)s)")
    add("--compile", action="store_true", help="torch.compile the model (default: off)")
    add("--limit", type=whole_number(1), default=None, help="train on the first N training images only, for quick runs (default: all)")
    add("--resume", action="store_true", help="continue from the checkpoint in --out (default: off)")
    add("--push-to-hub", metavar="REPO_ID", default=None, help="upload --out to this Hub model repo; token from HF_TOKEN or the cached login (default: no upload)")
    add("--private", action="store_true", help="create the Hub repo as private (default: public)")
    args = parser.parse_args(argv)
    if args.limit and args.negatives is None:  # a quick run gets the preset's share of non-digits, not all of them
        args.negatives = PRESETS[args.preset]["negatives"] * min(args.limit, FULL_TRAIN_SIZE) // FULL_TRAIN_SIZE
    for key, value in PRESETS[args.preset].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    problem = too_few_steps(min(args.limit or FULL_TRAIN_SIZE, FULL_TRAIN_SIZE), args)
    if problem:
        parser.error(problem)
    return args


def total_steps(images: int, args: argparse.Namespace) -> int:
    """Optimizer steps in a run over `images` training images: every epoch ends with a partial batch."""
    return args.epochs * -(-images // args.batch_size)


def too_few_steps(images: int, args: argparse.Namespace) -> str | None:
    """Why `images` training images make too short a schedule, or None when they do not."""
    steps = total_steps(images, args)
    if steps >= MIN_STEPS:
        return None
    return (f"{images:,} training images in batches of {args.batch_size} for {args.epochs} epoch(s) make {steps} "
            f"optimizer step(s); the OneCycle learning-rate schedule needs at least {MIN_STEPS}: raise --limit or "
            "--epochs, or lower --batch-size.")


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
    """bf16 where the hardware runs it natively (CUDA, CPUs with AMX / AVX-512 bf16), else fp32."""
    if precision == "fp32" or device.type == "mps":
        return None
    if precision == "bf16" or device.type == "cuda":
        return torch.bfloat16
    return torch.bfloat16 if torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported() else None


class Run:
    """Everything one training run needs, kept on the device."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.device = pick_device(args.device)
        self.autocast_dtype = pick_autocast_dtype(args.precision, self.device)
        torch.manual_seed(args.seed)
        images, labels = load_mnist(args.data_dir, train=True)
        (train_x, train_y), (val_x, val_y) = split_train_val(images, labels)
        if args.limit:
            train_x, train_y = train_x[:args.limit], train_y[:args.limit]
        problem = too_few_steps(len(train_x), args)  # parse_args checked this for MNIST's full size
        if problem:
            raise SystemExit(f"train.py: error: {problem}")
        self.train_x, self.train_y = train_x.to(self.device), train_y.to(self.device)
        self.val_x, self.val_y = val_x.to(self.device), val_y.to(self.device)
        self.test_x, self.test_y = (t.to(self.device) for t in load_mnist(args.data_dir, train=False))
        self.negatives = self.make_negatives(args.negatives, seed=args.seed)
        self.model = DigitNet(args.arch).to(self.device)
        # channels_last is what the bf16 convolution kernels want (CUDA, and CPUs with AMX / AVX-512 bf16).
        self.channels_last = self.device.type == "cuda" or self.autocast_dtype is not None
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.forward = torch.compile(self.model) if args.compile else self.model
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=args.lr, betas=(0.9, args.beta2), weight_decay=5e-4)
        self.scheduler = torch.optim.lr_scheduler.OneCycleLR(
            self.optimizer, max_lr=args.lr, total_steps=total_steps(len(self.train_x), args), pct_start=0.25)
        self.shuffle = torch.Generator().manual_seed(args.seed)
        self.history: list[dict] = []
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_val_acc = -1.0
        self.seconds = 0.0
        self.epochs_saved = 0  # what the checkpoint on disk holds

    def make_negatives(self, count: int, seed: int) -> torch.Tensor | None:
        if not count:
            return None
        from mnist_demo.negatives import make_negatives

        started = time.perf_counter()
        negatives = torch.from_numpy(make_negatives(count, seed=seed)).to(self.device)
        print(f"generated {count:,} non-digit images in {time.perf_counter() - started:.1f} s")
        return negatives

    def inputs(self, images: torch.Tensor) -> torch.Tensor:
        x = to_unit_float(images)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def train_step(self, x: torch.Tensor, y: torch.Tensor, negatives: torch.Tensor | None):
        with torch.autocast(self.device.type, dtype=self.autocast_dtype or torch.float32, enabled=self.autocast_dtype is not None):
            batch = x if negatives is None else torch.cat([x, negatives])
            logits = self.forward(augment(batch) if self.args.augment else batch).float()
            digit_logits = logits[:len(x)]
            loss = F.cross_entropy(digit_logits, y)
            if negatives is not None:  # outlier exposure: cross-entropy to the uniform distribution
                loss = loss + NEGATIVE_WEIGHT * -F.log_softmax(logits[len(x):], dim=1).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        return loss.detach() * len(x), (digit_logits.argmax(1) == y).sum()

    def train_epoch(self, epoch: int) -> tuple[float, float]:
        self.model.train()
        batches = index_batches(len(self.train_x), self.args.batch_size, shuffle=True, generator=self.shuffle, device=self.device)
        loss_sum = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        seen, started = 0, time.perf_counter()
        bar = tqdm(batches, desc=f"epoch {epoch}/{self.args.epochs}", unit="batch", leave=False, dynamic_ncols=True)
        for step, index in enumerate(bar):
            negatives = self.sample_negatives(len(index))
            batch_loss, batch_correct = self.train_step(self.inputs(self.train_x[index]), self.train_y[index], negatives)
            loss_sum += batch_loss
            correct += batch_correct
            seen += len(index)
            if step % 50 == 49:  # reading the loss syncs the GPU: only now and then
                bar.set_postfix(loss=f"{loss_sum.item() / seen:.4f}", img_s=f"{seen / (time.perf_counter() - started):,.0f}")
        return loss_sum.item() / seen, correct.item() / seen

    def sample_negatives(self, batch_size: int) -> torch.Tensor | None:
        if self.negatives is None:
            return None
        index = torch.randint(len(self.negatives), (max(1, int(batch_size * NEGATIVE_FRACTION)),), device=self.device)
        return self.inputs(self.negatives[index])

    @torch.no_grad()
    def logits(self, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        self.model.eval()
        with torch.autocast(self.device.type, dtype=self.autocast_dtype or torch.float32, enabled=self.autocast_dtype is not None):
            return torch.cat([self.forward(self.inputs(batch)).float() for batch in images.split(batch_size)])

    def evaluate(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
        logits = self.logits(images)
        return F.cross_entropy(logits, labels).item(), (logits.argmax(1) == labels).float().mean().item()

    def fit(self) -> None:
        start_epoch = len(self.history) + 1
        for epoch in range(start_epoch, self.args.epochs + 1):
            started = time.perf_counter()
            train_loss, train_acc = self.train_epoch(epoch)
            val_loss, val_acc = self.evaluate(self.val_x, self.val_y)
            seconds = time.perf_counter() - started
            self.seconds += seconds
            self.history.append({"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc, "val_loss": val_loss,
                                 "val_acc": val_acc, "lr": self.scheduler.get_last_lr()[0], "seconds": seconds})
            if val_acc > self.best_val_acc:
                self.best_val_acc = val_acc
                self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            print(f"epoch {epoch:>2}/{self.args.epochs}  train loss {train_loss:.4f} acc {train_acc:.2%}  "
                  f"val loss {val_loss:.4f} acc {val_acc:.2%}  lr {self.history[-1]['lr']:.2e}  {seconds:.1f} s", flush=True)
            self.save_checkpoint()

    # --- checkpoints: safetensors for tensors, JSON for the rest; no pickle ---

    def save_checkpoint(self) -> None:
        out = Path(self.args.out)
        tensors = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        tensors |= {f"best.{k}": v for k, v in (self.best_state or {}).items()}
        optimizer_state = self.optimizer.state_dict()
        for param_id, state in optimizer_state["state"].items():
            tensors |= {f"optimizer.{param_id}.{k}": torch.as_tensor(v) for k, v in state.items()}
        tensors["rng.shuffle"] = self.shuffle.get_state()
        tensors["rng.torch"] = torch.get_rng_state()
        tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
        info = json.dumps({
            "args": {k: v for k, v in vars(self.args).items() if k not in ("resume", "push_to_hub", "private")},
            "history": self.history, "best_val_acc": self.best_val_acc, "seconds": self.seconds,
            "optimizer_param_groups": optimizer_state["param_groups"], "scheduler": self.scheduler.state_dict(),
        }, default=str)
        # The info travels inside the tensors file too: one atomic rename then covers the whole
        # checkpoint, so an interruption between the two writes cannot pair mismatched halves.
        atomic_write(out / CHECKPOINT_FILE, lambda tmp: save_file(tensors, str(tmp), metadata={"info": info}))
        atomic_write_text(out / CHECKPOINT_INFO, info)  # a readable copy of the progress
        self.epochs_saved = len(self.history)

    def load_checkpoint(self) -> None:
        out = Path(self.args.out)
        info = read_checkpoint_info(out)
        tensors = load_file(str(out / CHECKPOINT_FILE), device=str(self.device))
        self.model.load_state_dict(strip_prefix(tensors, "model."))
        self.best_state = strip_prefix(tensors, "best.") or None
        state = {}
        for key, value in strip_prefix(tensors, "optimizer.").items():
            param_id, name = key.split(".", 1)
            state.setdefault(int(param_id), {})[name] = value.cpu() if name == "step" else value
        self.optimizer.load_state_dict({"state": state, "param_groups": info["optimizer_param_groups"]})
        self.scheduler.load_state_dict({k: v for k, v in info["scheduler"].items() if k != "_anneal_func_type" or isinstance(v, str)})
        self.shuffle.set_state(tensors["rng.shuffle"].cpu())
        torch.set_rng_state(tensors["rng.torch"].cpu())
        self.history, self.best_val_acc, self.seconds = info["history"], info["best_val_acc"], info["seconds"]
        self.epochs_saved = len(self.history)
        print(f"resuming after epoch {len(self.history)} of {self.args.epochs} from {out}")


def read_checkpoint_info(out: Path) -> dict:
    """The run's progress and settings from its checkpoint; exits with a message when there is none usable."""
    path = out / CHECKPOINT_FILE
    if not path.is_file():
        sys.exit(f"Cannot resume: there is no checkpoint ({CHECKPOINT_FILE}) in {out}.")
    try:
        with safe_open(str(path), framework="pt") as file:
            info = (file.metadata() or {}).get("info")
        if info is None:  # a checkpoint from before the info moved into the tensors file
            info = (out / CHECKPOINT_INFO).read_text()
        return json.loads(info)
    except Exception as error:
        sys.exit(f"Cannot resume: the checkpoint in {out} cannot be read ({error}).")


def check_resumable(args: argparse.Namespace) -> None:
    """Resuming only makes sense with the recipe the checkpoint was made with: say which flags differ."""
    saved = read_checkpoint_info(Path(args.out))["args"]
    different = [f"--{name.replace('_', '-')} {saved[name]}" if saved[name] is not None else f"no --{name.replace('_', '-')}"
                 for name in RECIPE_FLAGS if name in saved and saved[name] != getattr(args, name)]
    if different:
        sys.exit(f"Cannot resume: the checkpoint in {args.out} was made with {', '.join(different)}; "
                 "pass the same flags, or train afresh into another --out.")


def strip_prefix(tensors: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def calibrate(run: Run) -> dict:
    """Fit the temperature on validation, then the 'not a digit' threshold on held-out digits and non-digits."""
    model = run.model
    model.load_state_dict(run.best_state)
    val_logits = run.logits(run.val_x)
    temperature = fit_temperature(val_logits, run.val_y)
    model.temperature.fill_(temperature)
    result = {"temperature": temperature}
    if run.negatives is not None:
        held_out = torch.from_numpy(make_held_out_negatives(len(run.val_x) // 5, run.args.seed)).to(run.device)
        digit_top = torch.softmax(val_logits / temperature, 1).max(1).values
        negative_top = torch.softmax(run.logits(held_out) / temperature, 1).max(1).values
        threshold = float(torch.quantile(digit_top.float(), MAX_FLAGGED_DIGITS))
        model.ood_threshold.fill_(threshold)
        result["not_a_digit"] = {
            "threshold": threshold,
            "val_digits_flagged": float((digit_top < threshold).float().mean()),
            "held_out_non_digits_flagged": float((negative_top < threshold).float().mean()),
        }
    return result


def make_held_out_negatives(count: int, seed: int):
    from mnist_demo.negatives import make_negatives

    return make_negatives(count, seed=seed + 10_000)  # a seed never used for training negatives


def report(run: Run, calibration: dict) -> dict:
    """The final figures on the test set, and the test-set artifacts (mistakes, confusion matrix)."""
    logits = run.logits(run.test_x)
    labels = run.test_y.cpu().numpy()
    raw = torch.softmax(logits, 1).cpu().numpy()
    calibrated = torch.softmax(logits / calibration["temperature"], 1).cpu().numpy()
    predictions = calibrated.argmax(1)
    out = Path(run.args.out)
    artifacts.save_misclassified(out, run.test_x.cpu().numpy(), labels, calibrated)
    matrix = artifacts.confusion_matrix(labels, predictions)
    artifacts.plot_confusion_matrix(out, matrix)
    artifacts.plot_training_curves(out, run.history)
    best = max(run.history, key=lambda h: h["val_acc"])
    return {
        "arch": run.args.arch, "parameters": count_parameters(run.model), "device": str(run.device),
        "precision": "bf16" if run.autocast_dtype else "fp32", "seconds": run.seconds,
        "recipe": {k: v for k, v in vars(run.args).items() if k not in ("resume", "push_to_hub", "private", "out", "data_dir")},
        "history": run.history, "best_epoch": best["epoch"],
        "val": {"accuracy": best["val_acc"], "loss": best["val_loss"], "total": len(run.val_y)},
        "test": {
            "accuracy": float((predictions == labels).mean()), "errors": int((predictions != labels).sum()),
            "total": len(labels), "ece": expected_calibration_error(calibrated, labels),
            "ece_uncalibrated": expected_calibration_error(raw, labels),
        },
        "confusion_matrix": matrix.tolist(),
        **calibration,
    }


def push_to_hub(out: Path, repo_id: str, private: bool) -> None:
    """Upload the folder (not the checkpoint) to a model repo, creating it if missing."""
    from huggingface_hub import HfApi, get_token

    if not get_token():
        raise PushError("no Hub token: set HF_TOKEN or log in with `hf auth login`")
    api = HfApi()  # the token comes from HF_TOKEN or the cached login; never printed
    api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
    api.upload_folder(folder_path=str(out), repo_id=repo_id, repo_type="model",
                      ignore_patterns=HUB_IGNORE, commit_message="Upload mnist-demo weights and artifacts")


class PushError(Exception):
    """A push that cannot even start, with the reason for a person."""


def describe_error(error: Exception) -> str:
    """One line about a failed push in plain words, with any token scrubbed out."""
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    status = error.response.status_code if isinstance(error, HfHubHTTPError) and error.response is not None else None
    if isinstance(error, (httpx2.TransportError, ConnectionError)):
        text = f"the Hub could not be reached (no internet connection?): {type(error).__name__}"
    elif status == 401:
        text = "the Hub refused the token (401 Unauthorized): check HF_TOKEN or run `hf auth login`"
    elif status == 403:
        text = "the token may not write to this repo (403 Forbidden): use a token with write access"
    else:
        text = " ".join(str(error).split()) or type(error).__name__
    return scrub_secrets(text)[:300]


def scrub_secrets(text: str) -> str:
    """The text with the Hub token (from HF_TOKEN or the cached login) and anything shaped like one masked."""
    from huggingface_hub import get_token

    try:
        login = get_token()
    except Exception:  # a failed OIDC token exchange: there is no other token to mask
        login = None
    for token in {os.environ.get("HF_TOKEN"), login} - {None, ""}:
        text = text.replace(token, "***")
    return HF_TOKEN_PATTERN.sub("***", text)


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SystemExit(f"train.py: error: cannot create the output folder {out}: {error.strerror}") from None
    if args.resume:
        check_resumable(args)
    try:
        run = Run(args)
    except DataError as error:
        raise SystemExit(f"train.py: error: {error}") from None
    if args.resume:
        run.load_checkpoint()
    print(f"{args.arch}: {count_parameters(run.model):,} parameters  |  device {run.device}  |  "
          f"{'bf16 autocast' if run.autocast_dtype else 'fp32'}  |  {len(run.train_x):,} train / "
          f"{len(run.val_x):,} val / {len(run.test_x):,} test images", flush=True)
    try:
        run.fit()
        metrics = report(run, calibrate(run))
        artifacts.save_model(run.model, out)
        artifacts.write_metrics(out, metrics)
        given = argv if argv is not None else sys.argv[1:]
        command = "python train.py " + " ".join(shlex.quote(a) for a in given if a != "--resume")
        write_model_card(out, metrics, command=command, recipe=recipe_text(args), repo_id=args.push_to_hub)
    except KeyboardInterrupt:  # every file is written atomically: what is on disk is whole
        saved = (f"epoch {run.epochs_saved} is saved in {out}; continue with --resume" if run.epochs_saved
                 else "no epoch had finished, nothing is saved")
        print(f"\ninterrupted: {saved}", file=sys.stderr)
        return 130
    test = metrics["test"]
    print(f"test accuracy {test['accuracy']:.2%} ({test['errors']} wrong)  |  ECE {test['ece_uncalibrated']:.2%} -> "
          f"{test['ece']:.2%} (T={metrics['temperature']:.3f})  |  {run.seconds:.0f} s  |  artifacts in {out}")
    if args.push_to_hub:
        try:
            push_to_hub(out, args.push_to_hub, args.private)
        except Exception as error:  # no token, offline, refused: the local files stay
            print(f"push to {args.push_to_hub} failed: {describe_error(error)}. The artifacts are kept in {out}.", file=sys.stderr)
            return 1
        except KeyboardInterrupt:  # the upload is one commit: the repo has all of it or none of it
            print(f"\npush to {args.push_to_hub} interrupted: the artifacts in {out} are whole; upload them with "
                  f"`hf upload {args.push_to_hub} {out} --exclude 'training_state.*'`", file=sys.stderr)
            return 130
        print(f"pushed to https://huggingface.co/{args.push_to_hub}")
    return 0


def recipe_text(args: argparse.Namespace) -> str:
    negatives = (f" {args.negatives:,} generated non-digits (letters, signs, scribbles, shapes) join each epoch's batches, "
                 "trained toward a uniform prediction (outlier exposure) for the 'not a digit' detector." if args.negatives else "")
    augmentation = ("batched random affine augmentation (rotation, scale, shear, translation) and random stroke "
                    "thickening/thinning" if args.augment else "no augmentation")
    return (f"{args.epochs} epochs, batch {args.batch_size}, AdamW (beta2 {args.beta2:g}, weight decay 5e-4) with a "
            f"OneCycle schedule peaking at lr {args.lr:g} (beta1 cycling between 0.95 and 0.85); {augmentation}; "
            f"seed {args.seed}. The epoch with the best validation accuracy is kept; a temperature fitted on the "
            f"validation split calibrates the probabilities.{negatives}")


if __name__ == "__main__":
    sys.exit(main())
