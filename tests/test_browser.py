"""The Draw tab as a person uses it: real Chromium (Debian's), driven by Playwright.

Open the page, draw a 7 stroke by stroke with the mouse on the pad, watch the answer change
while the pen is still down and the saliency map follow when it lifts, undo, clear, see the
reset, draw again; draw a 1 and a 7 side by side and see them read as 17, with boxes; draw
fast and clear at once, ten times, and find the blank state each time; draw a 7 by touch on
a phone-sized screen and see the answer without scrolling; see the ink in dark mode; choose a
cell of the confusion matrix and a mistake on the Mistakes tab. Screenshots go to screenshots/
(gitignored), to look at; the README's come from here (docs/).

    MNIST_DATA_DIR=... python -m pytest tests/test_browser.py -q
"""

import os

import numpy as np
import pytest
from conftest import (
    PAD_READY,
    PREDICTION_TIMEOUT_MS,
    SCREENSHOTS,
    SEVEN,
    draw,
    open_app,
    probabilities_text,
    serve_app,
    wait_for_label,
    wait_until_changed,
)
from PIL import Image, ImageDraw

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from mnist_demo.classifier_loader import ClassifierLoader  # noqa: E402
from mnist_demo.mistakes import load_mistakes  # noqa: E402

pytestmark = pytest.mark.slow  # each test drives Chromium against a launched app

sync_api = pytest.importorskip("playwright.sync_api")

PHOTO = SCREENSHOTS.parent / "docs" / "photo-4.jpg"  # a phone photo of a 4 on ruled paper under a shadow
QUIET_MS = 2_000  # after a Clear, no answer in flight changes the page for this long: it has settled
PHONE_SCREEN = {"width": 390, "height": 844}

# Strokes as fractions of the canvas: a 1 (conftest has a 7).
ONE = [[(0.5, 0.18), (0.5, 0.84)]]
# Three quick strokes, drawn without waiting for their answers, then Clear at once.
SCRIBBLE = [[(0.3, 0.2), (0.3, 0.5), (0.7, 0.5)], [(0.6, 0.2), (0.6, 0.8)], [(0.2, 0.85), (0.8, 0.85)]]
# A 1 and a 7 side by side, the 7 in one stroke: each stroke changes the answer.
SEVENTEEN = [[(0.2, 0.3), (0.2, 0.7)], [(0.45, 0.3), (0.8, 0.3), (0.6, 0.7)]]


@pytest.fixture(scope="module")
def url(classifier):
    # As `python app.py` starts: the page is served before the model is loaded (here, the page's
    # first load event starts the loading), and the first stroke waits for it.
    demo, local_url = serve_app(ClassifierLoader(classifier.model_folder))
    yield local_url
    demo.close()


@pytest.fixture(scope="module")
def page(browser, url):
    page = open_app(browser, url)
    yield page
    page.close()


@pytest.fixture
def phone(browser, url):
    """The app on a phone-sized touch screen."""
    context = browser.new_context(viewport=PHONE_SCREEN, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector(PAD_READY)
    yield page
    context.close()


def draw_quickly(page, strokes):
    """Draw the strokes one after the other with the mouse, waiting for nothing."""
    box = page.locator("#sketchpad canvas").first.bounding_box()
    for stroke in strokes:
        points = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=3)
        page.mouse.up()


def touch_draw(page, strokes):
    """Draw each stroke with a finger (touch events through the DevTools protocol); wait for its answer."""
    cdp = page.context.new_cdp_session(page)
    box = page.locator("#sketchpad canvas").first.bounding_box()
    side, left, top = box["width"], box["x"], box["y"]
    for stroke in strokes:
        before = probabilities_text(page)
        points = [(left + fx * side, top + fy * side) for fx, fy in stroke]
        path = [
            (x0 + (x1 - x0) * k / 4, y0 + (y1 - y0) * k / 4)
            for (x0, y0), (x1, y1) in zip(points, points[1:])
            for k in range(1, 5)
        ]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [touch(*points[0])]})
        for point in path:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [touch(*point)]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        wait_until_changed(page, before)
    cdp.detach()


def touch(x: float, y: float) -> dict:
    return {"x": x, "y": y, "radiusX": 4, "radiusY": 4, "force": 1, "id": 0}


