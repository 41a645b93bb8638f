"""The model card (README.md of a weights folder or Hub repo), built with huggingface_hub's ModelCard."""

from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from .artifacts import CARD_FILE, CONFUSION_FILE, CURVES_FILE, atomic_write_text
from .calibration import ECE_BINS

CARD_BODY = """
# {title}

A convolutional network that reads handwritten digits, trained on [MNIST](https://huggingface.co/datasets/ylecun/mnist)
with mnist-demo's `train.py`. It is the model behind the mnist-demo draw-a-digit app.

## Results

| | |
|---|---|
| Test accuracy ({test_total:,} MNIST test images) | **{test_acc:.2%}** ({test_errors} wrong) |
| Validation accuracy ({val_total:,} held-out training images, used to pick the epoch) | {val_acc:.2%} |
| Expected calibration error, test, {ece_bins} bins: before / after temperature scaling | \
{ece_before:.2%} / {ece_after:.2%} {scaling} |{not_a_digit}{corrections}
| Parameters | {parameters:,} |
| Training time | {seconds:.0f} s on {device} |

The test set was used only for this final report: the epoch kept is the one with the best validation accuracy.

![Training curves]({curves})
![Confusion matrix]({confusion})

## Architecture

`{arch}`: {arch_text}

## Training recipe

```
{command}
```

{recipe}{corrections_text}

## Use

```python
from mnist_demo import Classifier

classifier = Classifier.from_pretrained("{repo}")  # {where}
classifier.classify("digit.png")  # {{"0": 0.001, ..., "7": 0.98, ...}}
classifier.predict_mnist(images)  # uint8 [N, 28, 28] -> float32 [N, 10]
```

The probabilities are calibrated: the stored temperature divides the logits before the softmax.
Inputs are MNIST-style 28x28 images, white digit on black; `classify` turns any picture into one first.
"""

ARCH_TEXT = {
    "mlp": "the tutorial's fully connected network, 784 -> 128 -> 64 -> 10 with ReLU.",
    "tutorial-cnn": "the tutorial's two-block CNN: conv 32 and conv 64 (3x3, BatchNorm, ReLU, max-pool), "
    "dropout 0.4, a 128-unit head.",
    "cnn": "a 5x5 conv stem (32), two 3x3 convs at 14x14 (64), two at 7x7 (128), each stage max-pooled, "
    "BatchNorm and ReLU throughout, dropout and a linear head on the 3x3 map.",
    "cnn-small": "the same design as `cnn` at half the width (16 / 32 / 64 channels).",
    "cnn-fast": "two unpadded convs, 5x5 (16) with stride 2 and 3x3 (32) max-pooled, each with BatchNorm and "
    "ReLU, then a 128-unit hidden layer: the fast preset's network, a ninth of `cnn-small`'s compute.",
}


def not_a_digit_row(detector: dict | None) -> str:
    if not detector:
        return ""
    digits = f"{detector['val_digits_flagged']:.1%}"
    header = "validation digits flagged"
    if "out_of_style_digits_flagged" in detector:  # weights calibrated before out-of-style digits lack it
        digits += f" / {detector['out_of_style_digits_flagged']:.1%}"
        header = "validation digits flagged (as written / blurry, low-res, marker, pencil)"
    return (
        f"\n| 'Not a digit' detector: held-out non-digits flagged / {header} | "
        f"{detector['held_out_non_digits_flagged']:.1%} / {digits} |"
    )


def corrections_row(corrections: dict | None) -> str:
    """The held-out corrections people made, read right by the model they corrected and by this one."""
    if not corrections or not corrections["held_out"]["total"]:
        return ""
    held = corrections["held_out"]
    return (
        f"\n| People's corrections, held out ({held['total']}): read right by the model people corrected / by this "
        f"one | {held['right_before']} / {held['right_after']} |"
    )


def corrections_text(corrections: dict | None) -> str:
    """The recipe's sentence on people's corrections, when the run learned from them."""
    if not corrections:
        return ""
    return (
        f"\n\nIt also learned from people's corrections of the demo's answers ({', '.join(corrections['sources'])}): "
        f"{corrections['digits']:,} digits, each counting as {corrections['weight']:g} MNIST digits and mixed into "
        f"every batch, randomly shifted, turned and scaled, and {corrections['non_digits']:,} pictures that are no "
        "digit, with the generated non-digits. A tenth of the corrections, chosen by id, is held out."
    )


def temperature_note(metrics: dict) -> str:
    """The temperature used, or why none is (train.py keeps it only when it lowers the validation ECE)."""
    if metrics.get("temperature_kept", True):
        return f"(T = {metrics['temperature']:.3f})"
    return (
        f"(not scaled: the fitted T = {metrics['fitted_temperature']:.3f} did not lower the validation ECE, so T = 1)"
    )


