"""The draw-a-digit demo: draw (or upload) a digit and watch a CNN trained on MNIST read it.

    python app.py                               # http://127.0.0.1:7860, the packaged weights
    python app.py --weights runs/best           # a folder written by train.py ...
    python app.py --weights user/mnist-demo     # ... or a Hugging Face Hub repo id
    python app.py --host 0.0.0.0 --port 8000 --share
    python app.py --data-dir ../shared/data     # MNIST for the Train tab; --no-training hides it

Also a Hugging Face Space's `app_file` (the Space sets GRADIO_SERVER_NAME / _PORT).
Scripts use these endpoints with gradio_client: `/predict` takes strokes (the Draw tab's pad's
value, `mnist_demo.strokes`) or a Sketchpad value, `/classify` an image file; both return the
ten probabilities as a gr.Label value.
`/read` takes an image file of a whole number and returns JSON: {"number", "digits":
[{"digit", "confidence", "box", "not_a_digit"}], "not_a_digit"}.

This file only wires the UI together: finding and loading the weights is
`mnist_demo.loading` (the page is served first, torch and the model load right after),
reading a picture `mnist_demo.prediction`, the Draw tab's saliency, whole numbers and a
photo's cleaned ink `mnist_demo.draw_view`, the gallery of mistakes and the confusion table
`mnist_demo.mistakes`, the Model tab's text `mnist_demo.model_summary`.

The Train tab and `/train` (streams {"epoch", "step", "steps", "loss", "val_accuracy"}, the last
with "test_accuracy") run `mnist_demo.live_training`: one training at a time, on one core, the
model kept in memory for the browser session and read beside the packaged one on the Draw tab.
`--no-training` (or MNIST_DEMO_NO_TRAINING=1, for a Space) hides both.

People's corrections ("Wrong? It was: 7" under the answer, and `/correct`: a picture file and its
right answer -> {"id", "count", "label", "predicted"}) are kept in `--corrections-dir` (default: the
user's cache, or /data on a Space with persistent storage) by `mnist_demo.corrections_app`, pushed to
the Hub dataset `--corrections-repo user/name` when a token is set; `--no-corrections` turns them off.
"""

import argparse
import html
import logging
import os
from dataclasses import dataclass

import gradio as gr
from gradio.utils import get_upload_folder, is_in_or_equal

from mnist_demo import ImageError
from mnist_demo.classifier import DIGIT_LABELS, probabilities_by_label
from mnist_demo.classifier_loader import ClassifierLoader
from mnist_demo.corrections import CorrectionError, CorrectionStore, latest_corrections, latest_header
from mnist_demo.corrections_app import (
    BUTTONS,
    open_corrections,
    page_correction,
    row_intro,
    script_reply,
    take_correction,
)
from mnist_demo.draw_view import answer_drawing, plain_answer, plain_view, read_number, with_pictures
from mnist_demo.drawing_pad import drawing_pad
from mnist_demo.live_training import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_LR,
    DEFAULT_NETWORK,
    MAX_EPOCHS,
    MAX_SECONDS,
    NETWORKS,
    Trainer,
    TrainingError,
    checked_recipe,
    corrections_to_learn,
    curve_frames,
    mistake_items,
    mnist_note,
    progress_bar,
    progress_text,
    results_text,
    your_model_label,
)
from mnist_demo.loading import locate_with_fallback
from mnist_demo.mistakes import (
    ANY,
    cell_filter,
    confusion_table,
    describe_mistake,
    filter_summary,
    gallery_items,
    load_mistakes,
    matching_mistakes,
    mistakes_header,
    shown_in_gallery,
)
from mnist_demo.model_summary import confusion_matrix_plot, layer_listing, summary_markdown, training_curves_plot
from mnist_demo.prediction import (
    DRAW_PROMPT,
    NO_DIGIT,
    blank_prediction,
    predict_digit,
    refusal_title,
    unreadable_prediction,
)
from mnist_demo.strokes import pad_picture

QUEUE_SIZE = 64  # beyond this, new requests get "queue full" at once instead of piling up in memory
CONCURRENCY = 2  # predictions running at once: one per core of a free CPU Space
MAX_UPLOAD = "10mb"  # bigger uploads are refused before they reach the model
MODEL_DROPPED = "Train again: the server keeps only the newest few models"

