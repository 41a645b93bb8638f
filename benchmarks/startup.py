"""Start-up time: from launching `python app.py` to the first page served, against a bare Gradio app.

    python benchmarks/startup.py                  # 5 launches of each, alternating
    python benchmarks/startup.py --repeats 9 --weights runs/best

Each launch is a fresh process (imports included), timed from `Popen` to the first
HTTP 200 for `/`. The reference is benchmarks/bare_app.py: the same components and
endpoints with no model. Launches alternate (app, bare, app, bare...) so a slower moment
of the machine hits both; the medians are compared. Goal: ratio <= 1.5.
"""

import argparse
import statistics
import time

import common

GOAL_RATIO = 1.5


def time_to_first_page(args: list[str], timeout: float, env: dict | None = None) -> float:
    port = common.free_port()
    started = time.perf_counter()
    process = common.start_server(args, port, env)
    try:
        return common.wait_for_page(f"http://127.0.0.1:{port}/", timeout, process) - started
    finally:
        common.stop(process)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="launches of each app (default: %(default)s)")
    parser.add_argument("--weights", default=None, help="app.py --weights (default: the packaged weights)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for a page (default: %(default)s)")
    args = parser.parse_args(argv)
    busy = common.cpu_busy()

    app_args = ["app.py"] + (["--weights", args.weights] if args.weights else [])
    bare_args = ["benchmarks/bare_app.py"]
    time_to_first_page(bare_args, args.timeout)  # untimed: warms the OS file cache for both (same gradio files)
    time_to_first_page(app_args, args.timeout)
    app, bare = [], []
    for _ in range(args.repeats):
        app.append(time_to_first_page(app_args, args.timeout))
        bare.append(time_to_first_page(bare_args, args.timeout))

    ratio = statistics.median(app) / statistics.median(bare)
    print(f"{common.machine()}{common.busy_note(busy)}")
    common.print_table(f"start-up to the first page, {args.repeats} alternating launches each (median, min-max)", [
        ("python app.py", f"{statistics.median(app):5.2f} s  ({min(app):.2f}-{max(app):.2f})"),
        ("bare Gradio app, same components", f"{statistics.median(bare):5.2f} s  ({min(bare):.2f}-{max(bare):.2f})"),
        ("ratio", f"{ratio:5.2f}x"),
    ])
    print(f"\ngoal ratio <= {GOAL_RATIO:g}: {'met' if ratio <= GOAL_RATIO else 'NOT met'}")
    common.print_reproduce()
    return 0 if ratio <= GOAL_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
