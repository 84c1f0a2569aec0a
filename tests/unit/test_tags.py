"""Tags, relabels and named queries in the run store: per image of a dataset split, with when and from which run."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_tui.runs import StoreError, open_store
from mnist_tui.runs.schema import current_version
from mnist_tui.runs.tags import BUILT_IN, Marks, TagBook, check_tag


@pytest.fixture
def book(tmp_path):
    clock = iter(range(1000, 2000)).__next__
    return TagBook(open_store(tmp_path / "store", clock=lambda: float(clock())), size=20)


def test_tags_belong_to_images_and_record_when_and_from_which_run(book):
    assert book.add([3, 5, 3], "mislabelled", run_id=7) == 2
    assert book.add([5], "mislabelled", run_id=8) == 0  # the first record stays
    book.add([5], "ambiguous")
    marks = book.read()
    assert marks.tags == {3: ("mislabelled",), 5: ("ambiguous", "mislabelled")}
    entries = book.entries()
    assert [(e.index, e.tag, e.run_id) for e in entries] == [
        (3, "mislabelled", 7),
        (5, "ambiguous", None),
        (5, "mislabelled", 7),
    ]
    assert entries[0].made_at == entries[2].made_at < entries[1].made_at


def test_a_new_store_has_the_tag_tables_at_the_current_version(tmp_path):
    store = open_store(tmp_path)
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == current_version()
    tables = {row[0] for row in store._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"tags", "relabels", "queries"} <= tables


def test_tags_outlive_a_reopened_store_and_stay_per_split(tmp_path):
    TagBook(open_store(tmp_path), size=20).add([1], "fine")
    again = open_store(tmp_path)
    assert TagBook(again, size=20).read().tags == {1: ("fine",)}
    assert TagBook(again, split="train", size=20).read().tags == {}


def test_toggle_tags_all_unless_all_have_it(book):
    assert book.toggle([1, 2], "fine") is True
    assert book.toggle([2, 3], "fine") is True  # 3 lacked it
    assert book.read().tags == {1: ("fine",), 2: ("fine",), 3: ("fine",)}
    assert book.toggle([2, 3], "fine") is False
    assert book.read().tags == {1: ("fine",)}
    assert book.remove([1], "fine") == 1 and book.read().tags == {}


def test_typed_tags_are_lowercase_words(book):
    book.add([0], "Blurry")
    assert book.read().tags == {0: ("blurry",)}
    for bad in ("", "two words", "7up", "x" * 33, "semi;colon"):
        with pytest.raises(StoreError, match="cannot be a tag"):
            check_tag(bad)
    assert check_tag(" Ok-ish_2 ") == "ok-ish_2"


def test_images_outside_the_split_are_refused(book):
    with pytest.raises(StoreError, match="image 20 is not in the test set"):
        book.add([1, 20], "fine")
    assert book.read().tags == {}  # nothing half-done
    with pytest.raises(StoreError, match="-1"):
        book.relabel([-1], 3)


def test_relabels_replace_and_can_be_forgotten(book):
    book.relabel([4], 9, run_id=2)
    book.relabel([4, 6], 1, run_id=3)
    assert book.read().relabels == {4: 1, 6: 1}
    assert [(e.index, e.label, e.run_id) for e in book.entries()] == [(4, 1, 3), (6, 1, 3)]
    with pytest.raises(StoreError, match="10 is not a label"):
        book.relabel([4], 10)
    assert book.unrelabel([4, 5]) == 1
    assert book.read().relabels == {6: 1}


def test_marks_give_masks_and_a_corrected_copy():
    marks = Marks({1: ("mislabelled",), 3: ("ambiguous", "blurry"), 4: ("mislabelled",)}, {1: 7}, size=5)
    masks = marks.masks()
    assert masks["mislabelled"].tolist() == [False, True, False, False, True]
    assert masks["blurry"].tolist() == [False, False, False, True, False]
    assert marks.names() == ["mislabelled", "ambiguous", "blurry"]
    assert marks.relabelled().tolist() == [False, True, False, False, False]
    labels = np.array([0, 1, 2, 3, 4], np.uint8)
    fixed = marks.corrected(labels)
    assert fixed.tolist() == [0, 7, 2, 3, 4] and labels.tolist() == [0, 1, 2, 3, 4]
    assert fixed.dtype == np.uint8
    assert BUILT_IN == ("mislabelled", "ambiguous", "fine")


def test_named_queries(book):
    book.save_query("Sevens", "label 7 and pred 9")
    book.save_query("low", "conf < 0.6")
    book.save_query("sevens", "label 7")
    assert book.queries() == {"low": "conf < 0.6", "sevens": "label 7"}
    assert book.forget_query("LOW") and not book.forget_query("low")
    with pytest.raises(StoreError, match="cannot name a query"):
        book.save_query("two words", "mistakes")


def test_corrected_accuracy_and_every_runs_rescore(tmp_path):
    from mnist_tui.config import TrainConfig
    from mnist_tui.runs.tags import corrected_accuracy, rescored

    probabilities = np.eye(10)[[1, 2, 3, 4]]  # predicts 1, 2, 3, 4
    labels = np.array([1, 2, 7, 7])
    assert corrected_accuracy(probabilities, labels, {}) == 0.5
    assert corrected_accuracy(probabilities, labels, {2: 3}) == 0.75
    store = open_store(tmp_path)
    run = store.create_run(TrainConfig(epochs=1))
    store.save_probabilities(run, probabilities, labels)
    assert rescored(store, [run]) == {}  # nothing relabelled: nothing to show
    TagBook(store).relabel([2, 3], 3)
    assert rescored(store, [run, 99]) == {run: 0.75}  # a run without predictions is left out
    TagBook(store).relabel([3], 4)
    assert rescored(store, [run]) == {run: 1.0}
