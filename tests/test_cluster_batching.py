"""How ``policylens.cluster.batched`` groups documents into Dask tasks (no cluster needed)."""

from __future__ import annotations

import pytest

from policylens.cluster import batched


def _groups(sizes, **limits):
    return list(batched(((name, size) for name, size in sizes), **limits))


def test_a_batch_closes_when_the_next_entry_would_pass_the_size():
    sizes = [("a", 4), ("b", 4), ("c", 4), ("d", 1)]
    assert _groups(sizes, max_size=10) == [["a", "b"], ["c", "d"]]


def test_an_entry_that_fills_the_batch_exactly_closes_it():
    assert _groups([("a", 6), ("b", 4), ("c", 1)], max_size=10) == [["a", "b"], ["c"]]
    assert _groups([("a", 10), ("b", 1)], max_size=10) == [["a"], ["b"]]


def test_an_entry_larger_than_the_size_travels_alone():
    sizes = [("a", 3), ("big", 25), ("b", 3), ("c", 3)]
    assert _groups(sizes, max_size=10) == [["a"], ["big"], ["b", "c"]]


def test_the_entry_limit_closes_a_batch_before_the_size():
    sizes = [(str(i), 1) for i in range(7)]
    assert _groups(sizes, max_size=100, max_items=3) == [["0", "1", "2"], ["3", "4", "5"], ["6"]]
    assert _groups(sizes, max_size=100) == [[str(i) for i in range(7)]]
    assert _groups(sizes, max_size=100, max_items=1) == [[str(i)] for i in range(7)]


def test_empty_entries_and_empty_input():
    assert _groups([("a", 0), ("b", 0), ("c", 5)], max_size=5) == [["a", "b", "c"]]
    assert _groups([], max_size=5) == []


def test_entries_are_consumed_lazily():
    """A batch is handed out before the entries after it are read (bounded memory)."""
    read = []

    def entries():
        for i in range(6):
            read.append(i)
            yield i, 5

    groups = batched(entries(), max_size=10)
    assert next(groups) == [0, 1]
    assert read == [0, 1]
    assert list(groups) == [[2, 3], [4, 5]]


@pytest.mark.parametrize("sizes", [[1] * 50, [7, 3, 12, 1, 1, 9, 30, 2, 2, 2, 10, 4], [0, 11, 0]])
def test_batches_concatenate_to_the_input_and_respect_the_limits(sizes):
    entries = list(enumerate(sizes))
    groups = list(batched(iter(entries), max_size=10, max_items=4))
    assert [i for group in groups for i in group] == list(range(len(sizes)))
    for group in groups:
        assert 1 <= len(group) <= 4
        assert sum(sizes[i] for i in group) <= 10 or len(group) == 1
