"""People drawing on the Draw tab's pad at once, as their browsers talk to the server: `load_test.py --strokes`.

    python benchmarks/load_test.py --strokes --people 16 --digits 5 --data-dir ../shared/data

Each person is a thread drawing held-out digits (benchmarks/traced_digits.py: MNIST test images
traced into strokes, those the model reads right in-process) at a person's pace, and a second
thread that is its browser: the pad's change event, one in flight at a time, the latest value
next (always_last), through Gradio's queue (POST /gradio_api/queue/join, then the event's
messages on /gradio_api/queue/data), as the page's JavaScript client does. Measured: from each
pen-up to its answer (the event's first message with output), every event's round trip, the
queue position the server reports, the server's memory.
"""

import json
import statistics
import threading
import time
import uuid

import httpx
from common import busy_note, free_port, machine, percentile, print_reproduce, print_table, start_server, stop
from common import wait_for_page as wait_for_server
from load_test import MemorySampler, rss_mb
from traced_digits import digit_strokes, held_out

SEND_S = 0.09  # mnist_demo.drawing_pad.SEND_MS: the pad sends its strokes this often while the pen moves
POINT_S = 0.012  # a person's pen: ~80 traced points a second, a digit's stroke in a third to half a second
STROKE_PAUSE_S = 0.25  # between strokes
LOOK_S = 0.5  # a person looks at the answer before clearing
CANVAS = 400
GOAL_PEN_UP_P95_S = 1.5
GOAL_MEMORY_MB = 150


class Browser(threading.Thread):
    """One page's pad event: sends the latest value when none is in flight; records each event's timings."""

    def __init__(self, url: str, fn_index: int, trigger: int, label_index: int):
        super().__init__(daemon=True)
        self.url, self.fn_index, self.trigger, self.label_index = url, fn_index, trigger, label_index
        self.session = uuid.uuid4().hex[:11]
        self.http = httpx.Client(timeout=60)
        self.latest, self.wake, self.lock = None, threading.Event(), threading.Lock()
        self.idle = threading.Event()  # set while no event is in flight or waiting
        self.idle.set()
        self.answered = {}  # value's "sent" -> (seconds when its first output came, its label)
        self.round_trips, self.ranks = [], []  # (start, seconds) per event; queue positions reported

    def post(self, value: dict) -> None:
        with self.lock:
            self.latest = value
            self.idle.clear()
            self.wake.set()

    def run(self):
        while True:
            self.wake.wait()
            with self.lock:
                self.wake.clear()
                value, self.latest = self.latest, None
            if value is not None:
                self.send(value)
            with self.lock:
                if self.latest is None:
                    self.idle.set()
                else:
                    self.wake.set()

    def send(self, value: dict) -> None:
        started = time.perf_counter()
        body = {"data": [value], "event_data": None, "fn_index": self.fn_index, "trigger_id": self.trigger}
        event = self.http.post(f"{self.url}gradio_api/queue/join", json=body | {"session_hash": self.session})
        event_id = event.json()["event_id"]
        first = None
        with self.http.stream("GET", f"{self.url}gradio_api/queue/data", params={"session_hash": self.session}) as s:
            for line in s.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") != event_id:
                    continue
                if message.get("msg") == "estimation" and message.get("rank") is not None:
                    self.ranks.append(message["rank"])
                if message.get("msg") in ("process_generating", "process_completed") and first is None:
                    first = time.perf_counter()
                    self.answered[value["sent"]] = (first, label_of(message, self.label_index))
                if message.get("msg") == "process_completed":
                    break
        self.round_trips.append((started, time.perf_counter() - started))


def label_of(message: dict, index: int) -> str | None:
    """The probabilities' top label in an event's output message (a gr.Label value, or an update holding one)."""
    data = (message.get("output") or {}).get("data") or []
    value = data[index] if index < len(data) else None
    if isinstance(value, dict) and value.get("__type__") == "update":
        value = value.get("value")
    return value.get("label") if isinstance(value, dict) else value


class Person(threading.Thread):
    """Draws its digits on the pad, stroke by stroke, and clears after each answer."""

    def __init__(self, browser: Browser, digits: list, deadline: float):
        super().__init__(daemon=True)
        self.browser, self.digits, self.deadline = browser, digits, deadline
        self.sent = 0
        self.pen_ups = []  # (digit, pen-up moment, the value's "sent") for each digit's last stroke
        self.results = []  # (expected, answered)

    def value(self, strokes, drawing: bool) -> dict:
        self.sent += 1
        return {"width": CANVAS, "height": CANVAS, "strokes": strokes, "drawing": drawing, "sent": self.sent}

    def run(self):
        for expected, strokes in self.digits:
            if time.perf_counter() > self.deadline:
                break
            drawn = []
            for number, stroke in enumerate(strokes):
                if number:
                    time.sleep(STROKE_PAUSE_S)
                drawn.append([])
                last_sent = 0.0
                for point in stroke:
                    drawn[-1].append(point)
                    time.sleep(POINT_S)
                    if time.perf_counter() - last_sent >= SEND_S:
                        self.browser.post(self.value([list(s) for s in drawn], True))
                        last_sent = time.perf_counter()
                self.browser.post(self.value([list(s) for s in drawn], False))
                lifted = time.perf_counter()
            self.pen_ups.append((expected, lifted, self.sent))
            self.browser.idle.wait(timeout=max(0.0, self.deadline - time.perf_counter()))
            self.results.append((expected, self.browser.answered.get(self.sent, (None, None))[1]))
            time.sleep(LOOK_S)
            self.browser.post(self.value([], False))  # Clear
            self.browser.idle.wait(timeout=max(0.0, self.deadline - time.perf_counter()))


