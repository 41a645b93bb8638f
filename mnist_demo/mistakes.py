"""The test images a trained model gets wrong, as the app's Mistakes tab shows them.

train.py saves every misclassified test image with its probabilities
(`misclassified.safetensors`, next to the weights); this module reads them back, puts
the most confident mistakes first, filters them by true or predicted digit, and writes
the captions and the header. The test set's confusion matrix (from metrics.json) is a
table whose cells choose the filters. It never touches the test set itself.

    python -m mnist_demo.mistakes [weights folder]   # prints the header and the worst ten
"""

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .artifacts import load_misclassified, read_metrics
from .classifier import DIGIT_LABELS
from .prediction import percent

ANY = "any"  # the filter value that keeps every digit
MAX_TILES = 100  # a gallery shows at most this many (the most confident): a weak model's 300+ would
# cost the app's start-up ~1 ms each and no one scrolls through them all


@dataclass(frozen=True)
class Mistakes:
    """Misclassified test images, most confident first, and the test set's size and accuracy."""

    images: np.ndarray  # uint8 [N, 28, 28], white digit on black as in MNIST
    labels: np.ndarray  # int [N], the true digits
    predictions: np.ndarray  # int [N], what the model read
    probabilities: np.ndarray  # float32 [N, 10], calibrated
    indices: np.ndarray  # int [N], positions in the MNIST test set
    test_total: int | None  # None when metrics.json is missing
    test_accuracy: float | None
    confusion: np.ndarray | None = None  # int [10, 10], rows true digit, columns predicted; None without metrics.json

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def confidences(self) -> np.ndarray:
        """The probability given to the wrong answer, per mistake."""
        return self.probabilities[np.arange(len(self)), self.predictions]


def load_mistakes(folder: Path) -> Mistakes | None:
    """The mistakes saved next to the weights in `folder`, most confident first; None without the file."""
    saved = load_misclassified(folder)
    if saved is None:
        return None
    metrics = read_metrics(folder)
    test = metrics.get("test", {})
    probabilities = saved["probabilities"].astype(np.float32)
    predictions = saved["predictions"].astype(np.int64)
    order = np.argsort(-probabilities[np.arange(len(predictions)), predictions], kind="stable")
    return Mistakes(
        images=saved["images"][order],
        labels=saved["labels"].astype(np.int64)[order],
        predictions=predictions[order],
        probabilities=probabilities[order],
        indices=saved["indices"].astype(np.int64)[order],
        test_total=test.get("total"),
        test_accuracy=test.get("accuracy"),
        confusion=np.asarray(metrics["confusion_matrix"], dtype=np.int64) if "confusion_matrix" in metrics else None,
    )


def mistakes_header(mistakes: Mistakes | None) -> str:
    """'23 of 10,000 wrong — test accuracy 99.77%', or why there is nothing to show."""
    if mistakes is None:
        return "These weights came without a list of their mistakes (misclassified.safetensors): train.py writes one."
    if mistakes.test_total is None:
        return f"{len(mistakes):,} test images wrong."
    accuracy = mistakes.test_accuracy if mistakes.test_accuracy is not None else 1 - len(mistakes) / mistakes.test_total
    return f"{len(mistakes):,} of {mistakes.test_total:,} wrong — test accuracy {accuracy:.2%}"


def caption(true_digit: int, predicted_digit: int, confidence: float) -> str:
    return f"true {true_digit} → predicted {predicted_digit} ({percent(confidence)})"


def matching_mistakes(mistakes: Mistakes | None, true_digit: str = ANY, predicted_digit: str = ANY) -> np.ndarray:
    """Positions (into `mistakes`, most confident first) of the mistakes matching both filters."""
    if mistakes is None:
        return np.zeros(0, dtype=np.int64)
    keep = np.ones(len(mistakes), dtype=bool)
    if true_digit != ANY:
        keep &= mistakes.labels == int(true_digit)
    if predicted_digit != ANY:
        keep &= mistakes.predictions == int(predicted_digit)
    return np.flatnonzero(keep)


