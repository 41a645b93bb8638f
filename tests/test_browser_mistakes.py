"""The Mistakes tab's section of people's corrections, in real Chromium: the latest ones, newest first, each with
what the model said and what the person said it was, read again each time the tab is opened.

    MNIST_DATA_DIR=... python -m pytest tests/test_browser_mistakes.py -q
"""

import os

import numpy as np
import pytest
from conftest import SCREENSHOTS, keep_corrections, kept_corrections, serve_app

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from mnist_demo.classifier_loader import ClassifierLoader  # noqa: E402
from mnist_demo.corrections import correction_caption  # noqa: E402

pytestmark = pytest.mark.slow  # drives Chromium against a launched app

sync_api = pytest.importorskip("playwright.sync_api")

TIMEOUT_MS = 30_000
TILES = "#latest-corrections button img"


@pytest.fixture(scope="module")
def served(classifier, mnist_test, tmp_path_factory):
    images, labels = mnist_test
    store = kept_corrections(tmp_path_factory.mktemp("corrections"), images[:3], labels[:3], predicted="1")
    demo, url = serve_app(ClassifierLoader.of(classifier), corrections=store)
    yield url, store, (images, labels)
    demo.close()


def open_mistakes(page):
    page.get_by_role("tab", name="Draw").click()
    page.get_by_role("tab", name="Mistakes").click()


def test_the_latest_corrections_show_newest_first_and_a_new_one_when_the_tab_opens_again(browser, served):
    url, store, (images, labels) = served
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        page.goto(url)
        page.get_by_role("tab", name="Mistakes").click()
        page.wait_for_function(f"() => document.querySelectorAll('{TILES}').length === 3", timeout=TIMEOUT_MS)
        captions = page.locator("#latest-corrections").inner_text()
        newest_first = [correction_caption(entry.meta) for entry in store.latest(3)]  # (the store's own tests
        assert [line for line in captions.splitlines() if line.startswith("the model said")] == newest_first  # order)
        assert sorted(newest_first) == sorted(f"the model said 1, it was {label}" for label in labels[:3])
        assert "kept 3 corrections: the latest 3" in page.locator("#corrections-header").inner_text()

        keep_corrections(store, np.stack([images[3]]), ["not a digit"], predicted="7")  # someone, meanwhile
        open_mistakes(page)
        page.wait_for_function(f"() => document.querySelectorAll('{TILES}').length === 4", timeout=TIMEOUT_MS)
        first = page.locator("#latest-corrections").inner_text().split("the model said")[1]
        assert first.strip().startswith("7, it was not a digit")
        assert "kept 4 corrections" in page.locator("#corrections-header").inner_text()
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "latest-corrections.png"), full_page=True)
    finally:
        page.close()