def pad_event(url: str) -> tuple[int, int, int]:
    """The Draw tab's pad event in the page's config: (its fn_index, the pad's id, the probabilities' output index)."""
    config = httpx.get(f"{url}config", timeout=30).json()
    ids = {c.get("props", {}).get("elem_id"): c["id"] for c in config["components"]}
    pad, probabilities = ids["sketchpad"], ids["probabilities"]
    event = next(
        d for d in config["dependencies"] if [pad, "change"] in [list(t) for t in d["targets"]] and d.get("backend_fn")
    )
    return event["id"], pad, event["outputs"].index(probabilities)


def people_digits(data_dir: str, people: int, per_person: int) -> list[list]:
    """Each person's digits, strokes in the pad's pixels: held-out test digits the Draw tab's reading (a digit or
    a whole number) gets right in-process, so that a wrong answer under load is the load's doing."""
    from traced_digits import draw_tab_reading

    from mnist_demo import Classifier

    classifier = Classifier.from_pretrained()
    digits = []
    for label, image in held_out(data_dir, per_class=5):
        strokes = [[[round(x * CANVAS, 1), round(y * CANVAS, 1)] for x, y in s] for s in digit_strokes(image)]
        if draw_tab_reading(classifier, strokes) == label:
            digits.append((label, strokes))
    return [[digits[(p * per_person + k) % len(digits)] for k in range(per_person)] for p in range(people)]


def run_people(people: int, per_person: int, data_dir: str, timeout: float) -> int:
    digits = people_digits(data_dir, people, per_person)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    server = start_server(["app.py", "--no-corrections"], port)
    try:
        wait_for_server(url, timeout=180, process=server)
        fn_index, pad, label_index = pad_event(url)
        warm = Browser(url, fn_index, pad, label_index)
        warm.start()
        warm_person = Person(warm, digits[0][:1], time.perf_counter() + 60)
        warm_person.run()  # the model's first answers are not part of the figures
        baseline = rss_mb(server.pid)
        sampler = MemorySampler(server.pid)
        sampler.start()
        deadline = time.perf_counter() + timeout
        browsers = [Browser(url, fn_index, pad, label_index) for _ in range(people)]
        crowd = [Person(b, d, deadline) for b, d in zip(browsers, digits)]
        started = time.perf_counter()
        for thread in (*browsers, *crowd):
            thread.start()
        for person in crowd:
            person.join(timeout=max(1.0, deadline - time.perf_counter()))
        elapsed = time.perf_counter() - started
        sampler.done.set()
        sampler.join()
        final = rss_mb(server.pid)
    finally:
        stop(server)
    return report(crowd, browsers, started, elapsed, baseline, final, max(sampler.samples, default=final), people)


def report(crowd, browsers, started, elapsed, baseline, final, peak, people) -> int:
    pen_ups = [
        browser.answered[sent][0] - lifted
        for person, browser in zip(crowd, browsers)
        for _, lifted, sent in person.pen_ups
        if sent in browser.answered
    ]
    results = [r for person in crowd for r in person.results]
    right = sum(expected == answer for expected, answer in results)
    trips = sorted((start - started, seconds) for b in browsers for start, seconds in b.round_trips)
    third = max(1, len(trips) // 3)
    middle, last = [s for _, s in trips[third:-third] or trips], [s for _, s in trips[-third:]]
    ranks = [rank for b in browsers for rank in b.ranks]
    expected_digits = sum(len(p.digits) for p in crowd)
    print(machine())
    print_table(
        f"{people} people drawing on the pad at once, {expected_digits} digits{busy_note()}",
        [
            (
                "digits answered, read right",
                f"{len(results)} of {expected_digits}, {right} right"
                + f"; wrong: {[r for r in results if r[0] != r[1]][:5]}" * (right < len(results)),
            ),
            (
                "pen-up -> its answer p50 / p95 / max",
                " / ".join(f"{percentile(pen_ups, q):.2f} s" for q in (50, 95)) + f" / {max(pen_ups):.2f} s"
                if pen_ups
                else "none",
            ),
            ("events (strokes sent)", f"{len(trips)} in {elapsed:.1f} s: {len(trips) / elapsed:.1f} a second"),
            (
                "round trip p50, middle third / last third",
                f"{statistics.median(middle) * 1000:.0f} ms / {statistics.median(last) * 1000:.0f} ms",
            ),
            ("largest queue position reported", f"{max(ranks, default=0)} (one event per person at most: {people})"),
            (
                "server RSS",
                f"{baseline:.0f} MB after warm-up, peak {peak:.0f} MB, final {final:.0f} MB: "
                f"growth {final - baseline:+.0f} MB (budget < {GOAL_MEMORY_MB} MB)",
            ),
        ],
    )
    behind = max(ranks, default=0) > people or statistics.median(last) > 1.5 * statistics.median(middle) + 0.05
    met = {
        f"pen-up answer p95 <= {GOAL_PEN_UP_P95_S} s": bool(pen_ups) and percentile(pen_ups, 95) <= GOAL_PEN_UP_P95_S,
        "never falls behind (queue <= one event per person; round trips steady)": not behind,
        f"memory flat (< {GOAL_MEMORY_MB} MB growth)": max(final, peak) - baseline < GOAL_MEMORY_MB,
        "every digit answered and read right": len(results) == expected_digits == right,
    }
    for goal, ok in met.items():
        print(f"goal {goal}: {'met' if ok else 'NOT met'}")
    print_reproduce()
    return 0 if all(met.values()) else 1
