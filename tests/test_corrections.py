"""mnist_demo.corrections: what a correction keeps, the store under sixteen writers and a restart, the rate limit,
the caps, bad input, reading entries back, and the maintainer's command."""

import json
import os
import random
import threading
import time

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_demo import corrections
from mnist_demo.corrections import (
    ENTRIES,
    MAX_SIDE,
    NOT_A_DIGIT_LABEL,
    BadCorrection,
    CollectionFull,
    Correction,
    CorrectionError,
    CorrectionStore,
    RateLimit,
    TooManyCorrections,
    checked_label,
    correction_of,
    read_entries,
)

PROBABILITIES = [{str(d): 0.1 for d in range(10)}]


def canvas(*strokes, side: int = 400) -> Image.Image:
    """Black strokes (fractions of the side) on a transparent canvas, as the drawing pad sends them."""
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    for stroke in strokes:
        pen.line([(x * side, y * side) for x, y in stroke], fill=(0, 0, 0, 255), width=side // 14, joint="curve")
    return image


SEVEN = [(0.3, 0.25), (0.7, 0.25), (0.45, 0.8)]


def correction(label: str = "7", strokes=None, picture: Image.Image | None = None) -> Correction:
    """A correction made without a model: for the store's own tests."""
    return Correction(
        picture=picture if picture is not None else canvas(SEVEN, side=112),  # small: the store's tests are quick
        mnist=np.zeros((28, 28), np.uint8),
        label=label,
        predicted="1",
        probabilities=PROBABILITIES,
        weights="packaged@000000000000",
        source="drawing",
        strokes=strokes,
    )


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    "given, kept",
    [
        ("7", "7"),
        (" 0 ", "0"),
        (3, "3"),
        ("2026", "2026"),
        ("not a digit", NOT_A_DIGIT_LABEL),
        ("Not-a-digit", NOT_A_DIGIT_LABEL),
    ],
)
def test_labels_are_digits_numbers_or_not_a_digit(given, kept):
    assert checked_label(given) == kept


@pytest.mark.parametrize("given", ["", "seven", "-1", "7.5", "1" * 13, None, True, 7.0, "٣", ["7"]])
def test_other_labels_are_refused_in_words(given):
    with pytest.raises(BadCorrection, match="must be a digit from 0 to 9"):
        checked_label(given)


def test_a_correction_keeps_what_the_model_read_and_said(classifier):
    strokes = [[[120, 100], [280, 100]], [[280, 100], [180, 320]]]
    kept = correction_of(classifier, {"composite": canvas(SEVEN)}, "1", source="drawing", strokes=strokes)
    assert (kept.label, kept.predicted, kept.source, kept.strokes) == ("1", "7", "drawing", strokes)
    assert kept.mnist.shape == (28, 28) and kept.mnist.dtype == np.uint8
    assert kept.picture.size == (400, 400) and kept.picture.mode == "RGBA"  # the canvas as drawn
    assert len(kept.probabilities) == 1 and sum(kept.probabilities[0].values()) == pytest.approx(1, abs=1e-5)
    assert max(kept.probabilities[0], key=kept.probabilities[0].get) == "7"
    name, digest = kept.weights.split("@")
    assert name == "packaged" and len(digest) == 12 and int(digest, 16) >= 0


def test_a_whole_number_keeps_each_digit_the_model_saw(classifier):
    number = canvas([(0.2, 0.3), (0.2, 0.7)], [(0.5, 0.3), (0.8, 0.3), (0.6, 0.7)])
    kept = correction_of(classifier, number, "17")
    assert kept.predicted == "17" and kept.label == "17"
    assert kept.mnist.shape == (28, 56) and len(kept.probabilities) == 2


