"""Start-up time: from launching `python app.py` to the first page served, against a bare Gradio app.

    python benchmarks/startup.py                  # 5 launches of each, alternating
    python benchmarks/startup.py --repeats 9 --weights runs/best

Each launch is a fresh process (imports included), timed from `Popen` to the first
HTTP 200 for `/`. The reference is benchmarks/bare_app.py: the same components and
endpoints with no model. Launches alternate (app, bare, app, bare...) so a slower moment
of the machine hits both; the medians are compared. Goal: ratio <= 1.5.

app.py serves its page while torch and the model are still loading, so the script also
times each launch to its first `/classify` answer (a gradio_client call made as soon as
the page is there): what someone who starts drawing at once would wait.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import common

GOAL_RATIO = 1.5


def time_launch(args: list[str], timeout: float, sketch: str) -> tuple[float, float]:
    """Seconds from starting the server to its first page, and to its first /classify answer."""
    from gradio_client import Client, handle_file

    port = common.free_port()
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    process = common.start_server(args, port)
    try:
        page = common.wait_for_page(url, timeout, process) - started
        Client(url, verbose=False, analytics_enabled=False).predict(handle_file(sketch), api_name="/classify")
        return page, time.perf_counter() - started
    finally:
        common.stop(process)


def spread(times: list[float]) -> str:
    return f"{statistics.median(times):5.2f} s  ({min(times):.2f}-{max(times):.2f})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="launches of each app (default: %(default)s)")
    parser.add_argument("--weights", default=None, help="app.py --weights (default: the packaged weights)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for a page (default: %(default)s)")
    args = parser.parse_args(argv)
    busy = common.cpu_busy()

    launches = {
        "app": ["app.py"] + (["--weights", args.weights] if args.weights else []),
        "bare": ["benchmarks/bare_app.py"],
    }
    times = {name: [] for name in launches}
    with tempfile.TemporaryDirectory() as folder:
        sketch = str(common.save_sketch(Path(folder) / "sketch.png"))
        for name in ("bare", "app"):  # untimed: warms the OS file cache (the same gradio files for both)
            time_launch(launches[name], args.timeout, sketch)
        for _ in range(args.repeats):
            for name, launch in launches.items():
                times[name].append(time_launch(launch, args.timeout, sketch))

    page = {name: [p for p, _ in runs] for name, runs in times.items()}
    answer = {name: [a for _, a in runs] for name, runs in times.items()}
    ratio = statistics.median(page["app"]) / statistics.median(page["bare"])
    print(f"{common.machine()}{common.busy_note(busy)}")
    common.print_table(
        f"start-up to the first page, {args.repeats} alternating launches each (median, min-max)",
        [
            ("python app.py", spread(page["app"])),
            ("bare Gradio app, same components", spread(page["bare"])),
            ("ratio", f"{ratio:5.2f}x"),
        ],
    )
    common.print_table(
        "start-up to the first /classify answer (the page first, then one gradio_client call)",
        [
            ("python app.py (torch and the model loaded by then)", spread(answer["app"])),
            ("bare Gradio app (a fixed answer)", spread(answer["bare"])),
        ],
    )
    return common.verdict("ratio", ratio, GOAL_RATIO)


if __name__ == "__main__":
    raise SystemExit(main())
