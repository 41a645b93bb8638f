"""mnist_demo.live_training: the app's training slot (caps, one run at a time, one core), the per-session models.

Trains on the tiny synthetic IDX files of conftest; the real-MNIST figures are in tests/test_app_training.py.
"""

import threading

import numpy as np
import pytest
import torch
from conftest import kept_corrections

from mnist_demo import data, live_training, training
from mnist_demo.live_training import SessionModels, Trainer, TrainingError, checked_recipe


@pytest.fixture
def trainer(tiny_mnist_dir):
    return Trainer(tiny_mnist_dir, SessionModels(capacity=2))


def small(model: str = "mlp", epochs: int = 1):
    return checked_recipe(model, epochs=epochs, batch_size=32)


BAD_VALUES = {
    "unknown model": ({"model": "resnet"}, "Unknown network 'resnet': choose one of mlp, tutorial-cnn, cnn-fast."),
    "no epochs": ({"epochs": 0}, "Epochs must be a whole number from 1 to 3, not 0"),
    "too many epochs": ({"epochs": 50}, "Epochs must be a whole number from 1 to 3, not 50"),
    "half an epoch": ({"epochs": 1.5}, "Epochs must be a whole number from 1 to 3, not 1.5"),
    "negative lr": ({"lr": -0.1}, "The learning rate must be a number above 0 and at most 1, not -0.1."),
    "lr as text": ({"lr": "fast"}, "The learning rate must be a number above 0 and at most 1, not 'fast'."),
    "no batch": ({"batch_size": 0}, "The batch size must be a whole number from 1 to 2048, not 0."),
    "huge batch": ({"batch_size": 60000}, "The batch size must be a whole number from 1 to 2048, not 60000."),
}


@pytest.mark.parametrize("case", BAD_VALUES)
def test_bad_values_are_refused_in_plain_words(case):
    values, message = BAD_VALUES[case]
    with pytest.raises(ValueError) as error:
        checked_recipe(**values)
    assert str(error.value).startswith(message)


def test_the_defaults_make_a_recipe_that_runs_on_the_cpu():
    recipe = checked_recipe()
    settings = (recipe.arch, recipe.epochs, recipe.lr, recipe.batch_size, recipe.augment)
    assert settings == ("cnn-fast", 1, 1e-2, 256, False)
    assert recipe.device == "cpu"
    assert checked_recipe("tutorial-cnn", epochs=3.0, lr=1, batch_size=64.0, augment=True).epochs == 3


def test_session_models_keep_at_most_capacity_dropping_the_oldest():
    models = SessionModels(capacity=2)
    for session in ("a", "b", "c"):
        models.put(session, f"model {session}")
    assert len(models) == 2 and models.get("a") is None and models.get("c") == "model c"
    models.put("b", "model b again")  # a new model for b makes b the newest
    models.put("d", "model d")
    assert (models.get("b"), models.get("c"), models.get("d")) == ("model b again", None, "model d")
    models.drop("d")
    models.drop("never seen")
    assert models.get("d") is None and models.get(None) is None and len(models) == 1


def test_a_run_streams_progress_then_test_figures_and_keeps_the_model_for_its_session(trainer):
    updates = list(trainer.train(small(epochs=2), "session-1"))
    progress, final = updates[:-1], updates[-1]
    assert len(progress) >= 2 * live_training.UPDATES_PER_EPOCH
    assert all({"epoch", "step", "steps", "loss", "seconds", "seconds_left"} <= set(u) for u in progress)
    assert [u["step"] for u in progress] == sorted(u["step"] for u in progress)
    assert [u["epoch"] for u in progress if u["step"] % 17 == 0] == [1, 2]  # each epoch's end, fully validated
    assert all(0 <= u["val_accuracy"] <= 100 for u in progress)
    assert final["done"] and final["stopped"] is None and final["epoch"] == 2 and final["test_images"] == 200
    assert len(final["mistakes"]) == min(final["test_mistakes"], live_training.MISTAKES_SHOWN)
    classifier = trainer.models.get("session-1")
    images, labels = trainer.data().test_x.numpy(), trainer.data().test_y.numpy()
    accuracy = (classifier.predict_mnist(images).argmax(1) == labels).mean()
    assert final["test_accuracy"] == pytest.approx(100 * accuracy, abs=0.01)  # the kept model is the one tested
    for mistake in final["mistakes"]:
        assert mistake["predicted"] != mistake["label"] == labels[mistake["index"]]


