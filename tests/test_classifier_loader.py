"""mnist_demo.classifier_loader: the classifier loaded once, in the background; why not, when it cannot be."""

import threading

import pytest

from mnist_demo import WeightsError
from mnist_demo.classifier_loader import ClassifierLoader
from mnist_demo.loading import ModelFolder


def test_the_loader_loads_in_the_background_once(classifier):
    loader = ClassifierLoader(classifier.model_folder, threads=1)
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
    loader = ClassifierLoader(ModelFolder(mismatched_folder, str(mismatched_folder))).start()
    problem = loader.problem()
    assert problem.startswith(f"Cannot load {mismatched_folder}: model.safetensors does not fit the 'cnn' architecture")
    assert loader.problem() == problem
    with pytest.raises(WeightsError):
        loader.classifier()
    assert problem in caplog.text  # in the log too


def test_an_already_loaded_classifier(classifier):
    loader = ClassifierLoader.of(classifier)
    assert loader.classifier(timeout=0) is classifier and loader.model_folder == classifier.model_folder