def test_a_big_upload_is_kept_at_most_max_side(classifier, tmp_path):
    photo = Image.new("L", (2000, 1000), 255)
    ImageDraw.Draw(photo).line([(1000, 150), (1000, 850)], fill=0, width=90)
    photo.save(tmp_path / "one.png")
    kept = correction_of(classifier, str(tmp_path / "one.png"), "1")
    assert kept.picture.size == (MAX_SIDE, MAX_SIDE // 2) and kept.source == "upload"


@pytest.mark.parametrize(
    "picture, words",
    [
        ({"composite": None}, "The canvas is empty"),
        (Image.new("RGBA", (400, 400)), "The canvas is empty"),
        (b"not an image", "could not be read as an image"),
        ("/no/such/picture.png", "No such image file"),
    ],
)
def test_an_empty_canvas_or_a_bad_picture_is_refused_in_words(classifier, picture, words):
    with pytest.raises(BadCorrection, match=words):
        correction_of(classifier, picture, "7")


def test_sixteen_writers_at_once_keep_every_correction_whole_and_a_restart_counts_them(tmp_path):
    store = CorrectionStore(tmp_path)
    saved: list[tuple[int, int, str]] = []
    start = threading.Barrier(16)

    def person(k: int) -> None:
        start.wait()
        for i in range(20):
            result = store.save(correction(str(k % 10), strokes=[[k, i]]), session=f"session-{k}")
            saved.append((k, i, result.id))

    threads = [threading.Thread(target=person, args=(k,)) for k in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(saved) == 320 and len({entry_id for *_, entry_id in saved}) == 320
    assert store.count == 320
    entries = {entry.id: entry for entry in read_entries(tmp_path)}
    assert len(entries) == 320
    for k, i, entry_id in saved:  # none torn: each file whole, each entry the one its writer sent
        entry = entries[entry_id]
        assert entry.meta["strokes"] == [[k, i]] and entry.label == str(k % 10)
        assert entry.picture().size == (112, 112) and entry.mnist().shape == (1, 28, 28)
    assert not [p for p in (tmp_path / ENTRIES).iterdir() if p.name.startswith(".")]  # no temporary file left
    restarted = CorrectionStore(tmp_path)
    assert (restarted.count, restarted.bytes) == (320, store.bytes)
    assert restarted.save(correction()).count == 321


def test_the_rate_limit_is_per_session_per_minute(tmp_path):
    clock = FakeClock()
    store = CorrectionStore(tmp_path, rate=RateLimit(per_minute=30, clock=clock))
    for _ in range(30):
        store.save(correction(), session="a")
    with pytest.raises(TooManyCorrections, match="more than 30 corrections in a minute"):
        store.save(correction(), session="a")
    assert store.save(correction(), session="b").count == 31  # someone else is not held up
    clock.now += 59
    with pytest.raises(TooManyCorrections):
        store.save(correction(), session="a")
    clock.now += 1
    assert store.save(correction(), session="a").count == 32
    assert store.count == 32  # the refused ones were not kept


def test_the_collection_is_full_at_its_count_and_after_a_restart_too(tmp_path):
    store = CorrectionStore(tmp_path, max_count=3)
    for _ in range(3):
        store.save(correction())
    with pytest.raises(CollectionFull, match="the collection is full") as full:
        store.save(correction())
    assert "all the 3 corrections" in str(full.value)
    assert store.full and CorrectionStore(tmp_path, max_count=3).full
    assert len(read_entries(tmp_path)) == 3


def test_the_collection_is_full_at_its_size(tmp_path):
    files = corrections.entry_files(correction(), "0" * 16, corrections.datetime.now(corrections.UTC))
    store = CorrectionStore(tmp_path, max_bytes=sum(map(len, files.values())) * 3 // 2)
    store.save(correction())
    with pytest.raises(CollectionFull):
        store.save(correction())
    assert store.count == 1 and CorrectionStore(tmp_path).bytes == store.bytes


def test_too_big_a_file_is_refused(tmp_path):
    store = CorrectionStore(tmp_path)
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (MAX_SIDE, MAX_SIDE, 4), dtype=np.uint8))
    with pytest.raises(BadCorrection, match="This picture is too big to keep"):
        store.save(correction(picture=noise))
    with pytest.raises(BadCorrection, match="The drawing's strokes are too big to keep"):
        store.save(correction(strokes=[[x, x] for x in range(200_000)]))
    with pytest.raises(BadCorrection, match="not plain JSON"):
        store.save(correction(strokes=[object()]))
    assert store.count == 0 and not list((tmp_path / ENTRIES).iterdir())


def test_a_write_a_crash_cut_short_is_not_counted_and_cleared_once_stale(tmp_path):
    store = CorrectionStore(tmp_path)
    store.save(correction())
    entries = tmp_path / ENTRIES
    stale, fresh = entries / "00000000000000aa.png", entries / "00000000000000bb.png"
    for path in (stale, fresh):
        path.write_bytes(b"half a picture")
    os.utime(stale, (time.time() - 2 * corrections.STALE_SECONDS,) * 2)
    restarted = CorrectionStore(tmp_path)
    assert (restarted.count, restarted.bytes) == (1, store.bytes)
    assert not stale.exists() and fresh.exists()  # a fresh one may be a write under way in another process


def test_removed_entries_are_gone_and_uncounted(tmp_path):
    store = CorrectionStore(tmp_path)
    first, second = store.save(correction("1")), store.save(correction("2"))
    assert store.remove(first.id) and not store.remove(first.id) and not store.remove("../../etc")
    assert [e.id for e in read_entries(tmp_path)] == [second.id]
    assert store.count == 1 and CorrectionStore(tmp_path).count == 1


def test_latest_is_newest_first(tmp_path):
    store = CorrectionStore(tmp_path)
    ids = [store.save(correction(str(d))).id for d in range(5)]
    for k, entry_id in enumerate(ids):  # distinct modification times, whatever the file system's resolution
        os.utime(tmp_path / ENTRIES / f"{entry_id}.json", (1000 + k, 1000 + k))
    assert [e.id for e in store.latest(3)] == ids[::-1][:3]
    assert store.latest(0) == []


def test_an_unwritable_folder_is_said_in_words(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(CorrectionError, match="Cannot keep corrections in"):
        CorrectionStore(tmp_path / "file" / "corrections")


def test_the_default_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_DEMO_CORRECTIONS_DIR", str(tmp_path / "here"))
    assert corrections.default_folder() == tmp_path / "here"
    monkeypatch.delenv("MNIST_DEMO_CORRECTIONS_DIR")
    monkeypatch.delenv("SPACE_ID", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert corrections.default_folder() == tmp_path / "cache" / "mnist-demo" / "corrections"


def test_nothing_about_the_person_is_kept(tmp_path):
    store = CorrectionStore(tmp_path)
    saved = store.save(correction(), session="the-session-hash-1234")
    text = (tmp_path / ENTRIES / f"{saved.id}.json").read_text()
    assert "the-session-hash-1234" not in text
    assert set(json.loads(text)) == {
        "id", "time", "label", "predicted", "probabilities", "weights", "source", "width", "height", "digits", "strokes"
    }  # fmt: skip


def test_the_command_lists_exports_and_removes(tmp_path, capsys):
    folder = tmp_path / "corrections"
    store = CorrectionStore(folder)
    seven, blot = store.save(correction("7")), store.save(correction(NOT_A_DIGIT_LABEL))
    assert corrections.main(["list", str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert seven.id in lines[0] and "it was: 7" in lines[0] and "model: 1" in lines[0]
    assert lines[-1] == "2 correction(s)"
    assert corrections.main(["export", str(folder), str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "7" / f"{seven.id}.png").is_file()
    assert (tmp_path / "out" / "not-a-digit" / f"{blot.id}.png").is_file()
    rows = [json.loads(line) for line in (tmp_path / "out" / "metadata.jsonl").read_text().splitlines()]
    assert [r["file_name"] for r in rows] == [f"7/{seven.id}.png", f"not-a-digit/{blot.id}.png"]
    capsys.readouterr()
    assert corrections.main(["remove", str(folder), seven.id]) == 0
    assert "removed 1 correction(s); 1 left" in capsys.readouterr().out
    assert corrections.main(["remove", str(folder), seven.id]) == 1
    assert f"no correction {seven.id}" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="No corrections folder /no/such/folder"):
        corrections.main(["list", "/no/such/folder"])


def test_training_data_pairs_each_digit_with_what_the_model_saw(tmp_path, monkeypatch):
    monkeypatch.setattr(corrections, "held_out", lambda entry_id: False)
    store = CorrectionStore(tmp_path)
    one, two = np.full((28, 28), 10, np.uint8), np.full((28, 28), 20, np.uint8)
    number = Correction(canvas(SEVEN, side=112), np.concatenate([one, two], axis=1), "17", "11", PROBABILITIES * 2, "x")
    store.save(number)
    store.save(Correction(canvas(SEVEN, side=112), one, NOT_A_DIGIT_LABEL, "1", PROBABILITIES, "x"))
    store.save(Correction(canvas(SEVEN, side=112), two, "123", "2", PROBABILITIES, "x"))  # three digits, one read
    data = corrections.training_corrections(read_entries(tmp_path))
    assert data.labels.tolist() == [1, 7] and data.images[:, 0, 0].tolist() == [10, 20]
    assert data.non_digits.shape == (1, 28, 28) and data.non_digits[0, 0, 0] == 10
    assert data.skipped == 1 and data.held_out == ()


def test_the_held_out_slice_is_a_tenth_and_stable():
    rng = random.Random(0)
    ids = [f"{rng.getrandbits(64):016x}" for _ in range(20_000)]  # as secrets.token_hex(8) makes them
    share = np.mean([corrections.held_out(i) for i in ids])
    assert 0.09 < share < 0.11
    assert corrections.held_out("0" * 16) and not corrections.held_out("f" * 16)


def test_held_out_corrections_are_scored_before_and_after(tmp_path):
    store = CorrectionStore(tmp_path)
    store.save(correction("7"))  # the served model said 1
    store.save(correction(NOT_A_DIGIT_LABEL))
    entries = read_entries(tmp_path)
    sevens = lambda images: np.tile(np.eye(10, dtype=np.float32)[7], (len(images), 1))  # noqa: E731
    assert corrections.held_out_score(entries, sevens, threshold=0.5) == {
        "total": 2,
        "right_before": 0,
        "right_after": 1,
    }
    assert corrections.answer_for(np.full((2, 10), 0.1), threshold=0.5) == NOT_A_DIGIT_LABEL
    assert corrections.answer_for(np.eye(10)[[1, 7]], threshold=0.5) == "17"


def test_the_latest_show_on_white_newest_first_with_what_the_model_and_the_person_said(tmp_path):
    store = CorrectionStore(tmp_path)
    ids = [store.save(correction(label)).id for label in ("7", NOT_A_DIGIT_LABEL)]
    for k, entry_id in enumerate(ids):  # distinct modification times, whatever the file system's resolution
        os.utime(tmp_path / ENTRIES / f"{entry_id}.json", (1000 + k, 1000 + k))
    items = corrections.latest_corrections(store, 5)
    assert [caption for _, caption in items] == ["the model said 1, it was not a digit", "the model said 1, it was 7"]
    tile = items[1][0]  # a canvas: black ink on a transparent background
    assert tile.mode == "RGB" and tile.size == (112, 112) and tile.getpixel((0, 0)) == (255, 255, 255)
    assert min(tile.convert("L").getdata()) < 64  # the ink stays dark
    assert [caption for _, caption in corrections.latest_corrections(store, 1)] == [items[0][1]]


def test_a_big_picture_is_shown_small(tmp_path):
    store = CorrectionStore(tmp_path)
    store.save(correction(picture=Image.new("L", (512, 256), 255)))
    [(tile, _)] = corrections.latest_corrections(store)
    assert tile.size == (corrections.TILE_SIDE, corrections.TILE_SIDE // 2)


def test_the_header_says_how_many_are_kept_and_shown():
    assert corrections.latest_header(0, 0).startswith("No corrections yet: when the model reads a drawing wrong")
    assert corrections.latest_header(1, 1).startswith("The demo has kept 1 correction: the latest 1, newest first")
    assert "kept 1,234 corrections: the latest 24," in corrections.latest_header(1234, 24)


def test_held_out_figures_read_as_one_line():
    assert corrections.held_out_text({"total": 6, "right_before": 0, "right_after": 5}) == (
        "held-out corrections read right: 0 of 6 by the model people corrected, 5 of 6 now"
    )
    assert "none held out" in corrections.held_out_text({"total": 0, "right_before": 0, "right_after": 0})
