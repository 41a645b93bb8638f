"""The app's side of people's corrections: the store its flags name, a correction taken from the Draw tab or from
/correct, and the line under the answer.

    store = open_corrections(args.corrections_dir, args.corrections_repo)   # None when they cannot be kept
    saved, kept = take_correction(store, classifier, value, "7", session)     # Saved(id, count), the Correction
    script_reply(saved, kept)                                                 # /correct's {"id", "count", ...}
    page_correction(store, classifier, "7", drawing, upload, "drawing", session)   # the Draw tab's line after a click

`value` is what the Draw tab or a script sends: the pad's strokes or a Sketchpad value (a drawing), an
uploaded file's path or Gradio FileData, or a picture. The folder, the caps and the rate limit are
`mnist_demo.corrections`'; the Hub push `mnist_demo.corrections_hub`'s.
"""

import html
import logging
import threading

from .corrections import (
    NOT_A_DIGIT_LABEL,
    BadCorrection,
    CorrectionError,
    CorrectionStore,
    Saved,
    correction_of,
    default_folder,
    full_text,
    thanks_text,
)
from .picture import drawing_of
from .strokes import StrokesError, is_strokes, parsed, stroke_picture

log = logging.getLogger("mnist_demo")

BUTTONS = (*(str(d) for d in range(10)), NOT_A_DIGIT_LABEL)  # the row's buttons, their labels the right answers


def open_corrections(folder=None, repo_id: str | None = None) -> CorrectionStore | None:
    """The corrections folder (default: `corrections.default_folder()`), pushed to the Hub dataset `repo_id` when
    one is named and a token is set. None, with one line logged, when the folder cannot be written: the app
    then runs without corrections rather than not at all."""
    try:
        store = CorrectionStore(folder or default_folder())
    except CorrectionError as error:
        log.error("corrections: %s The app runs without them.", error)
        return None
    if repo_id:  # in the background: the Hub client imports torch (mnist_demo.hub), and the page comes first
        threading.Thread(target=push_to_hub, args=(store, repo_id), name="corrections-hub", daemon=True).start()
    return store


def push_to_hub(store: CorrectionStore, repo_id: str):
    """Push `store` to the Hub dataset `repo_id` every few minutes from now on; failures are logged in one line
    each and retried (`corrections_hub.start_hub_push`)."""
    from .corrections_hub import start_hub_push

    return start_hub_push(store, repo_id)


def picture_and_strokes(value) -> tuple[object, str, list | dict | None]:
    """What a correction reads, where it came from ("drawing" or "upload") and a drawing's strokes, from a Draw tab
    or script value: the pad's strokes (`mnist_demo.strokes`), a Sketchpad value (its composite a picture or
    Gradio FileData), FileData, a path, a picture."""
    if is_strokes(value):  # the Draw tab's pad: its strokes, drawn as the reading sees them, and kept
        try:
            checked = parsed(value)
            return stroke_picture(checked), "drawing", {k: checked.get(k) for k in ("width", "height", "strokes")}
        except StrokesError as error:
            raise BadCorrection(str(error)) from None
    if isinstance(value, dict) and "composite" in value:  # a Sketchpad value
        composite = value["composite"]
        if isinstance(composite, dict):  # as a script sends it: FileData
            composite = composite.get("path")
        return {"composite": composite}, "drawing", None
    if isinstance(value, dict):  # FileData, as gradio_client's handle_file sends a file
        return value.get("path"), "upload", None
    return value, "upload", None


def take_correction(store: CorrectionStore, classifier, value, label, session: str | None):
    """Read `value` as the Draw tab does and keep it with its right answer `label`: (Saved, the Correction).
    CorrectionError, its message for a person, for a bad label or picture, an empty canvas, too many at once or a
    full collection."""
    picture, source, strokes = picture_and_strokes(value)
    kept = correction_of(classifier, picture, label, source=source, strokes=strokes)
    return store.save(kept, session=session), kept


def page_correction(store: CorrectionStore, classifier, label, drawing, upload, shown: str, session: str | None) -> str:
    """A click on the Draw tab's row: keep the picture the answer is about (`shown_value`) with its right answer
    `label`; the line that says so, or why it was not kept."""
    try:
        saved, kept = take_correction(store, classifier, shown_value(drawing, upload, shown), label, session)
    except CorrectionError as error:
        return f"⚠️ {html.escape(str(error), quote=False)}"
    return thanks_text(kept.label, saved.count)


def shown_value(drawing, upload, shown: str):
    """The picture the Draw tab's answer is about: the drawing or the upload, whichever is there; when both are,
    the one the page last changed (`shown`, "drawing" or "upload", set in the browser a moment after the change)."""
    if upload and not has_ink(drawing):
        return upload
    if not upload or shown != "upload":
        return drawing
    return upload


def has_ink(drawing) -> bool:
    """Whether a Draw tab value holds a drawing: strokes (a malformed value counts: its error is said), or a
    Sketchpad's composite."""
    if is_strokes(drawing):
        try:
            return bool(parsed(drawing).get("strokes"))
        except (StrokesError, AttributeError):
            return True
    return drawing_of(drawing) is not None


def script_reply(saved: Saved, kept) -> dict:
    """/correct's answer: the id the correction is kept under, how many there are now, and what was kept."""
    return {"id": saved.id, "count": saved.count, "label": kept.label, "predicted": kept.predicted}


def row_intro(store: CorrectionStore) -> str:
    """The line under the correction buttons before anyone used them on this page."""
    if store.full:
        return full_text(store.count)
    count = store.count
    learned = (
        f"The demo has learned from {count:,} correction{'s' * (count != 1)} so far." if count else "Be the first!"
    )
    return f"One click keeps the picture and what it really was (nothing about you) to train the next model. {learned}"