def wait_until_settled(page):
    """Until the probabilities have not changed for QUIET_MS (a MutationObserver timestamps each change)."""
    page.evaluate("""() => {
        window.answerChangedAt = performance.now();
        window.answerWatch?.disconnect();
        window.answerWatch = new MutationObserver(() => { window.answerChangedAt = performance.now(); });
        window.answerWatch.observe(document.querySelector('#probabilities'),
                                   {subtree: true, childList: true, characterData: true});
    }""")
    page.wait_for_function(
        f"() => performance.now() - window.answerChangedAt > {QUIET_MS}", timeout=PREDICTION_TIMEOUT_MS
    )


def inside_the_screen(box: dict) -> bool:
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= PHONE_SCREEN["width"]
        and box["y"] + box["height"] <= PHONE_SCREEN["height"]
    )


def top_label(page) -> str:
    """The big label at the top of the gr.Label: the predicted digit, or the message."""
    return page.locator("#probabilities [data-testid=label-output-value]").inner_text().strip()


def test_draw_a_seven_stroke_by_stroke_then_clear(page):
    assert top_label(page) == "Draw a digit"

    draw(page, SEVEN[:1])  # the prediction follows each stroke: ten bars already after the first
    assert top_label(page) in {*"0123456789", "Not a digit"}
    after_first_stroke = probabilities_text(page)
    draw(page, SEVEN[1:])
    wait_for_label(page, "7")
    assert probabilities_text(page) != after_first_stroke
    assert "7" in page.locator("#prediction").inner_text()
    page.locator("#model-input img").wait_for(timeout=PREDICTION_TIMEOUT_MS)  # the 28x28 image the model saw,
    page.locator("#saliency img").wait_for(timeout=PREDICTION_TIMEOUT_MS)  # and why: a moment after the answer
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "draw-7.png"), full_page=True)

    page.get_by_label("Clear canvas").first.click()
    wait_for_label(page, "Draw a digit")
    assert "Draw a digit" in page.locator("#prediction").inner_text()
    for picture in ("#model-input img", "#saliency img"):  # the pictures go right after the answer
        page.locator(picture).wait_for(state="detached", timeout=PREDICTION_TIMEOUT_MS)
    page.screenshot(path=str(SCREENSHOTS / "cleared.png"), full_page=True)

    draw(page, ONE)  # a person just draws on
    wait_for_label(page, "1")


def test_the_answer_changes_while_the_pen_is_still_down(page):
    page.get_by_label("Clear canvas").first.click()
    wait_for_label(page, "Draw a digit")
    box = page.locator("#sketchpad canvas").first.bounding_box()
    page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.18 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.84 * box["height"], steps=8)
    wait_for_label(page, "1")  # the pen has not lifted
    assert page.locator("#model-input img").count() == 0  # the pictures wait for it
    page.mouse.up()
    page.locator("#model-input img").wait_for(timeout=PREDICTION_TIMEOUT_MS)


def test_undo_takes_back_the_last_stroke_and_its_answer(page):
    page.get_by_label("Clear canvas").first.click()
    wait_for_label(page, "Draw a digit")
    draw(page, SEVENTEEN)
    wait_for_label(page, "17")
    page.get_by_label("Undo").first.click()
    wait_for_label(page, "1")
    page.get_by_label("Undo").first.focus()  # keyboard-reachable, both of them
    page.keyboard.press("Enter")
    wait_for_label(page, "Draw a digit")
    assert page.locator("#sketchpad button[aria-label=Undo]").is_disabled()
    draw(page, ONE)
    page.get_by_label("Clear canvas").first.focus()
    page.keyboard.press("Space")
    wait_for_label(page, "Draw a digit")
    assert ink_on_the_canvas(page) == 0


def test_two_digits_are_read_as_a_number_with_boxes(page):
    page.get_by_label("Clear canvas").first.click()
    wait_for_label(page, "Draw a digit")
    draw(page, SEVENTEEN)
    wait_for_label(page, "17")
    assert page.locator("#prediction [data-testid=markdown]").inner_text().split()[:4] == ["17", "Read", "as", "2"]
    page.locator("#reading-boxes img").wait_for(state="visible", timeout=PREDICTION_TIMEOUT_MS)
    page.screenshot(path=str(SCREENSHOTS / "draw-17.png"), full_page=True)
    page.get_by_label("Clear canvas").first.click()
    page.locator("#reading-boxes").wait_for(state="hidden", timeout=PREDICTION_TIMEOUT_MS)


