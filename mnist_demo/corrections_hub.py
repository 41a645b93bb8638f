"""The corrections' Hub dataset: new entries pushed every few minutes, in shards, with a dataset card.

    started = start_hub_push(store, "user/mnist-corrections")   # Future of a CommitScheduler, started in the background
    download_dataset("user/mnist-corrections")                  # a local copy of the dataset (snapshot_download)

A push is one commit: the entries not yet pushed, packed into WebDataset shards (data/<time>-<random>.tar,
at most SHARD_SIZE entries each: a push adds a few files, not thousands of PNGs) and README.md, the
dataset card. The corrections folder's ledger (pushed.jsonl) says what is already on the Hub, so a
restart pushes nothing twice. A push that fails (no network, a refused token) is logged in one line
and retried at the next turn; a scheduler that cannot start is retried every RETRY_SECONDS; the app
never stops for either. Every message goes through `hub.describe_push_error`: no token is ever logged.
"""

import io
import logging
import secrets
import tarfile
import tempfile
import threading
import time
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path

from huggingface_hub import CommitOperationAdd, CommitScheduler, DatasetCard, DatasetCardData

from .corrections import (
    ENTRIES,
    MAX_SIDE,
    NOT_A_DIGIT_LABEL,
    SHARDS,
    SUFFIXES,
    CorrectionError,
    CorrectionStore,
    Entry,
    folder_entries,
    shard_entries,
)
from .hub import describe_push_error

PUSH_MINUTES = 5  # between pushes: CommitScheduler's default, a few commits an hour at most
SHARD_SIZE = 1000  # entries per shard: ~15 MB of canvas corrections
RETRY_SECONDS = 60  # a scheduler that could not start (offline, no such user) tries again after this
CARD_FILE = "README.md"
LICENSE = "cc0-1.0"  # people give their corrections anonymously, to be reused freely: the page says so

log = logging.getLogger("mnist_demo")

CARD_BODY = """
# {title}

Corrections people made to the answers of the mnist-demo draw-a-digit
app: each is a digit (or a whole number) someone drew on the canvas or uploaded, what the model read, and what
it really was. The app's model reads MNIST-style digits; these are the ones it got wrong in the wild, the data
its next version trains on (`python train.py --corrections {repo}`).

## How it was collected

Under each answer the app shows "Wrong? It was: 0 1 2 3 4 5 6 7 8 9 / not a digit". One click keeps the
correction, with nothing about the person: no IP address, account, session or browser. The app pushes new
corrections here every few minutes. A session may send at most a few dozen a minute, and the maintainer
reviews them (`python -m mnist_demo.corrections list|export|remove`); mistakes and jokes remain possible.
People give their corrections under CC0: reuse them freely.

## Fields

Each correction is one WebDataset sample in the shards `data/*.tar`, three files named by its id:

| file | what it holds |
|---|---|
| `<id>.png` | the picture as the model read it: the canvas (transparent, black ink) or the upload, at most {side} px |
| `<id>.mnist.png` | what the model saw: 28x28, MNIST-style (white on black); a whole number's digits side by side |
| `<id>.json` | `id`, `time` (UTC), `label` (the right answer: "7", "17" or "{not_a_digit}"), `predicted` (the \
model's answer), `probabilities` (the model's ten per digit it read), `weights` (the model's name and the first 12 \
hex digits of its weights' SHA-256), `source` ("drawing" or "upload"), `width`, `height`, `digits`, `strokes` \
(a drawing's pen strokes, or null) |

## Load it

```python
from datasets import load_dataset

corrections = load_dataset("{repo}", split="train")  # columns "png", "mnist.png", "json"
```

or without `datasets`, with the demo's own reader (each shard is a plain tar file):

```python
from mnist_demo.corrections import read_entries

for entry in read_entries("{repo}"):  # downloads the dataset with huggingface_hub
    print(entry.label, entry.meta["predicted"], entry.mnist().shape)
```
"""


class CorrectionsScheduler(CommitScheduler):
    """A CommitScheduler whose push packs the new entries of a `CorrectionStore` into shards (see the module)."""

    def __init__(self, store: CorrectionStore, repo_id: str, every: float = PUSH_MINUTES, hf_api=None):
        self.store = store
        super().__init__(repo_id=repo_id, repo_type="dataset", folder_path=store.folder, every=every, hf_api=hf_api)

    def push_to_hub(self):
        """One commit of the entries not yet pushed (None when there are none, or when it failed: logged and
        retried at the next turn, since the ledger only records what the Hub took)."""
        try:
            with self.lock:
                return push_new_entries(self.api, self.repo_id, self.store)
        except Exception as error:
            log.warning(
                "corrections: the push to the Hub dataset %s failed, retrying in %g min: %s",
                self.repo_id,
                self.every,
                describe_push_error(error),
            )
            return None