# 28x28 images are shown enlarged: keep their pixels square instead of blurring them.
CSS = """
#model-input img, #saliency img, #mistakes img, #mistake-image img { image-rendering: pixelated; }
#mistake-image img { width: 168px !important; height: 168px !important; object-fit: contain !important; }
#model-input img, #saliency img { height: 168px !important; object-fit: contain !important; }
#cleaned-ink img { height: 300px !important; object-fit: contain !important; }
#confusion td, #confusion th { text-align: center; cursor: pointer; }
#mistakes .caption-label, #latest-corrections .caption-label {
  white-space: normal; text-overflow: clip; font-size: var(--text-xs);
}
#weights-warning { border: 1px solid #d97706; border-radius: 8px; padding: 0 12px; background: #fffbeb; }
#answer-line { display: none; }
#answer-line h2, #answer-line p { display: inline; margin: 0 0.5em 0 0; }
#answer-line .prose { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
/* The correction row: the buttons wrap (two lines on a phone), each big enough for a finger. */
#correct-row { flex-wrap: wrap; align-items: center; gap: 6px; }
#correct-row > * { flex: 0 0 auto !important; width: auto !important; min-width: 0 !important; }
#correct-row button, #correct-send { min-width: 2.5rem !important; min-height: 2.5rem !important; }
#correct-prompt { white-space: nowrap; margin-right: 0.25em; }
#correct-number-row { align-items: center; flex-wrap: nowrap; }
/* A phone shows the answer in one line above the canvas, so the drawing and its answer fit on the
   screen together; the columns dissolve into one, with the upload after the answer. */
@media (max-width: 640px) {
  #answer-line { display: block; }
  #draw-row > .column { display: contents; }
  #upload { order: 1; }
}
"""
# Which picture the correction row keeps: the drawing once the pad has strokes, else what it was (the upload).
DRAWN_IF_STROKES = """
(pad, shown) => {
  try { pad = typeof pad === "string" ? JSON.parse(pad) : pad; } catch (error) { return shown; }
  return pad?.strokes?.length ? "drawing" : shown;
}
"""
# Options that belong to launch() in Gradio 6; tests launch with the same ones.
LAUNCH_OPTIONS = {"css": CSS, "max_file_size": MAX_UPLOAD, "show_error": False}

# Model events share one concurrency group, so the UI and the API together never run
# more than CONCURRENCY predictions at once; UI events are hidden from the API page.
MODEL_EVENT = {"concurrency_id": "model", "concurrency_limit": CONCURRENCY}
UI_EVENT = {"api_visibility": "private"}
# One training at a time for the whole app, the Train tab's and /train's together: others wait in the queue.
TRAIN_EVENT = {"concurrency_id": "train", "concurrency_limit": 1}


def build_demo(
    loader: ClassifierLoader,
    warning: str | None = None,
    trainer: Trainer | None = None,
    corrections: CorrectionStore | None = None,
) -> gr.Blocks:
    """The app for the classifier `loader` is loading (or has: `ClassifierLoader.of(classifier)`).

    The page is built from the files in the weights folder alone, so it can be served while
    torch and the model still load; predictions wait for the model. `warning` (e.g. why the
    Hub weights were not used) shows as a banner. With a `trainer`, a Train tab (and `/train`)
    trains a model that the Draw tab then shows beside the packaged one (learning the `corrections` too when
    asked to). With `corrections`, the Draw tab's row under the answer ("Wrong? It was: ...") and `/correct`
    keep people's corrections there.
    """
    with gr.Blocks(title="Draw a digit", delete_cache=(3600, 3600)) as demo:
        gr.Markdown("# Draw a digit\nA small convolutional network trained on MNIST reads what you draw.")
        banner = gr.Markdown(
            f"⚠️ {html.escape(warning or '', quote=False)}", visible=warning is not None, elem_id="weights-warning"
        )
        with gr.Tab("Draw"):
            yours = draw_tab(loader, trainer, corrections, demo)
        if trainer is not None:
            with gr.Tab("Train", elem_id="train-tab") as train_page:
                data_note, include = train_tab(trainer, yours, corrections)
            # Looking for MNIST on disk imports torch (mnist_demo.data): after the page is served, not before.
            demo.load(lambda: data_note_update(trainer), None, data_note, show_progress="hidden", **UI_EVENT)
            gr.on(
                [demo.load, train_page.select],
                lambda: corrections_choice(corrections),
                None,
                include,
                queue=False,
                show_progress="hidden",
                **UI_EVENT,
            )
            demo.unload(session_end(trainer))
        with gr.Tab("Mistakes") as mistakes_page:
            mistakes_tab(load_mistakes(loader.model_folder.path))
            if corrections is not None:
                corrections_section(corrections, mistakes_page)
        with gr.Tab("Model"):
            summary, layers = model_tab(loader.model_folder)
        demo.load(
            lambda: loaded_model(loader, warning, banner, summary, layers),
            None,
            [banner, summary, layers],
            show_progress="hidden",
            **UI_EVENT,
        )
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY)
    return demo


def loaded_model(loader: ClassifierLoader, warning: str | None, banner, summary, layers) -> dict:
    """On page load, once the model is loaded: the Model tab's `summary` (parameter count) and `layers`, or,
    when the weights could not be loaded after all, why, in the `banner`."""
    problem = loader.problem()
    if problem:
        text = " ".join(filter(None, [warning, problem]))
        return {banner: gr.Markdown(f"⚠️ {html.escape(text, quote=False)}", visible=True), layers: ""}
    classifier = loader.classifier()
    return {summary: summary_markdown(classifier.model_folder, classifier.model), layers: layer_listing(classifier)}


def ready(loader: ClassifierLoader):
    """The classifier, waiting for it at start-up; a gr.Error saying why when it could not be loaded."""
    problem = loader.problem()
    if problem:
        raise gr.Error(html.escape(problem, quote=False), title="No model", print_exception=False)
    return loader.classifier()


