"""mnist_demo.checkpoint: a saved run loads back exactly; resuming refuses another recipe or a bad file in words.

The end-to-end check (a resumed train.py run ends where the uninterrupted one does) is in tests/test_train.py.
"""

import json

import pytest
import torch
from conftest import tiny_recipe
from safetensors.torch import save_file

from mnist_demo import checkpoint
from mnist_demo.checkpoint import CHECKPOINT_FILE, CHECKPOINT_INFO, CheckpointError
from mnist_demo.training import Run, StopTraining


@pytest.fixture(scope="module")
def saved(tiny_data, tmp_path_factory):
    """A run after one of its two epochs, the folder its checkpoint is in, its shuffling state then."""
    out = tmp_path_factory.mktemp("checkpoint")
    run = Run(tiny_recipe(), tiny_data)
    shuffle = []

    def on_epoch(record):
        checkpoint.save_checkpoint(run, out)
        shuffle.append(run.shuffle.get_state().clone())

    with pytest.raises(StopTraining):  # right after epoch 1's checkpoint (epoch 2's order is drawn by then)
        run.fit(on_epoch=on_epoch, should_stop=lambda: len(run.history) == 1)
    return run, out, shuffle[0]


def test_a_checkpoint_is_one_safetensors_file_and_a_readable_copy_of_its_progress(saved):
    run, out, shuffle = saved
    assert {p.name for p in out.iterdir()} == {CHECKPOINT_FILE, CHECKPOINT_INFO}
    info = json.loads((out / CHECKPOINT_INFO).read_text())
    assert info == checkpoint.read_checkpoint_info(out)
    assert info["args"] == tiny_recipe().as_dict() and [h["epoch"] for h in info["history"]] == [1]


def test_a_loaded_checkpoint_puts_the_run_back_exactly(saved, tiny_data):
    run, out, shuffle = saved
    fresh = Run(tiny_recipe(seed=5), tiny_data)  # another seed: everything must come from the file
    checkpoint.load_checkpoint(fresh, out)
    for name, tensor in run.model.state_dict().items():
        assert torch.equal(fresh.model.state_dict()[name], tensor), name
    for name, tensor in run.best_state.items():
        assert torch.equal(fresh.best_state[name], tensor), name
    assert fresh.history == run.history and fresh.best_val_acc == run.best_val_acc
    assert fresh.scheduler.last_epoch == run.scheduler.last_epoch
    assert torch.equal(fresh.shuffle.get_state(), shuffle)
    theirs, ours = run.optimizer.state_dict(), fresh.optimizer.state_dict()
    for param_id, state in theirs["state"].items():
        for key, value in state.items():
            assert torch.equal(torch.as_tensor(ours["state"][param_id][key]), torch.as_tensor(value)), key


def test_resuming_with_the_same_recipe_is_allowed_and_another_is_refused_in_words(saved):
    _, out, _ = saved
    checkpoint.check_resumable(out, tiny_recipe(device="cuda"))  # where it runs is no part of the recipe
    with pytest.raises(CheckpointError, match=r"made with --epochs 2, --batch-size 32; pass the same flags"):
        checkpoint.check_resumable(out, tiny_recipe(epochs=3, batch_size=64))
    with pytest.raises(CheckpointError, match="made with no --limit"):
        checkpoint.check_resumable(out, tiny_recipe(limit=100))


def test_no_checkpoint_or_an_unreadable_one_is_explained(tmp_path):
    with pytest.raises(CheckpointError, match=f"there is no checkpoint \\({CHECKPOINT_FILE}\\) in {tmp_path}"):
        checkpoint.read_checkpoint_info(tmp_path)
    (tmp_path / CHECKPOINT_FILE).write_bytes(b"half a safetensors file")
    with pytest.raises(CheckpointError, match=f"the checkpoint in {tmp_path} cannot be read"):
        checkpoint.read_checkpoint_info(tmp_path)


def test_a_tensors_file_without_its_progress_is_not_a_checkpoint(tmp_path):
    """No fallback to a separate JSON file: that format was never released."""
    save_file({"model.x": torch.zeros(1)}, str(tmp_path / CHECKPOINT_FILE))
    (tmp_path / CHECKPOINT_INFO).write_text(json.dumps({"args": {}, "history": []}))
    with pytest.raises(CheckpointError, match="cannot be read"):
        checkpoint.read_checkpoint_info(tmp_path)
