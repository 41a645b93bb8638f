"""What the app's Model tab says about the loaded weights, read from the artifacts train.py wrote.

Architecture, parameter count, training recipe, test accuracy and calibration come from
`metrics.json` and the model card next to the weights; the training curves and the
confusion matrix are its PNGs, opened as images so the app never has to serve the
weights folder itself. All of it is read from the files, without torch, so the app can
show it while the model is still loading; only the layer listing needs the model.

    python -m mnist_demo.model_summary [weights folder]   # prints the Markdown
"""

import sys
from pathlib import Path

from PIL import Image

from .artifacts import CARD_FILE, CONFUSION_FILE, CURVES_FILE, read_metrics
from .calibration import ECE_BINS
from .card import ARCH_TEXT
from .loading import PACKAGED, ModelFolder

HUB_URL = "https://huggingface.co/"


def summary_markdown(model_folder: ModelFolder, model=None) -> str:
    """The Model tab's text: where the weights came from, results, architecture, recipe.

    The parameter count is the loaded `model`'s when given, else the one train.py wrote down.
    """
    metrics = read_metrics(model_folder.path)
    arch = getattr(model, "arch", metrics.get("arch", "?"))
    parameters = metrics.get("parameters")
    if model is not None:
        from .model import count_parameters  # torch is loaded already when a model is given

        parameters = count_parameters(model)
    parts = [
        f"### Weights\n{weights_source(model_folder)}",
        results_table(metrics, parameters),
        f"### Architecture\n`{arch}`: {ARCH_TEXT.get(arch, '')}",
    ]
    recipe = card_section(model_folder.path / CARD_FILE, "Training recipe") or recipe_table(metrics)
    if recipe:
        parts.append(f"### Training recipe\n{recipe}")
    return "\n\n".join(parts)


def weights_source(model_folder: ModelFolder) -> str:
    if model_folder.hub_repo:
        return f"From the Hugging Face Hub: [{model_folder.hub_repo}]({HUB_URL}{model_folder.hub_repo})"
    if model_folder.source == PACKAGED:
        return "The weights packaged with mnist_demo (`mnist_demo/weights`)."
    return f"A local folder: `{model_folder.source}`"


def results_table(metrics: dict, parameters: int | None) -> str:
    rows = [("Parameters", f"{parameters:,}")] if parameters is not None else []
    test = metrics.get("test", {})
    if "accuracy" in test:
        wrong = f" ({test['errors']:,} of {test['total']:,} wrong)" if "errors" in test and "total" in test else ""
        rows.insert(0, ("Test accuracy", f"**{test['accuracy']:.2%}**{wrong}"))
    if "accuracy" in metrics.get("val", {}):
        rows.append(("Validation accuracy", f"{metrics['val']['accuracy']:.2%}"))
    if "ece" in test and "ece_uncalibrated" in test:
        rows.append(
            (
                f"Expected calibration error on the test set ({ECE_BINS} equal-width bins), "
                "before / after temperature scaling",
                f"{test['ece_uncalibrated']:.2%} / {test['ece']:.2%}",
            )
        )
    if "seconds" in metrics:
        rows.append(("Training time", f"{metrics['seconds']:.0f} s on {metrics.get('device', '?')}"))
    if not rows:
        return "### Results\nNo figures were saved with these weights (train.py writes them to metrics.json)."
    return "### Results\n| | This model |\n|---|---|\n" + "\n".join(f"| {name} | {value} |" for name, value in rows)


def layer_listing(classifier) -> str:
    """PyTorch's own printout of the network's layers."""
    return repr(getattr(classifier.model, "net", classifier.model))


def card_section(card: Path, title: str) -> str | None:
    """The text under `## title` in a model card, up to the next `## ` heading."""
    if not card.is_file():
        return None
    lines, inside = [], False
    for line in card.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            if inside:
                break
            inside = line[3:].strip() == title
        elif inside:
            lines.append(line)
    text = "\n".join(lines).strip()
    return text or None


def recipe_table(metrics: dict) -> str | None:
    recipe = metrics.get("recipe")
    if not recipe:
        return None
    return "| Setting | Value |\n|---|---|\n" + "\n".join(f"| {key} | `{value}` |" for key, value in recipe.items())


def load_plot(folder: Path, name: str) -> Image.Image | None:
    """A PNG from the weights folder, fully read into memory, or None when it is missing or unreadable."""
    try:
        with Image.open(Path(folder) / name) as image:
            image.load()
            return image.copy()
    except OSError:
        return None


def training_curves_plot(model_folder: ModelFolder) -> Image.Image | None:
    return load_plot(model_folder.path, CURVES_FILE)


def confusion_matrix_plot(model_folder: ModelFolder) -> Image.Image | None:
    """The confusion matrix as train.py drew it (`artifacts.confusion_matrix` computes the matrix itself)."""
    return load_plot(model_folder.path, CONFUSION_FILE)


def main():
    from .classifier import Classifier
    from .loading import WeightsError

    try:
        classifier = Classifier.from_pretrained(sys.argv[1] if len(sys.argv) > 1 else None)
    except WeightsError as error:
        sys.exit(str(error))
    print(summary_markdown(classifier.model_folder, classifier.model))


if __name__ == "__main__":
    main()