def draw_tab(
    loader: ClassifierLoader,
    trainer: Trainer | None = None,
    corrections: CorrectionStore | None = None,
    page: gr.Blocks | None = None,
):
    """The Draw tab; with a `trainer`, also the hidden panel for the model trained in this session, returned; with
    `corrections`, the row that keeps them (its count refreshed when the `page` loads)."""
    start = blank_prediction(DRAW_PROMPT)
    with gr.Row(elem_id="draw-row"):
        with gr.Column():
            answer_line = gr.Markdown(start.headline, elem_id="answer-line")  # phones only (CSS)
            pad = drawing_pad("Draw a digit (or a whole number)", "sketchpad")
            upload = gr.Image(
                label="…or upload a picture of a digit",
                type="filepath",
                elem_id="upload",
                sources=["upload", "clipboard"],
                height=180,
            )
        with gr.Column():
            headline, probabilities, yours = answer_panel(start, trainer)
            row = correction_row(corrections) if corrections is not None else None
            pictures = picture_panel()
    answers = DrawAnswers(answer_line, headline, probabilities, yours)
    wire_drawing(loader, trainer, pad, upload, answers, pictures, start)
    script_endpoints(loader, upload, probabilities)
    if corrections is not None:
        wire_corrections(corrections, loader, pad, upload, row, page)
        correct_endpoint(corrections, loader, upload)
    return yours


def answer_panel(start, trainer: Trainer | None) -> list:
    """The headline and the ten probabilities, shown as soon as a prediction exists; with a `trainer`, beside
    them the (hidden) panel of the model trained in this session, or None."""
    headline = gr.Markdown(start.headline, elem_id="prediction")
    with gr.Row(equal_height=False):
        probabilities = gr.Label(start.label_value, num_top_classes=10, label="Probabilities", elem_id="probabilities")
        yours = your_model_panel(trainer) if trainer is not None else None
    return [headline, probabilities, yours]


def correction_row(store: CorrectionStore) -> dict:
    """Under the answer: "Wrong? It was: 0 1 ... 9 / not a digit", a box for a whole number, and the line that
    thanks (and says how many corrections the demo has learned from). Its components by name."""
    with gr.Column(elem_id="correct"):
        with gr.Row(elem_id="correct-row"):
            gr.HTML("<b>Wrong? It was:</b>", elem_id="correct-prompt", padding=False, min_width=0)
            buttons = [
                gr.Button(label, size="sm", min_width=0, elem_id=f"correct-{label.replace(' ', '-')}")
                for label in BUTTONS
            ]
        with gr.Row(elem_id="correct-number-row"):
            number = gr.Textbox(
                placeholder="…or type the whole number, e.g. 2026",
                show_label=False,
                max_lines=1,
                elem_id="correct-number",
                scale=4,
                min_width=0,
            )
            send = gr.Button("Send", size="sm", elem_id="correct-send", scale=1, min_width=0)
        thanks = gr.Markdown(row_intro(store), elem_id="correct-thanks")  # counted again on each page load
    # Which picture the answer is about, the drawing or the upload: set in the browser by the last one changed.
    shown = gr.Textbox("drawing", visible="hidden", elem_id="correct-shown")
    return {"buttons": buttons, "number": number, "send": send, "thanks": thanks, "shown": shown}


def wire_corrections(store: CorrectionStore, loader: ClassifierLoader, pad, upload, row: dict, page=None) -> None:
    """A click on the row keeps the picture the answer is about with what it really was; the line says thanks."""

    def on_correct(label, drawing, picture_path, shown, request: gr.Request):
        return page_correction(store, ready(loader), label, drawing, picture_path, shown, request.session_hash)

    sources = [pad, upload, row["shown"]]
    for button in row["buttons"]:
        button.click(on_correct, [button, *sources], row["thanks"], **MODEL_EVENT, **UI_EVENT)
    gr.on(
        [row["number"].submit, row["send"].click],
        on_correct,
        [row["number"], *sources],
        row["thanks"],
        **MODEL_EVENT,
        **UI_EVENT,
    )
    # The pad sends a value on load and on clear too: only strokes make the drawing the picture shown.
    pad.change(None, [pad, row["shown"]], row["shown"], js=DRAWN_IF_STROKES, **UI_EVENT)
    upload.upload(None, None, row["shown"], js="() => 'upload'", **UI_EVENT)
    reloads = [page.load] if page is not None else []  # the count kept so far, not at start-up
    gr.on([*reloads, pad.clear, upload.clear], lambda: row_intro(store), None, row["thanks"], queue=False, **UI_EVENT)


def correct_endpoint(store: CorrectionStore, loader: ClassifierLoader, upload) -> None:
    """/correct: a picture file (or the Draw tab's value) and what it really was -> {"id", "count", ...}."""
    label = gr.Textbox(visible=False)  # only /correct's second input
    drawing = gr.JSON(visible=False)  # only /correct's third input: strokes, or a Sketchpad value
    reply = gr.JSON(visible=False)  # only /correct's output

    def correct(picture=None, digit: str = "", drawing=None, request: gr.Request = None):
        """Say what a picture really was: it is kept (without anything about you) to train the next model.

        Args:
            picture: an image file (PNG, JPEG, ...) of a digit or a whole number.
            digit: what it really was: "0" to "9", a whole number such as "2026", or "not a digit".
            drawing: instead of a file, the Draw tab's value, as /predict takes it.
        """
        try:
            value = picture if drawing is None else checked_drawing(drawing)
            return script_reply(*take_correction(store, ready(loader), value, digit, request.session_hash))
        except (CorrectionError, ImageError) as error:
            raise gr.Error(html.escape(str(error), quote=False), title="Not kept", print_exception=False) from None

    gr.on(
        [],
        correct,
        [upload, label, drawing],
        reply,
        api_name="correct",
        preprocess=False,
        **MODEL_EVENT,
        api_description='A picture and what it really was ("7", "2026" or "not a digit") -> {"id", "count", '
        '"label", "predicted"}: the correction is kept to train the next model.',
    )


