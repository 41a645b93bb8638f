"""Uploading a folder written by train.py to the Hugging Face Hub, and saying in plain words why it failed.

    push_to_hub(Path("runs/best"), "user/mnist-cnn", private=False)   # token: HF_TOKEN or `hf auth login`
    describe_push_error(error)                                          # one line, any token masked

The training checkpoint stays local. The token is never printed: every message goes
through `scrub_secrets`.
"""

import os
import re
from pathlib import Path

from .checkpoint import CHECKPOINT_FILE, CHECKPOINT_INFO

HUB_IGNORE = [CHECKPOINT_FILE, CHECKPOINT_INFO, ".*"]
HF_TOKEN_PATTERN = re.compile(r"hf_[A-Za-z0-9]{10,}")
MAX_MESSAGE = 300


class PushError(Exception):
    """A push that cannot even start, with the reason for a person."""


def push_to_hub(out: Path, repo_id: str, private: bool) -> None:
    """Upload the folder (not the checkpoint) to a model repo, creating it if missing."""
    from huggingface_hub import HfApi, get_token

    if not get_token():
        raise PushError("no Hub token: set HF_TOKEN or log in with `hf auth login`")
    api = HfApi()  # the token comes from HF_TOKEN or the cached login; never printed
    api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
    api.upload_folder(
        folder_path=str(out),
        repo_id=repo_id,
        repo_type="model",
        ignore_patterns=HUB_IGNORE,
        commit_message="Upload mnist-demo weights and artifacts",
    )


def upload_command(repo_id: str, out: Path) -> str:
    """The command that uploads what `push_to_hub` would, for a person to run later."""
    return f"hf upload {repo_id} {out} --exclude 'training_state.*'"


def describe_push_error(error: Exception) -> str:
    """One line about a failed push in plain words, with any token scrubbed out."""
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    response = error.response if isinstance(error, HfHubHTTPError) else None
    status = response.status_code if response is not None else None
    if isinstance(error, (httpx2.TransportError, ConnectionError)):
        text = f"the Hub could not be reached (no internet connection?): {type(error).__name__}"
    elif status == 401:
        text = "the Hub refused the token (401 Unauthorized): check HF_TOKEN or run `hf auth login`"
    elif status == 403:
        text = "the token may not write to this repo (403 Forbidden): use a token with write access"
    else:
        text = " ".join(str(error).split()) or type(error).__name__
    return scrub_secrets(text)[:MAX_MESSAGE]


def scrub_secrets(text: str) -> str:
    """The text with the Hub token (from HF_TOKEN or the cached login) and anything shaped like one masked."""
    from huggingface_hub import get_token

    try:
        login = get_token()
    except Exception:  # a failed OIDC token exchange: there is no other token to mask
        login = None
    for token in {os.environ.get("HF_TOKEN"), login} - {None, ""}:
        text = text.replace(token, "***")
    return HF_TOKEN_PATTERN.sub("***", text)
