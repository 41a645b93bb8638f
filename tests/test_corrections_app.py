"""mnist_demo.corrections_app and the app's corrections: /correct through gradio_client (the id and the count, a
Draw tab value, bad input, the rate limit, a full collection), sixteen clients at once and a restart, the Draw
tab's row (which picture it keeps, the line it shows), the flags.

    MNIST_DATA_DIR=... python -m pytest tests/test_corrections_app.py -q
"""

import logging
import os
import threading

import pytest
from PIL import Image, ImageDraw

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

import app  # noqa: E402
from mnist_demo.classifier_loader import ClassifierLoader  # noqa: E402
from mnist_demo.corrections import (  # noqa: E402
    NOT_A_DIGIT_LABEL,
    CorrectionStore,
    RateLimit,
    read_entries,
)
from mnist_demo.corrections_app import (  # noqa: E402
    open_corrections,
    page_correction,
    picture_and_strokes,
    row_intro,
    shown_value,
)

SEVEN = [(110, 90), (290, 90), (180, 330)]  # on a 400 px canvas
PAD_SEVEN = {"width": 400, "height": 400, "strokes": [[list(point) for point in SEVEN]], "drawing": False, "sent": 2}
PAD_EMPTY = {"width": 400, "height": 400, "strokes": [], "drawing": False, "sent": 0}


def canvas(points=SEVEN) -> Image.Image:
    """What the Draw tab's pad sends: black ink on a transparent 400x400 canvas."""
    image = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    ImageDraw.Draw(image).line(points, fill=(0, 0, 0, 255), width=28, joint="curve")
    return image


def paper(points) -> Image.Image:
    """A digit written on white paper, 300 px."""
    image = Image.new("L", (300, 300), 255)
    ImageDraw.Draw(image).line(points, fill=0, width=22, joint="curve")
    return image


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("correct-pictures")
    canvas().save(folder / "sketch-7.png")
    paper([(150, 40), (150, 260)]).save(folder / "one.png")
    Image.new("RGBA", (400, 400), (0, 0, 0, 0)).save(folder / "transparent.png")
    (folder / "text.png").write_text("this is a text file, renamed\n")
    return folder


def launched(classifier, folder):
    store = open_corrections(folder)
    demo = app.build_demo(ClassifierLoader.of(classifier), corrections=store)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **app.LAUNCH_OPTIONS)
    return demo, url, store


@pytest.fixture(scope="module")
def server(classifier, tmp_path_factory):
    demo, url, store = launched(classifier, tmp_path_factory.mktemp("kept"))
    yield url, store
    demo.close()


@pytest.fixture
def client(server):
    client = Client(server[0], verbose=False)  # a session of its own: its own rate limit
    yield client
    client.close()


def sketch(path) -> dict:
    """The Draw tab's value as a script sends it (as /predict takes it)."""
    return {"background": None, "layers": [], "composite": handle_file(str(path)) if path else None}


@pytest.mark.slow
def test_correct_keeps_a_file_and_says_its_id_and_the_count(server, client, files):
    url, store = server
    before = store.count
    saved = client.predict(handle_file(str(files / "one.png")), "7", api_name="/correct")
    assert saved["count"] == before + 1 == store.count
    assert len(saved["id"]) == 16 and int(saved["id"], 16) >= 0
    assert (saved["label"], saved["predicted"]) == ("7", "1")
    entry = next(e for e in read_entries(store.folder) if e.id == saved["id"])
    assert (entry.label, entry.meta["predicted"], entry.meta["source"]) == ("7", "1", "upload")
    assert entry.picture().size == (300, 300) and entry.mnist().shape == (1, 28, 28)
    again = client.predict(handle_file(str(files / "one.png")), "not a digit", api_name="/correct")
    assert again["count"] == saved["count"] + 1 and again["id"] != saved["id"]
    assert again["label"] == NOT_A_DIGIT_LABEL


@pytest.mark.slow
def test_correct_takes_the_draw_tabs_value_too(server, client, files):
    saved = client.predict(digit="1", drawing=sketch(files / "sketch-7.png"), api_name="/correct")
    assert (saved["label"], saved["predicted"]) == ("1", "7")
    entry = next(e for e in read_entries(server[1].folder) if e.id == saved["id"])
    assert entry.meta["source"] == "drawing" and entry.picture().mode == "RGBA"  # the canvas as drawn


@pytest.mark.slow
def test_correct_keeps_the_pads_strokes_with_the_picture_they_make(server, client):
    seven = {"width": 400, "height": 400, "strokes": [[[110, 90], [290, 90]], [[290, 90], [180, 330]]], "sent": 3}
    saved = client.predict(digit="1", drawing=seven, api_name="/correct")
    assert (saved["label"], saved["predicted"]) == ("1", "7")
    entry = next(e for e in read_entries(server[1].folder) if e.id == saved["id"])
    assert entry.meta["source"] == "drawing" and entry.picture().size == (400, 400)
    assert entry.meta["strokes"] == {k: seven[k] for k in ("width", "height", "strokes")}
    with pytest.raises(AppError, match="Too many strokes"):
        client.predict(digit="1", drawing={"strokes": [[[1, 2]]] * 1000}, api_name="/correct")
    with pytest.raises(AppError, match="not a path on the server"):
        client.predict(digit="1", drawing={"composite": {"path": "/etc/hostname"}}, api_name="/correct")


