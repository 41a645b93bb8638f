"""What one stroke costs on the Draw tab, side by side with a single prediction (what `/predict` does).

    python benchmarks/draw_view_latency.py                 # 50 calls of each, torch's default threads
    python benchmarks/draw_view_latency.py --threads 1 --repeats 100

Rows: `predict` (preprocessing + forward pass: all `/predict` and `/classify` do), the
saliency map alone (integrated gradients + overlay on the 28x28 image; goal <= 50 ms),
and the Draw tab's whole handler `view_drawing` for one drawn digit and for a drawn
two-digit number (the number reader's pass over the row, each digit's image, a saliency map per
digit, the boxes). p50 and p95 in milliseconds.
"""

import argparse

import common

GOAL_SALIENCY_MS = 50.0


def two_digits():
    """A '2' and a '1' side by side, as the Sketchpad sends them."""
    from PIL import Image, ImageDraw

    two = common.draw_sketch(400)
    canvas = Image.new("RGBA", (800, 400), (0, 0, 0, 0))
    canvas.paste(two, (0, 0))
    ImageDraw.Draw(canvas).line([(600, 80), (600, 320)], fill=(0, 0, 0, 255), width=28)
    return canvas


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    args = parser.parse_args()

    import torch

    from mnist_demo import Classifier
    from mnist_demo.draw_view import saliency_overlay, view_drawing
    from mnist_demo.prediction import predict_digit
    from mnist_demo.preprocess import to_mnist

    if args.threads:
        torch.set_num_threads(args.threads)
    classifier = Classifier.from_pretrained()
    one, number = common.draw_sketch(), two_digits()
    mnist = to_mnist(one)
    assert view_drawing(classifier, number, "No digit").number["number"] == "21"
    rows = []
    for name, call in (
        ("predict_digit (= /predict, /classify)", lambda: predict_digit(classifier, one)),
        ("saliency map alone", lambda: saliency_overlay(classifier, mnist)),
        ("Draw tab, one digit", lambda: view_drawing(classifier, one, "No digit")),
        ("Draw tab, two digits", lambda: view_drawing(classifier, number, "No digit")),
    ):
        times = common.time_calls(call, args.repeats, warmup=1)
        rows.append((name, f"p50 {common.percentile(times, 50):6.1f} ms   p95 {common.percentile(times, 95):6.1f} ms"))
    common.print_table(
        f"{common.machine()}, {torch.get_num_threads()} torch threads, {args.repeats} calls each{common.busy_note()}",
        rows,
    )
    print(f"  goal: saliency map <= {GOAL_SALIENCY_MS:.0f} ms")
    common.print_reproduce()


if __name__ == "__main__":
    main()
