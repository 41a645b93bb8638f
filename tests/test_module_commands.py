"""The `python -m mnist_demo.<module>` commands in the modules' docstrings: they run, and bad input gets one line.

Each runs in a fresh process, as a person would type it.
"""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each command is a fresh Python process importing torch (2-4 s)

REPO_ROOT = Path(__file__).resolve().parent.parent
MISSING = "/no/such/picture.png"

BAD_INPUT = {  # the command's arguments -> the one line it must print
    "preprocess": ([MISSING], f"No such image file: {MISSING}."),
    "prediction": ([MISSING], f"No such image file: {MISSING}."),
    "explain": ([MISSING], f"No such image file: {MISSING}."),
    "segment": ([], "usage: python -m mnist_demo.segment IMAGE"),
    "draw_view": ([MISSING], f"No such image file: {MISSING}."),
    "model_summary": (["/no/such/folder"], "Cannot load weights from /no/such/folder: no such folder."),
    "mistakes": (
        ["/no/such/folder"],
        "These weights came without a list of their mistakes (misclassified.safetensors): train.py writes one.",
    ),
    "corrections": (["list", "/no/such/folder"], "No corrections folder /no/such/folder."),
    "strokes": ([MISSING, "out.png"], f"Cannot read {MISSING}: No such file or directory."),
}


def run_module(module: str, *args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", f"mnist_demo.{module}", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
    )


@pytest.mark.parametrize("module", BAD_INPUT)
def test_bad_input_gets_one_line_and_a_failing_exit_code(module):
    args, line = BAD_INPUT[module]
    done = run_module(module, *args)
    assert done.returncode != 0
    assert (done.stdout + done.stderr).strip() == line


def test_data_command_names_the_damaged_file(tiny_mnist_dir, tmp_path):
    import shutil

    shutil.copytree(tiny_mnist_dir, tmp_path / "data")
    labels = tmp_path / "data" / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    labels.write_bytes(b"<html>not found</html>")
    done = run_module("data", "--data-dir", str(tmp_path / "data"))
    assert done.returncode == 1
    assert done.stderr.strip() == f"{labels} is not a uint8 IDX file (MNIST's format): delete it to download it again"


def test_commands_describe_the_packaged_weights_and_a_drawing(tmp_path):
    from PIL import Image, ImageDraw

    picture = tmp_path / "one.png"
    image = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(image).line([(100, 30), (100, 170)], fill=0, width=16)
    image.save(picture)
    headline, sureness, top = run_module("prediction", str(picture)).stdout.splitlines()[:3]
    assert headline == "## 1" and sureness.endswith("% sure")
    assert top.startswith("1: ") and float(top.split()[1]) > 0.9
    summary = run_module("model_summary").stdout
    assert "### Results" in summary and "Parameters" in summary
    mistakes = run_module("mistakes").stdout.splitlines()
    assert " wrong — test accuracy " in mistakes[0] and len(mistakes) == 11


def test_strokes_command_draws_the_strokes(tmp_path):
    (tmp_path / "seven.json").write_text('{"width": 400, "strokes": [[[110, 90], [290, 90], [180, 330]]]}')
    done = run_module("strokes", str(tmp_path / "seven.json"), str(tmp_path / "seven.png"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    from PIL import Image

    assert Image.open(tmp_path / "seven.png").size == (400, 400)
    (tmp_path / "bad.json").write_text('{"strokes": [[[1, NaN]]]}')
    done = run_module("strokes", str(tmp_path / "bad.json"), str(tmp_path / "bad.png"), cwd=tmp_path)
    assert done.returncode == 1 and "Stroke 1 has a point" in done.stderr and "Traceback" not in done.stderr