def test_stop_ends_the_run_and_it_still_reports_what_it_learnt(trainer):
    updates = []
    for update in trainer.train(small(epochs=3), "session-2"):
        updates.append(update)
        if len(updates) == 3:
            assert not trainer.stop("someone else")  # only the session that trains can stop it
            assert trainer.stop("session-2")
    final = updates[-1]
    assert final["done"] and final["stopped"] == "stopped" and final["epoch"] == 0
    assert 0 <= final["test_accuracy"] <= 100 and trainer.models.get("session-2") is not None


def test_the_time_cap_stops_a_run(tiny_mnist_dir):
    capped = Trainer(tiny_mnist_dir, max_seconds=0)
    final = list(capped.train(small(epochs=3), "session-3"))[-1]
    assert final["stopped"] == "stopped at the 0 s cap" and final["epoch"] == 0


def test_one_run_at_a_time_and_the_training_takes_one_core(trainer, monkeypatch):
    threads, order = [], []
    fit = training.Run.fit

    def fit_recording_threads(run, *args, **kwargs):
        threads.append(torch.get_num_threads())
        return fit(run, *args, **kwargs)

    monkeypatch.setattr(training.Run, "fit", fit_recording_threads)
    first = trainer.train(small(), "first")
    order.append(("first", next(first)["step"]))  # the first run now holds the slot

    def second_run():
        for update in trainer.train(small(), "second"):
            order.append(("second", update["step"]))

    waiting = threading.Thread(target=second_run)
    waiting.start()
    for update in first:
        order.append(("first", update["step"]))
    waiting.join()
    names = [name for name, _ in order]
    assert names == sorted(names, key=["first", "second"].index)  # every update of the first before the second's
    assert names.count("second") > 1 and threads == [1, 1]


def test_without_mnist_and_internet_the_trainer_says_where_to_get_it(tmp_path, monkeypatch):
    def offline(root, train):
        raise data.DataError(
            f"MNIST is not in {root / 'MNIST' / 'raw'} and could not be downloaded (offline). Point "
            "--data-dir or MNIST_DATA_DIR at a folder holding MNIST/raw/*-ubyte, or connect to the "
            "internet."
        )

    monkeypatch.setattr(data, "download", offline)
    with pytest.raises(TrainingError, match="--data-dir or MNIST_DATA_DIR"):
        list(Trainer(tmp_path).train(small(), "session"))
    note = live_training.mnist_note(tmp_path)
    assert str(tmp_path / "MNIST" / "raw") in note and "--data-dir" in note and "MNIST_DATA_DIR" in note


def test_no_note_when_mnist_is_there(tiny_mnist_dir):
    assert live_training.mnist_note(tiny_mnist_dir) is None


def test_progress_and_results_read_as_sentences():
    update = {
        "epoch": 1,
        "step": 50,
        "steps": 215,
        "loss": 0.4213,
        "val_accuracy": 95.25,
        "seconds": 3.0,
        "seconds_left": 9.9,
    }
    assert live_training.progress_text(update) == (
        "Epoch 1 · step 50 of 215 · loss 0.421 · validation accuracy 95.2% · about 10 s left"
    )
    final = {
        "done": True,
        "seconds": 12.3,
        "stopped": "stopped",
        "test_accuracy": 98.5,
        "test_mistakes": 150,
        "test_images": 10000,
    }
    assert live_training.progress_text(final) == "Done in 12 s (stopped)."
    assert live_training.results_text(final).startswith("### Test accuracy: 98.50%\n150 of the 10,000 MNIST test")


def test_the_progress_bar_counts_optimizer_steps():
    bar = live_training.progress_bar({"step": 50, "steps": 215})
    assert bar == '<progress value="50" max="215" style="width: 100%"></progress>'