# The moments a Clear can race the strokes: as the pen lifts (its strokes not yet sent), while the last
# strokes are on their way to the server (the queue/join request).
RACE_MOMENTS = [None, "gradio_api/queue/join"]


def test_clear_right_after_fast_strokes_leaves_the_blank_state_ten_times_out_of_ten(page):
    page.get_by_label("Clear canvas").first.click()
    for attempt in range(10):
        moment = RACE_MOMENTS[attempt % len(RACE_MOMENTS)]
        if moment is None:
            draw_quickly(page, SCRIBBLE)
        else:
            with page.expect_request(lambda request, at=moment: at in request.url, timeout=PREDICTION_TIMEOUT_MS):
                draw_quickly(page, SCRIBBLE)
        # A click from the page itself: Playwright's own click first waits for the button to be
        # stable, and the moment would be gone.
        page.evaluate("() => document.querySelector('#sketchpad button[aria-label=\"Clear canvas\"]').click()")
        wait_for_label(page, "Draw a digit")
        wait_until_settled(page)
        shown = (top_label(page), page.locator("#prediction [data-testid=markdown] h2").inner_text())
        assert shown == ("Draw a digit", "Draw a digit"), f"attempt {attempt + 1}: an older answer came back: {shown}"
        assert page.locator("#model-input img").count() == 0 and page.locator("#saliency img").count() == 0
        assert ink_on_the_canvas(page) == 0


def ink_on_the_canvas(page) -> int:
    """How many of the pad's canvas pixels are darker than mid grey."""
    return page.evaluate("""() => {
        const canvas = document.querySelector('#sketchpad canvas');
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let dark = 0;
        for (let k = 0; k < pixels.length; k += 4) dark += pixels[k] < 128;
        return dark;
    }""")


def test_on_a_phone_the_answer_shows_beside_the_whole_canvas_without_scrolling(phone):
    touch_draw(phone, SEVEN)
    wait_for_label(phone, "7")
    phone.wait_for_function(
        "() => document.querySelector('#answer-line h2')?.innerText.trim() === '7'", timeout=PREDICTION_TIMEOUT_MS
    )
    assert "sure" in phone.locator("#answer-line").inner_text()  # the digit and how sure, in one line
    assert phone.evaluate("() => window.scrollY") == 0
    assert inside_the_screen(phone.locator("#answer-line").bounding_box())
    assert inside_the_screen(phone.locator("#sketchpad canvas").first.bounding_box())
    upload, canvas = (phone.locator(f"#{name}").bounding_box() for name in ("upload", "sketchpad"))
    assert upload["y"] > phone.locator("#probabilities").bounding_box()["y"] > canvas["y"]  # the upload after
    SCREENSHOTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(SCREENSHOTS / "draw-phone.png"))


def test_in_dark_mode_the_ink_shows_on_the_paper(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, color_scheme="dark")
    page.goto(url + "?__theme=dark")
    page.wait_for_selector(PAD_READY)
    assert page.evaluate("() => document.body.classList.contains('dark')")
    draw(page, SEVEN)
    wait_for_label(page, "7")
    page.locator("#saliency img").wait_for(timeout=PREDICTION_TIMEOUT_MS)
    canvas = page.locator("#sketchpad canvas").first
    side = canvas.evaluate("c => c.width") * canvas.evaluate("c => c.height")
    assert 0.03 * side < ink_on_the_canvas(page) < 0.5 * side  # black ink on white paper, as the model reads it
    SCREENSHOTS.mkdir(exist_ok=True)
    page.locator("#draw-row").screenshot(path=str(SCREENSHOTS / "draw-dark.png"))  # docs/draw-dark.png
    page.close()


def test_on_a_desktop_the_answer_line_stays_hidden(page):
    assert not page.locator("#answer-line").is_visible()
    assert page.locator("#prediction").is_visible()


