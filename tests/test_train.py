"""train.py: the CLI, the artifacts of a run, the Hub push (against a recorder), Ctrl-C / crash / --resume, secrets.

Runs call `train.main([...])` in-process on the tiny synthetic IDX files (a few seconds each);
one test trains on the first 6,000 real MNIST images, the issue's "done when" command.
"""

import contextlib
import dataclasses
import io
import json
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from conftest import RecordingHfApi
from safetensors.torch import load_file

import train
from mnist_demo import Classifier, checkpoint, training

FAKE_TOKEN = "hf_FakeTokenForTestsOnly0123456789abcdEFGH"
REPO_ID = "tester/mnist-tiny"
REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = {
    "model.safetensors",
    "config.json",
    "README.md",
    "metrics.json",
    "training_curves.png",
    "confusion_matrix.png",
    "misclassified.safetensors",
}
CHECKPOINT = {checkpoint.CHECKPOINT_FILE, checkpoint.CHECKPOINT_INFO}
BATCHES_PER_EPOCH = 4  # --limit 128 of the tiny training images, in batches of 32


def tiny_args(data_dir: Path, out: Path, *extra: str) -> list[str]:
    return [
        "--data-dir",
        str(data_dir),
        "--out",
        str(out),
        "--arch",
        "cnn-small",
        "--epochs",
        "2",
        "--batch-size",
        "32",
        "--limit",
        "128",
        "--negatives",
        "200",
        *extra,
    ]


class RefusingHfApi(RecordingHfApi):
    """An HfApi whose server refuses, with the token in its message (as a careless error could have)."""

    def create_repo(self, repo_id, **kwargs):
        raise ValueError(f"403 refused for {repo_id}: request had Authorization: Bearer {FAKE_TOKEN}")


