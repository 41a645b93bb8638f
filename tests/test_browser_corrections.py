"""Correcting the Draw tab's answer as a person does, in real Chromium: draw a 7, say "it was a 1", see the
thank-you line count it and find the drawing kept, its strokes too; the same for an upload; on a phone, the
row's buttons fit the screen, are big enough for a finger and keep a correction when tapped.

    MNIST_DATA_DIR=... python -m pytest tests/test_browser_corrections.py -q
"""

import os

import pytest
from conftest import PREDICTION_TIMEOUT_MS, SCREENSHOTS, SEVEN, draw, wait_for_label
from PIL import Image, ImageDraw

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import app  # noqa: E402
from mnist_demo.classifier_loader import ClassifierLoader  # noqa: E402
from mnist_demo.corrections import read_entries  # noqa: E402
from mnist_demo.corrections_app import open_corrections  # noqa: E402

pytestmark = pytest.mark.slow  # each test drives Chromium against a launched app

sync_api = pytest.importorskip("playwright.sync_api")

PHONE_SCREEN = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def kept(classifier, tmp_path_factory):
    """The app, keeping corrections in a folder of its own: (its URL, the store)."""
    store = open_corrections(tmp_path_factory.mktemp("kept"))
    demo = app.build_demo(ClassifierLoader.of(classifier), corrections=store)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **app.LAUNCH_OPTIONS)
    yield url, store
    demo.close()


@pytest.fixture
def page(browser, kept):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(kept[0])
    wait_for_pad(page)
    yield page
    page.close()


def wait_for_pad(page):
    """Until the pad's script runs: it sizes the canvas to the screen (a canvas starts 300x150), then listens to the
    pen; a stroke drawn before that draws nothing."""
    page.wait_for_function(
        "() => { const c = document.querySelector('#sketchpad canvas'); return c && c.height === c.width; }",
        timeout=PREDICTION_TIMEOUT_MS,
    )


def thanked(page, text: str) -> str:
    """Wait until the thank-you line says `text`; the whole line."""
    try:
        page.wait_for_function(
            "text => document.querySelector('#correct-thanks')?.innerText.includes(text)",
            arg=text,
            timeout=PREDICTION_TIMEOUT_MS,
        )
    except sync_api.TimeoutError:
        pytest.fail(f"the line says {page.locator('#correct-thanks').inner_text()!r}, not {text!r}")
    return page.locator("#correct-thanks").inner_text()


def newest(store):
    """The newest entry kept (the folder is this module's: the tests run one after the other)."""
    return max(read_entries(store.folder), key=lambda entry: entry.meta["time"])


def test_correcting_a_drawn_digit_says_thank_you_and_keeps_the_drawing(page, kept):
    store = kept[1]
    before = store.count
    assert f"learned from {before:,}" in page.locator("#correct-thanks").inner_text() or before == 0
    draw(page, SEVEN)
    wait_for_label(page, "7")
    page.locator("#correct-1").click()
    line = thanked(page, "Thank you: kept as 1.")
    assert line.endswith(f"The demo has learned from {before + 1} correction{'s' * (before != 0)}.")
    entry = newest(store)
    assert (entry.label, entry.meta["predicted"], entry.meta["source"]) == ("1", "7", "drawing")
    strokes = entry.meta["strokes"]  # the pad's strokes, kept beside the picture they make
    assert (strokes["width"], strokes["height"], len(strokes["strokes"])) == (400, 400, len(SEVEN))
    SCREENSHOTS.mkdir(exist_ok=True)
    page.locator("#correct").screenshot(path=str(SCREENSHOTS / "correct-row.png"))


def test_correcting_an_upload_keeps_the_upload(page, kept, tmp_path):
    one = Image.new("L", (300, 300), 255)
    ImageDraw.Draw(one).line([(150, 45), (150, 255)], fill=0, width=22)
    one.save(tmp_path / "one.png")
    page.locator("#upload input[type=file]").set_input_files(str(tmp_path / "one.png"))
    wait_for_label(page, "1")
    page.locator("#correct-not-a-digit").click()
    thanked(page, "Thank you: kept as not a digit.")
    entry = newest(kept[1])
    assert (entry.label, entry.meta["predicted"], entry.meta["source"]) == ("not a digit", "1", "upload")
    assert entry.picture().size == (300, 300)


def test_a_whole_number_is_typed_and_an_empty_canvas_is_explained(page, kept):
    before = kept[1].count
    page.locator("#correct-3").click()  # nothing drawn yet
    thanked(page, "The canvas is empty")
    assert kept[1].count == before
    draw(page, SEVEN)
    wait_for_label(page, "7")
    page.locator("#correct-number textarea, #correct-number input").first.fill("71")
    page.locator("#correct-send").click()
    thanked(page, "Thank you: kept as 71.")
    assert newest(kept[1]).label == "71"


def test_on_a_phone_the_row_fits_the_screen_with_buttons_for_a_finger(browser, kept, tmp_path):
    context = browser.new_context(viewport=PHONE_SCREEN, is_mobile=True, has_touch=True, device_scale_factor=2)
    phone = context.new_page()
    phone.goto(kept[0])
    phone.wait_for_selector("#correct-row")
    try:
        assert kept[1].count > 0  # the earlier tests' corrections: the page, loaded now, counts them
        thanked(phone, f"The demo has learned from {kept[1].count:,} correction")
        for name in [*(str(d) for d in range(10)), "not-a-digit", "send"]:
            box = phone.locator(f"#correct-{name}").bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_SCREEN["width"], name
            assert box["height"] >= 36 and box["width"] >= 36, name  # a fingertip is ~40 css px
        assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]
        seven = Image.new("L", (300, 300), 255)  # a photo from the phone's gallery, say
        ImageDraw.Draw(seven).line([(80, 60), (220, 60), (130, 250)], fill=0, width=22)
        seven.save(tmp_path / "seven.png")
        phone.locator("#upload input[type=file]").set_input_files(str(tmp_path / "seven.png"))
        wait_for_label(phone, "7")
        phone.locator("#correct-4").tap()
        thanked(phone, "Thank you: kept as 4.")
        SCREENSHOTS.mkdir(exist_ok=True)
        phone.locator("#correct").screenshot(path=str(SCREENSHOTS / "correct-row-phone.png"))
    finally:
        context.close()
