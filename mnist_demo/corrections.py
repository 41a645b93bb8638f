"""People's corrections of the demo's answers ("Wrong? It was: 7"), kept on disk to train the next model.

    store = CorrectionStore(default_folder())                       # append-only, many people at once
    saved = store.save(correction_of(classifier, "digit.png", "7"), session="abc")   # Saved(id, count)
    store.count                                                     # right after a restart too

    python -m mnist_demo.corrections list DIR_OR_REPO               # the maintainer's review
    python -m mnist_demo.corrections export DIR_OR_REPO OUT         # one folder of pictures per right answer
    python -m mnist_demo.corrections remove DIR ID [ID ...] [--repo user/name]   # nobody on the page can delete

A correction keeps the picture as the model read it (scaled to at most MAX_SIDE), its 28x28 image(s)
as the model sees them, the right answer (a digit, a whole number or "not a digit"), the model's answer
and probabilities, the weights' revision, a UTC time, a random id and, for a drawing, its strokes.
Nothing about the person: no IP, session or browser (the session only keys the rate limit, in memory).
`training_corrections` turns them into training data for train.py --corrections and the Train tab.

On disk, each correction is three files in DIR/entries, named by its id as a WebDataset sample:

    <id>.png          the picture            <id>.mnist.png   its 28x28 image(s), 28 x 28*digits
    <id>.json         everything else, written last: an entry exists once its JSON does

Each file is written atomically (a temporary file renamed into place), so a crash or sixteen people at
once leave whole entries only; the count and size are the files', read again at start-up.
`mnist_demo.corrections_hub` pushes new entries to a Hub dataset in shards (data/*.tar) and
records them in DIR/pushed.jsonl; `read_entries` reads both forms back, for train.py and this command.
"""

import argparse
import hashlib
import io
import json
import logging
import os
import re
import secrets
import sys
import tarfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from .artifacts import atomic_write
from .classifier import DIGIT_LABELS, probabilities_by_label
from .draw_view import answer_drawing
from .picture import ImageError, drawing_of, opaque_grey, open_picture, standard_mode
from .prediction import NO_DIGIT, NOT_A_DIGIT
from .preprocess import to_mnist

ENTRIES = "entries"  # the folder of entries inside the corrections folder
SHARDS = "data"  # the Hub dataset's folder of WebDataset shards (data/*.tar)
LEDGER = "pushed.jsonl"  # one line per push: the shard and the ids it holds
NOT_A_DIGIT_LABEL = "not a digit"  # the right answer for a picture that is no digit at all
MAX_DIGITS = 12  # the longest whole number a correction may name
MAX_SIDE = 512  # pictures are kept at most this big: the model reads a canvas at 400 px anyway
PER_MINUTE = 30  # corrections a browser session (or script client) may send in a minute
MAX_FILE_BYTES = 1 << 20  # per file: a 512 px picture is 5-300 KB, the strokes of a digit a few KB
MAX_COUNT = 20_000  # the collection is full at this many corrections ...
MAX_BYTES = 1 << 30  # ... or this many bytes on disk (a canvas correction is ~15 KB)
HELD_OUT_SHARE = 0.1  # of the corrections, chosen by id: never trained on, they score each new model
STALE_SECONDS = 3600  # a picture without its JSON this old is a write a crash cut short: removed at start-up
SUFFIXES = ("png", "mnist.png", "json")  # an entry's files, the JSON last
ID_PATTERN = re.compile(r"[0-9a-f]{16}")
EMPTY_CANVAS = "The canvas is empty: draw a digit first, then say what it was."
LATEST_SHOWN = 24  # corrections the Mistakes tab shows, newest first: a row or four, read in a glance
TILE_SIDE = 160  # a shown correction's longer side in pixels: a 512 px picture is ~10x the bytes for no more to see

log = logging.getLogger("mnist_demo")


class CorrectionError(Exception):
    """A correction that was not kept; the message is for a person."""


class BadCorrection(CorrectionError):
    """The right answer or the picture is not usable."""


class TooManyCorrections(CorrectionError):
    """More than PER_MINUTE corrections from one session in a minute."""