@pytest.mark.slow
@pytest.mark.parametrize(
    "picture, digit, drawing, words",
    [
        ("one.png", "seven", None, "The right answer must be a digit from 0 to 9"),
        ("one.png", "", None, "The right answer must be a digit from 0 to 9"),
        ("text.png", "1", None, "could not be read as an image"),
        ("transparent.png", "1", None, "The canvas is empty"),
        (None, "1", None, "The canvas is empty"),
        (None, "1", "empty", "The canvas is empty"),
    ],
)
def test_correct_refuses_bad_input_in_words_and_keeps_nothing(server, client, files, picture, digit, drawing, words):
    before = server[1].count
    with pytest.raises(AppError, match=words):
        client.predict(
            handle_file(str(files / picture)) if picture else None,
            digit,
            sketch(None) if drawing else None,
            api_name="/correct",
        )
    assert server[1].count == before


@pytest.mark.slow
def test_correct_says_when_a_session_sends_too_many_or_the_collection_is_full(server, client, files, monkeypatch):
    store = server[1]
    monkeypatch.setattr(store, "rate", RateLimit(per_minute=2))
    for _ in range(2):
        client.predict(handle_file(str(files / "one.png")), "1", api_name="/correct")
    with pytest.raises(AppError, match="more than 2 corrections in a minute"):
        client.predict(handle_file(str(files / "one.png")), "1", api_name="/correct")
    monkeypatch.setattr(store, "rate", RateLimit())
    monkeypatch.setattr(store, "max_count", store.count)
    with pytest.raises(AppError, match="the collection is full"):
        client.predict(handle_file(str(files / "one.png")), "1", api_name="/correct")


@pytest.mark.slow
def test_sixteen_clients_at_once_keep_all_320_whole_and_a_restart_counts_them(classifier, files, tmp_path):
    demo, url, store = launched(classifier, tmp_path)
    sent: dict[str, str] = {}  # id -> the digit sent
    failures: list[Exception] = []
    start = threading.Barrier(16)

    def person(k: int) -> None:
        client = None
        try:
            client = Client(url, verbose=False)
            start.wait(timeout=120)  # a client that could not connect breaks the barrier: no one waits forever
            for i in range(20):
                digit = str((k + i) % 10)
                sent[client.predict(handle_file(str(files / "one.png")), digit, api_name="/correct")["id"]] = digit
        except Exception as error:  # noqa: BLE001 - reported below
            failures.append(error)
        finally:
            if client is not None:
                client.close()

    try:
        people = [threading.Thread(target=person, args=(k,)) for k in range(16)]
        for thread in people:
            thread.start()
        for thread in people:
            thread.join()
    finally:
        demo.close()
    assert not failures and len(sent) == 320 and store.count == 320
    entries = read_entries(tmp_path)
    assert sorted(e.id for e in entries) == sorted(sent)
    for entry in entries:  # none torn: each file whole, each entry the one its client sent
        assert entry.label == sent[entry.id] and entry.meta["predicted"] == "1"
        assert entry.picture().size == (300, 300) and entry.mnist().shape == (1, 28, 28)
    demo, url, store = launched(classifier, tmp_path)  # a restart
    try:
        assert store.count == 320 and "learned from 320 corrections" in row_intro(store)
        client = Client(url, verbose=False)
        assert client.predict(handle_file(str(files / "one.png")), "1", api_name="/correct")["count"] == 321
        client.close()
    finally:
        demo.close()