def test_the_curves_hold_every_loss_and_only_the_scored_accuracies():
    points = [
        {"step": 10, "loss": 1.5},
        {"step": 20, "loss": 0.9, "val_accuracy": 80.0},
        {"step": 30, "loss": 0.5, "val_accuracy": None},
        {"step": 40, "loss": 0.3, "val_accuracy": 95.5},
    ]
    loss, accuracy = live_training.curve_frames(points)
    assert list(loss.columns) == ["step", "loss"] and loss["step"].tolist() == [10, 20, 30, 40]
    assert loss["loss"].tolist() == [1.5, 0.9, 0.5, 0.3]
    assert list(accuracy.columns) == ["step", "validation accuracy (%)"]
    assert accuracy["step"].tolist() == [20, 40] and accuracy["validation accuracy (%)"].tolist() == [80.0, 95.5]
    assert [len(frame) for frame in live_training.curve_frames([])] == [0, 0]


def test_mistake_items_show_the_test_images_the_run_got_wrong(trainer):
    test_x = trainer.data().test_x
    final = {
        "mistakes": [
            {"index": 7, "label": 4, "predicted": 9, "confidence": 0.966},
            {"index": 3, "label": 1, "predicted": 7, "confidence": 0.51},
        ]
    }
    items = live_training.mistake_items(trainer, final)
    assert [caption for _, caption in items] == ["a 4 read as 9 (97%)", "a 1 read as 7 (51%)"]
    assert (items[0][0] == test_x[7].numpy()).all() and (items[1][0] == test_x[3].numpy()).all()
    assert live_training.mistake_items(trainer, {"mistakes": []}) == []


def test_your_model_label_names_the_network_epochs_and_test_accuracy():
    final = {"epoch": 2, "test_accuracy": 98.456}
    assert live_training.your_model_label("mlp", final) == "Your model (mlp, 2 epoch(s), 98.46% on the test set)"


def test_a_run_learns_people_corrections_and_scores_the_held_out_ones(trainer, tmp_path, monkeypatch):
    from mnist_demo import corrections

    monkeypatch.setattr(corrections, "held_out", lambda entry_id: entry_id < "4")  # a quarter, for more held out
    test_x, test_y = trainer.data().test_x.numpy(), trainer.data().test_y.numpy()
    store = kept_corrections(tmp_path, test_x[:40], test_y[:40])
    kept_back = [e for e in store.entries() if e.id < "4"]
    learned = []
    fit = training.Run.fit

    def fit_recording_corrections(run, *args, **kwargs):
        learned.append(sorted(run.corrections[1].tolist()) if run.corrections is not None else None)
        return fit(run, *args, **kwargs)

    monkeypatch.setattr(training.Run, "fit", fit_recording_corrections)
    final = list(trainer.train(small(), "session-4", corrections=store.folder))[-1]
    report = final["corrections"]
    assert report["digits"] == 40 - len(kept_back) and report["non_digits"] == 0
    assert learned == [sorted(int(e.label) for e in store.entries() if e.id >= "4")]  # the rest, trained on
    held = report["held_out"]
    assert held["total"] == len(kept_back) and held["right_before"] == sum(e.label == "0" for e in kept_back)
    model = trainer.models.get("session-4")
    now_right = sum(str(model.predict_mnist(e.mnist()).argmax()) == e.label for e in kept_back)
    assert held["right_after"] == now_right  # scored by the kept model, on what the served model saw
    assert "Learned from people's corrections: " in live_training.results_text(final)
    assert "corrections" not in list(trainer.train(small(), "session-5"))[-1]  # only when asked
    assert learned[-1] is None


def test_corrections_are_learned_only_when_asked_and_kept(tmp_path):
    store = kept_corrections(tmp_path / "some", np.zeros((1, 28, 28), np.uint8), ["7"])
    assert live_training.corrections_to_learn(store, False) is None
    assert live_training.corrections_to_learn(store, True) == store.folder
    for nothing in (None, kept_corrections(tmp_path / "none", [], [])):
        assert live_training.corrections_to_learn(nothing, False) is None
        with pytest.raises(ValueError, match="There are no people's corrections to learn from"):
            live_training.corrections_to_learn(nothing, True)


def test_a_missing_corrections_folder_is_said_in_words(trainer, tmp_path):
    with pytest.raises(TrainingError, match="No corrections folder"):
        list(trainer.train(small(), "session-6", corrections=tmp_path / "gone"))
