"""The app's Train tab through its script API: /train with gradio_client, as issue 12's "done when" says.

Real MNIST (MNIST_DATA_DIR): cnn-fast for 1 epoch streams >= 10 updates and scores >= 98% on the
test set, the mlp >= 95%; bad values get plain words; with no MNIST and no internet, /train and the
tab say where to get it; --no-training (or MNIST_DEMO_NO_TRAINING=1) hides it all. The speed goals
(<= 90 s, /classify p95 <= 1.5 s meanwhile) are measured by benchmarks/train_while_drawing.py.

    MNIST_DATA_DIR=... python -m pytest tests/test_app_training.py -q
"""

import os

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from conftest import kept_corrections, serve_app  # noqa: E402
from gradio_client import Client  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

import app  # noqa: E402
from mnist_demo.classifier_loader import ClassifierLoader  # noqa: E402
from mnist_demo.corrections import CorrectionStore, held_out  # noqa: E402
from mnist_demo.live_training import SessionModels, Trainer  # noqa: E402

pytestmark = pytest.mark.slow  # servers, and training on real MNIST


def serve(classifier, trainer: Trainer | None, corrections=None):
    return serve_app(ClassifierLoader.of(classifier), trainer=trainer, corrections=corrections)


@pytest.fixture(scope="module")
def trainer(mnist_dir):
    return Trainer(mnist_dir, SessionModels(capacity=2))


@pytest.fixture(scope="module")
def corrections(mnist_test, tmp_path_factory):
    """A corrections folder holding 30 MNIST test digits people said the model read as 0."""
    images, labels = mnist_test
    return kept_corrections(tmp_path_factory.mktemp("corrections"), images[:30], labels[:30])


@pytest.fixture(scope="module")
def client(classifier, trainer, corrections):
    demo, url = serve(classifier, trainer, corrections)
    client = Client(url, verbose=False)
    yield client
    client.close()
    demo.close()


def test_the_api_page_lists_train_beside_the_other_endpoints(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {"/predict", "/classify", "/read", "/correct", "/train"}
    names = [p["parameter_name"] for p in endpoints["/train"]["parameters"]]
    assert names == ["model", "epochs", "lr", "batch_size", "augment", "include_corrections"]


@pytest.mark.parametrize(
    "values, words",
    [
        ({"model": "resnet"}, "Unknown network 'resnet'"),
        ({"epochs": 0}, "Epochs must be a whole number from 1 to 3, not 0"),
        ({"epochs": 50}, "Epochs must be a whole number from 1 to 3, not 50"),
        ({"lr": -0.01}, "The learning rate must be a number above 0"),
    ],
)
def test_bad_values_get_plain_words(client, values, words):
    with pytest.raises(AppError, match=words):
        client.predict(api_name="/train", **values)


@pytest.mark.parametrize("model, goal, include", [("cnn-fast", 98.0, False), ("mlp", 95.0, True)])
def test_one_epoch_through_train_streams_progress_and_reaches_the_goal(
    client, trainer, corrections, model, goal, include
):
    updates = list(client.submit(model=model, epochs=1, include_corrections=include, api_name="/train"))
    assert len(updates) >= 10
    for update in updates:
        assert {"epoch", "step", "steps", "loss"} <= set(update) and update["epoch"] in (0, 1)
    assert [u["step"] for u in updates] == sorted(u["step"] for u in updates)
    assert any("val_accuracy" in u for u in updates[:-1])
    final = updates[-1]
    assert final["test_accuracy"] >= goal and final["test_images"] == 10_000
    assert trainer.models.get(client.session_hash) is not None  # the client's session now has its own model
    if include:  # people's corrections learned, as train.py --corrections learns them, a tenth held out
        report = final["corrections"]
        kept_back = [e for e in corrections.entries() if held_out(e.id)]
        assert report["held_out"]["total"] == len(kept_back) and report["digits"] == 30 - len(kept_back)
        assert report["held_out"]["right_before"] == sum(e.label == "0" for e in kept_back)  # the model said 0
    else:
        assert "corrections" not in final


def test_the_corrections_choice_shows_only_when_the_app_keeps_some(corrections, tmp_path):
    assert app.corrections_choice(corrections).visible is True
    for none in (None, CorrectionStore(tmp_path)):
        choice = app.corrections_choice(none)
        assert choice.visible is False and choice.value is False


def test_corrections_are_refused_in_words_when_the_app_keeps_none(classifier, trainer, tmp_path):
    demo, url = serve(classifier, trainer, CorrectionStore(tmp_path))
    try:
        client = Client(url, verbose=False)
        with pytest.raises(AppError, match="There are no people's corrections to learn from"):
            client.predict(model="mlp", include_corrections=True, api_name="/train")
        client.close()
    finally:
        demo.close()


def test_without_mnist_the_tab_and_train_say_where_to_get_it(classifier, tmp_path, monkeypatch):
    from torchvision.datasets import MNIST

    def offline(self):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: <urlopen error [Errno -3] name resolution>")

    monkeypatch.setattr(MNIST, "download", offline)
    trainer = Trainer(tmp_path)
    note = app.data_note_update(trainer)  # what the page load shows on the Train tab
    assert note.visible and "--data-dir" in note.value and "MNIST_DATA_DIR" in note.value
    demo, url = serve(classifier, trainer)
    try:
        client = Client(url, verbose=False)
        with pytest.raises(AppError, match="Point --data-dir or MNIST_DATA_DIR at a folder holding MNIST/raw"):
            client.predict(model="mlp", api_name="/train")
        client.close()
    finally:
        demo.close()


def test_with_mnist_on_disk_the_tab_shows_no_note(trainer):
    assert not app.data_note_update(trainer).visible


def test_no_training_hides_the_tab_and_the_endpoint(classifier, monkeypatch):
    monkeypatch.delenv("MNIST_DEMO_NO_TRAINING", raising=False)
    assert not app.parse_args([]).no_training and app.parse_args(["--no-training"]).no_training
    monkeypatch.setenv("MNIST_DEMO_NO_TRAINING", "1")
    assert app.parse_args([]).no_training
    monkeypatch.setenv("MNIST_DATA_DIR", "/somewhere/mnist")
    assert app.parse_args([]).data_dir == "/somewhere/mnist"
    demo, url = serve(classifier, None)
    try:
        labels = [c.get("props", {}).get("label") for c in demo.config["components"]]
        assert "Train" not in labels
        client = Client(url, verbose=False)
        assert "/train" not in client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        client.close()
    finally:
        demo.close()
