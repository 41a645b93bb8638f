"""The launched app through its script API (gradio_client) and plain HTTP, as a script would use it.

Both endpoints on real digits, blanks, and every odd or broken input we know of; the
upload limit; what the server refuses to serve; the Hub-offline fallback banner; the Draw
tab's events (the answer before its pictures, Clear cancelling a stroke in flight).

    MNIST_DATA_DIR=... python -m pytest tests/test_app.py -q
"""

import json
import os
from pathlib import Path

import httpx
import numpy as np
import pytest
from conftest import serve_app
from PIL import Image, ImageDraw

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

import app  # noqa: E402
from mnist_demo.classifier_loader import ClassifierLoader  # noqa: E402
from mnist_demo.draw_view import GAP  # noqa: E402
from mnist_demo.loading import ModelFolder, locate_with_fallback  # noqa: E402
from mnist_demo.strokes import stroke_picture  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
UNREADABLE = "could not be read as an image"
SEVEN_STROKES = [[[110, 90], [290, 90]], [[290, 90], [240, 200], [180, 330]]]  # the pad's 400x400 pixels
ANSWER_IDS = {"answer-line", "prediction", "probabilities"}
PICTURE_IDS = {"model-input", "saliency", "reading-boxes", "cleaned-ink"}


@pytest.fixture(scope="module")
def server(classifier):
    demo, url = serve_app(ClassifierLoader.of(classifier))
    yield demo, url
    demo.close()