class Terminal(io.StringIO):
    """Captured output that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def run_main(argv: list[str], stderr: io.StringIO | None = None) -> tuple[int, str, str, list[str]]:
    """train.main(argv) with stdout, stderr and every log record captured."""
    stdout, stderr = io.StringIO(), stderr or io.StringIO()
    records: list[str] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: records.append(record.getMessage())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = train.main(argv)
    finally:
        root.removeHandler(handler)
    return code, stdout.getvalue(), stderr.getvalue(), records


def assert_no_token(out: Path, *texts: str) -> None:
    for text in texts:
        assert FAKE_TOKEN not in text
    for path in out.rglob("*"):
        if path.is_file():
            assert FAKE_TOKEN.encode() not in path.read_bytes(), path.name


@pytest.fixture(scope="module")
def pushed_run(tiny_mnist_dir, tmp_path_factory):
    """One complete tiny run with --push-to-hub against the recorder, HF_TOKEN set to a fake token."""
    out = tmp_path_factory.mktemp("pushed") / "run"
    RecordingHfApi.calls = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_TOKEN", FAKE_TOKEN)
        patch.setenv("HF_HUB_OFFLINE", "0")
        patch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
        patch.setattr("huggingface_hub.HfApi", RecordingHfApi)
        code, stdout, stderr, records = run_main(tiny_args(tiny_mnist_dir, out, "--push-to-hub", REPO_ID, "--private"))
    return {
        "out": out,
        "code": code,
        "stdout": stdout,
        "stderr": stderr,
        "records": records,
        "calls": list(RecordingHfApi.calls),
    }


BAD_FLAGS = {
    "no epochs": (["--epochs", "0"], "argument --epochs: must be a whole number of at least 1, not '0'"),
    "words": (["--epochs", "two"], "argument --epochs: must be a whole number of at least 1, not 'two'"),
    "empty batches": (["--batch-size", "0"], "argument --batch-size: must be a whole number of at least 1"),
    "negative limit": (["--limit", "-5"], "argument --limit: must be a whole number of at least 1, not '-5'"),
    "negative lr": (["--lr", "-1"], "argument --lr: must be a number above 0, not '-1'"),
    "beta2 above 1": (["--beta2", "1.5"], "argument --beta2: must be a number between 0 and 1, not '1.5'"),
    "negative negatives": (["--negatives", "-3"], "argument --negatives: must be a whole number of at least 0"),
    "more than every 1": (["--flagged", "1.5"], "argument --flagged: must be a number from 0 to 1, not '1.5'"),
    "a fine-tune from nothing": (["--preset", "finetune"], "fine-tunes saved weights: give --start-from"),
}


@pytest.mark.parametrize("case", BAD_FLAGS)
def test_bad_flags_are_refused_in_words_before_anything_runs(case, capsys):
    flags, message = BAD_FLAGS[case]
    with pytest.raises(SystemExit) as exit_info:
        train.parse_args(flags)
    assert exit_info.value.code == 2
    stderr = capsys.readouterr().err
    assert message in stderr and "Traceback" not in stderr


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--limit", "300", "--batch-size", "64", "--epochs", "1"], "300 training images in batches of 64 for 1 "),
        (["--batch-size", "256", "--epochs", "1"], "540 training images in batches of 256 for 1 epoch(s) make 3 "),
    ],
)
def test_too_few_steps_for_the_schedule_are_refused_in_words(tiny_mnist_dir, tmp_path, flags, message):
    """Checked once the data is read (a --limit, or a folder smaller than MNIST), before anything trains."""
    argv = [
        "--data-dir",
        str(tiny_mnist_dir),
        "--out",
        str(tmp_path / "run"),
        "--arch",
        "cnn-small",
        *flags,
    ]
    with pytest.raises(SystemExit) as refused:
        train.main(argv)
    assert str(refused.value).startswith(f"train.py: error: {message}")
    assert "the OneCycle learning-rate schedule needs at least 8: raise --limit or --epochs" in str(refused.value)
    assert not (tmp_path / "run" / "model.safetensors").exists()


def test_unusable_data_or_output_folders_are_refused_in_words(tiny_mnist_dir, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_mnist_dir, broken)
    images = broken / "MNIST" / "raw" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:1000])
    truncated = rf"^train.py: error: {images} is truncated: .* delete it to download it again$"
    with pytest.raises(SystemExit, match=truncated):
        train.main(tiny_args(broken, tmp_path / "run"))
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    with pytest.raises(SystemExit, match=rf"^train.py: error: cannot create the output folder {a_file}/run: "):
        train.main(tiny_args(tiny_mnist_dir, a_file / "run"))


def test_help_shows_every_flag_with_its_default(capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.parse_args(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for flag in (
        "--data-dir",
        "--out",
        "--arch",
        "--epochs",
        "--batch-size",
        "--lr",
        "--seed",
        "--device",
        "--precision",
        "--compile",
        "--limit",
        "--preset",
        "--push-to-hub",
        "--private",
        "--resume",
        "--negatives",
        "--scans",
        "--flagged",
    ):
        assert flag in text
    options = text.split("options:")[1]
    helps = [block for block in options.split("\n  --")[1:]]
    assert len(helps) >= 16
    for block in helps:
        assert "default" in block, block
    assert "{auto,cpu,cuda,mps}" in text and "{best,finetune,fast}" in text


def help_default(text: str, flag: str) -> str:
    """What `--help` says is `flag`'s default."""
    block = text.split(f"\n  {flag} ")[1].split("\n  -")[0]
    return re.search(r"\(default: ([^)]*)\)", " ".join(block.split())).group(1)


