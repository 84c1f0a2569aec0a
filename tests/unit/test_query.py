"""The query language: every form selects what it says, every error says where and what was expected."""

from __future__ import annotations

import time

import numpy as np
import pytest

from mnist_tui.analysis.query import Query, QueryData, QueryError, parse, tokenize

# five images: index, label, predicted, confidence, p(true)
LABELS = np.array([7, 7, 3, 9, 7])
PROBS = np.full((5, 10), 0.0)
PROBS[0, 7] = 0.95  # right, sure
PROBS[1, 9], PROBS[1, 7] = 0.55, 0.45  # 7 read as 9, unsure
PROBS[2, 3] = 0.7  # right
PROBS[3, 4], PROBS[3, 9] = 0.8, 0.2  # 9 read as 4
PROBS[4, 7] = 0.5  # right, unsure
for row in PROBS:
    row[row == 0] = (1 - row.sum()) / (row == 0).sum()
TAGS = {"mislabelled": np.array([0, 1, 0, 0, 0], bool), "ugly": np.array([0, 0, 0, 1, 1], bool)}
DATA = QueryData.from_probabilities(PROBS, LABELS, TAGS, relabelled=np.array([0, 1, 0, 0, 0], bool))


def picked(text: str) -> list[int]:
    return np.flatnonzero(Query.read(text).mask(DATA)).tolist()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("label 7", [0, 1, 4]),
        ("LABEL 7", [0, 1, 4]),
        ("label 3..7", [0, 1, 2, 4]),
        ("label != 7", [2, 3]),
        ("pred 9", [1]),
        ("pred 3..4", [2, 3]),
        ("conf < 0.6", [1, 4]),
        ("conf <= 0.55", [1, 4]),
        ("conf > 0.7", [0, 3]),
        ("conf >= 0.7", [0, 2, 3]),
        ("conf = 0.5", [4]),
        ("conf 0.5..0.7", [1, 2, 4]),
        ("conf 50%..70%", [1, 2, 4]),
        ("conf<60%", [1, 4]),
        ("ptrue < 0.3", [3]),
        ("score > 0.5", [1, 3]),
        ("score 0.5..0.6", [1, 4]),
        ("mistakes", [1, 3]),
        ("correct", [0, 2, 4]),
        ("tag mislabelled", [1]),
        ("tag ugly", [3, 4]),
        ("tag nothing-yet", []),
        ("tagged", [1, 3, 4]),
        ("relabelled", [1]),
        ("index 1..3", [1, 2, 3]),
        ("index 2", [2]),
        ("index >= 3", [3, 4]),
        ("label 7 and pred 9 and conf < 0.6", [1]),
        ("label 7 and not mistakes", [0, 4]),
        ("not not mistakes", [1, 3]),
        ("pred 9 or pred 4", [1, 3]),
        ("label 3 or label 9 and mistakes", [2, 3]),  # and binds tighter
        ("(label 3 or label 9) and mistakes", [3]),
        ("  label   7  ", [0, 1, 4]),
        ("conf .5..0.7", [1, 2, 4]),
    ],
)
def test_every_form_selects_what_it_says(text, expected):
    assert picked(text) == expected


@pytest.mark.parametrize(
    "text, column, expected, message",
    [
        ("", 1, "a condition", "the query is empty"),
        ("   ", 1, "a condition", "the query is empty"),
        ("label", 6, "a whole number after label", "got the end"),
        ("label x", 7, "a whole number after label", "got 'x'"),
        ("label 7.5", 7, "a whole number", "label takes a whole number"),
        ("label 12", 7, "a class number", "not a class (0 to 9)"),
        ("pred 10", 6, "a class number", "not a class"),
        ("conf", 5, "a number from 0 to 1 (or a percentage) after conf", "got the end"),
        ("conf < high", 8, "a number from 0 to 1 (or a percentage) after conf", "got 'high'"),
        ("conf < 1.5", 8, "a number from 0 to 1 (or a percentage)", "a probability from 0 to 1"),
        ("conf 150%", 6, "a number from 0 to 1 (or a percentage)", "got 150%"),
        ("conf 0.6..0.4", 11, "a number of at least 0.6", "is empty"),
        ("conf < 0.4..0.6", 11, "a condition after conf < 0.4 (a range takes no <)", "got '..'"),
        ("conf 0.4..", 11, "a number from 0 to 1 (or a percentage) after conf", "got the end"),
        ("index 5..2", 10, "a number of at least 5", "is empty"),
        ("index -1", 7, "a number from 0 to 1", ""),  # '-' is not a token
        ("tag", 4, "a tag name (a word such as mislabelled)", "got the end"),
        ("tag 7", 5, "a tag name (a word such as mislabelled)", "got '7'"),
        ("labl 7", 1, "a condition", "unknown word 'labl'"),
        ("label 7 pred 9", 9, "and, or, or the end", "got 'pred'"),
        ("label 7 and", 12, "a condition", "got the end"),
        ("label 7 or", 11, "a condition", "got the end"),
        ("and label 7", 1, "a condition", "unknown word 'and'"),
        ("not", 4, "a condition", "got the end"),
        ("(label 7", 9, "')' to close the '(' at column 1", "got the end"),
        ("label 7)", 8, "and, or, or the end", "')' without a '('"),
        ("label 7 & pred 9", 9, "", "unexpected character '&'"),
        ("7", 1, "a condition", "got '7'"),
        ("conf <", 7, "a number from 0 to 1 (or a percentage) after conf", "got the end"),
    ],
)
def test_every_error_says_where_and_what_was_expected(text, column, expected, message):
    if text == "index -1":
        with pytest.raises(QueryError) as caught:
            parse(text)
        assert caught.value.position == 6 and "unexpected character '-'" in caught.value.message
        return
    with pytest.raises(QueryError) as caught:
        parse(text)
    error = caught.value
    assert error.position + 1 == column, str(error)
    assert error.expected == expected or (not expected and error.expected == "")
    assert message in error.message
    assert str(error).startswith(f"column {column}: ")


def test_tokens_keep_their_positions():
    tokens = tokenize("conf 0.4..0.6")
    assert [(t.kind, t.text, t.position) for t in tokens] == [
        ("word", "conf", 0),
        ("number", "0.4", 5),
        ("range", "..", 8),
        ("number", "0.6", 10),
        ("end", "", 13),
    ]


def test_classes_follow_the_dataset():
    with pytest.raises(QueryError, match="0 to 2"):
        parse("label 3", classes=3)
    assert parse("label 2", classes=3)


def test_select_keeps_the_view_order_and_says_when_tags_matter():
    query = Query.read("label  7 and   conf < 0.6")
    assert query.text == "label 7 and conf < 0.6"
    assert query.select(np.array([4, 3, 1, 0]), DATA).tolist() == [4, 1]
    assert not query.uses_tags
    assert Query.read("label 7 and not tag ugly").uses_tags
    assert Query.read("mistakes or relabelled").uses_tags
    assert Query.read("(tagged)").uses_tags


def test_a_query_over_ten_thousand_images_takes_under_5_ms():
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(10), size=10_000)
    labels = rng.integers(0, 10, 10_000)
    tags = {"mislabelled": rng.random(10_000) < 0.01}
    data = QueryData.from_probabilities(probabilities, labels, tags)
    query = Query.read("label 7 and pred 9 and conf 0.4..0.6 or tag mislabelled and score > 0.5")
    timings = []
    for _ in range(50):
        start = time.perf_counter()
        query.mask(data)
        timings.append(time.perf_counter() - start)
    assert sorted(timings)[len(timings) // 2] < 0.005