@pytest.fixture(scope="module")
def client(server):
    client = Client(server[1], verbose=False)
    yield client
    client.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """Every test picture, written once."""
    folder = tmp_path_factory.mktemp("pictures")
    one = stroke_image(300, [(0.5, 0.15), (0.5, 0.85)])
    one.save(folder / "one.png")
    seven = stroke_image(300, [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)])
    seven.save(folder / "seven.png")
    sketch = Image.new("RGBA", (400, 400), (0, 0, 0, 0))  # what a browser's Sketchpad sends
    ImageDraw.Draw(sketch).line([(110, 90), (290, 90), (180, 330)], fill=(0, 0, 0, 255), width=28, joint="curve")
    sketch.save(folder / "sketch-7.png")
    Image.new("RGBA", (400, 400), (0, 0, 0, 0)).save(folder / "transparent.png")
    Image.new("L", (300, 300), 255).save(folder / "white.png")
    Image.new("L", (1, 1), 0).save(folder / "1x1.png")
    stroke_image(5000, [(0.5, 0.15), (0.5, 0.85)]).save(folder / "5000x5000.png")
    sixteen = np.full((300, 300), 65535, np.uint16)
    sixteen[45:255, 140:162] = 0
    Image.fromarray(sixteen).save(folder / "16-bit.png")
    one.convert("RGB").convert("CMYK").save(folder / "cmyk.jpg")
    one.convert("P").save(folder / "palette.png")
    blank = Image.new("L", one.size, 255).convert("P")
    one.convert("P").save(folder / "animated.gif", save_all=True, append_images=[blank, blank], duration=100)
    png = (folder / "one.png").read_bytes()
    (folder / "truncated.png").write_bytes(png[: len(png) // 2])
    (folder / "corrupt.png").write_bytes(png[:16] + np.random.default_rng(0).bytes(4000))
    (folder / "text.png").write_text("this is a text file, renamed\n")
    (folder / "11MB.png").write_bytes(png + bytes(11 * 1024 * 1024))
    return folder


def stroke_image(size: int, points, mode: str = "L") -> Image.Image:
    """Black strokes through `points` (fractions of the side) on white paper."""
    image = Image.new(mode, (size, size), 255)
    ImageDraw.Draw(image).line(
        [(x * size, y * size) for x, y in points], fill=0, width=max(2, size // 14), joint="curve"
    )
    return image


def strokes(strokes, **more) -> dict:
    """The pad's value for these strokes (in its 400x400 canvas's pixels)."""
    return {"width": 400, "height": 400, "strokes": strokes, **more}


def sketch(path) -> dict:
    """A Sketchpad value as a script sends it."""
    return {"background": None, "layers": [], "composite": handle_file(str(path)) if path else None}


def classify(client, path) -> dict:
    return client.predict(handle_file(str(path)), api_name="/classify")


def predict(client, path) -> dict:
    return client.predict(sketch(path), api_name="/predict")


@pytest.mark.slow
def test_api_page_lists_only_the_three_endpoints(client):
    endpoints = client.view_api(print_info=False, return_format="dict")
    assert set(endpoints["named_endpoints"]) == {"/predict", "/classify", "/read"}
    assert not endpoints["unnamed_endpoints"]


@pytest.mark.slow
@pytest.mark.parametrize("name, digit", [("one.png", "1"), ("seven.png", "7")])
def test_classify_reads_a_digit_file(client, files, name, digit):
    result = classify(client, files / name)
    assert result["label"] == digit
    assert len(result["confidences"]) == 10
    assert sum(c["confidence"] for c in result["confidences"]) == pytest.approx(1, abs=1e-4)


@pytest.mark.slow
def test_predict_reads_a_sketch_as_the_browser_sends_it(client, files):
    assert predict(client, files / "sketch-7.png")["label"] == "7"


@pytest.mark.slow
def test_endpoints_agree_with_the_classifier_on_real_mnist(client, classifier, mnist_test, tmp_path):
    """An independent check: the served answer is the in-process classifier's answer."""
    images, labels = mnist_test
    for index in (0, 1, 2):
        path = tmp_path / f"mnist-{index}.png"
        Image.fromarray(images[index]).save(path)
        expected = classifier.classify(path)
        for result in (classify(client, path), predict(client, path)):
            assert result["label"] == max(expected, key=expected.get)
            served = {c["label"]: c["confidence"] for c in result["confidences"]}
            assert served == pytest.approx(expected, abs=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["transparent.png", "white.png", "1x1.png"])
def test_blank_pictures_say_no_digit(client, files, name):
    for result in (classify(client, files / name), predict(client, files / name)):
        assert result == {"label": "No digit", "confidences": None}


@pytest.mark.slow
def test_an_empty_sketch_says_no_digit(client):
    assert client.predict(sketch(None), api_name="/predict")["label"] == "No digit"


@pytest.mark.slow
def test_predict_reads_strokes_as_the_pad_sends_them(client, classifier):
    value = strokes(SEVEN_STROKES)
    result = client.predict(value, api_name="/predict")
    assert result["label"] == "7"
    expected = classifier.classify(stroke_picture(value))
    assert {c["label"]: c["confidence"] for c in result["confidences"]} == pytest.approx(expected, abs=1e-5)
    assert client.predict(json.dumps(value), api_name="/predict")["label"] == "7"  # as JSON text too
    assert client.predict(strokes([]), api_name="/predict") == {"label": "No digit", "confidences": None}


@pytest.mark.slow
@pytest.mark.parametrize(
    "bad, message",
    [
        (json.dumps(strokes([[[1, float("nan")]]])), "finite numbers"),  # JSON text can hold NaN
        (strokes([[[0, 0]] * 100_000]), "Too many points"),
        ({"width": -4, "height": 400, "strokes": []}, "1 to 4000 pixels"),
        (strokes("7"), "must be a list"),
        ({"composite": {"path": str(REPO / "README.md")}}, "not a path on the server"),
    ],
)
def test_predict_explains_malformed_strokes_and_server_paths(client, bad, message):
    with pytest.raises(AppError, match=message):
        client.predict(bad, api_name="/predict")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["16-bit.png", "cmyk.jpg", "palette.png", "animated.gif", "5000x5000.png"])
def test_odd_image_formats_are_read(client, files, name):
    for result in (classify(client, files / name), predict(client, files / name)):
        assert result["label"] == "1"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["truncated.png", "corrupt.png", "text.png"])
def test_unreadable_files_get_a_plain_message(client, files, name):
    for call in (classify, predict):
        with pytest.raises(AppError, match=UNREADABLE):
            call(client, files / name)


@pytest.mark.slow
def test_uploads_over_the_limit_are_refused(client, server, files):
    with pytest.raises(ValueError, match="exceeds the maximum file size"):
        classify(client, files / "11MB.png")
    with open(files / "11MB.png", "rb") as big:  # a script that skips the client's own check
        response = httpx.post(f"{server[1]}gradio_api/upload", files={"files": ("big.png", big)}, timeout=60)
    assert response.status_code == 413
    assert "maximum allowed size" in response.text


@pytest.mark.slow
@pytest.mark.parametrize(
    "probe",
    [
        str(REPO / "app.py"),
        "app.py",
        str(REPO / "mnist_demo" / "weights" / "model.safetensors"),
        "mnist_demo/weights/model.safetensors",
        "/etc/passwd",
        "/proc/self/environ",
        "../../../../etc/passwd",
        "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "..%2f..%2f..%2fapp.py",
        "%2Fetc%2Fpasswd",
        "/tmp/gradio/../../etc/passwd",
        "file:///etc/passwd",
        "http://127.0.0.1:7860/gradio_api/file=/etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
def test_no_project_or_system_file_is_served(server, probe):
    response = httpx.get(f"{server[1]}gradio_api/file={probe}")
    assert response.status_code in (403, 404)
    assert b"root:" not in response.content and b"import" not in response.content


@pytest.mark.slow
def test_gallery_and_plots_are_served_from_gradio_cache_not_the_repo(server):
    config = httpx.get(f"{server[1]}config").json()
    paths = list(file_paths([component["props"].get("value") for component in config["components"]]))
    assert paths, "the Mistakes and Model tabs show images"
    for path in paths:
        assert not Path(path).resolve().is_relative_to(REPO)
    for path in paths[:3] + paths[-2:]:  # a few gallery tiles and the two plots
        assert httpx.get(f"{server[1]}gradio_api/file={path}").status_code == 200


def file_paths(value):
    """Every FileData path inside a config (nested dicts and lists)."""
    if isinstance(value, dict):
        if value.get("meta", {}).get("_type") == "gradio.FileData" and value.get("path"):
            yield value["path"]
        for item in value.values():
            yield from file_paths(item)
    elif isinstance(value, list):
        for item in value:
            yield from file_paths(item)


def test_unreachable_hub_weights_fall_back_with_a_visible_warning(hub_offline, caplog):
    args = app.parse_args(["--weights", "someone/mnist-demo-weights"])
    model_folder, warning = locate_with_fallback(args.weights)
    assert model_folder.source == "packaged"
    assert "someone/mnist-demo-weights" in warning and "packaged weights" in warning
    assert warning in caplog.text  # in the log...
    demo = app.build_demo(ClassifierLoader(model_folder), warning)
    banner = next(c for c in demo.config["components"] if c["props"].get("elem_id") == "weights-warning")
    assert banner["props"]["visible"] is True  # ...and in the UI
    assert "someone/mnist-demo-weights" in banner["props"]["value"]


@pytest.mark.slow
def test_the_page_is_served_before_the_model_loads_and_predictions_wait_for_it(classifier, files):
    loader = ClassifierLoader(classifier.model_folder)  # not started: nothing is loaded yet
    demo, url = serve_app(loader)
    try:
        assert httpx.get(url).status_code == 200
        assert not loader.done()
        client = Client(url, verbose=False)
        assert classify(client, files / "seven.png")["label"] == "7"  # the first request waits for the model
        client.close()
        assert loader.classifier(timeout=0) is not classifier  # a model of its own, loaded on demand
        banner, summary, layers = gr.Markdown(), gr.Markdown(), gr.Code()
        shown = app.loaded_model(loader, None, banner, summary, layers)
        assert set(shown) == {summary, layers}  # the banner stays as it is
        assert "Conv2d" in shown[layers]
        assert f"{sum(p.numel() for p in classifier.model.parameters()):,}" in shown[summary]
    finally:
        demo.close()


@pytest.mark.slow
def test_weights_that_fail_to_load_are_explained_on_the_page_and_to_scripts(tmp_path, files):
    from mnist_demo.artifacts import save_model
    from mnist_demo.model import DigitNet

    save_model(DigitNet("cnn-small"), tmp_path)
    (tmp_path / "config.json").write_text('{"arch": "cnn"}')  # passes the file checks, fails to load
    loader = ClassifierLoader(ModelFolder(tmp_path, str(tmp_path))).start()
    demo, url = serve_app(loader)
    try:
        client = Client(url, verbose=False)
        with pytest.raises(AppError, match="does not fit the 'cnn' architecture") as error:
            classify(client, files / "seven.png")
        client.close()
        assert "Traceback" not in str(error.value)
        banner, summary, layers = gr.Markdown(), gr.Markdown(), gr.Code()
        shown = app.loaded_model(loader, None, banner, summary, layers)
        assert set(shown) == {banner, layers}  # the summary from the weights folder's files stays
        assert shown[banner].visible is True and "does not fit the 'cnn' architecture" in shown[banner].value
        assert shown[layers] == ""
    finally:
        demo.close()


@pytest.mark.slow
def test_no_banner_without_a_warning(server):
    banner = next(c for c in server[0].config["components"] if c["props"].get("elem_id") == "weights-warning")
    assert banner["props"]["visible"] is False


def test_command_line_defaults_follow_the_environment(monkeypatch):
    for name in ("MNIST_DEMO_WEIGHTS", "GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT"):
        monkeypatch.delenv(name, raising=False)
    args = app.parse_args([])
    assert (args.weights, args.host, args.port, args.share, args.mcp) == (None, "127.0.0.1", 7860, False, False)
    monkeypatch.setenv("MNIST_DEMO_WEIGHTS", "runs/best")
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7000")
    args = app.parse_args([])
    assert (args.weights, args.host, args.port) == ("runs/best", "0.0.0.0", 7000)


@pytest.mark.parametrize("port", ["0", "65536", "99999", "http"])
def test_a_port_out_of_range_is_refused_in_words(port, capsys):
    with pytest.raises(SystemExit) as exit_info:
        app.parse_args(["--port", port])
    assert exit_info.value.code == 2
    assert f"argument --port: must be a port number from 1 to 65535, not '{port}'" in capsys.readouterr().err


@pytest.mark.slow
def test_a_port_in_use_is_explained_not_a_traceback(monkeypatch):
    import socket

    monkeypatch.delenv("MNIST_DEMO_WEIGHTS", raising=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as exit_info:
            app.main(["--port", str(port)])
    assert str(exit_info.value) == (
        f"app.py: cannot serve on 127.0.0.1:{port}: the port is in use (another app.py?) or the address is not one "
        "of this machine's. Choose another with --port (or GRADIO_SERVER_PORT) or --host."
    )


@pytest.mark.slow
def test_the_start_up_lines_speak_of_the_share_flag_not_launch(monkeypatch, capsys):
    """Gradio's own hint says "set `share=True` in `launch()`"; a person running app.py needs --share."""
    import socket

    monkeypatch.delenv("MNIST_DEMO_WEIGHTS", raising=False)
    monkeypatch.setattr("gradio.Blocks.block_thread", lambda demo: demo.close())  # serve, then stop at once
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.main(["--port", str(port)])
    out = capsys.readouterr().out
    assert f"Running on local URL:  http://127.0.0.1:{port}/" in out
    assert "python app.py --share" in out
    assert "share=True" not in out and "launch()" not in out


def read(client, path) -> dict:
    return client.predict(handle_file(str(path)), api_name="/read")


@pytest.mark.slow
def test_read_returns_a_whole_number_as_json(client, classifier, files):
    path = files / "seventeen.png"
    two = Image.new("L", (600, 300), 255)
    pen = ImageDraw.Draw(two)
    pen.line([(120, 50), (120, 250)], fill=0, width=24)
    pen.line([(300, 60), (480, 60), (370, 250)], fill=0, width=24, joint="curve")
    two.save(path)
    answer = read(client, path)
    assert answer["number"] == "17" and answer["not_a_digit"] is False
    assert [part["digit"] for part in answer["digits"]] == ["1", "7"]
    for part in answer["digits"]:
        x0, y0, x1, y1 = part["box"]
        assert 0 <= x0 < x1 <= 600 and 0 <= y0 < y1 <= 300 and 0 < part["confidence"] <= 1
    assert answer == classifier.read(str(path))  # the in-process answer, served as JSON (floats round-trip)


@pytest.mark.slow
def test_read_of_a_blank_has_no_digits(client, files):
    assert read(client, files / "white.png") == {"number": "", "digits": [], "not_a_digit": False}


@pytest.mark.slow
def test_read_of_an_unreadable_file_gets_a_plain_message(client, files):
    with pytest.raises(AppError, match=UNREADABLE):
        read(client, files / "text.png")


def draw_tab_event(demo, name: str):
    """The Draw tab's event handled by the function called `name`."""
    return next(fn for fn in demo.fns.values() if fn.name == name)


def by_id(update: dict) -> dict:
    """A handler's {component: value} as {elem_id: value}."""
    return {component.elem_id: shown for component, shown in update.items()}


def test_while_the_pen_moves_only_the_answer_comes(classifier):
    demo = app.build_demo(ClassifierLoader.of(classifier))
    (answer,) = draw_tab_event(demo, "on_drawing").fn(strokes(SEVEN_STROKES, drawing=True), None)
    answer = by_id(answer)
    assert set(answer) == ANSWER_IDS  # the pictures wait for the pen to rest
    assert answer["prediction"].startswith("## 7\n") and answer["answer-line"] == answer["prediction"]
    assert max(answer["probabilities"], key=answer["probabilities"].get) == "7"


def test_when_the_pen_lifts_the_answer_comes_first_then_its_pictures(classifier):
    demo = app.build_demo(ClassifierLoader.of(classifier))
    answer, pictures = map(by_id, draw_tab_event(demo, "on_drawing").fn(strokes(SEVEN_STROKES, drawing=False), None))
    assert set(answer) == ANSWER_IDS and answer["prediction"].startswith("## 7\n")
    assert set(pictures) == PICTURE_IDS  # the previous pictures stay until these arrive
    assert pictures["model-input"].shape == (28, 28) and pictures["saliency"].ndim == 3
    assert pictures["reading-boxes"]["visible"] is False
    assert pictures["cleaned-ink"]["visible"] is False  # a drawing is not a photo: no cleaned ink


def test_a_cleared_pad_and_an_unreadable_upload_clear_the_pictures(classifier, files):
    demo = app.build_demo(ClassifierLoader.of(classifier))
    answer, pictures = map(by_id, draw_tab_event(demo, "on_drawing").fn(strokes([]), None))
    assert answer["probabilities"] == "Draw a digit" and pictures["model-input"] is None
    assert pictures["saliency"] is None and pictures["reading-boxes"]["visible"] is False
    assert pictures["cleaned-ink"]["visible"] is False
    answer, pictures = map(by_id, draw_tab_event(demo, "on_upload").fn({"path": str(files / "text.png")}))
    assert answer["probabilities"] == "Not an image" and UNREADABLE in answer["prediction"]
    assert pictures["model-input"] is None


def test_malformed_strokes_on_the_draw_tab_are_explained_not_read(classifier):
    demo = app.build_demo(ClassifierLoader.of(classifier))
    (answer, pictures) = map(by_id, draw_tab_event(demo, "on_drawing").fn(strokes([[[1, "x"]]]), None))
    assert answer["probabilities"] == "Not an image" and "Stroke 1 has a point" in answer["prediction"]
    assert pictures["model-input"] is None


def test_an_uploaded_photo_gets_its_answer_first_then_the_ink_the_model_read(classifier):
    photo = REPO / "docs" / "photo-4.jpg"  # a 4 on ruled paper under a shadow
    demo = app.build_demo(ClassifierLoader.of(classifier))
    answer, pictures = map(by_id, draw_tab_event(demo, "on_upload").fn({"path": str(photo)}))
    assert answer["prediction"].startswith("## 4\n") and set(answer) == ANSWER_IDS  # the answer waits for no picture
    model_input, boxes, cleaned_ink = pictures["model-input"], pictures["reading-boxes"], pictures["cleaned-ink"]
    assert model_input.shape == (28, 28) and boxes["visible"] is False
    assert cleaned_ink["visible"] is True
    shown = np.asarray(cleaned_ink["value"].convert("L"), dtype=int)
    kept = shown[GAP:-GAP, (shown.shape[1] + GAP) // 2 : -GAP]  # the right half: the ink kept, dark on white
    assert kept.min() < 50 and np.median(kept) == 255
    assert np.median(shown[GAP:-GAP, GAP : shown.shape[1] // 2]) < 230  # the photo's paper beside it is not white


def test_the_pad_has_one_event_that_never_queues_a_backlog(server):
    demo = server[0]
    drawing = draw_tab_event(demo, "on_drawing")
    # Strokes while drawing, at pen-up, undo and Clear: one event, so the browser runs them one at a time
    # and in order (a Clear's blank is the last answer shown); of those sent meanwhile only the latest runs.
    pad_events = [fn for fn in demo.fns.values() if any(t[0] == drawing.targets[0][0] for t in fn.targets)]
    assert pad_events == [drawing] and drawing.targets[0][1] == "change"
    assert drawing.trigger_mode == "always_last" and drawing.concurrency_id == "model"
    assert draw_tab_event(demo, "on_upload").trigger_mode == "always_last"  # a quick second file is not lost
