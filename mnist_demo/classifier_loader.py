"""A `Classifier` loaded in a thread, so that `python app.py` serves its page while torch and the model load.

    from mnist_demo.classifier_loader import ClassifierLoader
    loader = ClassifierLoader(locate(None)).start()  # imports torch and loads the model in a thread
    loader.classifier()                              # waits for it

Importing this module imports neither torch nor the classifier: the thread does.
"""

import concurrent.futures
import logging
import threading

from .loading import ModelFolder, WeightsError

log = logging.getLogger("mnist_demo")


class ClassifierLoader:
    """A `Classifier` for `model_folder`, loaded (torch imported, weights read, a warm-up pass run) in a thread.

    `classifier()` waits for it and raises the loading's `WeightsError`, if any. `threads`
    sets torch's threads per operation once torch is imported.
    """

    def __init__(self, model_folder: ModelFolder, threads: int | None = None):
        self.model_folder = model_folder
        self.threads = threads
        self._result = concurrent.futures.Future()
        self._start = threading.Lock()
        self._started = False

    @classmethod
    def of(cls, classifier) -> "ClassifierLoader":
        """A loader whose classifier is already loaded."""
        loader = cls(classifier.model_folder)
        loader._started = True
        loader._result.set_result(classifier)
        return loader

    def start(self) -> "ClassifierLoader":
        with self._start:
            if not self._started:
                self._started = True
                threading.Thread(target=self._load, name="load-classifier", daemon=True).start()
        return self

    def classifier(self, timeout: float | None = None):
        """The loaded `Classifier`, once it is (starts loading if `start` was not called)."""
        return self.start()._result.result(timeout)

    def done(self) -> bool:
        """Whether the loading has ended, loaded or failed."""
        return self._result.done()

    def problem(self) -> str | None:
        """Why the weights could not be loaded (waits for the loading), or None when they were."""
        try:
            self.classifier()
            return None
        except WeightsError as error:
            return str(error)
        except Exception as error:
            return f"The model could not be loaded ({type(error).__name__}: {error})."

    def _load(self) -> None:
        try:
            import torch

            from .classifier import Classifier

            if self.threads:
                torch.set_num_threads(self.threads)
            classifier = Classifier.from_folder(self.model_folder)
            classifier.warm_up()
            self._result.set_result(classifier)
        except WeightsError as error:
            log.error(str(error))
            self._result.set_exception(error)
        except BaseException as error:  # torch missing, out of memory...: the app reports it on each prediction
            log.exception("Loading the classifier failed")
            self._result.set_exception(error)