def picture_panel() -> list:
    """What the model saw, why, a whole number's boxes and an uploaded photo's cleaned ink: shown a moment
    after the answer."""
    with gr.Row():
        model_input = output_picture("What the model sees: 28×28 pixels", "model-input", 200)
        saliency = output_picture("Why: red pixels count for the answer, blue against", "saliency", 200)
    boxes = output_picture("The reading, digit by digit", "reading-boxes", 240, visible=False)
    cleaned_ink = output_picture(
        "The ink the model read of your photo (right): the paper's light, shadow, lines and specks taken out",
        "cleaned-ink",
        340,
        visible=False,
    )
    return [model_input, saliency, boxes, cleaned_ink]


def output_picture(label: str, elem_id: str, height: int, visible: bool = True) -> gr.Image:
    """A PNG the app shows and the user cannot edit, without download or share buttons."""
    return gr.Image(
        label=label, elem_id=elem_id, interactive=False, format="png", height=height, buttons=[], visible=visible
    )


@dataclass(frozen=True)
class DrawAnswers:
    """The Draw tab's components that show an answer: the phone's answer line, the headline, the probabilities
    and, with a trainer, this session's own model's probabilities (else None)."""

    line: gr.Markdown
    headline: gr.Markdown
    probabilities: gr.Label
    yours: gr.Label | None


def wire_drawing(loader: ClassifierLoader, trainer, pad, upload, answers: DrawAnswers, pictures: list, start):
    """Strokes (while the pen moves, and when it lifts) or an upload -> the answer, then, once the pen rests, its
    pictures; Clear (the pad's, or the upload's) -> the blank state."""

    def on_drawing(value, request: gr.Request):
        classifier = ready(loader)
        answer = answer_for_people(classifier, value, DRAW_PROMPT)
        yield shown_answer(answers, answer) | your_answer(trainer, answers.yours, value, request)
        if not (isinstance(value, dict) and value.get("drawing")):  # the pen rests: what the model saw, and why
            yield shown_pictures(pictures, with_pictures(classifier, answer))

    def on_upload(file_data):
        classifier = ready(loader)
        answer = answer_for_people(classifier, uploaded_path(file_data), NO_DIGIT)
        yield shown_answer(answers, answer)
        yield shown_pictures(pictures, with_pictures(classifier, answer))

    def reset():
        return shown_answer(answers, start) | shown_pictures(pictures, plain_view(start))

    outputs = [answers.line, answers.headline, answers.probabilities, *pictures]
    if answers.yours is not None:
        outputs.append(answers.yours)
    # The pad's value changes every SEND_MS while the pen moves, when it lifts, on undo and on Clear (the
    # strokes, a few KB). One event for all of them, "always_last": the browser runs one at a time and, of
    # the values that came meanwhile, only the latest, next. So answers arrive in the order drawn, and
    # after a Clear the blank state is the last thing shown: no older answer can land after it.
    pad.change(
        on_drawing,
        pad,
        outputs,
        trigger_mode="always_last",
        show_progress="hidden",
        **MODEL_EVENT,
        **UI_EVENT,
    )
    # Uploads are read from the raw file (preprocess=False): mnist_demo, not Gradio, opens
    # it, so a corrupt or odd file gets a clear message instead of a generic error. "always_last"
    # here too: with the default ("once") a file dropped while the last one's pictures are made is lost.
    uploading = upload.upload(
        on_upload, upload, outputs, preprocess=False, trigger_mode="always_last", **MODEL_EVENT, **UI_EVENT
    )
    # Registered before the reset, so an upload's answer still in flight is cancelled before the blank shows.
    upload.clear(None, cancels=[uploading])
    upload.clear(reset, None, outputs, queue=False, show_progress="hidden", **UI_EVENT)


def shown_answer(answers: DrawAnswers, answer) -> dict:
    """The answer line (phones), the headline and the probabilities."""
    return {answers.line: answer.headline, answers.headline: answer.headline, answers.probabilities: answer.label_value}


def shown_pictures(pictures: list, view) -> dict:
    """The model's input, the saliency map, the boxes (hidden unless a whole number was read) and the cleaned
    ink (hidden unless a photo of paper was uploaded)."""
    model_input, saliency, boxes, cleaned_ink = pictures
    return {
        model_input: view.model_input,
        saliency: view.saliency,
        boxes: shown_if_any(view.boxes),
        cleaned_ink: shown_if_any(view.cleaned_ink),
    }


