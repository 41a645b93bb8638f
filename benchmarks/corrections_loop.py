"""The corrections loop, end to end: people correct digits of a kind the packaged model misreads (through the app's
/correct endpoint), `train.py --preset fast --corrections DIR` learns them, and the new model reads *other* digits of
that kind while MNIST stays read as well.

    python benchmarks/corrections_loop.py --data-dir ../shared/data           # the figures: MNIST test digits judged
    python benchmarks/corrections_loop.py --data-dir ../shared/data --dev     # tuning: validation digits only

The kind: mirror-written 7s and 9s, as young children write them (digits facing the wrong way are a normal stage
of learning to write; MNIST's writers were adults). The packaged model reads them as other digits or "not a digit".
Each picture is what the drawing pad would send: the digit about 280 px tall, black ink on a transparent 400x400
canvas. The 60 corrections are MNIST *validation* 7s and 9s (30 each), mirrored, that the packaged model misreads;
six script clients (six people) send them to an app.py started on a free port with a temporary --corrections-dir.
The judged digits are every MNIST *test* 7 and 9, mirrored and drawn the same way, read as /classify reads a
picture, by the packaged weights (before) and the new ones (after); MNIST test accuracy is each model's own on the
10,000 test images. `--dev` corrects with the first half of the validation digits and judges the second half, with
MNIST validation accuracy: the figures that training.CORRECTION_FRACTION and CORRECTION_WEIGHT were set on.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, free_port, print_reproduce, start_server, stop, wait_for_page  # puts the repo on sys.path

# isort: split

import numpy as np
import torch
from PIL import Image

from mnist_demo import Classifier
from mnist_demo.preprocess import to_mnist
from mnist_demo.training import load_data

KIND = (7, 9)
CORRECTIONS = 60
PEOPLE = 6  # script clients, each its own session: 10 corrections each, well under the rate limit
CANVAS, DIGIT = 400, 280  # the pad's side, and the digit's height on it
GOALS = {"kind": 0.95, "mnist": 0.99}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="folder holding MNIST/raw (default: $MNIST_DATA_DIR)")
    parser.add_argument("--dev", action="store_true", help="validation digits only: correct one half, judge the other")
    parser.add_argument("--seed", type=int, default=0, help="train.py's seed (default: %(default)s)")
    return parser.parse_args(argv)


def canvas_picture(mnist: np.ndarray) -> Image.Image:
    """An MNIST digit, mirrored, as the pad draws it: black ink (its intensity as opacity) on a transparent canvas."""
    mirrored = Image.fromarray(np.ascontiguousarray(mnist[:, ::-1]))
    side = DIGIT * 28 // 20  # MNIST's digit is 20 of its 28 px
    alpha = mirrored.resize((side, side), Image.Resampling.BICUBIC)
    picture = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 0))
    ink = Image.new("RGBA", (side, side), (0, 0, 0, 255))
    ink.putalpha(alpha)
    picture.paste(ink, ((CANVAS - side) // 2, (CANVAS - side) // 2))
    return picture


def reads(classifier: Classifier, images: np.ndarray, labels: np.ndarray) -> float:
    """The share of 28x28 images the app would answer with their digit (not another, not "not a digit")."""
    probabilities = classifier.predict_mnist(images)
    return float(((probabilities.argmax(1) == labels) & ~classifier.not_a_digit(probabilities)).mean())


def accuracy(classifier: Classifier, images: np.ndarray, labels: np.ndarray) -> float:
    """Plain accuracy, the top digit's, as train.py reports it."""
    return float((classifier.predict_mnist(images).argmax(1) == labels).mean())


def choose(packaged: Classifier, images: np.ndarray, labels: np.ndarray, folder: Path) -> list[tuple[Path, int]]:
    """CORRECTIONS pictures of the kind, as many of each digit, that the packaged model misreads; written as PNGs."""
    chosen, per_digit = [], dict.fromkeys(KIND, 0)
    for image, label in zip(images, labels):
        digit = int(label)
        if digit not in KIND or per_digit[digit] >= CORRECTIONS // len(KIND):
            continue
        picture = canvas_picture(image)
        answer = packaged.read(picture)
        if answer["number"] == str(digit) and not answer["not_a_digit"]:
            continue  # read right: nobody corrects it
        path = folder / f"{len(chosen):02d}-{digit}.png"
        picture.save(path)
        chosen.append((path, digit))
        per_digit[digit] += 1
    return chosen


