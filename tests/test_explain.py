"""mnist_demo.explain: integrated-gradients saliency of the 28x28 input."""

import numpy as np
import torch

from mnist_demo.explain import integrated_gradients


def first_of(mnist_test, digit: int) -> np.ndarray:
    images, labels = mnist_test
    return images[np.flatnonzero(labels == digit)[0]]


def logits(model, images: np.ndarray) -> torch.Tensor:
    with torch.no_grad():
        return model(torch.from_numpy(np.asarray(images, dtype=np.float32) / 255).reshape(-1, 1, 28, 28))


def test_saliency_is_a_finite_28x28_map_only_on_the_ink(classifier, mnist_test):
    image = first_of(mnist_test, 7)
    saliency = classifier.explain(image)
    assert saliency.shape == (28, 28) and saliency.dtype == np.float32
    assert np.isfinite(saliency).all() and np.abs(saliency).max() > 0
    assert np.all(saliency[image == 0] == 0)  # against a black baseline, a pixel without ink has no share


def test_the_shares_add_up_to_the_change_in_the_score(classifier, mnist_test):
    """Completeness: attributions sum to logit(image) - logit(black), the property that makes IG an account."""
    for digit in (0, 3, 8):
        image = first_of(mnist_test, digit)
        saliency, target = integrated_gradients(classifier.model, image)
        blank = np.zeros((28, 28))
        change = (logits(classifier.model, image)[0, target] - logits(classifier.model, blank)[0, target]).item()
        assert abs(saliency.sum() - change) < 0.1 * abs(change) + 0.1


def test_removing_the_most_credited_ink_hurts_the_answer_more_than_random_ink(classifier, mnist_test):
    rng = np.random.default_rng(0)
    for digit in (1, 4, 9):
        image = first_of(mnist_test, digit)
        saliency, target = integrated_gradients(classifier.model, image)
        inked = np.flatnonzero(image.ravel() > 0)
        count = len(inked) // 5
        top = inked[np.argsort(-saliency.ravel()[inked])[:count]]
        random = rng.choice(inked, count, replace=False)
        without_top, without_random = image.copy().ravel(), image.copy().ravel()
        without_top[top], without_random[random] = 0, 0
        scores = logits(classifier.model, np.stack([without_top, without_random]).reshape(2, 28, 28))[:, target]
        assert scores[0] < scores[1]


def test_another_digit_gets_its_own_explanation(classifier, mnist_test):
    image = first_of(mnist_test, 7)
    answer = classifier.explain(image)
    other = classifier.explain(image, digit=1)
    assert not np.allclose(answer, other)


def test_explaining_leaves_the_model_as_it_was(classifier, mnist_test):
    classifier.explain(first_of(mnist_test, 2))
    assert not classifier.model.training
    assert all(p.grad is None for p in classifier.model.parameters())