def test_upload_goes_through_the_same_pipeline(page, tmp_path):
    one = Image.new("L", (300, 300), 255)
    ImageDraw.Draw(one).line([(150, 45), (150, 255)], fill=0, width=22)
    one.save(tmp_path / "one.png")
    (tmp_path / "text.png").write_text("not an image")
    upload = page.locator("#upload input[type=file]")

    upload.set_input_files(str(tmp_path / "one.png"))
    wait_for_label(page, "1")
    upload.set_input_files(str(tmp_path / "text.png"))  # a person is told why, in plain words
    wait_for_label(page, "Not an image")
    assert "could not be read as an image" in page.locator("#prediction").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "upload-error.png"), full_page=True)


def test_an_uploaded_photo_shows_the_ink_the_model_read_until_a_drawing_replaces_it(page):
    page.get_by_label("Clear canvas").first.click()
    wait_for_label(page, "Draw a digit")
    page.locator("#upload input[type=file]").set_input_files(str(PHOTO))
    wait_for_label(page, "4")
    shown = page.locator("#cleaned-ink img")
    shown.wait_for(state="visible", timeout=PREDICTION_TIMEOUT_MS)
    page.wait_for_function("() => document.querySelector('#cleaned-ink img')?.naturalWidth > 0")
    assert page.locator("#model-input img").is_visible() and not page.locator("#reading-boxes").is_visible()
    for close in page.locator(".toast-close").all():  # an earlier test's warning, not part of this view
        close.click()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.locator("#draw-row").screenshot(path=str(SCREENSHOTS / "photo-4-read.png"))  # docs/photo-4-read.png
    draw(page, ONE)  # a drawing is not a photo: its answer hides the photo's ink
    wait_for_label(page, "1")
    page.locator("#cleaned-ink").wait_for(state="hidden", timeout=PREDICTION_TIMEOUT_MS)


def test_mistakes_tab_shows_a_tiles_probabilities(page):
    page.get_by_role("tab", name="Mistakes").click()
    assert " wrong — test accuracy " in page.locator("#mistakes-header").inner_text()
    page.locator("#mistakes button").first.click()
    page.wait_for_function(
        "() => document.querySelectorAll('#mistake-probabilities .confidence-set, "
        "#mistake-probabilities [data-testid=label-output-value]').length > 0",
        timeout=PREDICTION_TIMEOUT_MS,
    )
    assert "Test image #" in page.locator("#mistake-description").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "mistakes.png"), full_page=True)


def test_a_confusion_matrix_cell_filters_the_mistakes(page, classifier):
    mistakes = load_mistakes(classifier.folder)
    wrong = mistakes.confusion * (1 - np.eye(10, dtype=np.int64))
    true, predicted = np.unravel_index(wrong.argmax(), wrong.shape)  # the commonest mistake
    page.get_by_role("tab", name="Mistakes").click()
    page.locator(f"#confusion [data-testid='cell-{true}-{predicted + 1}']").click()
    expected = f"Showing {wrong.max()} of {len(mistakes)}."
    page.wait_for_function(
        "text => document.querySelector('#mistakes-count')?.innerText.trim() === text",
        arg=expected,
        timeout=PREDICTION_TIMEOUT_MS,
    )
    page.wait_for_function(
        "n => document.querySelectorAll('#mistakes button img').length === n",
        arg=int(wrong.max()),
        timeout=PREDICTION_TIMEOUT_MS,
    )
    captions = page.locator("#mistakes").inner_text()
    assert captions.count(f"true {true} → predicted {predicted}") == wrong.max()
    page.locator("#mistakes button").first.click()
    page.wait_for_function(
        "text => document.querySelector('#mistake-description')?.innerText.includes(text)",
        arg=f"a {true}, read as {predicted}",
        timeout=PREDICTION_TIMEOUT_MS,
    )
    for close in page.locator(".toast-close").all():  # an earlier test's warning, not part of this view
        close.click()
    page.screenshot(path=str(SCREENSHOTS / "confusion.png"), full_page=True)


def test_model_tab_lists_the_layers_once_the_model_has_loaded(page):
    page.get_by_role("tab", name="Model").click()
    assert "Test accuracy" in page.locator("#model-summary").inner_text()
    page.get_by_text("The layers, as PyTorch prints them").click()
    page.wait_for_function(
        "() => document.querySelector('#layers')?.innerText.includes('Conv2d')", timeout=PREDICTION_TIMEOUT_MS
    )
    assert "(the model is loading)" not in page.locator("#layers").inner_text()
