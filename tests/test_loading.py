"""mnist_demo.loading: finding the weights and checking their files without torch; loading in the background."""

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mnist_demo import WeightsError
from mnist_demo.artifacts import save_model
from mnist_demo.loading import PACKAGED_WEIGHTS, ClassifierLoader, Weights, check_files, locate, locate_with_fallback
from mnist_demo.model import DigitNet

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def mismatched_folder(tmp_path) -> Path:
    """Files that pass every check made without torch, but whose tensors do not fit the architecture named."""
    folder = tmp_path / "mismatched"
    folder.mkdir()
    save_model(DigitNet("cnn-small"), folder)
    (folder / "config.json").write_text(json.dumps({"arch": "cnn"}))
    return folder


def test_where_weights_come_from(tmp_path):
    assert locate() == Weights(PACKAGED_WEIGHTS, "packaged")
    assert locate(tmp_path) == Weights(tmp_path, str(tmp_path))
    assert Weights(tmp_path, str(tmp_path)).hub_repo is None
    assert Weights(tmp_path, "someone/mnist").hub_repo == "someone/mnist"
    assert Weights(tmp_path, "someone/mnist").description == "the Hub repo someone/mnist"


def test_file_checks_read_the_header_only(mismatched_folder):
    config, shapes = check_files(Weights(mismatched_folder, str(mismatched_folder)))
    assert config == {"arch": "cnn"}
    assert shapes["temperature"] == [] and len(shapes["net.head.2.weight"]) == 2


def test_damaged_files_fall_back_before_anything_loads(tmp_path, caplog):
    (tmp_path / "config.json").write_text('{"arch": "cnn"}')
    (tmp_path / "model.safetensors").write_bytes(b"<html>404</html>")
    weights, warning = locate_with_fallback(str(tmp_path))
    assert weights == Weights(PACKAGED_WEIGHTS, "packaged")
    assert warning.startswith(f"Cannot load {tmp_path}: model.safetensors is damaged or not a safetensors file")
    assert warning.endswith("Using the packaged weights instead.") and warning in caplog.text
    with pytest.raises(WeightsError, match="config.json is missing"):
        check_files(Weights(tmp_path / "empty", str(tmp_path / "empty")))


@pytest.mark.slow
def test_finding_and_checking_the_weights_does_not_import_torch():
    """What app.py does before it serves its page: neither this nor building the page may wait for torch."""
    script = (
        "import sys\n"
        "import app\n"
        "from mnist_demo.loading import ClassifierLoader, locate_with_fallback\n"
        "weights, warning = locate_with_fallback(None)\n"
        "app.build_demo(ClassifierLoader(weights), warning)\n"
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


def test_the_loader_loads_in_the_background_once(classifier):
    loader = ClassifierLoader(classifier.weights, threads=1)
    results = []
    callers = [threading.Thread(target=lambda: results.append(loader.classifier(timeout=120))) for _ in range(4)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert len(results) == 4 and all(r is results[0] for r in results)  # one load, shared
    assert results[0].source == "packaged" and not results[0].model.training
    assert loader.problem() is None


def test_weights_that_fail_to_load_say_why_every_time(mismatched_folder, caplog):
    loader = ClassifierLoader(Weights(mismatched_folder, str(mismatched_folder))).start()
    problem = loader.problem()
    assert problem.startswith(f"Cannot load {mismatched_folder}: model.safetensors does not fit the 'cnn' architecture")
    assert loader.problem() == problem
    with pytest.raises(WeightsError):
        loader.classifier()
    assert problem in caplog.text  # in the log too


def test_an_already_loaded_classifier(classifier):
    loader = ClassifierLoader.of(classifier)
    assert loader.classifier(timeout=0) is classifier and loader.weights == classifier.weights