class CollectionFull(CorrectionError):
    """The folder holds as many corrections (or bytes) as it may."""


@dataclass(frozen=True)
class Correction:
    """One correction, before it is kept."""

    picture: Image.Image  # as the model read it, at most MAX_SIDE on its longer side
    mnist: np.ndarray  # uint8 [28, 28 * digits]: the 28x28 image(s) of the digit(s) the right answer names
    label: str  # the right answer: "7", "17" or NOT_A_DIGIT_LABEL
    predicted: str  # the model's answer, in the same terms
    probabilities: list[dict[str, float]]  # the ten probabilities of each digit the model read
    weights: str  # the weights' revision, e.g. "packaged@3f9a1c2b4d5e"
    source: str = "drawing"  # "drawing" (the canvas) or "upload"
    strokes: list | dict | None = None  # a drawing's pen strokes, as the canvas sent them


@dataclass(frozen=True)
class Saved:
    id: str
    count: int  # corrections kept, this one included


# --- what a correction is ---


def checked_label(label) -> str:
    """The right answer as stored: "0"-"9", a whole number, or NOT_A_DIGIT_LABEL; BadCorrection otherwise."""
    text = str(label).strip() if isinstance(label, (str, int)) and not isinstance(label, bool) else ""
    if text.lower().replace("-", " ") == NOT_A_DIGIT_LABEL:
        return NOT_A_DIGIT_LABEL
    if re.fullmatch(rf"[0-9]{{1,{MAX_DIGITS}}}", text):
        return text
    raise BadCorrection(
        f'The right answer must be a digit from 0 to 9, a whole number of up to {MAX_DIGITS} digits, or "not a '
        f'digit", not {str(label)[:40]!r}.'
    )


def correction_of(classifier, picture, label, source: str = "upload", strokes=None) -> Correction:
    """Read `picture` (a path, an image, a Sketchpad value) as the Draw tab does and pair the model's answer with
    the right one. BadCorrection for a bad label, an unreadable picture or an empty canvas."""
    label = checked_label(label)
    if drawing_of(picture) is None:
        raise BadCorrection(EMPTY_CANVAS)
    try:
        image, _ = open_picture(picture)  # decoded once, in full: the picture is kept as it came
        answer = answer_drawing(classifier, image, NO_DIGIT)
    except ImageError as error:
        raise BadCorrection(str(error)) from None
    if answer.digits:  # a whole number
        probabilities = [d.probabilities for d in answer.digits]
        predicted = NOT_A_DIGIT_LABEL if answer.number["not_a_digit"] else answer.number["number"]
        # What the right answer says the picture is: its digits as the model cut them, or, when the answer has
        # another number of digits (a 7 read as "11", a blot), the whole picture as one.
        parts = [d.mnist for d in answer.digits] if len(label) == len(answer.digits) else [to_mnist(answer.ink)]
        mnist = np.concatenate(parts, axis=1)
    elif answer.model_input is not None:
        mnist = answer.model_input
        probabilities = [classifier.predict_mnist(mnist)[0]]
        said = answer.label_value  # the ten probabilities, or NOT_A_DIGIT when the model is too unsure
        predicted = NOT_A_DIGIT_LABEL if said == NOT_A_DIGIT else DIGIT_LABELS[int(probabilities[0].argmax())]
    else:
        raise BadCorrection(EMPTY_CANVAS)
    return Correction(
        picture=kept_picture(image),
        mnist=mnist,
        label=label,
        predicted=predicted,
        probabilities=[probabilities_by_label(p) for p in probabilities],
        weights=weights_revision(classifier.model_folder),
        source=source,
        strokes=strokes,
    )


def kept_picture(image: Image.Image) -> Image.Image:
    """The picture as kept: its mode kept (a canvas's transparency too), 16-bit greys as 8-bit, at most MAX_SIDE."""
    image = standard_mode(image)
    if image.mode in ("I", "F"):
        image = Image.fromarray(np.round(255 * opaque_grey(image)).astype(np.uint8))
    if max(image.size) > MAX_SIDE:
        image = image.copy()
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return image