def shown_if_any(image) -> dict:
    """An update of a gr.Image: `image`, shown; hidden when None. (A gr.Image(image) returned instead would
    encode the picture once when made, for nothing: the component's own format is what is sent.)"""
    return gr.update(value=image, visible=image is not None)


def your_answer(trainer, yours, value, request: gr.Request) -> dict:
    """This session's own model's probabilities for the drawing, when the app has a Train tab."""
    if yours is None:
        return {}
    classifier = trainer.models.get(request.session_hash)
    if classifier is None:  # none trained yet (the panel is hidden), or dropped for newer ones
        return {yours: MODEL_DROPPED if value and value.get("strokes") else DRAW_PROMPT}
    return {yours: answer_for_people(classifier, value, DRAW_PROMPT).label_value}


def script_endpoints(loader: ClassifierLoader, upload, probabilities):
    """/predict, /classify and /read: endpoints with no UI trigger, reading the raw upload like the UI's upload."""
    reading = gr.JSON(visible=False)  # only the /read endpoint's output
    drawing = gr.JSON(visible=False)  # only /predict's input: strokes, or a Sketchpad value

    def predict_drawing(value):
        classifier = ready(loader)
        return for_scripts(lambda: predict_digit(classifier, drawn_picture(value), NO_DIGIT)).label_value

    # With --mcp the endpoints are also MCP tools: api_description describes each tool, the
    # docstring's Args its input.
    def classify_file(file_data):
        """Classify a picture of one handwritten digit: the ten calibrated probabilities, or 'No digit' for a blank.

        Args:
            file_data: an image file (PNG, JPEG, ...) showing one digit, dark on light or light on dark.
        """
        return for_scripts(predict_digit, ready(loader), uploaded_path(file_data), NO_DIGIT).label_value

    def read_file(file_data):
        """Read a handwritten whole number: each digit left to right, with its confidence, its box in pixels
        and whether it looks like a digit at all; "number" is the digits together (only a guess when
        "not_a_digit" is true).

        Args:
            file_data: an image file (PNG, JPEG, ...) of digits written in a row.
        """
        return for_scripts(read_number, ready(loader), uploaded_path(file_data))

    # /predict and /classify stay a single prediction: saliency and whole numbers cost time.
    gr.on(
        [],
        predict_drawing,
        drawing,
        probabilities,
        api_name="predict",
        preprocess=False,
        **MODEL_EVENT,
        api_description='Strokes {"width": 400, "height": 400, "strokes": [[[x, y], ...], ...]} (or a Sketchpad '
        "value) -> the ten probabilities, or 'No digit' for a blank.",
    )
    gr.on(
        [],
        classify_file,
        upload,
        probabilities,
        api_name="classify",
        preprocess=False,
        **MODEL_EVENT,
        api_description="An image file of one digit -> the ten probabilities, or 'No digit' for a blank.",
    )
    gr.on(
        [],
        read_file,
        upload,
        reading,
        api_name="read",
        preprocess=False,
        **MODEL_EVENT,
        api_description='An image file of a whole number -> {"number", "digits": [{"digit", "confidence", '
        '"box", "not_a_digit"}], "not_a_digit"}; no digits and "number": "" for a blank.',
    )


def your_model_panel(trainer: Trainer) -> gr.Label:
    """The Draw tab's second probabilities panel, for the model trained in this session: hidden until there is one."""
    return gr.Label(
        DRAW_PROMPT,
        num_top_classes=10,
        label="Your model (trained on the Train tab)",
        elem_id="your-probabilities",
        visible=False,
    )


def session_end(trainer: Trainer):
    """The unload event: the session's model is dropped when its page closes."""

    def forget(request: gr.Request):
        trainer.models.drop(request.session_hash)

    return forget


