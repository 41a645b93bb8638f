"""Train a digit classifier on MNIST, write its artifacts, and optionally push them to the Hub.

    python train.py --data-dir ../shared/data --out runs/best --preset best    # the shipped weights
    python train.py --data-dir ../shared/data --out runs/fast --preset fast    # >= 99% in seconds
    python train.py --out runs/quick --epochs 1 --limit 6000                   # a quick check
    python train.py --out runs/best --push-to-hub user/mnist-cnn               # also upload

This file reads top to bottom: the flags, the data, the model, the loop, the report. The loop
itself is `mnist_demo.training` (the app's Train tab runs it too), the checkpoint that makes
`--resume` work after Ctrl-C or a crash `mnist_demo.checkpoint`, the upload `mnist_demo.hub`.
Every file is written atomically.
"""

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from mnist_demo import artifacts
from mnist_demo.calibration import expected_calibration_error
from mnist_demo.card import write_model_card
from mnist_demo.checkpoint import (
    CheckpointError,
    check_resumable,
    load_checkpoint,
    read_checkpoint_info,
    save_checkpoint,
)
from mnist_demo.data import DataError
from mnist_demo.hub import describe_push_error, push_to_hub, upload_command
from mnist_demo.model import ARCHITECTURES, count_parameters
from mnist_demo.training import (
    FULL_TRAIN_SIZE,
    WEIGHT_DECAY,
    Recipe,
    Run,
    calibrate,
    load_data,
    probabilities_on_test_set,
    too_few_steps,
)

PRESETS = {
    # The recipe of the shipped weights: the full CNN, 15 epochs of OneCycle AdamW, with
    # generated non-digits for the "not a digit" detector.
    "best": {
        "arch": "cnn",
        "epochs": 15,
        "batch_size": 128,
        "lr": 3e-3,
        "negatives": 20000,
        "scans": 0,
        "pieces": 0,
        "augment": True,
        "beta2": 0.999,
    },
    # The quickest recipe to 99% test accuracy (benchmarks/train_speed.py): a network with a seventh
    # of cnn-small's compute, two epochs, no augmentation (it only pays off in longer runs), and
    # Adam's second moment averaged over ~10 steps instead of ~1000, which adapts in time in a short run.
    "fast": {
        "arch": "cnn-fast",
        "epochs": 2,
        "batch_size": 256,
        "lr": 1e-2,
        "negatives": 0,
        "scans": 0,
        "pieces": 0,
        "augment": False,
        "beta2": 0.9,
    },
}
BAR_UPDATES = 50  # progress-bar refreshes per epoch on a terminal; each reads the loss, a device sync
NOT_RECIPE = ("data_dir", "out", "preset", "resume", "push_to_hub", "private")  # flags that are not the Recipe's


