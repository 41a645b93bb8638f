"""mnist_demo.corrections_hub against a recorder standing in for HfApi: batched shards, the card, a failing push
retried, a scheduler that cannot start, the token never logged, removal from the Hub, reading a downloaded copy."""

import io
import json
import logging
import tarfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import httpx2
import pytest
from huggingface_hub import CommitOperationDelete, DatasetCard
from huggingface_hub.errors import HfHubHTTPError
from test_corrections import correction

from mnist_demo import corrections_hub
from mnist_demo.corrections import LEDGER, CorrectionError, CorrectionStore, read_entries, shard_entries
from mnist_demo.corrections_hub import CorrectionsScheduler, push_new_entries, start_hub_push

FAKE_TOKEN = "hf_FakeTokenForTestsOnly0123456789abcdEFGH"
REPO_ID = "tester/mnist-corrections"


class RecordingDatasetApi:
    """Stands in for HfApi: records each commit's files (path in repo -> bytes); fails the first `failures`."""

    def __init__(self, failures: int = 0, unreachable: int = 0):
        self.commits: list[dict] = []
        self.repos: list[dict] = []
        self.failures = failures
        self.unreachable = unreachable  # create_repo calls that fail as if offline
        self.executor = ThreadPoolExecutor(1)  # as HfApi.run_as_future: one commit at a time
        self.first_push = threading.Event()

    def create_repo(self, repo_id, **kwargs):
        if self.unreachable:
            self.unreachable -= 1
            raise httpx2.ConnectError("[Errno -2] Name or service not known")
        self.repos.append({"repo_id": repo_id, **kwargs})
        return SimpleNamespace(repo_id=repo_id)

    def run_as_future(self, fn, *args, **kwargs):
        future = self.executor.submit(fn, *args, **kwargs)
        future.add_done_callback(lambda _: self.first_push.set())
        return future

    def create_commit(self, repo_id, repo_type, operations, commit_message, **kwargs):
        if self.failures:
            self.failures -= 1
            response = httpx2.Response(401, request=httpx2.Request("POST", "https://huggingface.co/api/commit"))
            raise HfHubHTTPError(f"401 Client Error: Unauthorized, Bearer {FAKE_TOKEN}", response=response)
        files = {}
        for op in operations:
            if isinstance(op, CommitOperationDelete):
                files[op.path_in_repo] = None
            else:
                with op.as_file() as file:
                    files[op.path_in_repo] = file.read()
        self.commits.append({"repo_id": repo_id, "repo_type": repo_type, "message": commit_message, "files": files})
        return SimpleNamespace(oid=f"commit{len(self.commits)}")


@pytest.fixture
def store(tmp_path) -> CorrectionStore:
    return CorrectionStore(tmp_path / "corrections")