@pytest.mark.parametrize("preset", train.PRESETS)
@pytest.mark.parametrize("help_first", [False, True])
def test_help_shows_the_chosen_presets_numbers(preset, help_first, capsys):
    argv = ["--help", "--preset", preset] if help_first else ["--preset", preset, "--help"]
    with pytest.raises(SystemExit) as exit_info:
        train.parse_args(argv)
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for flag, name in (("--epochs", "epochs"), ("--lr", "lr"), ("--batch-size", "batch_size"), ("--arch", "arch")):
        shown = help_default(text, flag)
        expected = train.PRESETS[preset][name]
        assert shown == str(expected) if isinstance(expected, str) else float(shown) == expected, (flag, shown)


def test_help_shows_the_share_of_negatives_a_limited_run_gets(capsys):
    with pytest.raises(SystemExit):
        train.parse_args(["--limit", "5500", "--help"])
    assert int(help_default(capsys.readouterr().out, "--negatives")) == train.PRESETS["best"]["negatives"] // 10


def test_recipe_takes_every_field_from_the_flags():
    args = train.parse_args(["--preset", "fast", "--lr", "0.5", "--seed", "3", "--out", "elsewhere"])
    recipe = train.recipe_of(args)
    assert recipe.as_dict() == {field.name: getattr(args, field.name) for field in dataclasses.fields(recipe)}
    assert (recipe.arch, recipe.lr, recipe.seed) == ("cnn-fast", 0.5, 3)


def test_presets_fill_only_what_is_not_given():
    fast = train.parse_args(["--preset", "fast", "--epochs", "5"])
    assert fast.arch == train.PRESETS["fast"]["arch"] and fast.epochs == 5
    assert train.parse_args([]).negatives == train.PRESETS["best"]["negatives"]
    # a --limit run gets the preset's share of generated non-digits; an explicit --negatives wins
    assert train.parse_args(["--limit", "5500"]).negatives == train.PRESETS["best"]["negatives"] // 10
    assert train.parse_args(["--limit", "5500", "--negatives", "7"]).negatives == 7
    # the same for the scanned digits
    assert train.parse_args(["--limit", "5500"]).scans == train.PRESETS["best"]["scans"] // 10
    assert train.parse_args(["--limit", "5500", "--scans", "9"]).scans == 9


@pytest.mark.slow
def test_run_writes_every_artifact(pushed_run):
    out = pushed_run["out"]
    assert pushed_run["code"] == 0, pushed_run["stderr"]
    assert {p.name for p in out.iterdir()} >= ARTIFACTS | CHECKPOINT
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left
    assert not list(out.glob("*.bin")) and not list(out.glob("*.pt"))  # no pickle anywhere
    assert json.loads((out / "config.json").read_text()) == {"arch": "cnn-small"}
    for png in ("training_curves.png", "confusion_matrix.png"):
        assert (out / png).read_bytes().startswith(b"\x89PNG")


@pytest.mark.slow
def test_one_summary_line_per_epoch(pushed_run):
    lines = pushed_run["stdout"].splitlines()
    assert [line.split()[1] for line in lines if line.startswith("epoch ")] == ["1/2", "2/2"]
    assert any(line.startswith("test accuracy") for line in lines)
    assert pushed_run["stderr"] == ""  # no progress bar in a log


def test_a_terminal_gets_a_progress_bar(tiny_mnist_dir, tmp_path):
    code, stdout, stderr, _ = run_main(tiny_args(tiny_mnist_dir, tmp_path / "run", "--negatives", "0"), Terminal())
    assert code == 0
    assert "epoch 2/2" in stderr and "batch" in stderr  # tqdm's bar, refreshed in place
    assert [line.split()[1] for line in stdout.splitlines() if line.startswith("epoch ")] == ["1/2", "2/2"]


@pytest.mark.slow
def test_a_one_epoch_run_logged_to_a_file_prints_at_most_40_lines(tiny_mnist_dir, tmp_path):
    log = tmp_path / "train.log"
    argv = tiny_args(tiny_mnist_dir, tmp_path / "run", "--epochs", "1", "--batch-size", "16")
    with log.open("w") as file:
        finished = subprocess.run([sys.executable, "train.py", *argv], cwd=REPO, stdout=file, stderr=subprocess.STDOUT)
    assert finished.returncode == 0, log.read_text()
    lines = log.read_text().splitlines()
    assert len(lines) <= 40, lines
    assert sum(line.startswith("epoch ") for line in lines) == 1 and "\r" not in log.read_text()