# --- the flags ---


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add(
        "--data-dir",
        default=None,
        help="folder holding MNIST/raw; downloads there if missing "
        "(default: $MNIST_DATA_DIR, else ~/.cache/mnist-demo)",
    )
    add("--out", default="runs/latest", help="output folder for weights and artifacts (default: %(default)s)")
    add(
        "--preset",
        choices=PRESETS,
        default="best",
        help="recipe whose values (PRESETS in train.py) the flags below override (default: %(default)s)",
    )
    add("--arch", choices=ARCHITECTURES, default=None, help="network (default: the preset's)")
    add("--epochs", type=whole_number(1), default=None, help="epochs (default: the preset's)")
    add("--batch-size", type=whole_number(1), default=None, help="batch size (default: the preset's)")
    add(
        "--lr",
        type=number_between(0, float("inf")),
        default=None,
        help="peak learning rate of the OneCycle schedule (default: the preset's)",
    )
    add(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="batched augmentation: affine, stroke width, blur, low resolution, paper (default: the preset's)",
    )
    add("--beta2", type=number_between(0, 1), default=None, help="AdamW's second-moment decay (default: the preset's)")
    add(
        "--negatives",
        type=whole_number(0),
        default=None,
        help="generated non-digits for the 'not a digit' detector, 0 for none "
        "(default: the preset's; with --limit N, its share N/55000)",
    )
    add(
        "--scans",
        type=whole_number(0),
        default=None,
        help="training digits scanned small and read back as the app reads them, 0 for none "
        "(default: the preset's; with --limit N, its share)",
    )
    add(
        "--pieces",
        type=whole_number(0),
        default=None,
        help="groupings of strokes the number reader weighs in numbers composed of training digits (whole digits "
        "to learn, fragments and pairs to refuse) and in rows of non-digits (default: the preset's; with --limit N, "
        "its share)",
    )
    add("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    add(
        "--device",
        choices=["auto", "cpu", "cuda", "mps"],
        default="auto",
        help="auto picks CUDA, then MPS, else CPU (default: %(default)s)",
    )
    add(
        "--precision",
        choices=["auto", "bf16", "fp32"],
        default="auto",
        help="auto: bf16 autocast on CUDA and on CPUs with native bf16, fp32 elsewhere (default: %(default)s)",
    )
    add("--compile", action="store_true", help="torch.compile the model (default: off)")
    add(
        "--limit",
        type=whole_number(1),
        default=None,
        help="train on the first N training images only, for quick runs (default: all)",
    )
    add("--resume", action="store_true", help="continue from the checkpoint in --out (default: off)")
    add(
        "--push-to-hub",
        metavar="REPO_ID",
        default=None,
        help="upload --out to this Hub model repo; token from HF_TOKEN or the cached login (default: no upload)",
    )
    add("--private", action="store_true", help="create the Hub repo as private (default: public)")
    args = parser.parse_args(argv)
    for key in ("negatives", "scans", "pieces"):  # a quick run gets the preset's share of generated pictures
        if args.limit and getattr(args, key) is None:
            setattr(args, key, PRESETS[args.preset][key] * min(args.limit, FULL_TRAIN_SIZE) // FULL_TRAIN_SIZE)
    for key, value in PRESETS[args.preset].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    problem = too_few_steps(min(args.limit or FULL_TRAIN_SIZE, FULL_TRAIN_SIZE), args.batch_size, args.epochs)
    if problem:
        parser.error(problem)
    return args


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


def recipe_of(args: argparse.Namespace) -> Recipe:
    return Recipe(**{k: v for k, v in vars(args).items() if k not in NOT_RECIPE})


def main(argv=None) -> int:
    args = parse_args(argv)
    recipe = recipe_of(args)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        if args.resume:
            check_resumable(out, recipe)
    except OSError as error:
        raise SystemExit(f"train.py: error: cannot create the output folder {out}: {error.strerror}") from None
    except CheckpointError as error:
        raise SystemExit(str(error)) from None

    # --- the data ---
    try:
        data = load_data(args.data_dir)
    except DataError as error:
        raise SystemExit(f"train.py: error: {error}") from None
    problem = too_few_steps(min(len(data.train_x), args.limit or len(data.train_x)), args.batch_size, args.epochs)
    if problem:  # parse_args checked this for MNIST's full size
        raise SystemExit(f"train.py: error: {problem}")

    # --- the model, its optimizer and schedule (mnist_demo.training.Run) ---
    negatives, examples = generate_examples(args, data)
    run = Run(recipe, data, negatives=negatives, examples=examples)
    if args.resume:
        load_checkpoint(run, out)
        print(f"resuming after epoch {len(run.history)} of {args.epochs} from {out}")
    print(
        f"{args.arch}: {count_parameters(run.model):,} parameters  |  device {run.device}  |  "
        f"{'bf16 autocast' if run.autocast_dtype else 'fp32'}  |  {len(run.train_x):,} train / "
        f"{len(run.val_x):,} val / {len(run.test_x):,} test images",
        flush=True,
    )

    # --- the loop, then the report ---
    try:
        train(run, out)
        held_out = make_held_out_negatives(len(run.val_x) // 5, args.seed) if args.negatives else None
        metrics = report(run, calibrate(run, held_out), out)
        artifacts.save_model(run.model, out)
        artifacts.write_metrics(out, metrics)
        given = argv if argv is not None else sys.argv[1:]
        command = "python train.py " + " ".join(shlex.quote(a) for a in given if a != "--resume")
        write_model_card(out, metrics, command=command, recipe=recipe_text(recipe), repo_id=args.push_to_hub)
    except KeyboardInterrupt:  # every file is written atomically: what is on disk is whole
        print(f"\ninterrupted: {what_is_saved(out)}", file=sys.stderr)
        return 130
    test = metrics["test"]
    scaling = f"T={metrics['temperature']:.3f}" if metrics["temperature_kept"] else "no temperature: it did not help"
    print(
        f"test accuracy {test['accuracy']:.2%} ({test['errors']} wrong)  |  ECE {test['ece_uncalibrated']:.2%} -> "
        f"{test['ece']:.2%} ({scaling})  |  {run.seconds:.0f} s  |  artifacts in {out}"
    )
    return push(out, args.push_to_hub, args.private) if args.push_to_hub else 0


def generate_negatives(count: int, seed: int):
    """`count` generated non-digits (uint8 [N, 28, 28]) for outlier exposure, or None for none."""
    if not count:
        return None
    from mnist_demo.negatives import make_negatives

    started = time.perf_counter()
    negatives = make_negatives(count, seed=seed)
    print(f"generated {count:,} non-digit images in {time.perf_counter() - started:.1f} s")
    return negatives


def generate_examples(args: argparse.Namespace, data):
    """The generated non-digits and the digits as the reader sees them (`mnist_demo.reader_examples`, made of the
    training digits only): (negatives or None, (images, labels) or None)."""
    negatives = generate_negatives(args.negatives, args.seed)
    if not (args.scans or args.pieces):
        return negatives, None
    from mnist_demo.reader_examples import non_digit_pieces, number_pieces, scanned_digits

    started = time.perf_counter()
    images, labels = data.train_x[: args.limit].numpy(), data.train_y[: args.limit].numpy()
    scans, scan_labels = scanned_digits(images, labels, args.scans, seed=args.seed)
    in_numbers = args.pieces * 2 // 3  # two thirds from numbers, the rest from rows of non-digits
    (wholes, whole_labels), parts = number_pieces(images, labels, in_numbers, seed=args.seed)
    others = non_digit_pieces(args.pieces - in_numbers, seed=args.seed)
    print(
        f"scanned {len(scans):,} digits; cut {len(wholes) + len(parts):,} groupings from composed numbers "
        f"({len(wholes):,} whole digits, {len(parts):,} fragments or pairs) and {len(others):,} from rows of "
        f"non-digits in {time.perf_counter() - started:.1f} s"
    )
    negatives = np.concatenate([n for n in (negatives, parts, others) if n is not None])
    return negatives, (np.concatenate([scans, wholes]), np.concatenate([scan_labels, whole_labels]))


def make_held_out_negatives(count: int, seed: int):
    from mnist_demo.negatives import make_negatives

    return make_negatives(count, seed=seed + 10_000)  # a seed never used for training negatives


def train(run: Run, out: Path) -> None:
    """The epochs, one line each, a checkpoint after each; a progress bar too on a terminal (not in a log)."""
    steps_per_epoch = run.steps // run.recipe.epochs
    done = len(run.history) * steps_per_epoch
    bar = tqdm(
        total=run.steps, initial=done, unit="batch", leave=False, dynamic_ncols=True, disable=not sys.stderr.isatty()
    )

    def on_progress(update: dict) -> None:
        bar.set_description(f"epoch {update['epoch']}/{run.recipe.epochs}")
        bar.set_postfix(loss=f"{update['loss']:.4f}")
        bar.update(update["step"] - bar.n)

    def on_epoch(record: dict) -> None:
        bar.update(record["epoch"] * steps_per_epoch - bar.n)
        bar.clear()
        print(
            f"epoch {record['epoch']:>2}/{run.recipe.epochs}  train loss {record['train_loss']:.4f} "
            f"acc {record['train_acc']:.2%}  val loss {record['val_loss']:.4f} acc {record['val_acc']:.2%}  "
            f"lr {record['lr']:.2e}  {record['seconds']:.1f} s",
            flush=True,
        )
        save_checkpoint(run, out)

    try:
        run.fit(on_progress=on_progress, on_epoch=on_epoch, updates_per_epoch=0 if bar.disable else BAR_UPDATES)
    finally:
        bar.close()


def what_is_saved(out: Path) -> str:
    try:
        epochs = len(read_checkpoint_info(out)["history"])
    except CheckpointError:
        epochs = 0
    if not epochs:
        return "no epoch had finished, nothing is saved"
    return f"epoch {epochs} is saved in {out}; continue with --resume"


def report(run: Run, calibration: dict, out: Path) -> dict:
    """The final figures on the test set, and the test-set artifacts (mistakes, confusion matrix, curves)."""
    calibrated, raw, labels = probabilities_on_test_set(run)
    predictions = calibrated.argmax(1)
    artifacts.save_misclassified(out, run.test_x.cpu().numpy(), labels, calibrated)
    matrix = artifacts.confusion_matrix(labels, predictions)
    artifacts.plot_confusion_matrix(out, matrix)
    artifacts.plot_training_curves(out, run.history)
    best = max(run.history, key=lambda h: h["val_acc"])
    return {
        "arch": run.recipe.arch,
        "parameters": count_parameters(run.model),
        "device": str(run.device),
        "precision": "bf16" if run.autocast_dtype else "fp32",
        "seconds": run.seconds,
        "recipe": run.recipe.as_dict(),
        "history": run.history,
        "best_epoch": best["epoch"],
        "val": {"accuracy": best["val_acc"], "loss": best["val_loss"], "total": len(run.val_y)},
        "test": {
            "accuracy": float((predictions == labels).mean()),
            "errors": int((predictions != labels).sum()),
            "total": len(labels),
            "ece": expected_calibration_error(calibrated, labels),
            "ece_uncalibrated": expected_calibration_error(raw, labels),
        },
        "confusion_matrix": matrix.tolist(),
        **calibration,
    }


def push(out: Path, repo_id: str, private: bool) -> int:
    """Upload `out`; the exit code, with a line saying what happened."""
    try:
        push_to_hub(out, repo_id, private)
    except Exception as error:  # no token, offline, refused: the local files stay
        print(
            f"push to {repo_id} failed: {describe_push_error(error)}. The artifacts are kept in {out}.", file=sys.stderr
        )
        return 1
    except KeyboardInterrupt:  # the upload is one commit: the repo has all of it or none of it
        print(
            f"\npush to {repo_id} interrupted: the artifacts in {out} are whole; upload them with "
            f"`{upload_command(repo_id, out)}`",
            file=sys.stderr,
        )
        return 130
    print(f"pushed to https://huggingface.co/{repo_id}")
    return 0


def recipe_text(recipe: Recipe) -> str:
    """The recipe in words, for the model card."""
    negatives = (
        f" {recipe.negatives:,} generated non-digits (letters, signs, scribbles, shapes) join each epoch's "
        "batches, trained toward a uniform prediction (outlier exposure) for the 'not a digit' detector."
        if recipe.negatives
        else ""
    )
    augmentation = (
        "batched augmentation: 1s given a flag and 7s a bar as much of the world writes them, proportions warped, "
        "random affine (rotation, scale, shear, translation), pen lifts, stroke thickening/thinning, "
        "a quarter redrawn blurry, low-resolution, in marker or pencil, and a quarter given a photo's leftovers "
        "(uneven background, sensor noise, faint ruled lines)"
        if recipe.augment
        else "no augmentation"
    )
    examples = (
        f" Digits as the app's reader sees them join each batch: {recipe.scans:,} training digits scanned small "
        f"and read back, and {recipe.pieces:,} groupings of strokes the number reader weighs, two thirds in numbers "
        "composed of training digits (whole digits as examples, fragments and pairs of digits as non-digits), a "
        "third in rows of generated non-digits (non-digits)."
        if recipe.scans or recipe.pieces
        else ""
    )
    return (
        f"{recipe.epochs} epochs, batch {recipe.batch_size}, AdamW (beta2 {recipe.beta2:g}, weight decay "
        f"{WEIGHT_DECAY:g}) with a OneCycle schedule peaking at lr {recipe.lr:g} (beta1 cycling between 0.95 and "
        f"0.85); {augmentation}; seed {recipe.seed}. The epoch with the best validation accuracy is kept; a "
        "temperature fitted on the validation split calibrates the probabilities when it lowers their "
        f"calibration error there.{negatives}{examples}"
    )


if __name__ == "__main__":
    sys.exit(main())