def push_new_entries(api, repo_id: str, store: CorrectionStore):
    """Commit the entries the ledger does not list, in shards, with the card; then record them. The CommitInfo,
    or None when there was nothing new."""
    pushed = store.pushed()
    entries = folder_entries(store.folder / ENTRIES, skip=pushed)
    if not entries:
        return None
    batches = {
        f"{SHARDS}/{shard_stem()}-{k:03d}.tar": entries[k : k + SHARD_SIZE] for k in range(0, len(entries), SHARD_SIZE)
    }
    with tempfile.TemporaryDirectory(prefix="corrections-push-") as tmp:
        operations = []
        for name, batch in batches.items():
            path = Path(tmp) / Path(name).name
            write_shard(path, batch)
            operations.append(CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(path)))
        card = dataset_card(repo_id, len(set(pushed)) + len(entries))
        operations.append(CommitOperationAdd(path_in_repo=CARD_FILE, path_or_fileobj=str(card).encode()))
        info = api.create_commit(
            repo_id=repo_id,
            repo_type="dataset",
            operations=operations,
            commit_message=f"Add {len(entries)} correction{'s' * (len(entries) != 1)}",
        )
    for name, batch in batches.items():
        store.record_push(name, [entry.id for entry in batch])
    log.info("corrections: pushed %d to the Hub dataset %s", len(entries), repo_id)
    return info


def shard_stem() -> str:
    """A shard's name: the UTC time (shards sort by age) and a random part (two apps never collide)."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def write_shard(path: Path, entries: list[Entry]) -> None:
    """A WebDataset shard: per entry <id>.png, <id>.mnist.png and <id>.json, in that order."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            mtime = datetime.fromisoformat(entry.meta["time"]).timestamp()
            for suffix in SUFFIXES:
                add_bytes(tar, f"{entry.id}.{suffix}", entry.read(suffix), mtime)


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    member = tarfile.TarInfo(name)
    member.size, member.mtime, member.mode = len(data), mtime, 0o644
    tar.addfile(member, io.BytesIO(data))


def dataset_card(repo_id: str, count: int) -> DatasetCard:
    """The dataset card: YAML metadata (license, task, size, where the data files are), then the text."""
    data = DatasetCardData(
        license=LICENSE,
        task_categories=["image-classification"],
        size_categories=[size_category(count)],
        pretty_name="mnist-demo corrections",
        tags=["mnist", "handwriting", "human-feedback", "webdataset"],
        configs=[{"config_name": "default", "data_files": [{"split": "train", "path": f"{SHARDS}/*.tar"}]}],
    )
    body = CARD_BODY.format(title=repo_id, repo=repo_id, side=MAX_SIDE, not_a_digit=NOT_A_DIGIT_LABEL)
    return DatasetCard(f"---\n{data.to_yaml()}\n---\n{body}")


def size_category(count: int) -> str:
    """The Hub's size category of a dataset of `count` rows."""
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if count < limit:
            return name
    return "n>1M"


def start_hub_push(
    store: CorrectionStore, repo_id: str, every: float = PUSH_MINUTES, hf_api=None, retry_seconds=RETRY_SECONDS
) -> Future | None:
    """Start pushing `store` to the dataset `repo_id` in the background: a Future of the CorrectionsScheduler, set
    once the Hub answered (creating the repo, if missing). None, with a line logged, when there is no token."""
    from huggingface_hub import get_token

    if not get_token():
        log.warning(
            "corrections: no Hub token (set HF_TOKEN or run `hf auth login`): they stay in %s, not pushed to %s",
            store.folder,
            repo_id,
        )
        return None
    started: Future = Future()

    def start() -> None:
        while True:
            try:
                started.set_result(CorrectionsScheduler(store, repo_id, every, hf_api))
                return
            except Exception as error:  # offline, a refused token, a bad repo id: the app goes on, and so do we
                log.warning(
                    "corrections: cannot reach the Hub dataset %s, retrying in %d s: %s",
                    repo_id,
                    retry_seconds,
                    describe_push_error(error),
                )
                time.sleep(retry_seconds)

    threading.Thread(target=start, name="corrections-push", daemon=True).start()
    return started


def download_dataset(repo_id: str) -> Path:
    """A local copy of the Hub dataset's shards; CorrectionError saying why when it cannot be had."""
    from huggingface_hub import snapshot_download

    from .loading import hub_failure

    try:
        return Path(snapshot_download(repo_id, repo_type="dataset", allow_patterns=[f"{SHARDS}/*.tar", CARD_FILE]))
    except Exception as error:
        raise CorrectionError(
            f"Cannot read corrections from the Hub dataset {repo_id}: {hub_failure(error, None)}"
        ) from None


def remove_from_hub(repo_id: str, ids: set[str], shards: list[str], api=None) -> None:
    """Rewrite the Hub dataset's `shards` without the entries `ids`, in one commit."""
    from huggingface_hub import CommitOperationDelete, HfApi, hf_hub_download

    api = api or HfApi()
    with tempfile.TemporaryDirectory(prefix="corrections-remove-") as tmp:
        operations = []
        for name in shards:
            kept = [
                e for e in shard_entries(Path(hf_hub_download(repo_id, name, repo_type="dataset"))) if e.id not in ids
            ]
            if not kept:
                operations.append(CommitOperationDelete(path_in_repo=name))
                continue
            path = Path(tmp) / Path(name).name
            write_shard(path, kept)
            operations.append(CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(path)))
        api.create_commit(
            repo_id=repo_id,
            repo_type="dataset",
            operations=operations,
            commit_message=f"Remove {len(ids)} correction{'s' * (len(ids) != 1)}",
        )