def send_corrections(url: str, chosen: list[tuple[Path, int]]) -> tuple[dict, float]:
    """Each picture and its digit through /correct, PEOPLE clients taking turns; the last answer and the seconds."""
    from gradio_client import Client, handle_file

    started = time.perf_counter()
    clients = [Client(url, verbose=False) for _ in range(PEOPLE)]
    try:
        for k, (path, digit) in enumerate(chosen):
            saved = clients[k % PEOPLE].predict(handle_file(str(path)), str(digit), api_name="/correct")
    finally:
        for client in clients:
            client.close()
    return saved, time.perf_counter() - started


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(1)
    data = load_data(args.data_dir)
    val_x, val_y = data.val_x.numpy(), data.val_y.numpy()
    half = len(val_y) // 2
    if args.dev:
        source, judged_x, judged_y = (val_x[:half], val_y[:half]), val_x[half:], val_y[half:]
    else:
        source, judged_x, judged_y = (val_x, val_y), data.test_x.numpy(), data.test_y.numpy()
    kind = np.isin(judged_y, KIND)
    judged = np.stack([to_mnist(canvas_picture(image)) for image in judged_x[kind]])
    judged_labels = judged_y[kind]
    packaged = Classifier.from_pretrained()
    capability = torch.backends.cpu.get_cpu_capability()

    with tempfile.TemporaryDirectory(prefix="corrections-loop-") as tmp:
        tmp = Path(tmp)
        (tmp / "pictures").mkdir()
        chosen = choose(packaged, *source, tmp / "pictures")
        port = free_port()
        server = start_server(
            ["app.py", "--no-training", "--corrections-dir", str(tmp / "corrections")], port, {"HF_HUB_OFFLINE": "1"}
        )
        try:
            wait_for_page(f"http://127.0.0.1:{port}/", 120, server)
            saved, send_seconds = send_corrections(f"http://127.0.0.1:{port}/", chosen)
        finally:
            stop(server)
        command = [
            "train.py", "--preset", "fast", "--corrections", str(tmp / "corrections"), "--out", str(tmp / "run"),
            "--seed", str(args.seed), *(["--data-dir", args.data_dir] if args.data_dir else []),
        ]  # fmt: skip
        started, load = time.perf_counter(), Path("/proc/loadavg").read_text().split()[0]
        trained = subprocess.run([sys.executable, *command], cwd=ROOT, capture_output=True, text=True)
        train_seconds = time.perf_counter() - started
        if trained.returncode:
            sys.exit(f"train.py failed:\n{trained.stdout[-2000:]}\n{trained.stderr[-2000:]}")
        new = Classifier.from_pretrained(str(tmp / "run"))
        metrics = json.loads((tmp / "run" / "metrics.json").read_text())

    mnist_name = "MNIST validation" if args.dev else "MNIST test"
    mnist_x, mnist_y = (val_x, val_y) if args.dev else (data.test_x.numpy(), data.test_y.numpy())
    before = {"kind": reads(packaged, judged, judged_labels), "mnist": accuracy(packaged, mnist_x, mnist_y)}
    after = {"kind": reads(new, judged, judged_labels), "mnist": accuracy(new, mnist_x, mnist_y)}
    held = metrics["corrections"]["held_out"]
    counts = {d: sum(digit == d for _, digit in chosen) for d in KIND}
    print(f"kind: mirror-written {' and '.join(f'{d}s' for d in KIND)}, drawn {DIGIT} px on a {CANVAS} px canvas")
    print(
        f"corrections sent through /correct: {len(chosen)} ({', '.join(f'{d}s: {n}' for d, n in counts.items())}) "
        f"from {'the first half of ' if args.dev else ''}MNIST validation; the app's count after: {saved['count']}; "
        f"{send_seconds:.1f} s"
    )
    print(f"python {' '.join(command[:4])} DIR: {train_seconds:.0f} s (CPU capability {capability}, load {load})")
    print(
        f"held-out corrections read right: {held['right_before']} of {held['total']} by the packaged model, "
        f"{held['right_after']} of {held['total']} by the new one"
    )
    rows = [
        (f"other mirrored {'/'.join(map(str, KIND))}s ({len(judged_labels):,} "
         f"{'second-half validation' if args.dev else 'MNIST test'} digits)", "kind"),
        (f"{mnist_name} ({len(mnist_y):,} digits)", "mnist"),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    print(f"\n{'':<{width}}  before (packaged)  after   goal")
    met = True
    for name, key in rows:
        ok = after[key] >= GOALS[key]
        met &= ok
        print(
            f"{name:<{width}}  {before[key]:>17.2%}  {after[key]:>6.2%}  >= {GOALS[key]:.0%} "
            f"{'met' if ok else 'NOT met'}"
        )
    print_reproduce()
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
