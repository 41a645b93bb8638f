"""mnist_demo.hub: the upload (against a recorder standing in for HfApi), its plain-words errors, masked tokens.

Each test sets the Hub environment it needs (HF_HUB_OFFLINE, HF_TOKEN, HF_HOME), so the
results do not depend on the shell's: run them with and without `HF_HUB_OFFLINE=1` exported.
The complete train.py run with --push-to-hub is in tests/test_train.py.
"""

from pathlib import Path

import httpx2
import pytest
from conftest import RecordingHfApi
from huggingface_hub.errors import HfHubHTTPError

from mnist_demo import hub
from mnist_demo.checkpoint import CHECKPOINT_FILE, CHECKPOINT_INFO

FAKE_TOKEN = "hf_FakeTokenForTestsOnly0123456789abcdEFGH"
REPO_ID = "tester/mnist-tiny"


@pytest.fixture(autouse=True)
def hub_env(tmp_path, monkeypatch):
    """Online, no cached login, an empty Hub home: whatever the shell exported."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("huggingface_hub.constants.HF_TOKEN_PATH", str(tmp_path / "token"))
    monkeypatch.setattr("huggingface_hub.constants.HF_STORED_TOKENS_PATH", str(tmp_path / "stored_tokens"))


class UnreachableHfApi(RecordingHfApi):
    def create_repo(self, repo_id, **kwargs):
        raise httpx2.ConnectError("[Errno -2] Name or service not known")


def test_push_uploads_everything_but_the_checkpoint_and_hidden_files(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    RecordingHfApi.calls = []
    monkeypatch.setattr("huggingface_hub.HfApi", RecordingHfApi)
    for name in ("model.safetensors", "config.json", "README.md", CHECKPOINT_FILE, CHECKPOINT_INFO, ".x.tmp"):
        (tmp_path / name).write_text("x")
    hub.push_to_hub(tmp_path, REPO_ID, private=True)
    calls = dict(RecordingHfApi.calls)
    assert calls["create_repo"] == {"repo_id": REPO_ID, "repo_type": "model", "private": True, "exist_ok": True}
    assert calls["upload_folder"]["uploaded"] == {"model.safetensors", "config.json", "README.md"}


def test_push_without_a_token_says_how_to_give_one(tmp_path, monkeypatch):
    RecordingHfApi.calls = []
    monkeypatch.setattr("huggingface_hub.HfApi", RecordingHfApi)
    with pytest.raises(hub.PushError) as error:
        hub.push_to_hub(tmp_path, REPO_ID, private=False)
    message = hub.describe_push_error(error.value)
    assert "HF_TOKEN" in message and "hf auth login" in message
    assert RecordingHfApi.calls == []


def test_push_while_offline_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    monkeypatch.setattr("huggingface_hub.HfApi", UnreachableHfApi)
    with pytest.raises(httpx2.ConnectError) as error:
        hub.push_to_hub(tmp_path, REPO_ID, private=False)
    assert hub.describe_push_error(error.value).startswith("the Hub could not be reached")


@pytest.mark.parametrize("status, words", [(401, "refused the token"), (403, "may not write to this repo")])
def test_refusals_are_explained(status, words):
    response = httpx2.Response(status, request=httpx2.Request("POST", "https://huggingface.co/api/repos/create"))
    error = HfHubHTTPError(f"{status} Client Error: Bearer {FAKE_TOKEN}", response=response)
    message = hub.describe_push_error(error)
    assert words in message and FAKE_TOKEN not in message


def test_describe_push_error_masks_tokens_and_keeps_one_line(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    text = hub.describe_push_error(RuntimeError(f"bad {FAKE_TOKEN} and hf_AnotherLookingToken123456 \n end"))
    assert text == "bad *** and *** end"


def test_a_cached_login_is_masked_too(tmp_path):
    login = "hf_CachedLoginToken0123456789abcdef"
    Path(tmp_path / "token").write_text(login)
    assert hub.scrub_secrets(f"x {login} y") == "x *** y"


def test_upload_command_leaves_the_checkpoint_out():
    assert hub.upload_command(REPO_ID, Path("runs/x")) == f"hf upload {REPO_ID} runs/x --exclude 'training_state.*'"