def train_tab(trainer: Trainer, yours: gr.Label, store: CorrectionStore | None = None) -> tuple:
    """The Train tab; returns its (hidden) note on where MNIST comes from, which the page load fills, and its
    (hidden) "include people's corrections" choice, shown when the app keeps some (`store`)."""
    gr.Markdown(
        f"### Train it yourself\nPick a network and watch it learn MNIST: the loss, and the accuracy on "
        f"validation images it never trains on. Then draw on the Draw tab: your model reads the drawing "
        f"beside the packaged one. One training runs at a time (the others wait their turn), at most "
        f"{MAX_EPOCHS} epochs and {MAX_SECONDS} s; your model lives in this page only."
    )
    data_note = gr.Markdown("", elem_id="train-data-note", visible=False)
    with gr.Row():
        model = gr.Radio(
            list(NETWORKS),
            value=DEFAULT_NETWORK,
            label="Network",
            elem_id="train-network",
            info="mlp: the tutorials' 784-128-64-10 network; tutorial-cnn: their two conv blocks; "
            "cnn-fast: the fast preset's small CNN",
        )
        epochs = gr.Slider(1, MAX_EPOCHS, value=1, step=1, label="Epochs", elem_id="train-epochs")
    with gr.Row():
        lr = gr.Number(DEFAULT_LR, label="Learning rate (peak of the OneCycle schedule)", elem_id="train-lr")
        batch_size = gr.Dropdown(
            [64, 128, 256, 512], value=DEFAULT_BATCH_SIZE, label="Batch size", elem_id="train-batch-size"
        )
        augment = gr.Checkbox(
            False,
            label="Augmentation (rotation, scale, shift, stroke width, blur, low resolution, paper)",
            elem_id="train-augment",
        )
    include = gr.Checkbox(
        False,
        label="Include people's corrections",
        info="the digits people corrected on the Draw tab, mixed in as train.py --corrections does; "
        "a tenth of them are held out to score the model",
        visible=False,
        elem_id="train-corrections",
    )
    with gr.Row():
        train_button = gr.Button("Train", variant="primary", elem_id="train-button")
        stop_button = gr.Button("Stop", variant="stop", elem_id="stop-button")
    status = gr.Markdown("", elem_id="train-status")
    bar = gr.HTML("", elem_id="train-progress")
    with gr.Row():
        loss_plot = gr.LinePlot(x="step", y="loss", title="Training loss", elem_id="loss-plot", height=260)
        accuracy_plot = gr.LinePlot(
            x="step", y="validation accuracy (%)", title="Validation accuracy", elem_id="accuracy-plot", height=260
        )
    results = gr.Markdown("", elem_id="train-results")
    mistakes = picture_gallery(
        label="Some test images your model gets wrong", elem_id="train-mistakes", columns=6, height=220, visible=False
    )
    settings = [model, epochs, lr, batch_size, augment, include]
    api_output = gr.JSON(visible=False)  # only /train's output

    def shown_progress(update: dict, points: list[dict]) -> dict:
        loss, accuracy = curve_frames(points)
        return {status: progress_text(update), bar: progress_bar(update), loss_plot: loss, accuracy_plot: accuracy}

    def on_train(model, epochs, lr, batch_size, augment, include_corrections, request: gr.Request):
        recipe = choice_or_error(checked_recipe, model, epochs, lr, batch_size, augment)
        folder = choice_or_error(corrections_to_learn, store, include_corrections)
        points = []
        try:
            for update in trainer.train(recipe, request.session_hash, folder):
                points.append(update)
                yield shown_progress(update, points)
        except TrainingError as error:
            yield {status: f"⚠️ {html.escape(str(error), quote=False)}", bar: "", results: ""}
            return
        final = points[-1]
        yield {
            **shown_progress(final, points),
            results: results_text(final),
            mistakes: gr.Gallery(mistake_items(trainer, final), visible=bool(final["mistakes"])),
            yours: gr.Label(DRAW_PROMPT, visible=True, label=your_model_label(recipe.arch, final)),
        }

    def train(
        model: str = DEFAULT_NETWORK,
        epochs: int = 1,
        lr: float = DEFAULT_LR,
        batch_size: int = DEFAULT_BATCH_SIZE,
        augment: bool = False,
        include_corrections: bool = False,
        request: gr.Request = None,
    ):
        """Train a network on MNIST here and stream its progress; the model is then this session's own.

        Args:
            model: the network: "mlp", "tutorial-cnn" or "cnn-fast".
            epochs: 1 to 3.
            lr: the peak learning rate, above 0.
            batch_size: images per optimizer step.
            augment: random rotation, scale, shift, stroke width, blur, low resolution and paper while training.
            include_corrections: also learn the corrections people made on this app's Draw tab (as train.py
                --corrections does); the last update then has "corrections".
        """
        recipe = choice_or_error(checked_recipe, model, epochs, lr, batch_size, augment)
        folder = choice_or_error(corrections_to_learn, store, include_corrections)
        try:
            yield from trainer.train(recipe, request.session_hash, folder)
        except TrainingError as error:
            raise gr.Error(html.escape(str(error), quote=False), title="Cannot train", print_exception=False) from None

    def on_stop(request: gr.Request):
        trainer.stop(request.session_hash)

    train_button.click(
        on_train, settings, [status, bar, loss_plot, accuracy_plot, results, mistakes, yours], **TRAIN_EVENT, **UI_EVENT
    )
    stop_button.click(on_stop, None, None, queue=False, **UI_EVENT)
    gr.on(
        [],
        train,
        settings,
        api_output,
        api_name="train",
        preprocess=False,
        **TRAIN_EVENT,
        api_description='Train a network on MNIST; streams {"epoch", "step", "steps", "loss", "val_accuracy", '
        '"seconds", "seconds_left"}; the last also has "test_accuracy" (percent), '
        '"test_mistakes" and "mistakes" (and "corrections", when included).',
    )
    return data_note, include


def data_note_update(trainer: Trainer) -> gr.Markdown:
    """The Train tab's note on where MNIST comes from, shown only when it is not on disk."""
    note = mnist_note(trainer.data_dir)
    return gr.Markdown(note or "", visible=note is not None)


def corrections_choice(store: CorrectionStore | None) -> gr.Checkbox:
    """The Train tab's "include people's corrections": shown only when the app keeps some."""
    shown = store is not None and store.count > 0
    return gr.Checkbox(visible=True) if shown else gr.Checkbox(False, visible=False)


def choice_or_error(check, *choices):
    """`check(*choices)` (a training recipe, the corrections folder), or a gr.Error saying in plain words which
    choice is wrong."""
    try:
        return check(*choices)
    except ValueError as error:
        raise gr.Error(html.escape(str(error), quote=False), title="Cannot train", print_exception=False) from None


