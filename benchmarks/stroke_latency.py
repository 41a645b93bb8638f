"""Stroke to answer, as a person feels it: Chromium draws digits with the mouse in the Draw tab.

    python benchmarks/stroke_latency.py                 # digits 0-7 on each app, interleaved
    python benchmarks/stroke_latency.py --digits 0123456789 --rounds 2

app.py and benchmarks/bare_app.py (the same Sketchpad: size, brush, trigger; a function that
answers at once) run as servers on 127.0.0.1, each in its own Chromium page (Debian's, driven by
Playwright). Each digit is drawn stroke by stroke with the mouse, as a person would (pen-stroke
paths, a pause between strokes), then the canvas is cleared. A MutationObserver on the
probabilities timestamps every change of the page's answer; the figure for a digit is the time
from the mouse-up that ends its last stroke to the last change of the answer that follows it.
Digits alternate between the two apps, so a slower moment of the machine hits both.
Goal: median ratio <= 1.2 (the model adds at most 20% to what Gradio itself takes), every digit
read right.
"""

import argparse
import math
import statistics
import time

import common

GOAL_RATIO = 1.2
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STROKE_PAUSE_S = 0.25  # a person lifts the pen and moves to the next stroke
SETTLE_S = 1.5  # the answer has arrived when the probabilities stay put this long after the last stroke
TIMEOUT_S = 30
STEPS_PER_SEGMENT = 4  # mouse events between two points of a stroke


