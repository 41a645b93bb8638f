"""mnist_demo.training: the loop's progress callback, stopping, the temperature choice, calibration.

Runs on the tiny synthetic IDX files of conftest (540 training, 60 validation, 200 test images).
"""

import numpy as np
import pytest
import torch
from conftest import tiny_recipe

from mnist_demo import training
from mnist_demo.calibration import expected_calibration_error
from mnist_demo.training import Run, StopTraining


def test_data_splits_follow_mnist_layout(tiny_data):
    assert (len(tiny_data.train_x), len(tiny_data.val_x), len(tiny_data.test_x)) == (540, 60, 200)
    assert tiny_data.train_x.dtype == torch.uint8 and tiny_data.train_x.shape[1:] == (28, 28)


def test_progress_callback_reports_each_epoch_in_order(tiny_data):
    run = Run(tiny_recipe(), tiny_data)
    updates, epochs = [], []
    run.fit(on_progress=updates.append, on_epoch=epochs.append, updates_per_epoch=4, val_sample=20)
    steps_per_epoch = -(-540 // 32)  # 17, the last batch partial
    assert run.steps == 2 * steps_per_epoch
    assert [u["step"] for u in updates] == [4, 8, 12, 16, 21, 25, 29, 33]
    assert [u["epoch"] for u in updates] == [1] * 4 + [2] * 4
    assert all(u["steps"] == run.steps and u["loss"] >= 0 and 0 <= u["val_accuracy"] <= 1 for u in updates)
    assert updates[-1]["loss"] < updates[0]["loss"]
    assert epochs == run.history and [e["epoch"] for e in epochs] == [1, 2]
    assert run.scheduler.last_epoch == run.steps  # one optimizer step per batch, none lost


def test_without_updates_the_loop_reads_no_validation_mid_epoch(tiny_data, monkeypatch):
    run = Run(tiny_recipe(epochs=1), tiny_data)
    calls, logits = [], run.logits
    monkeypatch.setattr(run, "logits", lambda images: calls.append(len(images)) or logits(images))
    run.fit(on_progress=lambda update: pytest.fail("no updates were asked for"))
    assert calls == [len(run.val_x)] and len(run.history) == 1  # only the full validation at the epoch's end


def test_calibration_reuses_the_best_epochs_validation_logits(tiny_data, monkeypatch):
    run = Run(tiny_recipe(epochs=2), tiny_data)
    run.fit()
    calls, logits = [], run.logits
    monkeypatch.setattr(run, "logits", lambda images: calls.append(len(images)) or logits(images))
    result = training.calibrate(run)  # loads the best epoch's weights
    assert calls == [] and result["temperature"] > 0  # no second pass over the validation images
    torch.testing.assert_close(run.best_val_logits, logits(run.val_x))  # they are the best weights' logits


def test_the_loop_learns(tiny_data):
    run = Run(tiny_recipe(arch="cnn-fast"), tiny_data)
    run.fit()
    assert run.history[-1]["train_loss"] < run.history[0]["train_loss"]
    assert run.best_val_acc > 0.5  # ten easy classes: chance is 0.1


def test_should_stop_ends_the_run_and_keeps_the_finished_epochs(tiny_data):
    run = Run(tiny_recipe(), tiny_data)
    steps = []
    with pytest.raises(StopTraining):
        run.fit(on_progress=steps.append, updates_per_epoch=17, should_stop=lambda: len(steps) >= 20)
    assert [h["epoch"] for h in run.history] == [1] and run.best_state is not None
    assert run.scheduler.last_epoch == 21  # stopped before the 22nd step


def test_calibrate_uses_the_best_epoch_and_a_temperature_that_helps(tiny_data):
    run = Run(tiny_recipe(), tiny_data)
    run.fit()
    best = {k: v.clone() for k, v in run.best_state.items()}
    result = training.calibrate(run)
    for name, tensor in best.items():
        if name not in ("temperature", "ood_threshold"):
            assert torch.equal(run.model.state_dict()[name], tensor), name
    assert float(run.model.temperature) == pytest.approx(result["temperature"])
    if result["temperature_kept"]:
        assert result["val_ece"]["scaled"] < result["val_ece"]["unscaled"]
    else:
        assert result["temperature"] == 1.0


def test_the_not_a_digit_threshold_counts_out_of_style_digits_and_reports_both_sides(tiny_data):
    from mnist_demo.negatives import make_negatives

    run = Run(tiny_recipe(negatives=40), tiny_data, negatives=make_negatives(40, seed=0))
    run.fit()
    result = training.calibrate(run, held_out_negatives=make_negatives(30, seed=10_000))
    detector = result["not_a_digit"]
    assert float(run.model.ood_threshold) == pytest.approx(detector["threshold"])
    rates = [detector[k] for k in ("val_digits_flagged", "out_of_style_digits_flagged", "held_out_non_digits_flagged")]
    assert all(0 <= rate <= 1 for rate in rates)
    # the threshold stays within both budgets
    slack = 1 / len(tiny_data.val_x)
    assert detector["val_digits_flagged"] <= training.MAX_FLAGGED_DIGITS + slack
    assert detector["out_of_style_digits_flagged"] <= training.MAX_FLAGGED_OUT_OF_STYLE + slack


def test_a_temperature_that_does_not_lower_the_validation_ece_is_dropped(monkeypatch):
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 10, (2000,), generator=generator)
    logits = torch.randn(2000, 10, generator=generator)
    logits[torch.arange(2000), labels] += 3.0
    monkeypatch.setattr(training, "fit_temperature", lambda *args: 25.0)  # a fit gone badly wrong
    choice = training.temperature_choice(logits, labels)
    assert choice == {**choice, "temperature": 1.0, "fitted_temperature": 25.0, "temperature_kept": False}
    unscaled = expected_calibration_error(torch.softmax(logits, 1).numpy(), labels.numpy())
    assert choice["val_ece"]["unscaled"] == pytest.approx(unscaled)