@pytest.mark.slow
def test_metrics_are_sane(pushed_run):
    metrics = json.loads((pushed_run["out"] / "metrics.json").read_text())
    test = metrics["test"]
    assert test["total"] == 200 and 0 <= test["accuracy"] <= 1
    assert test["errors"] == round((1 - test["accuracy"]) * test["total"])
    matrix = np.array(metrics["confusion_matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == 200 and np.trace(matrix) == 200 - test["errors"]
    assert [h["epoch"] for h in metrics["history"]] == [1, 2]
    assert metrics["val"]["total"] == 60 and metrics["best_epoch"] in (1, 2)
    assert metrics["parameters"] == 75_706 and metrics["arch"] == "cnn-small"
    assert metrics["temperature"] > 0 and 0 <= test["ece"] <= 1 and 0 <= test["ece_uncalibrated"] <= 1
    detector = metrics["not_a_digit"]
    assert 0 <= detector["threshold"] <= 1 and detector["val_digits_flagged"] <= 0.05
    misclassified = load_file(str(pushed_run["out"] / "misclassified.safetensors"))
    assert len(misclassified["images"]) == test["errors"]
    assert (misclassified["predictions"] != misclassified["labels"]).all()


@pytest.mark.slow
def test_card_metadata_parses(pushed_run):
    text = (pushed_run["out"] / "README.md").read_text()
    metadata = yaml.safe_load(text.split("---\n")[1])
    assert metadata["library_name"] == "mnist-demo" and metadata["license"] == "mit"
    assert metadata["pipeline_tag"] == "image-classification" and metadata["datasets"] == ["ylecun/mnist"]
    accuracy = json.loads((pushed_run["out"] / "metrics.json").read_text())["test"]["accuracy"]
    result = metadata["model-index"][0]["results"][0]
    assert result["metrics"][0]["type"] == "accuracy" and result["metrics"][0]["value"] == round(accuracy, 4)
    assert metadata["model-index"][0]["name"] == REPO_ID
    assert "--resume" not in text and "python train.py --data-dir" in text


@pytest.mark.slow
def test_saved_folder_loads_back_with_the_trained_weights(pushed_run):
    out = pushed_run["out"]
    classifier = Classifier.from_pretrained(out)
    saved = load_file(str(out / checkpoint.CHECKPOINT_FILE))
    best = {k[len("best.") :]: v for k, v in saved.items() if k.startswith("best.")}
    weights = classifier.model.state_dict()
    for name, tensor in best.items():
        if name not in ("temperature", "ood_threshold"):  # fitted after training
            assert torch.equal(weights[name], tensor), name
    assert classifier.model.temperature.item() > 0


@pytest.mark.slow
def test_push_uploads_the_artifacts_but_not_the_checkpoint(pushed_run):
    calls = dict((name, kwargs) for name, kwargs in pushed_run["calls"])
    assert calls["create_repo"] == {"repo_id": REPO_ID, "repo_type": "model", "private": True, "exist_ok": True}
    upload = calls["upload_folder"]
    assert upload["repo_id"] == REPO_ID and Path(upload["folder_path"]) == pushed_run["out"]
    assert upload["uploaded"] == ARTIFACTS
    assert f"pushed to https://huggingface.co/{REPO_ID}" in pushed_run["stdout"]


@pytest.mark.slow
def test_token_is_never_printed_logged_or_written(pushed_run):
    assert_no_token(pushed_run["out"], pushed_run["stdout"], pushed_run["stderr"], *pushed_run["records"])


@pytest.mark.slow
def test_failed_push_keeps_the_artifacts_and_hides_the_token(pushed_run, tiny_mnist_dir, tmp_path, monkeypatch):
    out = tmp_path / "run"
    shutil.copytree(pushed_run["out"], out)  # a finished checkpoint: --resume only writes the artifacts again
    for name in ARTIFACTS:
        (out / name).unlink()
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    monkeypatch.setattr("huggingface_hub.HfApi", RefusingHfApi)
    code, stdout, stderr, records = run_main(tiny_args(tiny_mnist_dir, out, "--resume", "--push-to-hub", REPO_ID))
    assert code == 1
    assert {p.name for p in out.iterdir()} >= ARTIFACTS
    failure = [line for line in stderr.splitlines() if "failed" in line]
    assert len(failure) == 1, stderr
    assert failure[0] == (
        f"push to {REPO_ID} failed: 403 refused for {REPO_ID}: request had Authorization: "
        "Bearer ***. "
        f"The artifacts are kept in {out}."
    )
    assert_no_token(out, stdout, stderr, *records)


class InterruptedHfApi(RecordingHfApi):
    def upload_folder(self, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C while the files go up


@pytest.mark.slow
def test_ctrl_c_during_the_push_keeps_the_artifacts_and_says_how_to_upload_them(
    pushed_run, tiny_mnist_dir, tmp_path, monkeypatch
):
    out = tmp_path / "run"
    shutil.copytree(pushed_run["out"], out)
    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    monkeypatch.setattr("huggingface_hub.HfApi", InterruptedHfApi)
    code, stdout, stderr, records = run_main(tiny_args(tiny_mnist_dir, out, "--resume", "--push-to-hub", REPO_ID))
    assert code == 130
    assert {p.name for p in out.iterdir()} >= ARTIFACTS
    assert stderr.strip().splitlines()[-1] == (
        f"push to {REPO_ID} interrupted: the artifacts in {out} are whole; "
        "upload "
        f"them with `hf upload {REPO_ID} {out} --exclude 'training_state.*'`"
    )
    assert "Traceback" not in stderr
    assert_no_token(out, stdout, stderr, *records)


def fail_train_step(monkeypatch, error: BaseException | None, at: int = 0) -> None:
    """Make the `at`-th call (counting from 1) of Run.train_step raise `error`; the others train."""
    train_step, calls = training.Run.train_step, []

    def step(run, *args):
        calls.append(None)
        if error is not None and len(calls) == at:
            raise error
        return train_step(run, *args)

    monkeypatch.setattr(training.Run, "train_step", step)


@pytest.mark.slow
def test_crash_ctrl_c_and_resume_continue_the_same_run(pushed_run, tiny_mnist_dir, tmp_path, monkeypatch):
    out = tmp_path / "run"
    args = tiny_args(tiny_mnist_dir, out)
    state_file = out / checkpoint.CHECKPOINT_FILE

    # 1. a crash in the middle of epoch 2 leaves epoch 1's checkpoint and no half-written artifact
    fail_train_step(monkeypatch, RuntimeError("simulated crash"), at=BATCHES_PER_EPOCH + 2)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_main(args)
    assert {p.name for p in out.iterdir()} == CHECKPOINT
    assert [h["epoch"] for h in checkpoint.read_checkpoint_info(out)["history"]] == [1]
    after_epoch_1 = state_file.read_bytes()

    # 2. a crash while the checkpoint of epoch 2 is being written leaves epoch 1's intact
    fail_train_step(monkeypatch, None)

    def half_then_fail(tensors, path, metadata=None):
        Path(path).write_bytes(b"half a safetensors file")
        raise OSError("No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(checkpoint, "save_file", half_then_fail)
        with pytest.raises(OSError, match="No space left"):
            run_main(args + ["--resume"])
    assert state_file.read_bytes() == after_epoch_1
    assert {p.name for p in out.iterdir()} == CHECKPOINT  # the temporary file is gone too

    # 3. Ctrl-C mid-epoch: exit code 130, a message, the checkpoint untouched
    fail_train_step(monkeypatch, KeyboardInterrupt(), at=2)
    code, stdout, stderr, _ = run_main(args + ["--resume"])
    assert code == 130 and "epoch 1 is saved" in stderr and "--resume" in stderr
    assert state_file.read_bytes() == after_epoch_1

    # 4. --resume finishes the run: the same history and weights as the run never interrupted
    monkeypatch.undo()
    code, stdout, stderr, _ = run_main(args + ["--resume"])
    assert code == 0, stderr
    assert "resuming after epoch 1 of 2" in stdout
    assert {p.name for p in out.iterdir()} == ARTIFACTS | CHECKPOINT
    resumed = json.loads((out / "metrics.json").read_text())["history"]
    uninterrupted = json.loads((pushed_run["out"] / "metrics.json").read_text())["history"]
    for mine, theirs in zip(resumed, uninterrupted, strict=True):
        for key in ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr"):
            assert mine[key] == pytest.approx(theirs[key], rel=1e-4, abs=1e-6), key
    ours = load_file(str(out / "model.safetensors"))
    reference = load_file(str(pushed_run["out"] / "model.safetensors"))
    for name, tensor in reference.items():
        torch.testing.assert_close(ours[name], tensor, rtol=1e-3, atol=1e-5)


@pytest.mark.slow
def test_resume_refuses_a_different_recipe(pushed_run, tiny_mnist_dir, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(pushed_run["out"], out)
    argv = tiny_args(tiny_mnist_dir, out, "--resume")
    argv[argv.index("--epochs") + 1] = "3"
    with pytest.raises(SystemExit, match="made with --epochs 2"):
        train.main(argv)
    with pytest.raises(SystemExit, match="no checkpoint"):
        train.main(tiny_args(tiny_mnist_dir, tmp_path / "empty", "--resume"))


@pytest.mark.slow
def test_quick_run_on_real_mnist(mnist_dir, mnist_test, tmp_path):
    """The issue's "done when": one epoch on 6,000 images writes every artifact and scores > 90%."""
    out = tmp_path / "quick"
    argv = ["--data-dir", str(mnist_dir), "--out", str(out), "--epochs", "1", "--limit", "6000"]
    code, stdout, stderr, _ = run_main(argv)
    assert code == 0, stderr
    assert {p.name for p in out.iterdir()} >= ARTIFACTS
    images, labels = mnist_test
    accuracy = (Classifier.from_pretrained(out).predict_mnist(images).argmax(1) == labels).mean()
    assert accuracy > 0.90
    assert json.loads((out / "metrics.json").read_text())["test"]["accuracy"] == pytest.approx(accuracy, abs=1e-3)


def square_corrections(folder: Path, count: int) -> list[str]:
    """A corrections folder of `count` filled squares people said were 7s (the model had said 1); their ids."""
    from PIL import Image
    from test_training import squares

    from mnist_demo.corrections import Correction, CorrectionStore, RateLimit

    store = CorrectionStore(folder, rate=RateLimit(per_minute=10_000))
    probabilities = [{str(d): 0.1 for d in range(10)}]
    return [
        store.save(Correction(Image.fromarray(255 - image), image, "7", "1", probabilities, "packaged@0")).id
        for image in squares(count, seed=0)
    ]


def test_corrections_are_learned_and_the_held_out_ones_scored(tiny_mnist_dir, tmp_path, monkeypatch):
    ids = square_corrections(tmp_path / "corrections", 30)
    monkeypatch.setattr("mnist_demo.corrections.held_out", lambda entry_id: entry_id in ids[:6])
    out = tmp_path / "run"
    argv = tiny_args(
        tiny_mnist_dir, out, "--arch", "mlp", "--negatives", "0", "--corrections", str(tmp_path / "corrections")
    )
    code, stdout, stderr, _ = run_main(argv)
    assert code == 0, stderr
    assert "corrections: 24 digits and 0 non-digits from 30 entries (6 held out, 0 skipped)" in stdout
    report = json.loads((out / "metrics.json").read_text())["corrections"]
    assert report["sources"] == [str(tmp_path / "corrections")] and report["digits"] == 24
    assert report["held_out"]["total"] == 6 and report["held_out"]["right_before"] == 0
    assert report["held_out"]["right_after"] >= 5  # squares the run never saw, read as the 7s people said
    held = report["held_out"]
    assert f"{held['right_before']} of 6 by the model people corrected, {held['right_after']} of 6 now" in stdout
    card = (out / "README.md").read_text()
    assert "| People's corrections, held out (6): read right by the model people corrected / by this one | 0 / " in card
    assert "It also learned from people's corrections" in card


def test_corrections_from_a_hub_dataset_are_downloaded(tmp_path, monkeypatch):
    from mnist_demo.corrections import read_entries
    from mnist_demo.corrections_hub import write_shard

    square_corrections(tmp_path / "corrections", 3)
    snapshot = tmp_path / "snapshot"
    (snapshot / "data").mkdir(parents=True)
    write_shard(snapshot / "data" / "a.tar", read_entries(tmp_path / "corrections"))
    asked = []
    monkeypatch.setattr(
        "huggingface_hub.snapshot_download", lambda repo_id, **kwargs: asked.append((repo_id, kwargs)) or str(snapshot)
    )
    corrections = train.load_corrections(["tester/corrections"])
    assert len(corrections.labels) + len(corrections.held_out) == 3
    assert asked[0][0] == "tester/corrections" and asked[0][1]["repo_type"] == "dataset"


def test_unusable_corrections_are_refused_in_words(tmp_path, hub_offline):
    (tmp_path / "empty").mkdir()
    for source, message in [
        ("/no/such/folder", "train.py: error: No corrections folder /no/such/folder."),
        (str(tmp_path / "empty"), f"train.py: error: no correction to learn from in {tmp_path / 'empty'}"),
        ("tester/corrections", "train.py: error: Cannot read corrections from the Hub dataset tester/corrections: "),
    ]:
        with pytest.raises(SystemExit) as refused:
            train.load_corrections([source])
        assert str(refused.value).startswith(message)


@pytest.mark.slow
def test_start_from_begins_with_those_weights_and_refuses_others_in_words(pushed_run, tiny_mnist_dir, tmp_path):
    start = load_file(str(pushed_run["out"] / "model.safetensors"))
    out = tmp_path / "tuned"
    tuning = tiny_args(tiny_mnist_dir, out, "--start-from", str(pushed_run["out"]), "--lr", "1e-12")
    code, stdout, _, _ = run_main(tuning)
    assert code == 0 and f"starting from the weights in {pushed_run['out']}" in stdout
    tuned = load_file(str(out / "model.safetensors"))
    for name, tensor in start.items():
        if name.endswith("weight") and tensor.dim() > 1:  # learned weights; batch-norm statistics and calibration move
            assert torch.allclose(tuned[name], tensor, atol=1e-6), name
    assert json.loads((out / "metrics.json").read_text())["start_from"] == str(pushed_run["out"])
    with pytest.raises(SystemExit, match=r"^train.py: error: cannot start from .*: "):
        train.main(tiny_args(tiny_mnist_dir, tmp_path / "other", "--start-from", str(tmp_path / "nowhere")))
    with pytest.raises(SystemExit, match=r"^train.py: error: cannot start from .*: "):  # another architecture
        packaged = Path(train.__file__).parent / "mnist_demo" / "weights"  # a cnn, where the flags ask for a cnn-small
        train.main(tiny_args(tiny_mnist_dir, tmp_path / "other", "--start-from", str(packaged)))
