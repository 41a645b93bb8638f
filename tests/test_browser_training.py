"""The Train tab as a person uses it, in real Chromium: train the mlp for 1 epoch with people's corrections,
watch the curves grow, then draw a digit and see both models' answers side by side.

Needs real MNIST (MNIST_DATA_DIR) and Debian's Chromium. The screenshot of the finished run is
docs/train-tab.png's source (screenshots/ is gitignored).

    MNIST_DATA_DIR=... python -m pytest tests/test_browser_training.py -q
"""

import os

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from conftest import SCREENSHOTS, SEVEN, draw, kept_corrections, open_app, serve_app, wait_for_label  # noqa: E402

from mnist_demo.classifier_loader import ClassifierLoader  # noqa: E402
from mnist_demo.live_training import Trainer  # noqa: E402

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.slow

TRAINING_TIMEOUT_MS = 180_000  # the 120 s cap, plus the test set and a busy CPU
YOUR_LABEL = "#your-probabilities [data-testid=label-output-value]"
# Records the loss curve's number of points each time the plot redraws (Vega draws it as one SVG path).
WATCH_THE_CURVE = """
() => {
  window.lossPoints = [];
  new MutationObserver(() => {
    const line = document.querySelector('#loss-plot g.mark-line path');
    const count = line ? (line.getAttribute('d').match(/L/g) || []).length + 1 : 0;
    if (count && window.lossPoints[window.lossPoints.length - 1] !== count) window.lossPoints.push(count);
  }).observe(document.querySelector('#loss-plot'), {subtree: true, childList: true, attributes: true});
}
"""


@pytest.fixture(scope="module")
def url(classifier, mnist_dir, mnist_test, tmp_path_factory):
    images, labels = mnist_test
    corrections = kept_corrections(tmp_path_factory.mktemp("corrections"), images[:20], labels[:20])
    demo, local_url = serve_app(ClassifierLoader.of(classifier), trainer=Trainer(mnist_dir), corrections=corrections)
    yield local_url
    demo.close()


@pytest.fixture(scope="module")
def page(browser, url):
    page = open_app(browser, url, height=1100)
    yield page
    page.close()


def test_train_the_mlp_watch_the_curves_grow_then_draw_with_both_models(page):
    assert not page.locator("#your-probabilities").is_visible()  # no model of yours yet
    page.get_by_role("tab", name="Train").click()
    page.locator("#train-network").get_by_text("mlp", exact=True).click()
    page.locator("#train-corrections input").check()  # shown: the app keeps corrections
    page.evaluate(WATCH_THE_CURVE)
    page.locator("#train-button").click()

    page.wait_for_function(
        "() => document.querySelector('#train-results')?.innerText.includes('Test accuracy')",
        timeout=TRAINING_TIMEOUT_MS,
    )
    assert page.locator("#train-status").inner_text().startswith("Done")
    page.wait_for_timeout(500)  # the plot redraws after its data arrives
    points = page.evaluate("() => window.lossPoints")
    assert len(points) >= 3 and points == sorted(points), points  # the curve grew, point by point
    results = page.locator("#train-results").inner_text()
    accuracy = float(results.split("Test accuracy: ")[1].split("%")[0])
    assert accuracy >= 95
    assert "Learned from people's corrections: " in results
    assert page.locator("#train-mistakes img").count() > 0  # a few of its mistakes
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "train-tab.png"), full_page=True)

    page.get_by_role("tab", name="Draw").click()
    page.locator("#your-probabilities").wait_for(state="visible")
    draw(page, SEVEN)
    wait_for_label(page, "7")  # the packaged model
    page.wait_for_function(
        f"() => /^[0-9]$/.test(document.querySelector('{YOUR_LABEL}')?.innerText.trim())", timeout=TRAINING_TIMEOUT_MS
    )  # and yours, beside it
    page.screenshot(path=str(SCREENSHOTS / "draw-with-your-model.png"), full_page=True)
