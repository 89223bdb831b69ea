"""The evaluation's figures against cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from mediafind import evaluate
from mediafind.errors import MediafindError


def matrix(rows: list[list[float]]) -> evaluate.Matrix:
    return np.asarray(rows, dtype=np.float32)


def test_text_to_image_ranks_and_counts_a_tie_against_the_model() -> None:
    # Caption 0's photo comes second, caption 1's first; caption 2 scores all three photos the
    # same, so its photo counts as third (pessimistic), not first.
    sim = matrix([[0.5, 0.9, 0.1], [0.2, 0.8, 0.3], [0.4, 0.4, 0.4]])
    t2i = evaluate.text_to_image(sim, [0, 1, 2])
    assert t2i.queries == 3
    assert t2i.recall[1].value == pytest.approx(1 / 3)
    assert t2i.recall[5].value == pytest.approx(1.0)
    assert t2i.mrr.value == pytest.approx((1 / 2 + 1 + 1 / 3) / 3)
    assert t2i.map.value == pytest.approx(t2i.mrr.value)  # one relevant photo a caption


def test_image_to_text_with_five_captions_a_photo() -> None:
    # Two photos, five captions each (rows 0-4 are photo 0's, 5-9 photo 1's). Photo 0's
    # captions stand at ranks 2, 3, 5, 8 and 9 of its column; photo 1's at 1 to 5.
    column0 = [0.9, 0.8, 0.6, 0.3, 0.2, 0.95, 0.7, 0.5, 0.4, 0.1]
    ranked = sorted(range(10), key=lambda i: -column0[i])
    assert [ranked.index(i) + 1 for i in range(5)] == [2, 3, 5, 8, 9]
    column1 = [0.1, 0.2, 0.3, 0.4, 0.5, 0.9, 0.9, 0.8, 0.7, 0.6]
    sim = matrix([[a, b] for a, b in zip(column0, column1, strict=True)])
    owner = [0] * 5 + [1] * 5
    i2t = evaluate.image_to_text(sim, owner)
    assert i2t.queries == 2
    assert i2t.recall[1].value == pytest.approx(0.5)  # photo 0's best caption is second
    assert i2t.recall[5].value == pytest.approx(1.0)
    assert i2t.mrr.value == pytest.approx((1 / 2 + 1) / 2)
    ap0 = (1 / 2 + 2 / 3 + 3 / 5 + 4 / 8 + 5 / 9) / 5
    assert i2t.map.value == pytest.approx((ap0 + 1.0) / 2)


def test_a_caption_tied_with_a_wrong_one_is_ranked_after_it() -> None:
    assert evaluate.relevant_ranks(np.array([0.5, 0.5, 0.1]), np.array([True, False, False])) == [2]
    assert evaluate.relevant_ranks(
        np.array([0.5, 0.5, 0.5, 0.9]), np.array([True, True, False, False])
    ) == [3, 4]


def test_the_interval_holds_the_value_and_is_the_same_on_every_run() -> None:
    rng = np.random.default_rng(1)
    sim = rng.normal(size=(40, 40)).astype(np.float32) + 2 * np.eye(40, dtype=np.float32)
    first = evaluate.text_to_image(sim, list(range(40)))
    again = evaluate.text_to_image(sim, list(range(40)))
    assert first == again
    for figure in (*first.recall.values(), first.mrr):
        assert figure.low <= figure.value <= figure.high
    assert first.recall[1].low < first.recall[1].high  # not all right, not all wrong


def test_a_perfect_model_has_no_uncertainty_left() -> None:
    sim = np.eye(12, dtype=np.float32)
    figure = evaluate.text_to_image(sim, list(range(12))).recall[1]
    assert (figure.value, figure.low, figure.high) == (1.0, 1.0, 1.0)


def test_the_cutoff_is_the_lowest_similarity_with_the_asked_precision() -> None:
    # Pairs by score: 0.9 right, 0.8 right, 0.7 wrong, 0.6 right, 0.5 wrong, 0.4 wrong...
    sim = matrix([[0.9, 0.7, 0.1], [0.5, 0.8, 0.2], [0.4, 0.3, 0.6]])
    owner = [0, 1, 2]
    # At 0.6 and above: 3 right of 4 (0.75); at 0.8 and above: 2 of 2.
    found = evaluate.cutoff(sim, owner, 0.75)
    assert found is not None
    assert found.similarity == pytest.approx(0.6)
    assert (found.reached, found.recall) == (pytest.approx(0.75), pytest.approx(1.0))
    strict = evaluate.cutoff(sim, owner, 0.9)
    assert strict is not None
    assert strict.similarity == pytest.approx(0.8)
    assert strict.recall == pytest.approx(2 / 3)


def test_no_cutoff_when_the_best_pair_is_wrong_and_ties_are_not_split() -> None:
    assert evaluate.cutoff(matrix([[0.1, 0.9], [0.9, 0.1]]), [0, 1], 0.6) is None
    # 0.9 is shared by a right and a wrong pair: together they are half right.
    tied = evaluate.cutoff(matrix([[0.9, 0.9], [0.1, 0.2]]), [0, 1], 0.9)
    assert tied is None


def test_a_matrix_that_does_not_fit_its_captions_is_refused() -> None:
    with pytest.raises(MediafindError, match="every photo needs"):
        evaluate.text_to_image(matrix([[0.1, 0.2]]), [0])
    with pytest.raises(MediafindError, match="2 captions were scored"):
        evaluate.text_to_image(matrix([[0.1], [0.2]]), [0])
    with pytest.raises(MediafindError, match="precision"):
        evaluate.cutoff(matrix([[0.1]]), [0], 1.5)
