"""Training through /train while someone draws: the run's figures, and /classify's latency beside it.

    python benchmarks/train_while_drawing.py --data-dir ../shared/data
    python benchmarks/train_while_drawing.py --data-dir ../shared/data --model mlp
    python benchmarks/train_while_drawing.py --data-dir ../shared/data --isa avx2   # as on an AVX2-only CPU

Starts `python app.py` on a free port. First /classify alone (one client, a drawn 2 as a PNG
file), then the same calls from that client while a second client trains with
`client.submit(model=..., epochs=1, api_name="/train")`: side by side, in one run. Goals
(issues 12 and 20): cnn-fast's epoch (training and validation, on the one core the tab trains
on) <= 15 s, >= 98% test accuracy (mlp: >= 95%), >= 10 progress updates, the whole call <= 90 s;
/classify's p95 while it trains <= 1.5 s.
"""

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import common

GOAL_TRAIN_S = 90.0
GOAL_EPOCH_S = 15.0  # cnn-fast's (issue 20)
GOAL_P95_S = 1.5
GOAL_UPDATES = 10
GOAL_ACCURACY = {"cnn-fast": 98.0, "mlp": 95.0, "tutorial-cnn": 98.0}
IDLE_CALLS = 30


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("MNIST_DATA_DIR"),
        help="folder holding MNIST/raw (default: $MNIST_DATA_DIR)",
    )
    parser.add_argument(
        "--model", default="cnn-fast", choices=sorted(GOAL_ACCURACY), help="network to train (default: %(default)s)"
    )
    parser.add_argument("--epochs", type=int, default=1, help="epochs (default: %(default)s)")
    parser.add_argument(
        "--isa",
        choices=["native", "avx2"],
        default="native",
        help="the server runs torch's kernels for this CPU, or its AVX2 ones (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    busy = common.cpu_busy()
    from gradio_client import Client, handle_file

    port = common.free_port()
    server_args = ["app.py"] + (["--data-dir", args.data_dir] if args.data_dir else [])
    server = common.start_server(server_args, port, env=common.AVX2_KERNELS if args.isa == "avx2" else None)
    try:
        url = f"http://127.0.0.1:{port}/"
        common.wait_for_page(url, timeout=120, process=server)
        with tempfile.TemporaryDirectory() as folder:
            png = handle_file(str(common.save_sketch(Path(folder) / "sketch.png")))
            drawer, trainer = Client(url, verbose=False), Client(url, verbose=False)

            def classify_seconds() -> float:
                started = time.perf_counter()
                drawer.predict(png, api_name="/classify")
                return time.perf_counter() - started

            for _ in range(5):  # the model's first calls and the client's connection
                classify_seconds()
            idle = [classify_seconds() for _ in range(IDLE_CALLS)]
            training, during = train_and_draw(trainer, classify_seconds, args.model, args.epochs)
    finally:
        common.stop(server)

    final = training["updates"][-1]
    epoch_seconds = first_epoch_seconds(training["updates"], args.epochs)
    print(f"{common.machine()}; the server ran with --isa {args.isa}{common.busy_note(busy)}")
    common.print_table(
        f"/train {args.model}, {args.epochs} epoch(s), from a second client",
        [
            ("progress updates streamed", f"{len(training['updates'])}"),
            (
                "test accuracy",
                f"{final['test_accuracy']:.2f}% ({final['test_mistakes']} of {final['test_images']} wrong)",
            ),
            ("first epoch, training and validation (the server's count)", f"{epoch_seconds:.1f} s"),
            (
                "wall time of the call",
                f"{training['seconds']:.1f} s (the server's own count: {final['seconds']:.1f} s)",
            ),
        ],
    )
    common.print_table(
        "/classify from another client (a drawn 2, PNG file)",
        [
            (f"alone ({len(idle)} calls)", figures(idle)),
            (f"while it trains ({len(during)} calls)", figures(during)),
        ],
    )
    p95 = common.percentile(during, 95)
    goals = [
        (f">= {GOAL_UPDATES} progress updates", len(training["updates"]) >= GOAL_UPDATES),
        (f">= {GOAL_ACCURACY[args.model]:g}% test accuracy", final["test_accuracy"] >= GOAL_ACCURACY[args.model]),
        (f"training call <= {GOAL_TRAIN_S:g} s", training["seconds"] <= GOAL_TRAIN_S),
        *(
            [(f"cnn-fast epoch <= {GOAL_EPOCH_S:g} s", epoch_seconds <= GOAL_EPOCH_S)]
            if args.model == "cnn-fast"
            else []
        ),
        (f"/classify p95 while training <= {GOAL_P95_S:g} s", p95 <= GOAL_P95_S),
    ]
    print()
    for goal, met in goals:
        print(f"goal {goal}: {'met' if met else 'NOT met'}")
    common.print_reproduce()
    return 0 if all(met for _, met in goals) else 1


def train_and_draw(client, classify_seconds, model: str, epochs: int) -> tuple[dict, list[float]]:
    """Train through `client` in a thread; call /classify meanwhile, until the training's last update."""
    training = {"updates": [], "seconds": None}

    def train():
        started = time.perf_counter()
        job = client.submit(model=model, epochs=epochs, api_name="/train")
        training["updates"] = list(job)
        training["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=train)
    thread.start()
    during = []
    while thread.is_alive():
        during.append(classify_seconds())
    thread.join()
    if not training["updates"]:
        raise SystemExit("/train streamed nothing: is MNIST in --data-dir?")
    return training, during


def first_epoch_seconds(updates: list[dict], epochs: int) -> float:
    """The server's seconds at the end of the first epoch: its update comes after the full validation."""
    return next(u["seconds"] for u in updates if not u.get("done") and u["step"] >= u["steps"] // epochs)


def figures(seconds: list[float]) -> str:
    return (
        f"p50 {1000 * common.percentile(seconds, 50):7.1f} ms   p95 {1000 * common.percentile(seconds, 95):7.1f} ms"
        f"   max {1000 * max(seconds):7.1f} ms"
    )


if __name__ == "__main__":
    raise SystemExit(main())