def test_an_overconfident_model_keeps_its_fitted_temperature():
    generator = torch.Generator().manual_seed(1)
    logits = 2 * torch.randn(20000, 10, generator=generator)
    labels = torch.multinomial(torch.softmax(logits, 1), 1, generator=generator)[:, 0]  # calibrated by construction
    choice = training.temperature_choice(logits * 4, labels)  # four times too sure of itself
    assert choice["temperature_kept"] and choice["temperature"] == pytest.approx(4, rel=0.2)


def test_calibrate_without_a_finished_epoch_keeps_the_weights_it_has(tiny_data):
    run = Run(tiny_recipe(), tiny_data)
    with pytest.raises(StopTraining):
        run.fit(should_stop=lambda: run.scheduler.last_epoch >= 3)
    weights = {k: v.clone() for k, v in run.model.state_dict().items()}
    training.calibrate(run)
    assert torch.equal(run.model.state_dict()["net.layers.1.weight"], weights["net.layers.1.weight"])


def test_test_set_probabilities_are_calibrated_and_sum_to_one(tiny_data):
    run = Run(tiny_recipe(epochs=1), tiny_data)
    run.fit()
    run.model.temperature.fill_(2.0)
    calibrated, raw, labels = training.probabilities_on_test_set(run)
    assert calibrated.shape == raw.shape == (200, 10) and np.array_equal(labels, tiny_data.test_y.numpy())
    np.testing.assert_allclose(calibrated.sum(1), 1, atol=1e-5)
    assert calibrated.max(1).mean() < raw.max(1).mean()  # T = 2 softens every prediction


@pytest.mark.parametrize("images, batch, epochs, expected", [(540, 32, 2, 34), (512, 256, 1, 2), (1, 1, 8, 8)])
def test_total_steps_counts_the_partial_batch(images, batch, epochs, expected):
    assert training.total_steps(images, batch, epochs) == expected
    assert (training.too_few_steps(images, batch, epochs) is None) == (expected >= training.MIN_STEPS)


