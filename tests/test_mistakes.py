"""mnist_demo.mistakes: reading, ordering, filtering and captioning the saved mistakes."""

import numpy as np
import pytest

from mnist_demo import mistakes as m
from mnist_demo.artifacts import save_misclassified, write_metrics
from mnist_demo.classifier import probabilities_by_label


@pytest.fixture
def folder(tmp_path):
    """Five test images, three of them wrong with confidences 0.6, 0.9 and 0.7."""
    labels = np.array([4, 1, 7, 9, 3])
    probabilities = np.full((5, 10), 0.01, np.float32)
    for row, (digit, confidence) in enumerate([(9, 0.6), (1, 0.99), (1, 0.9), (4, 0.7), (3, 0.95)]):
        probabilities[row, digit] = confidence
    images = np.arange(5 * 28 * 28, dtype=np.int64).reshape(5, 28, 28).astype(np.uint8)
    save_misclassified(tmp_path, images, labels, probabilities)
    write_metrics(tmp_path, {"test": {"accuracy": 0.9997, "errors": 3, "total": 10000}})
    return tmp_path


def test_most_confident_mistakes_come_first(folder):
    mistakes = m.load_mistakes(folder)
    assert len(mistakes) == 3
    assert mistakes.labels.tolist() == [7, 9, 4]
    assert mistakes.predictions.tolist() == [1, 4, 9]
    assert mistakes.indices.tolist() == [2, 3, 0]
    assert mistakes.confidences == pytest.approx([0.9, 0.7, 0.6])
    assert mistakes.images.shape == (3, 28, 28) and mistakes.images.dtype == np.uint8


def test_header_and_captions(folder):
    mistakes = m.load_mistakes(folder)
    assert m.mistakes_header(mistakes) == "3 of 10,000 wrong — test accuracy 99.97%"
    items = m.gallery_items(mistakes, m.matching_mistakes(mistakes))
    assert [caption for _, caption in items] == [
        "true 7 → predicted 1 (90%)",
        "true 9 → predicted 4 (70%)",
        "true 4 → predicted 9 (60%)",
    ]
    assert (items[0][0] == mistakes.images[0]).all()


def test_filters_by_true_and_predicted_digit(folder):
    mistakes = m.load_mistakes(folder)
    assert m.matching_mistakes(mistakes, true_digit="9").tolist() == [1]
    assert m.matching_mistakes(mistakes, predicted_digit="9").tolist() == [2]
    assert m.matching_mistakes(mistakes, "4", "9").tolist() == [2]
    assert m.matching_mistakes(mistakes, "4", "1").tolist() == []
    assert m.filter_summary(mistakes, m.matching_mistakes(mistakes, "4", "1")) == "No mistakes match these filters."
    assert m.filter_summary(mistakes, m.matching_mistakes(mistakes, "9")) == "Showing 1 of 3."


def test_a_selected_mistake_has_its_ten_probabilities(folder):
    mistakes = m.load_mistakes(folder)
    probabilities = probabilities_by_label(mistakes.probabilities[0])
    assert list(probabilities) == [str(d) for d in range(10)]
    assert probabilities["1"] == pytest.approx(0.9)
    assert m.describe_mistake(mistakes, 0) == "Test image #2: a 7, read as 1 with 90% confidence."


def test_a_long_list_is_capped_and_says_so(tmp_path):
    count = m.MAX_TILES + 20
    probabilities = np.full((count, 10), 0.01, np.float32)
    probabilities[:, 3] = np.linspace(0.5, 0.9, count)
    save_misclassified(tmp_path, np.zeros((count, 28, 28), np.uint8), np.zeros(count, np.int64), probabilities)
    mistakes = m.load_mistakes(tmp_path)
    positions = m.matching_mistakes(mistakes)
    assert len(m.shown_in_gallery(positions)) == m.MAX_TILES
    assert mistakes.confidences[0] == pytest.approx(0.9)  # the cap keeps the most confident
    assert f"{m.MAX_TILES} most confident" in m.filter_summary(mistakes, positions)
    assert m.mistakes_header(mistakes) == f"{count} test images wrong."  # no metrics.json


def test_weights_without_mistakes_file(tmp_path):
    assert m.load_mistakes(tmp_path) is None
    assert "misclassified.safetensors" in m.mistakes_header(None)
    assert m.matching_mistakes(None).tolist() == [] and m.gallery_items(None, m.matching_mistakes(None)) == []


def test_packaged_weights_have_readable_mistakes(classifier):
    mistakes = m.load_mistakes(classifier.folder)
    assert mistakes is not None and len(mistakes) > 0
    assert (mistakes.labels != mistakes.predictions).all()
    assert np.all(np.diff(mistakes.confidences) <= 0)
    assert " wrong — test accuracy " in m.mistakes_header(mistakes)


def test_a_confusion_cell_chooses_the_filters():
    assert m.cell_filter(4, 10) == ("4", "9")  # column 0 is the true digit, column d + 1 predicted d
    assert m.cell_filter(9, 5) == ("9", "4")
    assert m.cell_filter(4, 5) == ("4", m.ANY)  # the diagonal: every mistake on a 4
    assert m.cell_filter(7, 0) == ("7", m.ANY)  # the row's name


def test_confusion_table_rows_and_colours():
    matrix = np.diag(np.full(10, 50))
    matrix[4, 9], matrix[7, 1] = 5, 1
    rows = m.confusion_rows(matrix)
    assert len(m.confusion_headers()) == 11 and len(rows) == 10
    assert rows[4][0] == "4" and rows[4][10] == 5 and rows[4][5] == 50
    styles = m.confusion_styles(matrix)
    assert "#dcfce7" in styles[3][4]  # correct: green
    assert "rgba(234, 88, 12, 0.85)" in styles[4][10] and "rgba(234, 88, 12, 0.37)" in styles[7][2]
    assert "background" not in styles[0][2]  # no mistakes there
    assert m.confusion_table(matrix).data.shape == (10, 11)


def test_the_confusion_matrix_agrees_with_the_saved_mistakes(classifier):
    mistakes = m.load_mistakes(classifier.folder)
    matrix = mistakes.confusion
    assert matrix.shape == (10, 10) and matrix.sum() == mistakes.test_total
    for true in range(10):
        for predicted in range(10):
            if true != predicted:  # every wrong cell's count is the gallery its click shows
                chosen = m.matching_mistakes(mistakes, *m.cell_filter(true, predicted + 1))
                assert len(chosen) == matrix[true, predicted]


def test_no_confusion_matrix_without_metrics(folder):
    (folder / "metrics.json").unlink()
    assert m.load_mistakes(folder).confusion is None