def gallery_items(mistakes: Mistakes | None, positions: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """(28x28 image, caption) pairs for the given positions, in that order."""
    confidences = mistakes.confidences if mistakes is not None else None
    return [
        (mistakes.images[i], caption(int(mistakes.labels[i]), int(mistakes.predictions[i]), float(confidences[i])))
        for i in positions
    ]


def shown_in_gallery(positions: np.ndarray) -> np.ndarray:
    """The positions a gallery shows: the first MAX_TILES, i.e. the most confident mistakes."""
    return positions[:MAX_TILES]


def filter_summary(mistakes: Mistakes | None, positions: np.ndarray) -> str:
    """How many mistakes the filters keep and how many of them are shown, e.g. 'Showing 4 of 23.'"""
    total = 0 if mistakes is None else len(mistakes)
    if total and not len(positions):
        return "No mistakes match these filters."
    if len(positions) > MAX_TILES:
        matching = f"{total:,} mistakes" if len(positions) == total else f"{len(positions):,} that match (of {total:,})"
        return f"Showing the {MAX_TILES} most confident of the {matching}: filter by digit to see the others."
    return f"Showing {len(positions):,} of {total:,}."


def confusion_headers() -> list[str]:
    """The confusion table's column names: the true digit, then each predicted digit."""
    return ["true ↓ predicted →", *DIGIT_LABELS]


def confusion_rows(matrix: np.ndarray) -> list[list]:
    """The confusion matrix as table rows: the true digit, then its ten counts."""
    return [[str(true), *(int(count) for count in row)] for true, row in enumerate(matrix)]


def confusion_styles(matrix: np.ndarray) -> list[list[str]]:
    """CSS per table cell: correct counts green, mistakes orange (darker for more), empty cells plain."""
    worst = max(1, int((matrix * (1 - np.eye(len(matrix), dtype=np.int64))).max()))
    styles = []
    for true, row in enumerate(matrix):
        cells = ["font-weight: bold"]
        for predicted, count in enumerate(row):
            if predicted == true:
                cells.append("background-color: #dcfce7")
            elif count:
                alpha = 0.25 + 0.6 * count / worst
                cells.append(f"background-color: rgba(234, 88, 12, {alpha:.2f}); font-weight: bold")
            else:
                cells.append("color: #9ca3af")
        styles.append(cells)
    return styles


def confusion_table(matrix: np.ndarray):
    """The table the Mistakes tab shows: a pandas Styler of `confusion_rows`, coloured by `confusion_styles`."""
    import pandas as pd

    frame = pd.DataFrame(confusion_rows(matrix), columns=confusion_headers())
    styles = pd.DataFrame(confusion_styles(matrix), columns=frame.columns)
    return frame.style.apply(lambda _: styles, axis=None)


def cell_filter(row: int, column: int) -> tuple[str, str]:
    """The (true, predicted) filters for a chosen cell of the confusion table.

    An off-diagonal cell is one kind of mistake: that pair. A correct cell on the diagonal
    or the row's true digit has no mistakes of its own: all the mistakes on that digit.
    """
    true, predicted = str(row), column - 1
    return (true, ANY) if predicted < 0 or predicted == row else (true, str(predicted))


def describe_mistake(mistakes: Mistakes, position: int) -> str:
    """One line about one mistake: which test image it is and what the model thought."""
    i = position
    return (
        f"Test image #{int(mistakes.indices[i]):,}: a {int(mistakes.labels[i])}, read as "
        f"{int(mistakes.predictions[i])} with {percent(float(mistakes.confidences[i]))} confidence."
    )


def main():
    from .loading import PACKAGED_WEIGHTS

    mistakes = load_mistakes(Path(sys.argv[1]) if len(sys.argv) > 1 else PACKAGED_WEIGHTS)
    print(mistakes_header(mistakes))
    if mistakes is None:
        sys.exit(1)
    for _, text in gallery_items(mistakes, matching_mistakes(mistakes)[:10]):
        print(" ", text)


if __name__ == "__main__":
    main()