def weights_revision(model_folder) -> str:
    """The weights' name (packaged, the Hub repo id or local), "@", and the first 12 hex digits of the SHA-256 of
    model.safetensors: which model made the mistake."""
    name = "packaged" if model_folder.source == "packaged" else model_folder.hub_repo or "local"
    return f"{name}@{file_digest(str(Path(model_folder.path) / 'model.safetensors'))[:12]}"


@lru_cache(maxsize=8)
def file_digest(path: str) -> str:
    try:
        with open(path, "rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except OSError:
        return "unknown"


def entry_files(correction: Correction, entry_id: str, when: datetime) -> dict[str, bytes]:
    """The entry's files by suffix ("png", "mnist.png", "json"), encoded; BadCorrection when one is too big."""
    meta = {
        "id": entry_id,
        "time": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "label": correction.label,
        "predicted": correction.predicted,
        "probabilities": [{k: round(float(v), 6) for k, v in p.items()} for p in correction.probabilities],
        "weights": correction.weights,
        "source": correction.source,
        "width": correction.picture.width,
        "height": correction.picture.height,
        "digits": correction.mnist.shape[1] // 28,
        "strokes": correction.strokes,
    }
    try:
        text = json.dumps(meta, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        raise BadCorrection("The strokes sent with the drawing are not plain JSON.") from None
    files = {"png": png_bytes(correction.picture), "mnist.png": png_bytes(Image.fromarray(correction.mnist))}
    files["json"] = text.encode()
    for suffix, data in files.items():
        if len(data) > MAX_FILE_BYTES:
            what = "This picture is" if suffix == "png" else "The drawing's strokes are"
            raise BadCorrection(
                f"{what} too big to keep ({len(data) / 1e6:.1f} MB; at most {MAX_FILE_BYTES / 1e6:.1f} MB)."
            )
    return files


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


# --- the store ---


class RateLimit:
    """At most `per_minute` events per key in any 60 s; keys idle for a minute are forgotten."""

    def __init__(self, per_minute: int = PER_MINUTE, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self.clock = clock
        self._events: dict[str, deque] = {}

    def allow(self, key: str) -> bool:
        """Whether one more event for `key` is allowed now; if so it is counted. Not thread-safe: lock around it."""
        now = self.clock()
        if len(self._events) > 10_000:  # bound the memory: drop the idle keys
            self._events = {k: d for k, d in self._events.items() if d and now - d[-1] < 60}
        recent = self._events.setdefault(key, deque())
        while recent and now - recent[0] >= 60:
            recent.popleft()
        if len(recent) >= self.per_minute:
            return False
        recent.append(now)
        return True


class CorrectionStore:
    """The corrections folder: `save` from any number of threads, `entries` to read back, `remove` to delete."""

    def __init__(
        self,
        folder: str | os.PathLike,
        max_count: int = MAX_COUNT,
        max_bytes: int = MAX_BYTES,
        rate: RateLimit | None = None,
    ):
        self.folder = Path(folder).expanduser()
        self.entries_dir = self.folder / ENTRIES
        try:
            self.entries_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CorrectionError(f"Cannot keep corrections in {self.folder}: {error.strerror}.") from None
        self.max_count = max_count
        self.max_bytes = max_bytes
        self.rate = rate or RateLimit()
        self._lock = threading.Lock()
        self._count, self._bytes = self._scan()

    @property
    def count(self) -> int:
        return self._count

    @property
    def bytes(self) -> int:
        return self._bytes

    @property
    def full(self) -> bool:
        return self._count >= self.max_count or self._bytes >= self.max_bytes

    def _scan(self) -> tuple[int, int]:
        """Entries and their bytes on disk; pictures a crash left without their JSON long ago are removed."""
        sizes: dict[str, int] = {}
        whole: set[str] = set()
        stale: list[Path] = []
        now = time.time()
        with os.scandir(self.entries_dir) as found:
            for item in found:
                entry_id, _, suffix = item.name.partition(".")
                if not ID_PATTERN.fullmatch(entry_id) or suffix not in SUFFIXES:
                    continue  # temporary files (".<name>.tmp") and strangers
                stat = item.stat()
                sizes[entry_id] = sizes.get(entry_id, 0) + stat.st_size
                if suffix == "json":
                    whole.add(entry_id)
                elif now - stat.st_mtime > STALE_SECONDS:
                    stale.append(Path(item.path))
        for path in stale:
            if path.name.partition(".")[0] not in whole:
                path.unlink(missing_ok=True)
        return len(whole), sum(sizes[i] for i in whole)

    def save(self, correction: Correction, session: str | None = None) -> Saved:
        """Keep `correction`; TooManyCorrections past the session's rate, CollectionFull past the caps."""
        entry_id = secrets.token_hex(8)
        files = entry_files(correction, entry_id, datetime.now(UTC))
        size = sum(len(data) for data in files.values())
        with self._lock:  # reserve the place, then write outside the lock: writers run side by side
            if self._count >= self.max_count or self._bytes + size > self.max_bytes:
                raise CollectionFull(full_text(self._count))
            if not self.rate.allow(session or ""):
                raise TooManyCorrections(
                    f"That is more than {self.rate.per_minute} corrections in a minute: thank you! Please wait a "
                    "moment before sending more."
                )
            self._count += 1
            self._bytes += size
            count = self._count
        try:
            for suffix in SUFFIXES:  # the JSON last: until it is there, the entry does not exist
                data = files[suffix]
                atomic_write(self.entries_dir / f"{entry_id}.{suffix}", lambda path, data=data: path.write_bytes(data))
        except OSError as error:
            with self._lock:
                self._count -= 1
                self._bytes -= size
            for suffix in SUFFIXES:
                (self.entries_dir / f"{entry_id}.{suffix}").unlink(missing_ok=True)
            log.error("corrections: cannot write to %s: %s", self.entries_dir, error.strerror)
            raise CorrectionError("The correction could not be saved (the server's disk refused it).") from None
        return Saved(entry_id, count)

    def entries(self) -> list["Entry"]:
        """The entries, oldest first."""
        return folder_entries(self.entries_dir)

    def latest(self, count: int) -> list["Entry"]:
        """The newest `count` entries, newest first."""
        return folder_entries(self.entries_dir, newest=count)

    def remove(self, entry_id: str) -> bool:
        """Delete an entry (the JSON first, so it vanishes whole); whether it was there."""
        if not ID_PATTERN.fullmatch(entry_id):
            return False
        paths = [self.entries_dir / f"{entry_id}.{suffix}" for suffix in reversed(SUFFIXES)]
        if not paths[0].is_file():
            return False
        size = sum(p.stat().st_size for p in paths if p.is_file())
        for path in paths:
            path.unlink(missing_ok=True)
        with self._lock:
            self._count -= 1
            self._bytes -= size
        return True

    def pushed(self) -> dict[str, str]:
        """Id -> the Hub shard it was pushed in, from the ledger (a line cut short by a crash is skipped)."""
        shards: dict[str, str] = {}
        path = self.folder / LEDGER
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    record = json.loads(line)
                    shards.update(dict.fromkeys(record["ids"], record["shard"]))
                except (ValueError, KeyError, TypeError):
                    continue
        return shards

    def record_push(self, shard: str, ids: list[str]) -> None:
        """Append one line to the ledger: `ids` are now in the Hub's `shard`."""
        line = json.dumps({"shard": shard, "ids": ids, "time": datetime.now(UTC).isoformat()}) + "\n"
        with self._lock, open(self.folder / LEDGER, "a", encoding="utf-8") as ledger:
            ledger.write(line)
            ledger.flush()
            os.fsync(ledger.fileno())


def default_folder() -> Path:
    """$MNIST_DEMO_CORRECTIONS_DIR; on a Space with persistent storage /data/mnist-demo-corrections; else a cache
    folder (~/.cache/mnist-demo/corrections)."""
    if os.environ.get("MNIST_DEMO_CORRECTIONS_DIR"):
        return Path(os.environ["MNIST_DEMO_CORRECTIONS_DIR"])
    if os.environ.get("SPACE_ID") and os.access("/data", os.W_OK):
        return Path("/data/mnist-demo-corrections")
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mnist-demo" / "corrections"


# --- what people read ---


def thanks_text(label: str, count: int) -> str:
    """The line after a correction is kept."""
    said = "not a digit" if label == NOT_A_DIGIT_LABEL else label
    return f"Thank you: kept as **{said}**. The demo has learned from {count:,} correction{'s' * (count != 1)}."


def full_text(count: int) -> str:
    return f"Thank you, but the collection is full: the demo has all the {count:,} corrections it can keep for now."


def latest_header(count: int, shown: int) -> str:
    """The Mistakes tab's line above the latest corrections."""
    if not count:
        return (
            "No corrections yet: when the model reads a drawing wrong, say what it was under the answer on the Draw "
            "tab, and it shows here."
        )
    return (
        f"The demo has kept {count:,} correction{'s' * (count != 1)}: the latest {shown:,}, newest first, with what "
        "the model said and what the person said it was."
    )


def latest_corrections(store: "CorrectionStore", count: int = LATEST_SHOWN) -> list[tuple[Image.Image, str]]:
    """The newest `count` corrections, newest first, for a gallery: (the picture on white, its caption)."""
    return [(tile(entry.picture()), correction_caption(entry.meta)) for entry in store.latest(count)]


def correction_caption(meta: dict) -> str:
    """'the model said 1, it was 7': what the model answered and what the person said it was."""
    return f"the model said {meta['predicted']}, it was {meta['label']}"


def tile(picture: Image.Image) -> Image.Image:
    """A kept picture as shown: on white (a canvas's transparency too), at most TILE_SIDE on its longer side."""
    picture = standard_mode(picture)
    if picture.mode in ("I", "F"):
        picture = Image.fromarray(np.round(255 * opaque_grey(picture)).astype(np.uint8))
    if picture.mode == "RGBA":
        picture = Image.alpha_composite(Image.new("RGBA", picture.size, "white"), picture).convert("RGB")
    picture = picture.copy()
    picture.thumbnail((TILE_SIDE, TILE_SIDE), Image.Resampling.LANCZOS)
    return picture


# --- reading entries back: a corrections folder, Hub shards, or a Hub dataset id ---


@dataclass(frozen=True)
class Entry:
    """One kept correction: its JSON fields, and its files read on demand."""

    meta: dict
    read: Callable[[str], bytes]  # suffix ("png", "mnist.png") -> the file's bytes

    @property
    def id(self) -> str:
        return self.meta["id"]

    @property
    def label(self) -> str:
        return self.meta["label"]

    def picture(self) -> Image.Image:
        return Image.open(io.BytesIO(self.read("png")))

    def mnist(self) -> np.ndarray:
        """uint8 [digits, 28, 28]: what the model saw."""
        strip = np.asarray(Image.open(io.BytesIO(self.read("mnist.png"))).convert("L"))
        return np.stack(np.split(strip, strip.shape[1] // 28, axis=1))


def read_entries(source: str | os.PathLike) -> list[Entry]:
    """Every correction in a corrections folder (entries/ and any data/*.tar shards) or a Hub dataset id,
    oldest first, each id once. CorrectionError when there is no such folder or dataset."""
    folder = Path(source).expanduser()
    if not folder.is_dir():
        from .loading import looks_like_path

        if looks_like_path(str(source)):
            raise CorrectionError(f"No corrections folder {source}.")
        from .corrections_hub import download_dataset

        folder = download_dataset(str(source))
    found = {entry.id: entry for entry in folder_entries(folder / ENTRIES)}
    for shard in sorted((folder / SHARDS).glob("*.tar")):
        for entry in shard_entries(shard):
            found.setdefault(entry.id, entry)
    return sorted(found.values(), key=lambda e: e.meta["time"])


def folder_entries(entries_dir: Path, newest: int | None = None, skip: set | dict = frozenset()) -> list[Entry]:
    """The entries of an entries/ folder but those in `skip`, oldest first; with `newest`, only that many, newest
    first."""
    if not entries_dir.is_dir():
        return []
    found = sorted(
        (p.stat().st_mtime, p.stem)
        for p in entries_dir.glob("*.json")
        if ID_PATTERN.fullmatch(p.stem) and p.stem not in skip
    )
    ids = [entry_id for _, entry_id in found]
    if newest is not None:
        ids = ids[::-1][: max(newest, 0)]
    entries = []
    for entry_id in ids:
        try:
            meta = json.loads((entries_dir / f"{entry_id}.json").read_text(encoding="utf-8"))
        except FileNotFoundError:  # removed meanwhile
            continue
        entries.append(Entry(meta, lambda suffix, stem=entries_dir / entry_id: Path(f"{stem}.{suffix}").read_bytes()))
    return entries


def shard_entries(path: Path) -> list[Entry]:
    """The entries of one WebDataset shard (members <id>.png, <id>.mnist.png, <id>.json)."""
    samples: dict[str, dict[str, bytes]] = {}
    with tarfile.open(path) as tar:
        for member in tar:
            entry_id, _, suffix = Path(member.name).name.partition(".")
            if member.isfile() and suffix in SUFFIXES:
                samples.setdefault(entry_id, {})[suffix] = tar.extractfile(member).read()
    return [
        Entry(json.loads(files["json"]), files.__getitem__) for files in samples.values() if set(files) == set(SUFFIXES)
    ]


# --- learning from them (train.py --corrections, the Train tab) ---


@dataclass(frozen=True)
class TrainingCorrections:
    """Corrections as training data: digits with their right answers, pictures that are no digit, and the
    held-out slice that is never trained on and scores a model before and after."""

    images: np.ndarray  # uint8 [N, 28, 28], MNIST-style: what the model saw
    labels: np.ndarray  # int64 [N], the right digits
    non_digits: np.ndarray  # uint8 [M, 28, 28]: pictures people said are not a digit
    held_out: tuple[Entry, ...]  # a stable share of the entries (by id), never trained on
    skipped: int = 0  # whole numbers whose right answer has more or fewer digits than the model read

    @property
    def empty(self) -> bool:
        return not len(self.labels) and not len(self.non_digits)

    def run_inputs(self) -> dict:
        """`training.Run`'s arguments for them: the digits (weighed more) and the non-digits; None for none."""
        return {
            "corrections": (self.images, self.labels) if len(self.labels) else None,
            "negatives": self.non_digits if len(self.non_digits) else None,
        }


def held_out(entry_id: str) -> bool:
    """Whether the entry belongs to the held-out slice: a HELD_OUT_SHARE of the ids, the same ones in every run
    (an entry never moves between the slices as the collection grows)."""
    return int(entry_id[:8], 16) < HELD_OUT_SHARE * 16**8


def training_corrections(entries: list[Entry]) -> TrainingCorrections:
    """The entries as training data: each digit a whole number's correction names pairs with the digit image the
    model saw (when it read as many digits as the answer has; else the entry is skipped); a single picture
    that is "not a digit" joins the non-digits."""
    images, labels, non_digits, kept_back, skipped = [], [], [], [], 0
    for entry in entries:
        if held_out(entry.id):
            kept_back.append(entry)
            continue
        seen = entry.mnist()
        if entry.label == NOT_A_DIGIT_LABEL:
            non_digits.extend(seen if len(seen) == 1 else [])
            skipped += len(seen) != 1  # which part of a whole number is no digit is not said
        elif len(entry.label) == len(seen):
            images.extend(seen)
            labels.extend(int(d) for d in entry.label)
        else:
            skipped += 1
    empty = np.zeros((0, 28, 28), np.uint8)
    return TrainingCorrections(
        images=np.stack(images) if images else empty,
        labels=np.asarray(labels, dtype=np.int64),
        non_digits=np.stack(non_digits) if non_digits else empty,
        held_out=tuple(kept_back),
        skipped=skipped,
    )


def answer_for(probabilities: np.ndarray, threshold: float) -> str:
    """What the app answers for the digit images of one picture, from their probabilities [digits, 10]: the digits
    left to right, or NOT_A_DIGIT_LABEL when any is below the model's "not a digit" threshold."""
    probabilities = np.asarray(probabilities)
    if (probabilities.max(axis=1) < threshold).any():
        return NOT_A_DIGIT_LABEL
    return "".join(DIGIT_LABELS[d] for d in probabilities.argmax(axis=1))


def held_out_score(entries, predict_mnist, threshold: float) -> dict:
    """How many held-out corrections the served model got right (their recorded answers: "before") and a new model
    gets right ("after", `predict_mnist` on the images the served model saw)."""
    after = sum(answer_for(predict_mnist(e.mnist()), threshold) == e.label for e in entries)
    before = sum(e.meta["predicted"] == e.label for e in entries)
    return {"total": len(entries), "right_before": before, "right_after": int(after)}


def held_out_text(score: dict) -> str:
    """One line on `held_out_score`'s figures."""
    if not score["total"]:
        return "corrections: none held out to score (a tenth of them are, chosen by id)"
    return (
        f"held-out corrections read right: {score['right_before']} of {score['total']} by the model people "
        f"corrected, {score['right_after']} of {score['total']} now"
    )


# --- the maintainer's command ---


def list_entries(entries: list[Entry]) -> None:
    for entry in entries:
        meta = entry.meta
        print(
            f"{meta['time'][:19]}Z  {entry.id}  model: {meta['predicted']:<11}  it was: {meta['label']:<11}  "
            f"{meta['source']:<7}  {meta['weights']}"
        )
    print(f"{len(entries):,} correction(s)")


def export_entries(entries: list[Entry], out: Path) -> None:
    """An image folder: OUT/<right answer>/<id>.png, and OUT/metadata.jsonl with every field
    (`datasets.load_dataset("imagefolder", data_dir=OUT)` reads it, the folders as labels)."""
    lines = []
    for entry in entries:
        name = f"{entry.label.replace(' ', '-')}/{entry.id}.png"
        data = entry.read("png")
        atomic_write(out / name, lambda path, data=data: path.write_bytes(data))
        lines.append(json.dumps({"file_name": name, **{k: v for k, v in entry.meta.items() if k != "strokes"}}))
    atomic_write(out / "metadata.jsonl", lambda path: path.write_text("".join(f"{line}\n" for line in lines)))
    print(f"exported {len(entries):,} correction(s) to {out}")


def remove_entries(folder: Path, ids: list[str], repo_id: str | None) -> int:
    store = CorrectionStore(folder)
    pushed = store.pushed()
    missing = [i for i in ids if not store.remove(i)]
    for entry_id in missing:
        print(f"no correction {entry_id} in {folder}", file=sys.stderr)
    on_hub = sorted({pushed[i] for i in ids if i in pushed})
    if on_hub and repo_id:
        from .corrections_hub import remove_from_hub

        remove_from_hub(repo_id, {i for i in ids if i in pushed}, on_hub)
        print(f"removed from {', '.join(on_hub)} in the Hub dataset {repo_id}")
    elif on_hub:
        print(f"already pushed in {', '.join(on_hub)}: add --repo user/name to remove them from the Hub dataset too")
    print(f"removed {len(ids) - len(missing)} correction(s); {store.count:,} left in {folder}")
    return 1 if missing else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mnist_demo.corrections", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="one line per correction, oldest first")
    listing.add_argument("source", help="a corrections folder or a Hub dataset id (user/name)")
    export = commands.add_parser("export", help="the pictures in one folder per right answer, with metadata.jsonl")
    export.add_argument("source", help="a corrections folder or a Hub dataset id (user/name)")
    export.add_argument("out", help="the folder to write")
    remove = commands.add_parser("remove", help="delete corrections from the folder (and the Hub dataset)")
    remove.add_argument("folder", help="the app's corrections folder (--corrections-dir)")
    remove.add_argument("ids", nargs="+", help="the ids `list` shows")
    remove.add_argument("--repo", help="the Hub dataset they were pushed to: rewrite its shards without them")
    args = parser.parse_args(argv)
    try:
        if args.command == "remove":
            return remove_entries(Path(args.folder), args.ids, args.repo)
        entries = read_entries(args.source)
        list_entries(entries) if args.command == "list" else export_entries(entries, Path(args.out))
    except CorrectionError as error:
        sys.exit(str(error))
    return 0


if __name__ == "__main__":
    sys.exit(main())