def shard_members(data: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.getnames()


def shards_of(commit: dict) -> dict[str, bytes]:
    return {name: data for name, data in commit["files"].items() if name.startswith("data/")}


def test_a_push_is_one_commit_of_shards_and_the_card_and_never_twice(store):
    api = RecordingDatasetApi()
    ids = [store.save(correction(str(d))).id for d in range(3)]
    assert push_new_entries(api, REPO_ID, store) is not None
    (commit,) = api.commits
    assert (commit["repo_id"], commit["repo_type"], commit["message"]) == (REPO_ID, "dataset", "Add 3 corrections")
    ((name, shard),) = shards_of(commit).items()
    assert name.startswith("data/") and name.endswith(".tar")
    assert sorted(shard_members(shard)) == sorted(f"{i}.{s}" for i in ids for s in ("png", "mnist.png", "json"))
    assert set(commit["files"]) == {name, "README.md"}
    assert set(store.pushed()) == set(ids)
    assert push_new_entries(api, REPO_ID, store) is None and len(api.commits) == 1  # nothing new: no commit
    later = store.save(correction("9")).id
    push_new_entries(api, REPO_ID, store)
    ((_, shard),) = shards_of(api.commits[1]).items()
    assert sorted(shard_members(shard)) == sorted(f"{later}.{s}" for s in ("png", "mnist.png", "json"))


def test_many_entries_are_batched_into_a_few_shards(store, monkeypatch):
    monkeypatch.setattr(corrections_hub, "SHARD_SIZE", 4)
    for d in range(10):
        store.save(correction(str(d)))
    push_new_entries(RecordingDatasetApi(), REPO_ID, store)
    ledger = [json.loads(line) for line in (store.folder / LEDGER).read_text().splitlines()]
    assert [len(record["ids"]) for record in ledger] == [4, 4, 2]
    assert len({record["shard"] for record in ledger}) == 3


def test_the_card_says_what_the_fields_are_the_license_and_how_to_load(store):
    api = RecordingDatasetApi()
    store.save(correction())
    push_new_entries(api, REPO_ID, store)
    card = DatasetCard(api.commits[0]["files"]["README.md"].decode())
    assert card.data.license == "cc0-1.0" and card.data.task_categories == ["image-classification"]
    assert card.data.size_categories == ["n<1K"]
    assert card.data.configs == [{"config_name": "default", "data_files": [{"split": "train", "path": "data/*.tar"}]}]
    for words in ("## How it was collected", "no IP address", "`<id>.mnist.png`", "`label`", "`strokes`"):
        assert words in card.text
    assert f'load_dataset("{REPO_ID}", split="train")' in card.text


def test_the_shards_read_back_as_the_entries_that_were_pushed(store, tmp_path):
    api = RecordingDatasetApi()
    kept = store.save(correction("4", strokes=[[1, 2]]))
    push_new_entries(api, REPO_ID, store)
    ((name, shard),) = shards_of(api.commits[0]).items()
    download = tmp_path / "snapshot"
    (download / "data").mkdir(parents=True)
    (download / name).write_bytes(shard)
    (entry,) = read_entries(download)
    (local,) = read_entries(store.folder)
    assert entry.meta == local.meta and entry.meta["strokes"] == [[1, 2]]
    assert entry.read("png") == local.read("png") and entry.mnist().shape == (1, 28, 28)
    (download / "entries").symlink_to(store.folder / "entries")  # both forms in one folder: each id once
    assert [e.id for e in read_entries(download)] == [kept.id]


def test_a_failing_push_is_logged_in_one_line_without_the_token_and_retried(store, monkeypatch, caplog):
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    api = RecordingDatasetApi(failures=1)
    scheduler = CorrectionsScheduler(store, REPO_ID, every=60, hf_api=api)
    try:
        assert api.first_push.wait(10)  # its first turn, on start, found nothing to push
        store.save(correction("3"))
        with caplog.at_level(logging.INFO):
            assert scheduler.trigger().result() is None  # refused: logged, and nothing recorded as pushed
            assert store.pushed() == {}
            assert scheduler.trigger().result() is not None  # the next turn pushes it
    finally:
        scheduler.stop()
    assert api.repos == [{"repo_id": REPO_ID, "private": None, "repo_type": "dataset", "exist_ok": True}]
    assert len(api.commits) == 1 and len(store.pushed()) == 1
    (failure,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    message = failure.getMessage()
    assert "\n" not in message and FAKE_TOKEN not in caplog.text
    assert message.startswith(f"corrections: the push to the Hub dataset {REPO_ID} failed, retrying in 60 min:")
    assert "refused the token (401 Unauthorized)" in message


def test_a_scheduler_that_cannot_reach_the_hub_is_retried_and_the_app_goes_on(store, monkeypatch, caplog):
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    api = RecordingDatasetApi(unreachable=2)
    with caplog.at_level(logging.WARNING):
        started = start_hub_push(store, REPO_ID, every=60, hf_api=api, retry_seconds=0)
        scheduler = started.result(timeout=10)
    scheduler.stop()
    assert isinstance(scheduler, CorrectionsScheduler) and len(api.repos) == 1
    failures = [r.getMessage() for r in caplog.records]
    assert len(failures) == 2 and all("could not be reached" in m and "\n" not in m for m in failures)


def test_without_a_token_nothing_is_pushed_and_it_says_where_they_stay(store, caplog):
    with caplog.at_level(logging.WARNING):
        assert start_hub_push(store, REPO_ID, hf_api=RecordingDatasetApi()) is None
    assert "no Hub token" in caplog.text and str(store.folder) in caplog.text


def test_removing_pushed_entries_rewrites_their_shard_on_the_hub(store, monkeypatch, tmp_path):
    api = RecordingDatasetApi()
    gone, stays = store.save(correction("1")), store.save(correction("2"))
    push_new_entries(api, REPO_ID, store)
    ((name, shard),) = shards_of(api.commits[0]).items()
    (tmp_path / "downloaded.tar").write_bytes(shard)
    monkeypatch.setattr(
        "huggingface_hub.hf_hub_download", lambda repo_id, filename, repo_type: tmp_path / "downloaded.tar"
    )
    corrections_hub.remove_from_hub(REPO_ID, {gone.id}, [name], api=api)
    rewritten = api.commits[1]["files"][name]
    assert [e.id for e in shard_entries_of(rewritten, tmp_path)] == [stays.id]
    corrections_hub.remove_from_hub(REPO_ID, {stays.id, gone.id}, [name], api=api)
    assert api.commits[2]["files"] == {name: None}  # a shard left empty is deleted


def shard_entries_of(data: bytes, tmp_path: Path):
    path = tmp_path / "rewritten.tar"
    path.write_bytes(data)
    return shard_entries(path)


def test_an_unreachable_dataset_is_said_in_words(hub_offline):
    with pytest.raises(
        CorrectionError, match=f"Cannot read corrections from the Hub dataset {REPO_ID}: .*HF_HUB_OFFLINE"
    ):
        read_entries(REPO_ID)
