"""The reference the app is measured against: app.py's components and endpoints, with no model behind them.

    python benchmarks/bare_app.py                   # http://127.0.0.1:7860 ($GRADIO_SERVER_NAME / _PORT)
    python benchmarks/bare_app.py --sketchpad-only  # only a gr.Sketchpad and a gr.Label: Gradio's floor

The same tabs, components, queue and launch options as app.py, and the same script
endpoints (`/predict`: a Sketchpad value, `/classify`: an image file -> a gr.Label value;
`/read`: an image file -> JSON), but every handler returns at once: no torch, no weights,
no image reading, no data in the gallery, table or plots. Each stroke gets a different answer
(a counter), so the page changes after every stroke as app.py's does. What app.py costs beyond
this (imports, loading the weights and artifacts, preprocessing, the forward pass) is what
benchmarks/startup.py and e2e_latency.py measure. Keep it in step with app.py.

`--sketchpad-only` serves the floor of Gradio's own drawing component instead, what
benchmarks/stroke_latency.py measures the Draw tab's pad against: a gr.Sketchpad (app.py's
before the pad: the same size and brush) whose every stroke a gr.Label answers at once.
"""

import argparse
import itertools
import os

import gradio as gr

DIGITS = [str(d) for d in range(10)]
UNIFORM = {digit: 0.1 for digit in DIGITS}
LAUNCH_OPTIONS = {
    "max_file_size": "10mb",
    "show_error": False,
    "css": "#model-input img, #saliency img, #mistakes img { image-rendering: pixelated; }",
}
MODEL_EVENT = {"concurrency_id": "model", "concurrency_limit": 2}
UI_EVENT = {"api_visibility": "private"}
# app.py's SELECT_BRUSH, copied (importing app.py would load mnist_demo into the reference's start-up).
SELECT_BRUSH = """
() => {
  let tries = 0;
  const pick = () => {
    const brush = document.querySelector('#sketchpad button[title="Brush"]')
      || document.querySelector('#sketchpad button.quite-round');
    if (brush) brush.click(); else if (tries++ < 50) setTimeout(pick, 100);
  };
  setTimeout(pick, 300);
}
"""


def build_demo() -> gr.Blocks:
    with gr.Blocks(title="Draw a digit", delete_cache=(3600, 3600)) as demo:
        gr.Markdown("# Draw a digit\nA small convolutional network trained on MNIST reads what you draw.")
        banner = gr.Markdown("", visible=False, elem_id="weights-warning")
        with gr.Tab("Draw"):
            draw_tab()
        with gr.Tab("Mistakes"):
            mistakes_tab()
        with gr.Tab("Model"):
            summary = gr.Markdown("The model", elem_id="model-summary")
            with gr.Accordion("The layers, as PyTorch prints them", open=False):
                layers = gr.Code("", language=None, show_label=False, elem_id="layers")
            with gr.Row():
                gr.Image(None, label="Training curves", interactive=False, format="png", buttons=["fullscreen"])
                gr.Image(
                    None, label="Confusion matrix (test set)", interactive=False, format="png", buttons=["fullscreen"]
                )
        demo.load(None, js=SELECT_BRUSH)
        demo.load(
            lambda: (gr.skip(), gr.skip(), ""), None, [banner, summary, layers], show_progress="hidden", **UI_EVENT
        )
    demo.queue(max_size=64, default_concurrency_limit=2)
    return demo


def drawing_sketchpad() -> gr.Sketchpad:
    """The Sketchpad the Draw tab had before the strokes pad: size, brush, no tools."""
    return gr.Sketchpad(
        label="Draw a digit",
        elem_id="sketchpad",
        type="pil",
        image_mode="RGBA",
        canvas_size=(400, 400),
        fixed_canvas=True,
        layers=False,
        transforms=(),
        buttons=[],
        height=530,
        brush=gr.Brush(default_size=14, colors=["#000000"], color_mode="fixed"),
    )