def arc(cx, cy, rx, ry, start, end, n):
    """Points along an ellipse's arc, in fractions of the canvas (angles in degrees, clockwise on screen)."""
    return [
        (cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
        for a in (start + (end - start) * k / (n - 1) for k in range(n))
    ]


# Pen-stroke digits, each a list of strokes, in fractions of the canvas (the packaged model reads each right).
DIGITS = {
    "0": [arc(0.5, 0.5, 0.17, 0.3, -90, 270, 16)],
    "1": [[(0.52, 0.18), (0.48, 0.82)]],
    "2": [arc(0.5, 0.33, 0.15, 0.13, 200, 380, 8) + [(0.34, 0.8), (0.68, 0.8)]],
    "3": [arc(0.49, 0.33, 0.14, 0.14, 210, 450, 9) + arc(0.49, 0.64, 0.16, 0.17, -90, 140, 9)],
    "4": [[(0.58, 0.18), (0.32, 0.6), (0.7, 0.6)], [(0.6, 0.38), (0.6, 0.84)]],
    "5": [[(0.66, 0.2), (0.4, 0.2), (0.37, 0.46)] + arc(0.5, 0.62, 0.16, 0.17, -120, 150, 9)],
    "6": [[(0.62, 0.18), (0.45, 0.4)] + arc(0.5, 0.64, 0.15, 0.17, 200, 560, 12)],
    "7": [[(0.3, 0.22), (0.7, 0.22)], [(0.7, 0.22), (0.5, 0.82)]],
    "8": [arc(0.5, 0.33, 0.13, 0.14, 90, 450, 10) + arc(0.5, 0.64, 0.16, 0.17, -90, 270, 12)],
    "9": [arc(0.5, 0.35, 0.15, 0.15, 0, 360, 12) + [(0.64, 0.82)]],
}

# Timestamps (performance.now()) of every mouse-up and every change of the answer's text.
WATCH = """
() => {
  window.strokeLatency = {ups: [], answers: []};
  const label = document.querySelector('#probabilities');
  new MutationObserver(() => window.strokeLatency.answers.push([performance.now(), label.innerText]))
    .observe(label, {subtree: true, childList: true, characterData: true});
  window.addEventListener('mouseup', () => window.strokeLatency.ups.push(performance.now()), true);
}
"""
TOP_LABEL = "#probabilities [data-testid=label-output-value]"


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(url)
    page.wait_for_selector("#sketchpad button[title=Brush].highlight", timeout=TIMEOUT_S * 1000)
    page.evaluate(WATCH)
    return page


def draw(page, strokes) -> None:
    box = page.locator("#sketchpad canvas").first.bounding_box()
    at = lambda fx, fy: (box["x"] + fx * box["width"], box["y"] + fy * box["height"])  # noqa: E731
    for number, stroke in enumerate(strokes):
        if number:
            time.sleep(STROKE_PAUSE_S)
        page.mouse.move(*at(*stroke[0]))
        page.mouse.down()
        for point in stroke[1:]:
            page.mouse.move(*at(*point), steps=STEPS_PER_SEGMENT)
        page.mouse.up()


def stroke_to_answer(page, strokes) -> tuple[float | None, str]:
    """Draw a digit; the milliseconds from its last mouse-up to the last change of the answer, and the answer."""
    page.evaluate("() => { window.strokeLatency.ups = []; window.strokeLatency.answers = []; }")
    draw(page, strokes)
    deadline = time.perf_counter() + TIMEOUT_S
    while time.perf_counter() < deadline:
        time.sleep(0.25)
        record = page.evaluate("() => ({...window.strokeLatency, now: performance.now()})")
        last_up = record["ups"][-1]
        answers = [t for t, _ in record["answers"] if t > last_up]
        if answers and record["now"] - answers[-1] > SETTLE_S * 1000:
            return answers[-1] - last_up, page.locator(TOP_LABEL).inner_text().strip()
    return None, page.locator(TOP_LABEL).inner_text().strip()


def clear(page) -> None:
    page.get_by_label("Clear canvas").first.click()
    page.wait_for_function(
        f"() => document.querySelector('{TOP_LABEL}')?.innerText.trim() === 'Draw a digit'", timeout=TIMEOUT_S * 1000
    )
    page.wait_for_selector("#sketchpad button[title=Brush].highlight", timeout=TIMEOUT_S * 1000)
    page.wait_for_function(
        "() => document.querySelector('#sketchpad button[title=\"Undo\"]')?.disabled", timeout=TIMEOUT_S * 1000
    )


def measure(pages: dict, digits: str, rounds: int) -> dict:
    """{app name: [(digit, ms or None, what the page answered)]}, digits drawn on each page in turn."""
    results = {name: [] for name in pages}
    for page in pages.values():  # warm-up: the first answers load the model, the first uploads
        stroke_to_answer(page, DIGITS["1"])
        clear(page)
    for _ in range(rounds):
        for digit in digits:
            for name, page in pages.items():
                latency, answer = stroke_to_answer(page, DIGITS[digit])
                results[name].append((digit, latency, answer))
                clear(page)
    return results


def summary(runs: list) -> str:
    times = [ms for _, ms, _ in runs if ms is not None]
    missing = len(runs) - len(times)
    text = f"median {statistics.median(times):6.0f} ms   min {min(times):5.0f}   max {max(times):5.0f}"
    return text + (f"   ({missing} with no answer in {TIMEOUT_S} s)" if missing else "")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--digits", default="01234567", help="the digits to draw, in order (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=1, help="times to draw them (default: %(default)s)")
    parser.add_argument("--weights", default=None, help="app.py --weights (default: the packaged weights)")
    args = parser.parse_args(argv)
    busy = common.cpu_busy()
    from playwright.sync_api import sync_playwright

    servers = common.app_and_bare_app(args.weights)
    processes = {}
    try:
        urls = {}
        for name, server_args in servers.items():
            port = common.free_port()
            processes[name] = common.start_server(server_args, port)
            common.wait_for_page(f"http://127.0.0.1:{port}/", 180, processes[name])
            urls[name] = f"http://127.0.0.1:{port}/"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            results = measure({name: open_page(browser, url) for name, url in urls.items()}, args.digits, args.rounds)
            browser.close()
    finally:
        for process in processes.values():
            common.stop(process)

    app, bare = results["app.py"], results["bare Gradio app"]
    wrong = [(digit, answer) for digit, _, answer in app if answer != digit]
    ratio = statistics.median(ms for _, ms, _ in app if ms is not None) / statistics.median(
        ms for _, ms, _ in bare if ms is not None
    )
    print(f"{common.machine()}{common.busy_note(busy)}")
    print(
        f"app.py read {len(app) - len(wrong)} of {len(app)} digits right"
        + (": wrong " + ", ".join(f"{d} as {a!r}" for d, a in wrong) if wrong else "")
    )
    print("app.py, per digit (ms): " + ", ".join(f"{d}: {ms:.0f}" if ms else f"{d}: -" for d, ms, _ in app))
    common.print_table(
        f"last mouse-up of a digit to its answer on the page, {len(app)} digits each",
        [
            ("app.py", summary(app)),
            ("bare Gradio app (same Sketchpad, instant answer)", summary(bare)),
            ("ratio of medians", f"{ratio:.2f}x"),
        ],
    )
    code = common.verdict("ratio", ratio, GOAL_RATIO)
    return code or (1 if wrong else 0)


if __name__ == "__main__":
    raise SystemExit(main())
