"""The query dialog's reading of what is typed: a query, NAME: query to save it, a saved name to reopen it."""

from __future__ import annotations

import pytest

from mnist_tui.analysis.query import QueryError
from mnist_tui.screens.marking import QueryChoice, read_choice

SAVED = {"sevens": "label 7 and pred 9"}


def test_a_plain_query_an_empty_one_a_named_one_and_a_saved_name():
    assert read_choice("  label  7 ", SAVED)[0] == QueryChoice("label 7")
    assert read_choice("", SAVED) == (QueryChoice(""), None)
    choice, query = read_choice("Low: conf < 0.6", SAVED)
    assert choice == QueryChoice("conf < 0.6", "low") and query is not None
    assert read_choice("SEVENS", SAVED)[0] == QueryChoice("label 7 and pred 9")


def test_an_error_after_a_name_points_into_the_whole_text():
    with pytest.raises(QueryError) as caught:
        read_choice("low:  conf < x", SAVED)
    assert caught.value.position == len("low:  conf < ")


def test_a_query_cannot_be_named_like_a_condition():
    with pytest.raises(QueryError, match="a word of queries"):
        read_choice("mistakes: label 7", SAVED)