def draw_tab():
    with gr.Row():
        with gr.Column():
            gr.Markdown("## Draw a digit", elem_id="answer-line")
            sketchpad = drawing_sketchpad()
            upload = gr.Image(
                label="…or upload a picture of a digit",
                type="filepath",
                elem_id="upload",
                sources=["upload", "clipboard"],
                height=180,
            )
        with gr.Column():
            headline = gr.Markdown("## Draw a digit", elem_id="prediction")
            probabilities = gr.Label("Draw a digit", num_top_classes=10, label="Probabilities", elem_id="probabilities")
            with gr.Row():
                model_input = gr.Image(
                    label="What the model sees",
                    elem_id="model-input",
                    interactive=False,
                    format="png",
                    height=200,
                    buttons=[],
                )
                saliency = gr.Image(
                    label="Why", elem_id="saliency", interactive=False, format="png", height=200, buttons=[]
                )
            boxes = gr.Image(
                label="The reading",
                elem_id="reading-boxes",
                interactive=False,
                format="png",
                height=240,
                buttons=[],
                visible=False,
            )
    reading = gr.JSON(visible=False)
    outputs = [headline, probabilities, model_input, saliency, boxes]
    strokes = itertools.count()

    def answer(value):
        top = str(next(strokes) % 10)
        return "## ?", {digit: 0.91 if digit == top else 0.01 for digit in DIGITS}, None, None, None

    sketchpad.change(
        answer, sketchpad, outputs, trigger_mode="always_last", show_progress="hidden", **MODEL_EVENT, **UI_EVENT
    )
    upload.upload(answer, upload, outputs, preprocess=False, **MODEL_EVENT, **UI_EVENT)
    sketchpad.clear(None, js=SELECT_BRUSH)
    for cleared in (sketchpad.clear, upload.clear):
        cleared(lambda: ("## Draw a digit", "Draw a digit", None, None, None), None, outputs, queue=False, **UI_EVENT)
    gr.on([], lambda value: UNIFORM, sketchpad, probabilities, api_name="predict", preprocess=False, **MODEL_EVENT)
    gr.on([], lambda file_data: UNIFORM, upload, probabilities, api_name="classify", preprocess=False, **MODEL_EVENT)
    gr.on(
        [],
        lambda file_data: {"number": "", "digits": [], "not_a_digit": False},
        upload,
        reading,
        api_name="read",
        preprocess=False,
        **MODEL_EVENT,
    )


def build_sketchpad_demo() -> gr.Blocks:
    """Only a Sketchpad and a Label that answers each stroke at once (a counter): Gradio's floor for drawing."""
    with gr.Blocks(title="Draw a digit") as demo:
        sketchpad = drawing_sketchpad()
        probabilities = gr.Label("Draw a digit", num_top_classes=10, label="Probabilities", elem_id="probabilities")
        strokes = itertools.count()

        def answer(value):
            top = str(next(strokes) % 10)
            return {digit: 0.91 if digit == top else 0.01 for digit in DIGITS}

        sketchpad.change(answer, sketchpad, probabilities, trigger_mode="always_last", show_progress="hidden")
        sketchpad.clear(None, js=SELECT_BRUSH)
        sketchpad.clear(lambda: "Draw a digit", None, probabilities, queue=False)
        demo.load(None, js=SELECT_BRUSH)
    demo.queue(max_size=64, default_concurrency_limit=2)
    return demo


def mistakes_tab():
    gr.Markdown("### Mistakes", elem_id="mistakes-header")
    gr.Markdown("The test set's confusion matrix")
    confusion = gr.Dataframe(
        [[0] * 11] * 10, interactive=False, elem_id="confusion", show_label=False, buttons=[], max_height=460
    )
    with gr.Row():
        true_digit = gr.Dropdown(["any", *DIGITS], value="any", label="True digit", elem_id="true-digit")
        predicted_digit = gr.Dropdown(["any", *DIGITS], value="any", label="Predicted digit", elem_id="predicted-digit")
    count = gr.Markdown("", elem_id="mistakes-count")
    with gr.Row():
        gallery = gr.Gallery(
            [],
            label="Mistakes",
            elem_id="mistakes",
            columns=6,
            height=520,
            allow_preview=False,
            object_fit="contain",
            format="png",
            buttons=[],
            interactive=False,
            scale=3,
        )
        with gr.Column(scale=1):
            selected = gr.Markdown("Select an image.", elem_id="mistake-description")
            selected_image = gr.Image(
                label="Test image", elem_id="mistake-image", interactive=False, format="png", height=160, buttons=[]
            )
            selected_probabilities = gr.Label(
                num_top_classes=10, label="Probabilities", elem_id="mistake-probabilities"
            )
    confusion.select(lambda: ("any", "any", [], ""), None, [true_digit, predicted_digit, gallery, count], **UI_EVENT)
    gr.on(
        [true_digit.input, predicted_digit.input],
        lambda t, p: ([], ""),
        [true_digit, predicted_digit],
        [gallery, count],
        **UI_EVENT,
    )
    gallery.select(
        lambda t, p: ("", None, UNIFORM),
        [true_digit, predicted_digit],
        [selected, selected_image, selected_probabilities],
        **UI_EVENT,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sketchpad-only", action="store_true", help="only a gr.Sketchpad and a gr.Label")
    build = build_sketchpad_demo if parser.parse_args().sketchpad_only else build_demo
    build().launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", 7860)),
        **LAUNCH_OPTIONS,
    )