def for_scripts(answer, *args):
    """`answer(*args)`, with an unusable picture turned into a gr.Error a person understands."""
    try:
        return answer(*args)
    except ImageError as error:
        raise gr.Error(
            html.escape(str(error), quote=False), title=refusal_title(error), print_exception=False
        ) from None


def answer_for_people(classifier, picture, blank_label: str):
    """For the UI: the Draw tab's answer to strokes or a file, but an unreadable one is explained in the outputs
    (and a toast)."""
    try:
        return answer_drawing(classifier, pad_picture(picture), blank_label)
    except ImageError as error:
        gr.Warning(html.escape(str(error), quote=False), title=refusal_title(error))
        return plain_answer(unreadable_prediction(error))


def uploaded_path(file_data: dict | None) -> str | None:
    """The server-side path of an uploaded file (Gradio has already checked it is in its upload folder)."""
    return (file_data or {}).get("path")


def checked_drawing(value):
    """A script's drawing (strokes, or a Sketchpad value) as it came, but an ImageError when it names a file that
    Gradio did not receive (its upload folder): a script reads no other file on the server."""
    path = pad_picture(value) if isinstance(value, dict) and "composite" in value else None
    if isinstance(path, str) and not is_in_or_equal(path, get_upload_folder()):
        raise ImageError("Send the picture itself (gradio_client's handle_file), not a path on the server.")
    return value


def drawn_picture(value):
    """/predict's input as a picture: strokes drawn, or a Sketchpad value's composite (see `checked_drawing`)."""
    return pad_picture(checked_drawing(value))


def picture_gallery(value=None, **options) -> gr.Gallery:
    """A gallery to look at (the Train tab's and the Mistakes tab's): PNG pictures, whole, no preview or buttons."""
    return gr.Gallery(
        value, allow_preview=False, object_fit="contain", format="png", buttons=[], interactive=False, **options
    )


def mistakes_tab(mistakes):
    gr.Markdown(
        f"### {mistakes_header(mistakes)}\nThe test images this model gets wrong, most confident mistakes first.",
        elem_id="mistakes-header",
    )
    if mistakes is None:
        return
    if mistakes.confusion is not None:
        gr.Markdown(
            "**The test set's confusion matrix**: rows are the true digits, columns what the model read. "
            "Choose a cell to see those mistakes (a row's first cell or its diagonal: all of that digit's)."
        )
        confusion = gr.Dataframe(
            confusion_table(mistakes.confusion),
            interactive=False,
            elem_id="confusion",
            show_label=False,
            buttons=[],
            max_height=460,
        )
    with gr.Row():
        true_digit = gr.Dropdown([ANY, *DIGIT_LABELS], value=ANY, label="True digit", elem_id="true-digit")
        predicted_digit = gr.Dropdown(
            [ANY, *DIGIT_LABELS], value=ANY, label="Predicted digit", elem_id="predicted-digit"
        )
    everything = matching_mistakes(mistakes)
    count = gr.Markdown(filter_summary(mistakes, everything), elem_id="mistakes-count")
    with gr.Row():
        gallery = picture_gallery(
            gallery_items(mistakes, shown_in_gallery(everything)),
            label="Mistakes",
            elem_id="mistakes",
            columns=6,
            height=520,
            scale=3,
        )
        with gr.Column(scale=1):
            selected = gr.Markdown(
                "Select an image to see all ten of its probabilities.", elem_id="mistake-description"
            )
            selected_image = output_picture("Test image", "mistake-image", height=160)
            selected_probabilities = gr.Label(
                num_top_classes=10, label="Probabilities", elem_id="mistake-probabilities"
            )

    def on_filter(true_value, predicted_value):
        positions = matching_mistakes(mistakes, true_value, predicted_value)
        return {
            gallery: gallery_items(mistakes, shown_in_gallery(positions)),
            count: filter_summary(mistakes, positions),
        }

    def on_select(true_value, predicted_value, event: gr.SelectData):
        position = matching_mistakes(mistakes, true_value, predicted_value)[event.index]
        return {
            selected: describe_mistake(mistakes, position),
            selected_image: mistakes.images[position],
            selected_probabilities: probabilities_by_label(mistakes.probabilities[position]),
        }

    def on_cell(event: gr.SelectData):
        true_value, predicted_value = cell_filter(*event.index)
        return {true_digit: true_value, predicted_digit: predicted_value, **on_filter(true_value, predicted_value)}

    if mistakes.confusion is not None:
        confusion.select(on_cell, None, [true_digit, predicted_digit, gallery, count], **UI_EVENT)
    gr.on(
        [true_digit.input, predicted_digit.input],
        on_filter,
        [true_digit, predicted_digit],
        [gallery, count],
        **UI_EVENT,
    )
    gallery.select(
        on_select, [true_digit, predicted_digit], [selected, selected_image, selected_probabilities], **UI_EVENT
    )


def corrections_section(store: CorrectionStore, tab: gr.Tab) -> None:
    """The Mistakes tab's latest corrections people made (the picture, what the model said, what they said it
    was), read again from the corrections folder each time the tab is opened."""
    gr.Markdown("### People's corrections")
    header = gr.Markdown("", elem_id="corrections-header")  # filled when the tab opens
    latest = picture_gallery(label="The latest corrections", elem_id="latest-corrections", columns=8, height=360)

    def on_open():
        items = latest_corrections(store)
        return {header: latest_header(store.count, len(items)), latest: items}

    tab.select(on_open, None, [header, latest], show_progress="hidden", **UI_EVENT)