def recipe_text(recipe: dict) -> str:
    """The recipe (a `training.Recipe` as a dict, as metrics.json keeps it) in words."""
    weight_decay = recipe.get("weight_decay", 5e-4)  # runs from before it was a flag all used 5e-4
    negatives = (
        f" {recipe['negatives']:,} generated non-digits (letters, signs, scribbles, shapes, things) join each epoch's "
        "batches, trained toward a uniform prediction (outlier exposure) for the 'not a digit' detector."
        if recipe.get("negatives")
        else ""
    )
    flagged = recipe.get("flagged", 0.4)  # the share before it was a flag
    everyones = (
        f"{flagged:.0%} of the 1s given a flag and of the 7s a bar as much of the world writes them, "
        if flagged
        else ""
    )
    augmentation = (
        f"batched augmentation: {everyones}proportions warped, "
        "random affine (rotation, scale, shear, translation), pen lifts, stroke thickening/thinning, "
        "a quarter redrawn blurry, low-resolution, in marker or pencil, and a quarter given a photo's leftovers "
        "(uneven background, sensor noise, faint ruled lines)"
        if recipe.get("augment")
        else "no augmentation"
    )
    examples = (
        f" {recipe['scans']:,} training digits scanned small and read back as the app reads them join each batch."
        if recipe.get("scans")
        else ""
    )
    return (
        f"{recipe['epochs']} epochs, batch {recipe['batch_size']}, AdamW (beta2 {recipe['beta2']:g}, weight decay "
        f"{weight_decay:g}) with a OneCycle schedule peaking at lr {recipe['lr']:g} (beta1 "
        f"cycling between 0.95 and 0.85); {augmentation}; seed {recipe['seed']}. The epoch with the best validation "
        "accuracy is kept; a temperature fitted on the validation split calibrates the probabilities when it lowers "
        f"their calibration error there.{negatives}{examples}"
    )


def start_text(start_from: str | None) -> str:
    """The recipe's sentence on where training began: random weights, or saved ones it fine-tuned."""
    return (
        f" Training began from the weights in `{start_from}` (fine-tuning), not from random ones." if start_from else ""
    )


def write_model_card(out: Path, metrics: dict, command: str, repo_id: str | None = None) -> ModelCard:
    """The card for the run `metrics` describes (metrics.json's content), written to `out`/README.md."""
    test = metrics["test"]
    card_data = ModelCardData(
        library_name="mnist-demo",
        license="mit",
        pipeline_tag="image-classification",
        datasets=["ylecun/mnist"],
        metrics=["accuracy"],
        tags=["mnist", "image-classification", "pytorch", "pytorch_model_hub_mixin"],
        model_name=repo_id or "mnist-demo-cnn",
        eval_results=[
            EvalResult(
                task_type="image-classification",
                task_name="Image Classification",
                dataset_type="ylecun/mnist",
                dataset_name="MNIST",
                dataset_split="test",
                metric_type="accuracy",
                metric_name="Test accuracy",
                metric_value=round(test["accuracy"], 4),
            )
        ],
    )
    body = CARD_BODY.format(
        title=repo_id or "mnist-demo CNN",
        test_acc=test["accuracy"],
        test_errors=test["errors"],
        test_total=test["total"],
        val_acc=metrics["val"]["accuracy"],
        val_total=metrics["val"].get("total", 5000),
        not_a_digit=not_a_digit_row(metrics.get("not_a_digit")),
        corrections=corrections_row(metrics.get("corrections")),
        corrections_text=corrections_text(metrics.get("corrections")),
        ece_bins=ECE_BINS,
        ece_before=test["ece_uncalibrated"],
        ece_after=test["ece"],
        scaling=temperature_note(metrics),
        parameters=metrics["parameters"],
        seconds=metrics["seconds"],
        device=metrics["device"],
        curves=CURVES_FILE,
        confusion=CONFUSION_FILE,
        arch=metrics["arch"],
        arch_text=ARCH_TEXT[metrics["arch"]],
        command=command,
        recipe=recipe_text(metrics["recipe"]) + start_text(metrics.get("start_from")),
        repo=repo_id or "path/to/this/folder",
        where="or a folder written by train.py" if repo_id else "the folder train.py wrote, or a Hub repo id",
    )
    card = ModelCard(f"---\n{card_data.to_yaml()}\n---\n{body}")
    atomic_write_text(Path(out) / CARD_FILE, str(card))
    return card
