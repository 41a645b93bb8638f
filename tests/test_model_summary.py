"""mnist_demo.model_summary: the Model tab's text and plots, from the weights folder's artifacts."""

import shutil

from mnist_demo.classifier import Classifier
from mnist_demo.loading import ModelFolder
from mnist_demo.model import count_parameters
from mnist_demo.model_summary import (
    card_section,
    confusion_matrix_plot,
    layer_listing,
    summary_markdown,
    training_curves_plot,
    weights_source,
)


def test_summary_of_the_packaged_weights(classifier):
    text = summary_markdown(classifier.model_folder, classifier.model)
    for part in (
        "### Weights",
        "### Results",
        "Test accuracy",
        "### Architecture",
        "### Training recipe",
        f"{count_parameters(classifier.model):,}",
        f"`{classifier.model.arch}`",
    ):
        assert part in text
    assert "Conv2d" in layer_listing(classifier)
    assert training_curves_plot(classifier.model_folder).size[0] > 100
    assert confusion_matrix_plot(classifier.model_folder).size[0] > 100


def test_the_files_alone_give_the_same_summary_as_the_loaded_model(classifier):
    """The app shows the files' summary while the model loads: it must not change once the model is there."""
    assert summary_markdown(classifier.model_folder) == summary_markdown(classifier.model_folder, classifier.model)


def test_hub_weights_link_to_their_repo(classifier):
    hub = ModelFolder(classifier.folder, "someone/mnist-demo")
    assert "https://huggingface.co/someone/mnist-demo" in weights_source(hub)
    assert "packaged" in weights_source(classifier.model_folder)


def test_a_folder_with_only_weights_still_summarises(classifier, tmp_path):
    for name in ("model.safetensors", "config.json"):
        shutil.copy(classifier.folder / name, tmp_path / name)
    bare = Classifier.from_pretrained(tmp_path)
    text = summary_markdown(bare.model_folder, bare.model)
    assert "Parameters" in text and "Test accuracy" not in text and "Training recipe" not in text
    assert training_curves_plot(bare.model_folder) is None and confusion_matrix_plot(bare.model_folder) is None
    assert "No figures were saved" in summary_markdown(bare.model_folder)  # no model, no metrics.json: no count


def test_card_section_stops_at_the_next_heading(tmp_path):
    card = tmp_path / "README.md"
    card.write_text("# Title\n## Training recipe\n\nrun this\n\n## Use\nother\n")
    assert card_section(card, "Training recipe") == "run this"
    assert card_section(card, "Missing") is None
    assert card_section(tmp_path / "nope.md", "Use") is None


def test_calibration_error_before_and_after_is_reported(classifier):
    from mnist_demo.artifacts import read_metrics

    test = read_metrics(classifier.folder)["test"]
    text = summary_markdown(classifier.model_folder)
    assert "Expected calibration error on the test set (15 equal-width bins), before / after" in text
    assert f"{test['ece_uncalibrated']:.2%} / {test['ece']:.2%}" in text
