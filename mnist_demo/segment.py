"""Split a drawing of a whole number (a postcode, a cheque amount) into its digits, left to right.

The ink is cut into pieces: its connected components, with strokes lying over a taller
neighbour's columns (the detached top bar of a 5, the second stroke of a 4) joined to it,
isolated specks dropped, and components wider than a digit (touching digits, a 1 leaning
on its neighbour) cut at columns where their ink thins or where digits of equal width would
meet. Then every way of grouping neighbouring pieces into digits is scored by the classifier
itself, and the best reading is found by dynamic programming, as postal-code readers have
long done it ("segmentation by recognition"). The model is trained to give a fragment of a
digit, or parts of two, low confidence (`reader_examples.number_pieces`): it, not hand-set
costs, tells where one digit ends; a group that reads as one of its parts while the other
part is a sure digit too (a 1 touching a 2, ignored by a model sure of the 2) pays for the
ink it leaves unexplained. Each digit goes through the same MNIST-style preprocessing as a
single drawing. Last, a reading whose parts do not fit a written number (one stroke cut into
three digits or into two 1s, a digit far smaller than the rest) is "not a digit", however
sure the model is of each part.

The limits below are set on the development sets of `benchmarks/heldout_eval.py --dev`
(numbers, non-digits and photos made from MNIST *validation* digits), never on the held-out
sets it reports; the rules that a trained model made redundant there (shape priors, costs
for cuts and gaps, seams of least ink, a rule on digits off one line) are gone. A known
limit: a sign made of two digit-like parts (%, Ω) or a scribble shaped like a digit can
still be read as digits, each part confidently.

    python -m mnist_demo.segment number.png   # prints each digit's box and its 28x28 image
"""

import math
import sys
from dataclasses import dataclass

import cv2
import numpy as np

from .picture import BlankImageError, ImageError, TooMuchInkError, picture_argument
from .preprocess import Ink, crop_to_ink, ink_to_mnist, locate_ink, max_filter

INK_LEVEL = 0.25  # a pixel is ink above this fraction of the darkest ink (as crop_to_ink)
SUBORDINATE_HEIGHT = 0.75  # a piece shorter than this (of the tallest) sharing a taller piece's columns joins it
SPECK_SIZE = 0.2  # isolated specks smaller than this (of the tallest piece) are noise
WIDE = 0.7  # components wider than this times their height may be touching digits (narrow ones too)
MIN_DIGIT_WIDTH = 0.2  # no cut closer than this (of the height) to a component's side
CUT_SPACING = 0.15  # nor to another cut
UNCUT_HEIGHT = 0.5  # pieces shorter than this (of the tallest) are never cut
NARROWEST_DIGIT = 0.5  # cuts are tried where digits this wide (of the height) or wider would meet
MAX_CUTS = 10  # per component, the ones through the least ink
MAX_PIECES_PER_DIGIT = 6  # a digit is at most this many neighbouring pieces
MAX_DIGIT_WIDTH = 1.6  # no digit wider than this times the tallest piece
MAX_GAP = 0.3  # nor with a gap wider than this (of the tallest piece) between its strokes
MAX_PIECES = 40  # more pieces than this is not a number: read the drawing as one piece
MAX_CANDIDATES = 64  # groupings of pieces read by the model per picture: bounded work (one forward pass each)
MAX_COMPONENTS = 200  # more separate marks than this (noise, a texture) is too much ink to read: bounded work
# A reading that leaves a sure digit's ink unexplained (`unexplained_ink_costs`). On the development sets (100 each)
# it earns the packaged weights whole numbers read exactly: pen strokes 86% vs 84%, composed MNIST 78% vs 77%,
# flagged 1s and crossed 7s 72% vs 69%; weights that learned pairs of digits as non-digits (`train.py --pieces`)
# read every dev set the same without it: delete it when such weights are packaged.
REDUNDANT_COST = 2.0  # log-odds a grouping pays for a digit that reads as one of its two parts, the other a sure digit
SURE_PART = math.log(0.9)  # a part is a sure digit when the model is this sure of it
LEANING_ONE_HEIGHT = 0.85  # a 1 cut off a touching neighbour is at least this tall (of the two together)
# A grouping's shape, beyond the model's confidence (`misfits`). Set on the development sets (validation digits).
MISFIT_HEIGHT = 0.6  # a digit shorter than this share of the tallest one is not part of a number


