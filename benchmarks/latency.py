"""Prediction latency in process: `Classifier.classify` on an 800x800 drawn digit and a 12 MP photo, p50 and p95.

    python benchmarks/latency.py                      # the packaged weights, 300 calls
    python benchmarks/latency.py --weights runs/best --repeats 1000
    python benchmarks/latency.py --threads 2       # torch's default on 2 cores, instead of app.py's 1
    ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/latency.py   # torch's AVX2 kernels

The sketch is what the app's Sketchpad hands over: a PIL RGBA image, black strokes on a
transparent background. The parts are timed on their own: preprocessing (`to_mnist`,
800x800 -> 28x28) and the forward pass (`predict_mnist` on the 28x28 image, softmax
included). A last row reads the same drawing from a PNG file, as the `/classify`
endpoint does. The photo is `heldout_sets.photo`'s: the sketch's digit written on ruled paper,
unevenly lit, 4000x3000, decoded (a PIL image), then as its JPEG file. torch runs one
intra-op thread, as app.py serves (two predictions at once, one per core). Goals: p50 <= 5 ms
for the sketch, <= 50 ms for the 12 MP photo, on CPU.

Last, the photo's JPEG file three ways in turn, call after call, so that the same load weighs
on each: a full-size Pillow decode (`Image.open(path).load()`), `classify(path)` and
`read(path)`. Goal: each answer costs no more than that one decode (ratio of medians <= 1):
the file is decoded once, at the scale the reading needs (`mnist_demo.picture`).
"""

import argparse
import tempfile
import time
from pathlib import Path

import common

GOAL_P50_MS = 5.0
GOAL_PHOTO_P50_MS = 50.0
GOAL_DECODE_RATIO = 1.0  # classify and read of a 12 MP JPEG file: at most one full-size decode of it
PHOTO_SIZE = (3000, 4000)  # 12 MP, a phone's


def interleaved(calls: dict, repeats: int, warmup: int = 2) -> dict[str, list[float]]:
    """Milliseconds per call of each of `calls`, called in turn `repeats` times: side by side, under one load."""
    for call in calls.values():
        for _ in range(warmup):
            call()
    times = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            times[name].append((time.perf_counter() - started) * 1000)
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default=None, help="a folder written by train.py (default: the packaged weights)")
    parser.add_argument("--repeats", type=int, default=300, help="timed calls per measurement (default: %(default)s)")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch intra-op threads; app.py serves with 1 (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    busy = common.cpu_busy()

    import torch

    torch.set_num_threads(args.threads)

    import heldout_sets
    import numpy as np
    from PIL import Image

    from mnist_demo import Classifier, to_mnist

    classifier = Classifier.from_pretrained(args.weights)
    sketch = common.draw_sketch()
    mnist = to_mnist(sketch)
    answer = classifier.classify(sketch)
    photo = heldout_sets.photo(mnist, np.random.default_rng(0), PHOTO_SIZE)
    photo.load()
    photo_answer = classifier.classify(photo)
    with tempfile.TemporaryDirectory() as folder:
        png = str(common.save_sketch(Path(folder) / "sketch.png"))
        jpeg = Path(folder) / "photo.jpg"
        photo.save(jpeg, quality=90)
        photo_repeats = max(10, args.repeats // 10)
        timings = {
            "classify (800x800 RGBA sketch)": common.time_calls(lambda: classifier.classify(sketch), args.repeats),
            "  preprocessing (to_mnist)": common.time_calls(lambda: to_mnist(sketch), args.repeats),
            "  forward pass (predict_mnist, 28x28)": common.time_calls(
                lambda: classifier.predict_mnist(mnist), args.repeats
            ),
            "classify (the same drawing as a PNG file)": common.time_calls(
                lambda: classifier.classify(png), args.repeats
            ),
            "classify (12 MP photo, decoded)": common.time_calls(lambda: classifier.classify(photo), photo_repeats, 2),
            "classify (the same photo as a JPEG file)": common.time_calls(
                lambda: classifier.classify(str(jpeg)), photo_repeats, 2
            ),
        }
        side_by_side = interleaved(
            {
                "full-size Pillow decode": lambda: Image.open(jpeg).load(),
                "classify": lambda: classifier.classify(str(jpeg)),
                "read": lambda: classifier.read(str(jpeg)),
            },
            photo_repeats,
        )

    print(f"{common.machine()}; torch threads {torch.get_num_threads()}{common.busy_note(busy)}")
    print(
        f"weights: {classifier.source} ({classifier.model.arch}); the sketch reads as "
        f"{max(answer, key=answer.get)} ({max(answer.values()):.1%}), the photo as "
        f"{max(photo_answer, key=photo_answer.get)} ({max(photo_answer.values()):.1%})"
    )
    rows = [
        (name, f"p50 {common.percentile(t, 50):6.2f} ms   p95 {common.percentile(t, 95):6.2f} ms")
        for name, t in timings.items()
    ]
    common.print_table(f"latency over {args.repeats} calls each", rows)
    photo_p50 = common.percentile(timings["classify (12 MP photo, decoded)"], 50)
    print(
        f"\n12 MP photo: p50 {photo_p50:.1f} ms (goal <= {GOAL_PHOTO_P50_MS:g} ms): "
        f"{'met' if photo_p50 <= GOAL_PHOTO_P50_MS else 'NOT met'}"
    )
    decode = common.percentile(side_by_side["full-size Pillow decode"], 50)
    ratios = {name: common.percentile(side_by_side[name], 50) / decode for name in ("classify", "read")}
    common.print_table(
        f"the 12 MP JPEG file, {photo_repeats} calls of each in turn (median; ratio to one full-size decode)",
        [
            (name, f"{common.percentile(t, 50):6.1f} ms   {common.percentile(t, 50) / decode:4.2f}x")
            for name, t in side_by_side.items()
        ],
    )
    for name, ratio in ratios.items():
        print(
            f"{name} of the 12 MP JPEG: {ratio:.2f}x a full decode (goal <= {GOAL_DECODE_RATIO:g}): "
            f"{'met' if ratio <= GOAL_DECODE_RATIO else 'NOT met'}"
        )
    p50 = common.percentile(timings["classify (800x800 RGBA sketch)"], 50)
    slow = photo_p50 > GOAL_PHOTO_P50_MS or max(ratios.values()) > GOAL_DECODE_RATIO
    return common.verdict(f"p50 of {p50:.2f} ms", p50, GOAL_P50_MS) or int(slow)


if __name__ == "__main__":
    raise SystemExit(main())