@pytest.mark.slow
def test_the_api_page_lists_correct_only_when_corrections_are_kept(server, client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {"/predict", "/classify", "/read", "/correct"}
    assert [p["parameter_name"] for p in endpoints["/correct"]["parameters"]] == ["picture", "digit", "drawing"]


def test_the_row_keeps_the_picture_the_answer_is_about(classifier, files, tmp_path):
    store = CorrectionStore(tmp_path)
    drawing = {"composite": canvas()}
    line = page_correction(store, classifier, "1", drawing, str(files / "one.png"), "drawing", "s")
    assert line == "Thank you: kept as **1**. The demo has learned from 1 correction."
    line = page_correction(store, classifier, "not a digit", drawing, str(files / "one.png"), "upload", "s")
    assert line == "Thank you: kept as **not a digit**. The demo has learned from 2 corrections."
    kept = {e.meta["source"]: e.meta["predicted"] for e in read_entries(tmp_path)}
    assert kept == {"drawing": "7", "upload": "1"}


@pytest.mark.parametrize(
    "drawing, upload, shown, kept",
    [
        (PAD_SEVEN, None, "upload", "drawing"),  # only a drawing: the drawing, whatever the page last said
        (PAD_EMPTY, "up.png", "drawing", "upload"),  # only an upload (the pad's empty value is no drawing)
        ({"composite": None}, "up.png", "drawing", "upload"),
        (PAD_SEVEN, "up.png", "drawing", "drawing"),  # both: the one changed last
        (PAD_SEVEN, "up.png", "upload", "upload"),
        (PAD_EMPTY, None, "upload", "drawing"),  # neither: the (empty) drawing, which says so
        ('{"strokes": 3}', "up.png", "upload", "upload"),
        ('{"strokes": 3', "up.png", "drawing", "drawing"),  # malformed strokes: their error is said
    ],
)
def test_the_row_keeps_whichever_picture_is_there_or_was_changed_last(drawing, upload, shown, kept):
    assert shown_value(drawing, upload, shown) == (upload if kept == "upload" else drawing)


def test_the_row_says_why_a_correction_was_not_kept(classifier, files, tmp_path):
    store = CorrectionStore(tmp_path, max_count=1)
    empty = {"composite": None}
    assert page_correction(store, classifier, "3", empty, None, "drawing", "s").startswith("⚠️ The canvas is empty")
    assert page_correction(store, classifier, "3", empty, None, "upload", "s").startswith("⚠️ The canvas is empty")
    assert page_correction(store, classifier, "<b>", {"composite": canvas()}, None, "drawing", "s") == (
        '⚠️ The right answer must be a digit from 0 to 9, a whole number of up to 12 digits, or "not a digit", '
        "not '&lt;b&gt;'."
    )
    page_correction(store, classifier, "7", {"composite": canvas()}, None, "drawing", "s")
    line = page_correction(store, classifier, "7", {"composite": canvas()}, None, "drawing", "s")
    assert "the collection is full" in line and store.count == 1
    assert row_intro(store) == line.removeprefix("⚠️ ")


def test_the_rows_first_line_counts_what_is_kept(tmp_path):
    store = CorrectionStore(tmp_path)
    assert row_intro(store).endswith("Be the first!")
    assert "nothing about you" in row_intro(store)


@pytest.mark.parametrize(
    "value, expected",
    [
        (
            {"background": None, "layers": [], "composite": {"path": "/tmp/a.png"}},
            ({"composite": "/tmp/a.png"}, "drawing"),
        ),
        ({"composite": None}, ({"composite": None}, "drawing")),
        ({"path": "/tmp/b.png", "meta": {"_type": "gradio.FileData"}}, ("/tmp/b.png", "upload")),
        ("/tmp/c.png", ("/tmp/c.png", "upload")),
        (None, (None, "upload")),
    ],
)
def test_what_a_correction_reads_from_each_kind_of_value(value, expected):
    assert picture_and_strokes(value)[:2] == expected


def test_a_folder_that_cannot_be_written_leaves_the_app_without_corrections(tmp_path, caplog):
    (tmp_path / "file").write_text("x")
    with caplog.at_level(logging.ERROR, logger="mnist_demo"):
        assert open_corrections(tmp_path / "file" / "corrections") is None
    assert len(caplog.records) == 1 and "The app runs without them" in caplog.text


def test_a_repo_without_a_token_keeps_them_here_and_says_so_in_one_line(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="mnist_demo"):
        store = open_corrections(tmp_path, "tester/mnist-corrections")
        for thread in threading.enumerate():
            if thread.name == "corrections-hub":
                thread.join(timeout=60)
    assert store is not None and store.folder == tmp_path
    assert [r.getMessage() for r in caplog.records] == [
        f"corrections: no Hub token (set HF_TOKEN or run `hf auth login`): they stay in {tmp_path}, not pushed to "
        "tester/mnist-corrections"
    ]


def test_the_flags(monkeypatch, corrections_folder):
    for name in ("MNIST_DEMO_CORRECTIONS_REPO", "MNIST_DEMO_NO_CORRECTIONS"):
        monkeypatch.delenv(name, raising=False)
    args = app.parse_args([])
    assert (args.corrections_dir, args.corrections_repo, args.no_corrections) == (None, None, False)
    assert open_corrections(args.corrections_dir).folder == corrections_folder  # $MNIST_DEMO_CORRECTIONS_DIR
    args = app.parse_args(["--corrections-dir", "here", "--corrections-repo", "user/name", "--no-corrections"])
    assert (args.corrections_dir, args.corrections_repo, args.no_corrections) == ("here", "user/name", True)
    monkeypatch.setenv("MNIST_DEMO_CORRECTIONS_REPO", "user/other")
    monkeypatch.setenv("MNIST_DEMO_NO_CORRECTIONS", "1")
    args = app.parse_args([])
    assert (args.corrections_repo, args.no_corrections) == ("user/other", True)