def model_tab(model_folder):
    """The Model tab from the weights folder's files; returns the summary and the layer listing, which
    `loaded_model` completes from the model itself."""
    summary = gr.Markdown(summary_markdown(model_folder), elem_id="model-summary")
    with gr.Accordion("The layers, as PyTorch prints them", open=False):
        layers = gr.Code("(the model is loading)", language=None, show_label=False, elem_id="layers")
    with gr.Row():
        for plot, label in (
            (training_curves_plot(model_folder), "Training curves"),
            (confusion_matrix_plot(model_folder), "Confusion matrix (test set)"),
        ):
            if plot is not None:
                gr.Image(plot, label=label, interactive=False, format="png", buttons=["fullscreen"])
    return summary, layers


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--weights",
        default=os.environ.get("MNIST_DEMO_WEIGHTS") or None,
        help="a folder written by train.py or a Hub repo id; default $MNIST_DEMO_WEIGHTS, "
        "else the weights packaged with mnist_demo",
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1",
        help="address to listen on ($GRADIO_SERVER_NAME)",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=os.environ.get("GRADIO_SERVER_PORT") or "7860",
        help="port ($GRADIO_SERVER_PORT)",
    )
    parser.add_argument("--share", action="store_true", help="also open a temporary public gradio.live link")
    parser.add_argument(
        "--mcp",
        action="store_true",
        help="also serve the endpoints as MCP tools at /gradio_api/mcp/ (needs gradio[mcp])",
    )
    parser.add_argument(
        "--no-training",
        action="store_true",
        default=switched_on("MNIST_DEMO_NO_TRAINING"),
        help="hide the Train tab and /train ($MNIST_DEMO_NO_TRAINING=1)",
    )
    parser.add_argument(
        "--corrections-dir",
        default=None,
        help="folder keeping people's corrections; default $MNIST_DEMO_CORRECTIONS_DIR, on a Space with "
        "persistent storage /data/mnist-demo-corrections, else ~/.cache/mnist-demo/corrections",
    )
    parser.add_argument(
        "--corrections-repo",
        default=os.environ.get("MNIST_DEMO_CORRECTIONS_REPO") or None,
        help="a Hub dataset (user/name) the corrections are pushed to every few minutes, with the token in "
        "$HF_TOKEN ($MNIST_DEMO_CORRECTIONS_REPO)",
    )
    parser.add_argument(
        "--no-corrections",
        action="store_true",
        default=switched_on("MNIST_DEMO_NO_CORRECTIONS"),
        help="no correction row on the Draw tab and no /correct ($MNIST_DEMO_NO_CORRECTIONS=1)",
    )
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("MNIST_DATA_DIR") or None,
        help="folder holding MNIST/raw for the Train tab; default $MNIST_DATA_DIR, else "
        "downloaded into ~/.cache/mnist-demo on the first training",
    )
    return parser.parse_args(argv)


def switched_on(variable: str) -> bool:
    """Whether the environment variable is set to anything but "" or "0" (a Space's settings hold strings)."""
    return os.environ.get(variable, "") not in ("", "0")


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 1-65535."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, not {text!r}")
    return int(text)


def main(argv=None):
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")  # warnings and errors, e.g. the fallback
    args = parse_args(argv)
    model_folder, warning = locate_with_fallback(args.weights)  # logs the warning when it falls back
    # torch and the model load in a thread while the page is built and served: importing torch is
    # 1.5-2 s of a cold start, and a person takes longer than that to draw. One torch thread per
    # prediction: CONCURRENCY of them run at once, one per core; more threads only fight over the
    # cores and, on a busy machine, make a 2 ms forward pass take 50 ms or more.
    loader = ClassifierLoader(model_folder, threads=1)
    trainer = None if args.no_training else Trainer(args.data_dir)
    corrections = None if args.no_corrections else open_corrections(args.corrections_dir, args.corrections_repo)
    demo = build_demo(loader, warning, trainer, corrections)
    try:
        demo.launch(
            server_name=args.host,
            server_port=args.port,
            share=args.share,
            mcp_server=args.mcp,
            prevent_thread_lock=True,
            quiet=True,
            **LAUNCH_OPTIONS,
        )
    except OSError:  # Gradio's message speaks of launch()'s parameters; say it in the command line's terms
        raise SystemExit(
            f"app.py: cannot serve on {args.host}:{args.port}: the port is in use (another app.py?) "
            "or the address is not one of this machine's. Choose another with --port (or "
            "GRADIO_SERVER_PORT) or --host."
        ) from None
    # quiet=True: Gradio's own lines would say "set `share=True` in `launch()`"; here it is a flag.
    print(f"* Running on local URL:  {demo.local_url}")
    if demo.mcp_error:
        print(demo.mcp_error)
    if not args.share:
        print("* To create a public link too, run it with --share: python app.py --share")
    loader.start()
    demo.block_thread()


if __name__ == "__main__":
    main()
