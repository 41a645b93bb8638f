"""Where the weights come from (packaged, a local folder, or a Hub repo), and what can be checked without torch.

    from mnist_demo.loading import check_files, locate
    model_folder = locate("someone/mnist-demo")   # downloads the repo's files into the Hub cache
    config, shapes = check_files(model_folder)    # config.json and the safetensors header, read

Nothing here imports torch: `python app.py` finds its model folder, builds its page from
the files in it and serves the page while torch (1.5-2 s of a cold start) and the model
load in a `classifier_loader.ClassifierLoader`. `Classifier.from_pretrained` is the
one-call version. Only safetensors weights and JSON are ever read: no pickle.
"""

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

PACKAGED_WEIGHTS = Path(__file__).parent / "weights"
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
# What a Hub download fetches: weights, config, card, metrics, plots, mistakes. Never pickles.
HUB_FILES = ["*.safetensors", "*.json", "*.md", "*.png"]
PICKLE_SUFFIXES = {".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle"}
PACKAGED = "packaged"

log = logging.getLogger("mnist_demo")


class WeightsError(RuntimeError):
    """Weights that cannot be loaded; the message names the source and the reason."""


@dataclass(frozen=True)
class ModelFolder:
    """A folder written by train.py (weights, config, card, metrics, plots, mistakes), and where it came from."""

    path: Path
    source: str  # "packaged", the folder as given, or a Hub repo id

    @property
    def hub_repo(self) -> str | None:
        return None if self.source in (PACKAGED, str(self.path)) else self.source

    @property
    def description(self) -> str:
        """How messages name these weights."""
        if self.source == PACKAGED:
            return "the packaged weights"
        return f"the Hub repo {self.hub_repo}" if self.hub_repo else self.source


def locate(source: str | os.PathLike | None = None, revision: str | None = None) -> ModelFolder:
    """`None`: the packaged weights; a folder written by train.py; or a Hub repo id `user/name` (downloaded)."""
    if source is None:
        return ModelFolder(PACKAGED_WEIGHTS, PACKAGED)
    if Path(source).is_dir():
        return ModelFolder(Path(source), str(source))
    if looks_like_path(str(source)):
        raise WeightsError(f"Cannot load weights from {source}: no such folder.")
    return ModelFolder(download_from_hub(str(source), revision), str(source))


def locate_with_fallback(source: str | None) -> tuple[ModelFolder, str | None]:
    """The weights of `source` with their files checked, or the packaged ones and a warning saying why not.

    A Space whose Hub repo is unreachable still starts, and says why it is not using it.
    """
    try:
        model_folder = locate(source)
        check_files(model_folder)
        return model_folder, None
    except WeightsError as error:
        if source is None:
            raise
        return ModelFolder(PACKAGED_WEIGHTS, PACKAGED), fallback_warning(error)


def fallback_warning(error: WeightsError) -> str:
    """The warning for using the packaged weights instead of the ones asked for (also logged)."""
    warning = f"{error} Using the packaged weights instead."
    log.warning(warning)
    return warning


def looks_like_path(source: str) -> bool:
    """A Hub repo id is `name` or `user/name`; anything else is meant as a folder."""
    return source.startswith((".", "/", "~")) or source.count("/") > 1 or os.sep in source.replace("/", "")


def download_from_hub(repo_id: str, revision: str | None) -> Path:
    """The repo's files in the local Hub cache (honours HF_HUB_OFFLINE and HF_HOME)."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, revision=revision, allow_patterns=HUB_FILES))
    except Exception as error:  # offline, unknown repo, private, bad revision...
        raise WeightsError(f"Cannot load weights from the Hub repo {repo_id}: {hub_failure(error, revision)}") from None


def hub_failure(error: Exception, revision: str | None) -> str:
    """Why a Hub download failed, in words (huggingface_hub's messages speak of its cache internals)."""
    from huggingface_hub import constants
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    not_cached = "and the repo is not in the local Hub cache."
    if isinstance(error, GatedRepoError):
        return "the repo is gated: accept its conditions on its Hub page, then log in (hf auth login) or set HF_TOKEN."
    if isinstance(error, RepositoryNotFoundError):
        return (
            "the repo was not found on the Hub: it does not exist, or it is private and no token with access "
            "to it was given (set HF_TOKEN or run hf auth login)."
        )
    if isinstance(error, RevisionNotFoundError):
        return f"the repo has no revision {revision!r}."
    if isinstance(error, HFValidationError):
        return "it is neither an existing folder nor a valid Hub repo id (user/name)."
    if isinstance(error, LocalEntryNotFoundError):
        cause = error.__cause__
        if constants.is_offline_mode() or isinstance(cause, OfflineModeIsEnabled):
            return f"Hub downloads are switched off (HF_HUB_OFFLINE is set) {not_cached}"
        if isinstance(cause, HfHubHTTPError) and cause.response is not None:
            return f"the Hub answered with an error (HTTP {cause.response.status_code}) {not_cached}"
        return f"the Hub could not be reached (no internet connection?) {not_cached}"
    if isinstance(error, HfHubHTTPError) and error.response is not None and error.response.status_code == 401:
        return "the Hub refused the token (401 Unauthorized): check HF_TOKEN or run hf auth login."
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


def check_files(model_folder: ModelFolder) -> tuple[dict, dict[str, list[int]]]:
    """What can be checked without torch: config.json is a JSON object, model.safetensors is there and its
    header reads. Returns the config and the tensors' shapes by name."""
    source, folder = model_folder.description, model_folder.path
    config = read_config(folder / CONFIG_FILE, source)
    path = folder / WEIGHTS_FILE
    if not path.is_file():
        raise WeightsError(f"Cannot load {source}: {WEIGHTS_FILE} is missing from {folder}.{pickle_note(folder)}")
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as file:
            names = file.keys()  # a safetensors file, not a dict: `in file` does not list its tensors
            shapes = {name: list(file.get_slice(name).get_shape()) for name in names}
    except Exception as error:  # truncated, empty, not safetensors at all, a damaged header...
        raise WeightsError(
            f"Cannot load {source}: {WEIGHTS_FILE} is damaged or not a safetensors file ({error})."
        ) from None
    return config, shapes


def read_config(path: Path, source: str) -> dict:
    if not path.is_file():
        raise WeightsError(f"Cannot load {source}: {CONFIG_FILE} is missing from {path.parent}.")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise WeightsError(f"Cannot load {source}: {CONFIG_FILE} is not valid JSON ({error}).") from None
    if not isinstance(config, dict):
        raise WeightsError(f"Cannot load {source}: {CONFIG_FILE} must be a JSON object naming an architecture.")
    return config


def pickle_note(folder: Path) -> str:
    """Why a folder holding only pickled weights (pytorch_model.bin, *.pt) is refused."""
    pickles = sorted(p.name for p in folder.glob("*") if p.suffix in PICKLE_SUFFIXES)
    if not pickles:
        return ""
    return (
        f" It holds {', '.join(pickles)}, but only safetensors weights are read: pickle files are never loaded, "
        "since loading one can run arbitrary code."
    )
