"""pyproject.toml: `pip install .` gives the package with its packaged weights, usable from any folder, and its
pins are the requirements files' pins.

    python -m pytest tests/test_packaging.py
"""

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = REPO_ROOT / "mnist_demo"


def pins(requirements: Path) -> list[str]:
    """The `name==version` lines of a requirements file, without comments and `-r` includes."""
    lines = (line.split("#")[0].strip() for line in requirements.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-")]


def test_dependencies_are_the_pins_of_the_requirements_files():
    """requirements.txt stays for Spaces; pyproject.toml must not drift from it."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert project["dependencies"] == pins(REPO_ROOT / "requirements.txt")
    assert project["optional-dependencies"]["dev"] == pins(REPO_ROOT / "requirements-dev.txt")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `pip install .` would install, built from a copy of the sources (setuptools writes build/ and
    an .egg-info folder beside them) without build isolation, so without the network."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, source / name)
    shutil.copytree(PACKAGE, source / "mnist_demo", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (built,) = out.glob("mnist_demo-*.whl")
    return built


@pytest.mark.slow
def test_the_wheel_holds_the_package_and_its_weights_but_not_the_scripts(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    weights = {f"mnist_demo/weights/{p.name}" for p in (PACKAGE / "weights").iterdir() if p.is_file()}
    modules = {f"mnist_demo/{p.name}" for p in PACKAGE.glob("*.py")}
    assert "mnist_demo/weights/model.safetensors" in weights and "mnist_demo/weights/README.md" in weights
    assert weights <= names and modules <= names
    assert not {name for name in names if name.split("/")[0] in ("app.py", "train.py", "tests", "benchmarks")}


@pytest.mark.slow
def test_the_installed_package_reads_a_drawn_one_from_another_folder(wheel, tmp_path):
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    one = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(one).line([(100, 30), (100, 170)], fill=0, width=16)
    one.save(elsewhere / "one.png")
    script = (
        "import mnist_demo\n"
        "from mnist_demo import Classifier\n"
        "probabilities = Classifier.from_pretrained().classify('one.png')\n"
        "print(max(probabilities, key=probabilities.get), mnist_demo.__file__)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}  # the install, not the repository
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    digit, location = done.stdout.split()
    assert digit == "1"
    assert Path(location).is_relative_to(site)
