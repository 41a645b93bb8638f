"""mnist_demo.card: the model card's metadata parses the way the Hub reads it, and the text tells the results."""

import pytest
from huggingface_hub import ModelCard

from mnist_demo.card import write_model_card


def metrics(not_a_digit: bool = True) -> dict:
    figures = {
        "arch": "cnn",
        "parameters": 289_642,
        "seconds": 812.4,
        "device": "cpu",
        "val": {"accuracy": 0.9962, "loss": 0.014, "total": 5000},
        "test": {"accuracy": 0.99671, "errors": 33, "total": 10_000, "ece": 0.004, "ece_uncalibrated": 0.011},
        "temperature": 1.234,
        "recipe": {
            "arch": "cnn",
            "epochs": 15,
            "batch_size": 128,
            "lr": 3e-3,
            "augment": True,
            "beta2": 0.999,
            "weight_decay": 5e-4,
            "negatives": 20000,
            "seed": 0,
        },
    }
    if not_a_digit:
        figures["not_a_digit"] = {"threshold": 0.61, "val_digits_flagged": 0.01, "held_out_non_digits_flagged": 0.93}
    return figures


@pytest.fixture
def card(tmp_path) -> ModelCard:
    write_model_card(
        tmp_path,
        metrics(),
        command="python train.py --preset best",
        repo_id="someone/mnist-cnn",
    )
    return ModelCard.load(tmp_path / "README.md")


def test_metadata_is_what_the_hub_expects(card):
    data = card.data
    assert data.library_name == "mnist-demo" and data.license == "mit"
    assert data.pipeline_tag == "image-classification"
    assert data.datasets == ["ylecun/mnist"] and data.metrics == ["accuracy"]
    [result] = data.eval_results
    assert (result.metric_type, result.metric_value, result.dataset_type, result.dataset_split) == (
        "accuracy",
        0.9967,
        "ylecun/mnist",
        "test",
    )
    assert data.to_dict()["model-index"][0]["name"] == "someone/mnist-cnn"


def test_body_tells_results_architecture_recipe_and_use(card):
    text = card.text
    for section in ("## Results", "## Architecture", "## Training recipe", "## Use"):
        assert section in text
    assert "**99.67%** (33 wrong)" in text and "10,000 MNIST test images" in text and "5,000 held-out" in text
    assert "0.40%" in text and "T = 1.234" in text and "289,642" in text
    assert "![Training curves](training_curves.png)" in text and "![Confusion matrix](confusion_matrix.png)" in text
    assert "python train.py --preset best" in text
    assert "15 epochs, batch 128, AdamW (beta2 0.999, weight decay 0.0005)" in text and "peaking at lr 0.003" in text
    assert "batched augmentation" in text and "20,000 generated non-digits" in text
    assert 'Classifier.from_pretrained("someone/mnist-cnn")' in text
    assert "93.0% / 1.0%" in text  # the 'not a digit' detector
    assert "40% of the 1s given a flag" in text and "Training began" not in text


def test_card_says_a_fine_tune_began_from_saved_weights_and_the_flagged_share(tmp_path):
    figures = metrics() | {"start_from": "runs/best"}
    figures["recipe"]["flagged"] = 0.15
    write_model_card(tmp_path, figures, command="python train.py --preset finetune --start-from runs/best")
    text = ModelCard.load(tmp_path / "README.md").text
    assert "Training began from the weights in `runs/best` (fine-tuning)" in text
    assert "15% of the 1s given a flag and of the 7s a bar" in text


def test_card_without_a_repo_or_detector_still_reads_well(tmp_path):
    figures = metrics(not_a_digit=False)
    figures["test"]["total"], figures["val"]["total"] = 200, 60
    figures["recipe"] |= {"augment": False, "negatives": 0}
    write_model_card(tmp_path, figures, command="python train.py")
    card = ModelCard.load(tmp_path / "README.md")
    assert "200 MNIST test images" in card.text and "60 held-out" in card.text
    assert "Not a digit" not in card.text and "non-digits" not in card.text and "no augmentation" in card.text
    assert 'Classifier.from_pretrained("path/to/this/folder")' in card.text
