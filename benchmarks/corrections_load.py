"""Sixteen people correcting at once: every correction kept whole, and counted right after a restart.

Starts `python app.py --corrections-dir DIR` (a temporary folder) on 127.0.0.1, then 16 gradio_client clients
(threads, each its own session) each send 20 corrections to `/correct` at the same time: a drawing's strokes as the
Draw tab's pad sends them, or a picture file, each with a right answer. Then it reads the folder back: every id the
server answered is there, each entry whole (its picture, its 28x28 and its JSON decode, the right answer the one
sent), no temporary file left; then it restarts the app on the same folder and checks that the next correction's
count is one more. Prints the throughput, the latency percentiles and the command to reproduce.

    python benchmarks/corrections_load.py                     # 16 clients x 20 corrections
    python benchmarks/corrections_load.py --clients 4 --requests 5
"""

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import (  # puts the repo on sys.path
    busy_note,
    free_port,
    percentile,
    print_reproduce,
    print_table,
    start_server,
    stop,
    wait_for_page,
)

# isort: split

from PIL import Image, ImageDraw

SEVEN = {"width": 400, "height": 400, "strokes": [[[110, 90], [290, 90]], [[290, 90], [180, 330]]]}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=16, help="people correcting at once (gradio_client sessions)")
    parser.add_argument("--requests", type=int, default=20, help="corrections each sends (at most 30 a minute)")
    return parser.parse_args(argv)


def one_file(folder: Path) -> Path:
    """A 1 on white paper, as a script would upload it."""
    path = folder / "one.png"
    image = Image.new("L", (300, 300), 255)
    ImageDraw.Draw(image).line([(150, 40), (150, 260)], fill=0, width=22)
    image.save(path)
    return path


def start_app(folder: Path) -> tuple[object, str]:
    port = free_port()
    server = start_server(["app.py", "--no-training", "--corrections-dir", str(folder)], port, {"HF_HUB_OFFLINE": "1"})
    url = f"http://127.0.0.1:{port}/"
    wait_for_page(url, 120, server)
    return server, url


def correct_at_once(url: str, picture: Path, clients: int, requests: int) -> tuple[dict, list[float], list, float]:
    """Each client sends `requests` corrections, all starting together: ({id: right answer}, latencies in ms,
    failures, seconds)."""
    from gradio_client import Client, handle_file

    sent, latencies, failures = {}, [], []
    lock, start = threading.Lock(), threading.Barrier(clients + 1)

    def person(k: int) -> None:
        client = Client(url, verbose=False)
        try:
            start.wait()
            for i in range(requests):
                digit = str((k + i) % 10)
                args = (None, digit, SEVEN) if i % 2 else (handle_file(str(picture)), digit, None)
                began = time.perf_counter()
                saved = client.predict(*args, api_name="/correct")
                with lock:
                    latencies.append((time.perf_counter() - began) * 1000)
                    sent[saved["id"]] = digit
        except Exception as error:  # noqa: BLE001 - counted and shown
            failures.append(repr(error)[:200])
        finally:
            client.close()

    people = [threading.Thread(target=person, args=(k,), daemon=True) for k in range(clients)]
    for thread in people:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in people:
        thread.join()
    return sent, latencies, failures, time.perf_counter() - began


def whole_entries(folder: Path, sent: dict) -> tuple[int, int]:
    """(entries that are whole and hold the answer sent, temporary files left) in the corrections folder."""
    from mnist_demo.corrections import ENTRIES, read_entries

    whole = 0
    for entry in read_entries(folder):
        entry.picture().load()
        whole += entry.id in sent and entry.label == sent[entry.id] and entry.mnist().shape == (1, 28, 28)
    return whole, sum(p.name.startswith(".") for p in (folder / ENTRIES).iterdir())


def main(argv=None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="corrections-load-") as tmp:
        tmp = Path(tmp)
        picture, folder = one_file(tmp), tmp / "corrections"
        note = busy_note()
        server, url = start_app(folder)
        try:
            sent, latencies, failures, seconds = correct_at_once(url, picture, args.clients, args.requests)
        finally:
            stop(server)
        whole, temporary = whole_entries(folder, sent)
        server, url = start_app(folder)  # a restart on the same folder
        try:
            from gradio_client import Client, handle_file

            client = Client(url, verbose=False)
            after_restart = client.predict(handle_file(str(picture)), "1", api_name="/correct")["count"]
            client.close()
        finally:
            stop(server)
    total = args.clients * args.requests
    print_table(
        f"{args.clients} clients x {args.requests} corrections through /correct, at once{note}",
        [
            ("kept (ids answered)", f"{len(sent)}/{total}"),
            ("whole, with the answer sent", f"{whole}/{total}; {temporary} temporary files left"),
            ("failures", f"{len(failures)}" + (f": {failures[0]}" if failures else "")),
            ("throughput", f"{len(latencies) / seconds:.1f} corrections/s ({seconds:.1f} s)"),
            ("latency p50 / p95", f"{percentile(latencies, 50):.0f} / {percentile(latencies, 95):.0f} ms"),
            ("count after a restart, +1", f"{after_restart} (expected {total + 1})"),
        ],
    )
    print_reproduce()
    return 0 if len(sent) == whole == total and not failures and after_restart == total + 1 else 1


if __name__ == "__main__":
    sys.exit(main())
