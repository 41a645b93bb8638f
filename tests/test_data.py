"""mnist_demo.data: IDX files to tensors, the fixed validation split, index batches, batched augmentation."""

import numpy as np
import pytest
import torch
from conftest import synthetic_digits, write_idx

from mnist_demo import data


def test_load_mnist_reads_the_idx_files_without_downloading(tiny_mnist_dir, monkeypatch):
    from torchvision.datasets import MNIST

    monkeypatch.setattr(MNIST, "download", lambda self: pytest.fail("must not download when the files are there"))
    images, labels = data.load_mnist(tiny_mnist_dir, train=True)
    expected_images, expected_labels = synthetic_digits(600, seed=0)  # what the fixture wrote
    assert images.dtype == torch.uint8 and images.shape == (600, 28, 28)
    assert labels.dtype == torch.int64 and labels.shape == (600,)
    np.testing.assert_array_equal(images.numpy(), expected_images)
    np.testing.assert_array_equal(labels.numpy(), expected_labels)
    assert data.load_mnist(tiny_mnist_dir, train=False)[0].shape == (200, 28, 28)


def test_read_idx_refuses_truncated_and_foreign_files(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    write_idx(path, np.zeros((3, 28, 28), dtype=np.uint8))
    assert data.read_idx(path).shape == (3, 28, 28)
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(data.DataError, match="truncated: 2347 bytes of data where its header says 2352; delete it"):
        data.read_idx(path)
    path.write_bytes(b"<html>a captive portal page</html>")
    with pytest.raises(data.DataError, match="not a uint8 IDX file"):
        data.read_idx(path)


def test_missing_files_that_cannot_be_downloaded_say_where_to_point(tmp_path, monkeypatch):
    from torchvision.datasets import MNIST

    def offline(self):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried https://..., got:\n<urlopen error>")

    monkeypatch.setattr(MNIST, "download", offline)
    with pytest.raises(data.DataError) as error:
        data.load_mnist(tmp_path, train=True)
    assert str(error.value) == (
        f"MNIST is not in {tmp_path / 'MNIST' / 'raw'} and could not be downloaded (Error downloading "
        "train-images-idx3-ubyte.gz). Point --data-dir or MNIST_DATA_DIR at a folder holding MNIST/raw/*-ubyte, "
        "or connect to the internet."
    )


def test_default_data_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path))
    assert data.default_data_dir() == tmp_path
    monkeypatch.delenv("MNIST_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.default_data_dir() == tmp_path / "cache" / "mnist-demo"


def test_split_is_fixed_disjoint_and_complete():
    images = torch.arange(60_000).reshape(-1, 1, 1)  # each "image" is its own index
    labels = torch.arange(60_000)
    (train_x, train_y), (val_x, val_y) = data.split_train_val(images, labels)
    assert len(val_x) == data.VALIDATION_SIZE and len(train_x) == 60_000 - data.VALIDATION_SIZE
    train_ids, val_ids = set(train_y.tolist()), set(val_y.tolist())
    assert not train_ids & val_ids and len(train_ids | val_ids) == 60_000
    assert torch.equal(train_x.flatten(), train_y)  # images and labels stay paired
    (_, again_train_y), (_, again_val_y) = data.split_train_val(images, labels)
    assert torch.equal(again_val_y, val_y) and torch.equal(again_train_y, train_y)
    torch.manual_seed(123)  # the global seed has no say in the split
    assert torch.equal(data.split_train_val(images, labels)[1][1], val_y)


def test_small_sets_hold_out_a_tenth():
    (_, train_y), (_, val_y) = data.split_train_val(torch.zeros(600, 28, 28), torch.arange(600))
    assert len(val_y) == 60 and len(train_y) == 540


@pytest.mark.parametrize("shuffle", [False, True])
def test_index_batches_cover_everything_once(shuffle):
    batches = data.index_batches(1000, 64, shuffle=shuffle, generator=torch.Generator().manual_seed(0))
    assert [len(b) for b in batches] == [64] * 15 + [40]
    every = torch.cat(batches)
    assert sorted(every.tolist()) == list(range(1000))
    assert (every.tolist() != list(range(1000))) == shuffle


def test_shuffling_follows_the_generator():
    first = data.index_batches(100, 10, shuffle=True, generator=torch.Generator().manual_seed(7))
    second = data.index_batches(100, 10, shuffle=True, generator=torch.Generator().manual_seed(7))
    assert all(torch.equal(a, b) for a, b in zip(first, second))


def test_to_unit_float():
    x = data.to_unit_float(torch.tensor([[[0, 255], [51, 102]]], dtype=torch.uint8))
    assert x.shape == (1, 1, 2, 2) and x.dtype == torch.float32
    torch.testing.assert_close(x.flatten(), torch.tensor([0.0, 1.0, 0.2, 0.4]))


def digits_batch(n: int = 64) -> torch.Tensor:
    images, _ = synthetic_digits(n, seed=3)
    return data.to_unit_float(torch.from_numpy(images))


def test_augmentation_keeps_shape_dtype_and_range():
    torch.manual_seed(0)
    x = digits_batch()
    out = data.augment(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert out.min() >= 0 and out.max() <= 1
    assert not torch.equal(out, x)
    changed = (out - x).abs().flatten(1).amax(1) > 0.05
    assert changed.float().mean() > 0.9  # every image gets its own transform


def test_augmentation_is_reproducible_with_the_seed():
    x = digits_batch(8)
    torch.manual_seed(5)
    first = data.augment(x)
    torch.manual_seed(5)
    assert torch.equal(data.augment(x), first)


def test_affine_keeps_the_ink_roughly():
    torch.manual_seed(1)
    x = digits_batch()
    out = data.random_affine(x)
    ratio = out.sum(dim=(1, 2, 3)) / x.sum(dim=(1, 2, 3))
    assert ((ratio > 0.6) & (ratio < 1.6)).all()  # scaled within +-12% and shifted, never blanked


def test_stroke_width_thickens_or_thins():
    x = torch.zeros(2, 1, 28, 28)
    x[:, :, 10:18, 13:15] = 1.0  # a 2-pixel-wide stroke
    thick = data.random_stroke_width(x, probability=2.0)  # choice < 1 always: thicken
    assert (thick.sum(dim=(1, 2, 3)) > x.sum(dim=(1, 2, 3))).all()
    torch.manual_seed(0)
    mixed = data.random_stroke_width(x.repeat(200, 1, 1, 1), probability=1.0)
    ink = mixed.sum(dim=(1, 2, 3))
    assert (ink > 16).any() and (ink < 16).any()  # both directions occur


def test_out_of_style_digits_keep_shape_range_and_differ_by_style():
    from mnist_demo.data import out_of_style

    x = torch.zeros(64, 1, 28, 28)
    x[:, :, 6:22, 12:16] = 1.0  # a "1"
    out = out_of_style(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    ink = (out > 0.1).flatten(1).sum(1)
    assert ink.min() < (x > 0.1).flatten(1).sum(1)[0] < ink.max()  # thinner (pencil) and thicker (marker, blur)
    assert torch.equal(out, out_of_style(x, torch.Generator().manual_seed(0)))


def test_random_style_redraws_about_its_share_of_the_batch():
    torch.manual_seed(0)
    x = digits_batch(400)
    out = data.random_style(x, probability=0.25)
    redrawn = (out - x).abs().flatten(1).amax(1) > 1e-6
    assert 0.15 < redrawn.float().mean() < 0.35
    assert torch.equal(out[~redrawn], x[~redrawn])  # the others pass through untouched


def test_random_paper_adds_faint_leftovers_and_keeps_the_strokes():
    torch.manual_seed(0)
    x = digits_batch(400)
    out = data.random_paper(x, probability=0.5)
    assert out.min() >= 0 and out.max() <= 1
    touched = (out - x).abs().flatten(1).amax(1) > 1e-6
    assert 0.4 < touched.float().mean() < 0.6
    background = (x == 0).expand_as(out)
    assert out[touched][background[touched]].mean() < 0.15  # faint: the paper stays far darker than ink
    ink = x > 0.9
    assert (out[ink] >= 0.75).float().mean() > 0.95  # strokes stay strokes


def test_every_augmentation_runs_under_bf16_autocast():
    torch.manual_seed(0)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = data.augment(digits_batch(16))
    assert out.shape == (16, 1, 28, 28) and torch.isfinite(out).all()


def test_soft_lines_draw_a_stroke_of_the_given_length_and_width():
    line = data.soft_lines(torch.tensor([[4.0, 14.0]]), torch.tensor([[24.0, 14.0]]), torch.tensor([2.0]))
    assert line.shape == (1, 1, 28, 28) and line.min() >= 0 and line.max() <= 1
    solid, touched = (torch.nonzero(line[0, 0, 14] > level).flatten() for level in (0.5, 0))
    assert (solid.min(), solid.max()) == (4, 24)
    assert (touched.min(), touched.max()) == (3, 25)  # the pen's round ends, anti-aliased
    assert line[0, 0, :, 14].sum() == pytest.approx(2.0)  # 2 px of ink across the stroke


def upright_ones_and_sevens(n: int):
    """`n` synthetic vertical 1s (labels 1) and 7s (labels 7), alternating, and a blank non-digit (label -1)."""
    x = torch.zeros(n + 1, 1, 28, 28)
    x[:n, :, 4:24, 13:15] = 1.0
    x[1:n:2, :, 4:6, 6:15] = 1.0  # the 7s' top bar
    labels = torch.tensor([1, 7] * (n // 2) + [-1])
    return x, labels


def test_everyones_strokes_flag_the_ones_and_cross_the_sevens_only():
    torch.manual_seed(0)
    x, labels = upright_ones_and_sevens(40)
    out = data.everyones_strokes(x, labels, probability=1.0)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    assert (out >= x).all()  # strokes are added, never removed
    added = (out - x).clamp(min=0)
    ones, sevens = added[labels == 1], added[labels == 7]
    assert (ones[:, :, 4:14, :13].flatten(1).sum(1) > 1).all()  # every 1: ink left of its top, going down
    assert (sevens[:, :, 10:20].flatten(1).sum(1) > 1).all()  # every 7: a bar across the middle
    assert (sevens[:, :, :, 16:].flatten(1).sum(1) > 0).any()  # ... reaching right of the stem
    assert torch.equal(out[labels == -1], x[labels == -1])  # non-digits untouched
    assert torch.equal(data.everyones_strokes(x, labels, probability=0.0), x)


def test_random_gaps_wipe_a_little_ink_from_the_chosen_images_only():
    torch.manual_seed(0)
    x = digits_batch(200)
    out = data.random_gaps(x, probability=0.5)
    lost = (x - out).flatten(1).sum(1)
    assert (out <= x).all()
    assert 0.35 < (lost > 0).float().mean() < 0.65
    assert (lost < 0.25 * x.flatten(1).sum(1)).all()  # a pen lift, not an erased digit


def test_random_proportions_move_ink_up_or_down_and_keep_the_rest():
    torch.manual_seed(0)
    x = digits_batch(200)
    out = data.random_proportions(x, probability=0.5)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    changed = (out - x).abs().flatten(1).amax(1) > 1e-4
    assert 0.35 < changed.float().mean() < 0.65
    assert torch.equal(out[~changed], x[~changed])
    rows = torch.arange(28.0).view(1, 1, 28, 1)
    centre = lambda t: (t * rows).sum((1, 2, 3)) / t.sum((1, 2, 3))  # noqa: E731
    assert (centre(out[changed]) - centre(x[changed])).abs().max() > 0.5  # the ink's height moves


def test_augment_with_no_share_flagged_is_augment_without_labels():
    x, labels = upright_ones_and_sevens(8)
    torch.manual_seed(0)
    unflagged = data.augment(x, labels, flagged=0.0)
    torch.manual_seed(0)
    assert torch.equal(unflagged, data.augment(x))


def test_augment_takes_labels_and_leaves_non_digits_without_flags():
    torch.manual_seed(0)
    x, labels = upright_ones_and_sevens(8)
    out = data.augment(x, labels)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