@pytest.mark.parametrize(
    "capabilities, onednn_allows, expected",
    [
        ({"avx2": True, "avx512_f": True}, True, None),  # AVX-512 without bf16: oneDNN would emulate it, slower
        ({"avx2": True}, False, None),
        ({"avx512_bf16": True}, True, torch.bfloat16),
        ({"amx_bf16": True}, True, torch.bfloat16),
        ({"bf16": True}, True, torch.bfloat16),  # Arm
        ({"amx_bf16": True}, False, None),  # ONEDNN_MAX_CPU_ISA forbids it
    ],
)
def test_bf16_only_where_the_cpu_runs_it_natively(monkeypatch, capabilities, onednn_allows, expected):
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: capabilities)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: onednn_allows)
    cpu = torch.device("cpu")
    assert training.pick_autocast_dtype("auto", cpu) == expected
    assert training.pick_autocast_dtype("fp32", cpu) is None
    assert training.pick_autocast_dtype("bf16", cpu) == torch.bfloat16  # asked for: given
    assert training.pick_autocast_dtype("auto", torch.device("cuda")) == torch.bfloat16


def test_on_the_cpu_the_convolutions_train_in_channels_last(tiny_data):
    run = Run(tiny_recipe(arch="cnn-fast", epochs=1), tiny_data)
    conv = run.model.net.features[0].weight
    assert run.channels_last and conv.is_contiguous(memory_format=torch.channels_last)
    assert run.inputs(tiny_data.train_x[:4]).is_contiguous(memory_format=torch.channels_last)
    assert training.device_text(run.device) == f"cpu ({torch.backends.cpu.get_cpu_capability()})"


def squares(count: int, seed: int) -> np.ndarray:
    """A kind of picture the tiny synthetic digits lack: a filled square, 8-14 px, somewhere near the middle."""
    rng = np.random.default_rng(seed)
    images = (rng.random((count, 28, 28)) * 40).astype(np.uint8)
    for image in images:
        side, top, left = rng.integers(8, 15), rng.integers(6, 10), rng.integers(6, 10)
        image[top : top + side, left : left + side] = 255
    return images


def read_as(run: Run, images: np.ndarray) -> np.ndarray:
    return training.calibrated_probabilities(run, images).argmax(1)


def test_a_few_dozen_corrections_teach_a_kind_of_picture_the_data_lacks(tiny_data):
    taught = Run(tiny_recipe(), tiny_data, corrections=(squares(24, seed=0), np.full(24, 7)))
    taught.fit()
    plain = Run(tiny_recipe(), tiny_data)
    plain.fit()
    others = squares(100, seed=1)  # never trained on
    assert (read_as(taught, others) == 7).mean() >= 0.9
    assert (read_as(plain, others) == 7).mean() < 0.5
    assert taught.best_val_acc > 0.5  # and the digits are still read


def test_each_batch_gets_its_share_of_corrections(tiny_data):
    few = Run(tiny_recipe(), tiny_data, corrections=(squares(5, seed=0), np.arange(5)))
    images, labels = few.sample_corrections(32)
    assert images.shape == (round(32 * training.CORRECTION_FRACTION), 1, 28, 28)
    assert set(labels.tolist()) <= set(range(5))
    many = Run(tiny_recipe(), tiny_data, corrections=(squares(270, seed=0), np.zeros(270, np.int64)))
    assert len(many.sample_corrections(32)[1]) == 16  # half as many as the 540 digits: each seen about once an epoch
    assert Run(tiny_recipe(), tiny_data).sample_corrections(32) is None
    assert Run(tiny_recipe(), tiny_data, corrections=(squares(0, 0), np.zeros(0))).sample_corrections(32) is None


def test_reader_examples_join_every_batch_as_labelled_digits(tiny_data):
    images, labels = tiny_data.train_x[:50].numpy(), tiny_data.train_y[:50].numpy()
    run = Run(tiny_recipe(epochs=1, augment=True), tiny_data, examples=(images, labels))
    extra_images, extra_labels = run.sample_examples(32)
    assert len(extra_images) == len(extra_labels) == int(32 * training.EXAMPLE_FRACTION)
    assert extra_images.shape[1:] == (1, 28, 28) and extra_images.max() <= 1
    run.fit()
    assert len(run.history) == 1 and 0 <= run.history[0]["train_acc"] <= 1
    assert Run(tiny_recipe(), tiny_data).sample_examples(32) is None
