"""End-to-end latency: `/classify` through gradio_client, against the same endpoint of a bare Gradio app.

    python benchmarks/e2e_latency.py               # 100 calls to each, interleaved
    python benchmarks/e2e_latency.py --calls 300 --weights runs/best

app.py and benchmarks/bare_app.py (the same components and endpoints, no model) run as
servers on 127.0.0.1; one gradio_client per server sends the same 800x800 PNG of a drawn
digit to `/classify` (upload, queue, prediction, answer). The calls alternate between the
two servers, so a slower moment of the machine hits both, and the medians are compared.
Goal: ratio <= 1.15 (the model adds at most 15% to a Gradio round trip).
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import common

GOAL_RATIO = 1.15


def timed_call(client, sketch: str) -> tuple[float, object]:
    from gradio_client import handle_file

    started = time.perf_counter()
    answer = client.predict(handle_file(sketch), api_name="/classify")
    return (time.perf_counter() - started) * 1000, answer


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=100, help="timed calls to each server (default: %(default)s)")
    parser.add_argument("--weights", default=None, help="app.py --weights (default: the packaged weights)")
    args = parser.parse_args(argv)
    busy = common.cpu_busy()
    from gradio_client import Client

    servers = common.app_and_bare_app(args.weights)
    processes, clients = {}, {}
    with tempfile.TemporaryDirectory() as folder:
        sketch = str(common.save_sketch(Path(folder) / "sketch.png"))
        try:
            for name, server_args in servers.items():
                port = common.free_port()
                processes[name] = common.start_server(server_args, port)
                common.wait_for_page(f"http://127.0.0.1:{port}/", 180, processes[name])
                clients[name] = Client(f"http://127.0.0.1:{port}/", verbose=False, analytics_enabled=False)
            answers = {name: timed_call(client, sketch)[1] for name, client in clients.items()}
            for _ in range(10):  # warm-up: first uploads, queue workers, the model's first forward passes
                for client in clients.values():
                    timed_call(client, sketch)
            times = {name: [] for name in clients}
            for _ in range(args.calls):
                for name, client in clients.items():
                    times[name].append(timed_call(client, sketch)[0])
        finally:
            for process in processes.values():
                common.stop(process)

    app, bare = times["app.py"], times["bare Gradio app"]
    ratio = statistics.median(app) / statistics.median(bare)
    label = answers["app.py"].get("label") if isinstance(answers["app.py"], dict) else answers["app.py"]
    print(f"{common.machine()}{common.busy_note(busy)}")
    print(f"app.py reads the sketch as: {label}")
    common.print_table(
        f"/classify round trip through gradio_client, {args.calls} interleaved calls each",
        [
            ("app.py", f"median {statistics.median(app):6.1f} ms   p95 {common.percentile(app, 95):6.1f} ms"),
            (
                "bare Gradio app (no model)",
                f"median {statistics.median(bare):6.1f} ms   p95 {common.percentile(bare, 95):6.1f} ms",
            ),
            ("ratio of medians", f"{ratio:.3f}"),
        ],
    )
    return common.verdict("ratio", ratio, GOAL_RATIO)


if __name__ == "__main__":
    raise SystemExit(main())
