"""mnist_demo.loading: finding the weights and checking their files without torch."""

import subprocess
import sys
from pathlib import Path

import pytest

from mnist_demo import WeightsError
from mnist_demo.loading import PACKAGED_WEIGHTS, ModelFolder, check_files, locate, locate_with_fallback

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_where_weights_come_from(tmp_path):
    assert locate() == ModelFolder(PACKAGED_WEIGHTS, "packaged")
    assert locate(tmp_path) == ModelFolder(tmp_path, str(tmp_path))
    assert ModelFolder(tmp_path, str(tmp_path)).hub_repo is None
    assert ModelFolder(tmp_path, "someone/mnist").hub_repo == "someone/mnist"
    assert ModelFolder(tmp_path, "someone/mnist").description == "the Hub repo someone/mnist"


def test_file_checks_read_the_header_only(mismatched_folder):
    config, shapes = check_files(ModelFolder(mismatched_folder, str(mismatched_folder)))
    assert config == {"arch": "cnn"}
    assert shapes["temperature"] == [] and len(shapes["net.head.2.weight"]) == 2


def test_damaged_files_fall_back_before_anything_loads(tmp_path, caplog):
    (tmp_path / "config.json").write_text('{"arch": "cnn"}')
    (tmp_path / "model.safetensors").write_bytes(b"<html>404</html>")
    model_folder, warning = locate_with_fallback(str(tmp_path))
    assert model_folder == ModelFolder(PACKAGED_WEIGHTS, "packaged")
    assert warning.startswith(f"Cannot load {tmp_path}: model.safetensors is damaged or not a safetensors file")
    assert warning.endswith("Using the packaged weights instead.") and warning in caplog.text
    with pytest.raises(WeightsError, match="config.json is missing"):
        check_files(ModelFolder(tmp_path / "empty", str(tmp_path / "empty")))


@pytest.mark.slow
def test_finding_and_checking_the_weights_does_not_import_torch():
    """What app.py does before it serves its page: neither this nor building the page may wait for torch."""
    script = (
        "import sys\n"
        "import app\n"
        "from mnist_demo.classifier_loader import ClassifierLoader\n"
        "from mnist_demo.loading import locate_with_fallback\n"
        "model_folder, warning = locate_with_fallback(None)\n"
        "app.build_demo(ClassifierLoader(model_folder), warning)\n"
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"GRADIO_ANALYTICS_ENABLED": "False", "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