@dataclass
class Digit:
    """One digit of a number as read: its box in the input image's pixels and its probabilities."""

    box: tuple[int, int, int, int]  # x0, y0, x1, y1, right and bottom exclusive (PIL's crop box)
    mnist: np.ndarray  # uint8 [28, 28], what the model saw
    probabilities: np.ndarray  # float32 [10]
    misfit: bool = False  # it does not fit a written number (see `misfits`): the number is "not a digit"


@dataclass
class Piece:
    """Ink of one or more components (`ids`); when cut from a wider one, only its ink in columns `cut`."""

    ids: tuple[int, ...]
    x0: int
    x1: int
    y0: int
    y1: int
    component: int  # the component it was cut from, or -1 when uncut
    cut: tuple[int, int] | None = None  # when cut: the columns [left, right) that are this piece's

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    def region(self, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        """bool [y1 - y0, x1 - x0]: which pixels of that window lie in this piece's columns (all when uncut)."""
        if self.cut is None:
            return np.ones((y1 - y0, x1 - x0), dtype=bool)
        columns = np.arange(x0, x1)
        inside = (columns >= self.cut[0]) & (columns < self.cut[1])
        return np.broadcast_to(inside, (y1 - y0, x1 - x0))


def read_digits(picture, predict_mnist) -> list[Digit]:
    """The digits of a drawing (any picture, or its located `Ink`), left to right.

    `predict_mnist` maps uint8 [N, 28, 28] MNIST-style images to probabilities [N, 10] (for
    example `Classifier.predict_mnist`). Raises ImageError for unreadable input and
    BlankImageError when there is no ink.
    """
    ink = locate_ink(picture)
    labels, pieces, tallest = ink_pieces(ink.map)
    candidates = candidate_digits(pieces, tallest)
    images = np.stack([digit_image(ink.map, labels, pieces[i:j]) for i, j in candidates])
    probabilities = np.asarray(predict_mnist(images), dtype=np.float32)
    scores = {span: math.log(max(float(p.max()), 1e-6)) for span, p in zip(candidates, probabilities)}
    index = {span: k for k, span in enumerate(candidates)}
    read_as = {span: int(probabilities[k].argmax()) for span, k in index.items()}
    grouping = best_grouping(len(pieces), unexplained_ink_costs(pieces, scores, read_as))
    read = [read_as[span] for span in grouping]
    return [
        Digit(
            box=input_box(pieces[i:j], ink),
            mnist=images[index[i, j]],
            probabilities=probabilities[index[i, j]],
            misfit=misfit,
        )
        for (i, j), misfit in zip(grouping, misfits(pieces, grouping, read))
    ]


def ink_pieces(ink: np.ndarray) -> tuple[np.ndarray, list[Piece], int]:
    """An ink map's components (int labels [H, W]), joined and cut into pieces, and the tallest piece's height
    before cutting. Raises BlankImageError when there is no ink, TooMuchInkError for too many marks."""
    labels, boxes = label_components(ink > INK_LEVEL * max(float(ink.max()), 0.2))
    if len(boxes) == 0:  # the region read again at full resolution can turn out fainter than the reduced copy
        raise BlankImageError("No digit found: the image is blank.")
    if len(boxes) > MAX_COMPONENTS:
        raise TooMuchInkError(
            f"Too much ink to read as digits: the picture has {len(boxes):,} separate marks "
            f"(at most {MAX_COMPONENTS} are read). Is it a picture of a number?"
        )
    joined = join_subordinates(boxes)
    tallest = max(p.height for p in joined)  # before cutting: the slices of a slanted 1 are shorter than the 1
    pieces = cut_wide(labels, joined, tallest)
    return labels, pieces if len(pieces) <= MAX_PIECES else [whole_drawing(pieces)], tallest


def misfits(pieces: list[Piece], spans: list[tuple[int, int]], read: list[int]) -> list[bool]:
    """Which digits of a grouping do not fit a written number, however sure the model is of each.

    A scribble, a letter or a sign the reader cut into digit-like parts gives itself away: one
    connected stroke cut into three digits or more, or into two 1s (the legs of a U, V, W or
    n); a digit much shorter than the others. People write a number's digits about one size,
    and rarely join more than two. What each earns on the development sets (`heldout_eval.py
    --dev`, 100 each), with the packaged weights / with weights that learned fragments and pairs
    of digits as non-digits (`train.py --pieces`), against the same reader without it:
      - a cut stroke: letters, signs and scribbles flagged 98% vs 92% / 95% vs 91%, things 99%
        vs 92% / 96% vs 93%; it costs composed MNIST numbers 78% vs 85% / 80% vs 84%.
      - a short digit: letters, signs and scribbles flagged 98% vs 97% / 95% vs 88%.
    """
    flags = [False] * len(spans)
    boxes = [box_of(pieces[i:j]) for i, j in spans]
    run = [0]  # the digits joined by cut strokes, left to right
    for k in range(1, len(spans) + 1):
        if k < len(spans) and cuts_a_stroke(pieces[spans[k][0] - 1], pieces[spans[k][0]]):
            run.append(k)
            continue
        if len(run) >= 3 or (len(run) == 2 and read[run[0]] == read[run[1]] == 1):
            for member in run:
                flags[member] = True
        run = [k]
    tallest = max(y1 - y0 for _, y0, _, y1 in boxes)
    for k, (_, y0, _, y1) in enumerate(boxes):
        if y1 - y0 < MISFIT_HEIGHT * tallest:
            flags[k] = True
    return flags


def cuts_a_stroke(left: Piece, right: Piece) -> bool:
    """Whether two neighbouring pieces are slices of one connected stroke."""
    return left.component >= 0 and left.component == right.component


def box_of(group: list[Piece]) -> tuple[int, int, int, int]:
    """The box (x0, y0, x1, y1) of a group of pieces."""
    return min(p.x0 for p in group), min(p.y0 for p in group), max(p.x1 for p in group), max(p.y1 for p in group)


def label_components(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """8-connected components: int32 labels [H, W] (0 = background, 1..n) and boxes [n, 4] (x0, y0, x1, y1)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    x, y, w, h = (
        stats[1:, k].astype(np.int64)
        for k in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT)
    )
    return labels, np.stack([x, y, x + w, y + h], axis=1).reshape(count - 1, 4)


def join_subordinates(boxes: np.ndarray) -> list[Piece]:
    """Components as pieces: short strokes within a taller one's columns join it, isolated specks go.

    The detached top bar of a 5, the crossbar of a 7, one stroke of a two-stroke 4 or a
    broken bit of a loop is much shorter than the digit and lies over the same columns.
    """
    tallest = max(int(b[3] - b[1]) for b in boxes)
    groups = {i: [i] for i in range(len(boxes))}
    owner = list(range(len(boxes)))
    for i in sorted(range(len(boxes)), key=lambda k: boxes[k][3] - boxes[k][1]):
        x0, y0, x1, y1 = boxes[i]
        if y1 - y0 >= SUBORDINATE_HEIGHT * tallest:
            continue
        shared = [
            (overlap(x0, x1, b[0], b[2]), k)
            for k, b in enumerate(boxes)
            if k != i and b[3] - b[1] > y1 - y0 and owner[k] == k
        ]
        best_shared, host = max(shared, default=(0, None))
        if host is not None and best_shared >= 0.5 * (x1 - x0):
            groups[host] += groups.pop(i)
            for k in groups[host]:
                owner[k] = host
        elif max(x1 - x0, y1 - y0) < SPECK_SIZE * tallest:
            groups.pop(i)
    return sorted((piece_of(boxes, members) for members in groups.values()), key=lambda p: p.x0 + p.x1)


def overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def piece_of(boxes: np.ndarray, members: list[int]) -> Piece:
    chosen = boxes[members]
    return Piece(
        ids=tuple(int(m) + 1 for m in members),
        x0=int(chosen[:, 0].min()),
        y0=int(chosen[:, 1].min()),
        x1=int(chosen[:, 2].max()),
        y1=int(chosen[:, 3].max()),
        component=-1,
    )


def cut_wide(labels: np.ndarray, pieces: list[Piece], tallest: int) -> list[Piece]:
    """Pieces wider than one digit (touching digits) cut into slices at `cut_columns`. A piece far
    shorter than the tallest (a 5's long top bar drawn apart) is a stroke, not digits side by side."""
    out = []
    for number, piece in enumerate(pieces):
        if piece.width <= WIDE * piece.height or piece.height < UNCUT_HEIGHT * tallest:
            out.append(piece)
            continue
        mask = np.isin(labels[piece.y0 : piece.y1, piece.x0 : piece.x1], piece.ids)
        bounds = [0, *cut_columns(mask.sum(axis=0), piece.height), mask.shape[1]]
        for left, right in zip(bounds, bounds[1:]):
            part = mask[:, left:right]
            rows, cols = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
            if len(rows):
                out.append(
                    Piece(
                        ids=piece.ids,
                        x0=piece.x0 + left + int(cols[0]),
                        x1=piece.x0 + left + int(cols[-1]) + 1,
                        y0=piece.y0 + int(rows[0]),
                        y1=piece.y0 + int(rows[-1]) + 1,
                        component=number,
                        cut=(piece.x0 + left, piece.x0 + right),
                    )
                )
    return out


def cut_columns(profile: np.ndarray, height: int) -> list[int]:
    """Candidate cuts of a wide component: where its ink profile dips (a thin joint between two
    digits), and where digits of equal width would meet (two round digits touching side by side
    are thick where they meet); the classifier later keeps the cuts that read best."""
    width = len(profile)
    margin, window = max(1, round(MIN_DIGIT_WIDTH * height)), max(1, round(0.08 * height))
    if width <= 2 * margin:
        return []
    smooth = np.convolve(profile, np.ones(3) / 3, mode="same")

    def lowest(x: int) -> int:
        """The column of least ink near x."""
        return min(
            range(max(margin, x - window), min(width - margin, x + window + 1)),
            key=lambda c: smooth[c],
            default=min(max(x, margin), width - margin - 1),
        )

    dips = [x for x in range(margin, width - margin) if smooth[x] == smooth[max(0, x - window) : x + window + 1].min()]
    most_digits = min(math.ceil(width / (NARROWEST_DIGIT * height)), MAX_CUTS + 1)  # bounded: a 3000x40 stroke
    meets = [lowest(round(width * i / k)) for k in range(2, most_digits + 1) for i in range(1, k)]
    chosen: list[int] = []
    for x in sorted(set(dips + meets), key=lambda c: smooth[c]):
        if all(abs(x - c) >= CUT_SPACING * height for c in chosen):
            chosen.append(x)
    return sorted(chosen[:MAX_CUTS])


def whole_drawing(pieces: list[Piece]) -> Piece:
    x0, y0, x1, y1 = box_of(pieces)
    return Piece(ids=tuple(sorted({i for p in pieces for i in p.ids})), x0=x0, y0=y0, x1=x1, y1=y1, component=-1)


def candidate_digits(pieces: list[Piece], tallest: int) -> list[tuple[int, int]]:
    """Every run of neighbouring pieces [i, j) that could be one digit.

    At most MAX_CANDIDATES (each is a forward pass): with many pieces, a digit may join fewer of them.
    """
    for most in range(MAX_PIECES_PER_DIGIT, 0, -1):
        candidates = neighbour_groups(pieces, most, tallest)
        if len(candidates) <= MAX_CANDIDATES:
            break
    return candidates


def neighbour_groups(pieces: list[Piece], most: int, tallest: int) -> list[tuple[int, int]]:
    """The runs of at most `most` neighbouring pieces that could be one digit (`tallest`: the height of the
    tallest piece before any was cut): no wider than MAX_DIGIT_WIDTH, no gap wider than MAX_GAP."""
    candidates = []
    for i in range(len(pieces)):
        for j in range(i + 1, min(i + most, len(pieces)) + 1):
            group = pieces[i:j]
            x0, x1 = min(p.x0 for p in group), max(p.x1 for p in group)
            reach = max(p.x1 for p in group[:-1]) if j - i > 1 else x1
            if j - i > 1 and (x1 - x0 > MAX_DIGIT_WIDTH * tallest or group[-1].x0 - reach > MAX_GAP * tallest):
                break
            candidates.append((i, j))
    return candidates


def digit_image(ink: np.ndarray, labels: np.ndarray, group: list[Piece]) -> np.ndarray:
    """The MNIST-style 28x28 image of a group of pieces: their ink only, not their neighbours'."""
    x0, y0, x1, y1 = box_of(group)
    pad = 2  # the faint anti-aliased rim lies just outside the thresholded ink
    x0, y0 = max(0, x0 - pad), max(0, y0 - pad)
    x1, y1 = min(ink.shape[1], x1 + pad), min(ink.shape[0], y1 + pad)
    crop_labels = labels[y0:y1, x0:x1]
    mine = np.zeros(crop_labels.shape, dtype=bool)
    for p in group:
        mine |= np.isin(crop_labels, p.ids) & p.region(y0, y1, x0, x1)
    others = (crop_labels > 0) & ~mine
    near = max_filter(mine.astype(np.float32), 2 * pad + 1) > 0
    digit = np.where(near & ~others, ink[y0:y1, x0:x1], 0).astype(np.float32)
    try:
        return ink_to_mnist(crop_to_ink(digit))
    except ImageError:  # a sliver too faint to count as ink: a blank image, which reads as nothing
        return np.zeros((28, 28), dtype=np.uint8)


def unexplained_ink_costs(
    pieces: list[Piece], scores: dict[tuple[int, int], float], read: dict[tuple[int, int], int]
) -> dict[tuple[int, int], float]:
    """The scores, less REDUNDANT_COST for each group that reads as one of its two parts while the other
    part is a sure digit of its own: the model, sure of a 4, ignores a 1 leaning on it ("41" read as 4),
    so the whole and the split both score about 1.0 and only the split explains all the ink. Two parts
    reading alike (the slices of a slanted 1) are no such case; nor, where the parts are slices of one
    stroke, is any other part than a full-height 1 (the tail of a 6 cut off reads as a sure 7)."""
    out = dict(scores)
    for i, j in scores:
        for k in range(i + 1, j):
            left, right = (i, k), (k, j)
            if left not in scores or right not in scores or read[left] == read[right]:
                continue
            if min(scores[left], scores[right]) <= SURE_PART or read[i, j] not in (read[left], read[right]):
                continue
            extra = right if read[i, j] == read[left] else left
            if cuts_a_stroke(pieces[k - 1], pieces[k]) and not leaning_one(pieces, extra, (i, j), read[extra]):
                continue
            out[i, j] = scores[i, j] - REDUNDANT_COST
            break
    return out


def leaning_one(pieces: list[Piece], part: tuple[int, int], group: tuple[int, int], digit: int) -> bool:
    """Whether a part of a group is a 1 about as tall as the group: a whole digit, not a slice of one."""
    _, y0, _, y1 = box_of(pieces[part[0] : part[1]])
    _, g0, _, g1 = box_of(pieces[group[0] : group[1]])
    return digit == 1 and y1 - y0 >= LEANING_ONE_HEIGHT * (g1 - g0)


def best_grouping(count: int, scores: dict[tuple[int, int], float]) -> list[tuple[int, int]]:
    """The grouping of `count` pieces into digits with the highest total score (dynamic programming)."""
    best = [0.0] + [-math.inf] * count
    back = [0] * (count + 1)
    for j in range(1, count + 1):
        for i in range(j):
            if (i, j) in scores:
                total = best[i] + scores[i, j]
                if total > best[j]:
                    best[j], back[j] = total, i
    spans, j = [], count
    while j:
        spans.append((back[j], j))
        j = back[j]
    return spans[::-1]


def input_box(group: list[Piece], ink: Ink) -> tuple[int, int, int, int]:
    """The group's box in the input image's pixels (the ink map may be of a reduced copy or a crop)."""
    x0, y0, x1, y1 = box_of(group)
    (left, top), scale = ink.origin, ink.scale
    return (
        int(left + x0 * scale),
        int(top + y0 * scale),
        min(ink.size[0], math.ceil(left + x1 * scale)),
        min(ink.size[1], math.ceil(top + y1 * scale)),
    )


def main():
    from .classifier import Classifier
    from .preprocess import ascii_art

    picture = picture_argument("segment")
    classifier = Classifier.from_pretrained()
    try:
        digits = read_digits(picture, classifier.predict_mnist)
    except ImageError as error:
        sys.exit(str(error))
    for digit in digits:
        print(f"{int(digit.probabilities.argmax())}  p={digit.probabilities.max():.3f}  box={digit.box}")
        print(ascii_art(digit.mnist[2:26]))


if __name__ == "__main__":
    main()
