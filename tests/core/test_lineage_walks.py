"""Lineage walks on small graphs whose answers are written out: exact nodes, depths, edges and truncation at
every bound (just inside, on, just outside), the default bounds, and paths."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from provenance.core import lineage
from provenance.core.lineage import Impact, Walk


def graph(edges: dict[str, list[str]]) -> Callable[[str], list[str]]:
    return lambda n: edges.get(n, [])


DIAMOND = graph({"a": ["b", "c"], "b": ["d"], "c": ["d"]})
CYCLE = graph({"a": ["b"], "b": ["a", "c"], "c": ["b"]})


def chain(n: int) -> Callable[[int], list[int]]:
    """0 -> 1 -> ... -> n."""
    return lambda i: [i + 1] if i < n else []


def test_a_diamond() -> None:
    w = lineage.walk("a", DIAMOND)
    assert w == Walk("a", (("b", 1), ("c", 1), ("d", 2)), (("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")), False)
    assert w.ids() == ["b", "c", "d"]


def test_a_cycle_ends() -> None:
    assert lineage.walk("a", CYCLE) == Walk("a", (("b", 1), ("c", 2)), (("a", "b"), ("b", "a"), ("b", "c"),
                                                                       ("c", "b")), False)


def test_a_leaf() -> None:
    assert lineage.walk("z", DIAMOND) == Walk("z", (), (), False)
    assert lineage.walk("z", DIAMOND, max_depth=0, max_nodes=0) == Walk("z", (), (), False)


@pytest.mark.parametrize(("depth", "reached", "truncated"), [(0, 0, True), (1, 1, True), (2, 2, True), (3, 3, False),
                                                               (4, 3, False)])
def test_the_depth_bound(depth: int, reached: int, truncated: bool) -> None:
    w = lineage.walk(0, chain(3), max_depth=depth)
    assert w.nodes == tuple((i, i) for i in range(1, reached + 1))
    assert w.edges == tuple((i - 1, i) for i in range(1, reached + 1))
    assert w.truncated is truncated


STAR = graph({"s": ["1", "2", "3", "4", "5"], "1": ["s"]})


@pytest.mark.parametrize(("limit", "reached", "truncated"), [(0, 0, True), (1, 1, True), (4, 4, True), (5, 5, False),
                                                               (6, 5, False)])
def test_the_node_bound(limit: int, reached: int, truncated: bool) -> None:
    w = lineage.walk("s", STAR, max_nodes=limit)
    assert w.ids() == ["1", "2", "3", "4", "5"][:reached]
    assert w.truncated is truncated
    # an edge back to a node already seen is kept, bound or not
    assert (("1", "s") in w.edges) is (reached >= 1)


def test_negative_bounds_are_refused() -> None:
    for kw in ({"max_depth": -1}, {"max_nodes": -1}, {"max_depth": -1, "max_nodes": -1}):
        with pytest.raises(ValueError) as info:
            lineage.walk("a", DIAMOND, **kw)
        assert str(info.value) == "max_depth and max_nodes must not be negative"


def test_default_bounds() -> None:
    assert lineage.DEFAULT_MAX_DEPTH == 64 and lineage.DEFAULT_MAX_NODES == 100_000
    deep = lineage.walk(0, chain(64))
    assert (len(deep.nodes), deep.nodes[-1], deep.truncated) == (64, (64, 64), False)
    deeper = lineage.walk(0, chain(65))
    assert (len(deeper.nodes), deeper.truncated) == (64, True)
    wide = lineage.walk(-1, lambda n: range(100_001) if n == -1 else ())
    assert (len(wide.nodes), wide.truncated) == (100_000, True)
    exact = lineage.walk(-1, lambda n: range(100_000) if n == -1 else ())
    assert (len(exact.nodes), exact.truncated) == (100_000, False)


def test_ancestors_descendants_impact_pass_the_bounds() -> None:
    assert lineage.ancestors(0, chain(5), max_depth=2).ids() == [1, 2]
    assert lineage.descendants(0, chain(5), max_nodes=3).ids() == [1, 2, 3]
    assert lineage.ancestors(0, chain(5)) == lineage.walk(0, chain(5))
    assert lineage.descendants("a", DIAMOND) == lineage.walk("a", DIAMOND)
    assert lineage.impact("a", DIAMOND) == Impact("a", (("b", 1), ("c", 1), ("d", 2)), False)
    assert lineage.impact(0, chain(5), max_depth=2) == Impact(0, ((1, 1), (2, 2)), True)


def test_inactive_ancestors() -> None:
    inactive = {"c", "d"}
    assert lineage.inactive_ancestors("a", DIAMOND, lambda n: n not in inactive) == (["c", "d"], False)
    assert lineage.inactive_ancestors("a", DIAMOND, lambda n: True) == ([], False)
    assert lineage.inactive_ancestors("a", DIAMOND, lambda n: n not in inactive, max_depth=1) == (["c"], True)


PARENTS = graph({"p": ["q", "x"], "q": ["r"], "x": ["y"], "y": ["r"], "r": ["root"], "root": []})


def test_paths() -> None:
    assert lineage.path("p", "p", PARENTS) == ["p"]
    assert lineage.path("p", "root", PARENTS) == ["p", "q", "r", "root"]  # the shortest of two
    assert lineage.path("p", "y", PARENTS) == ["p", "x", "y"]
    assert lineage.path("root", "p", PARENTS) is None
    assert lineage.path("a", "zz", CYCLE) is None
    assert lineage.path("a", "c", CYCLE) == ["a", "b", "c"]


@pytest.mark.parametrize(("depth", "found"), [(2, False), (3, True), (4, True)])
def test_path_depth_bound(depth: int, found: bool) -> None:
    got = lineage.path(0, 3, chain(10), max_depth=depth)
    assert got == ([0, 1, 2, 3] if found else None)


def test_path_default_depth() -> None:
    assert lineage.path(0, 64, chain(70)) == list(range(65))
    assert lineage.path(0, 65, chain(70)) is None


@pytest.mark.parametrize(("limit", "found"), [(4, False), (5, False), (6, True), (7, True)])
def test_path_node_bound(limit: int, found: bool) -> None:
    # "d" has five other parents before the ancestor: seeing them fills the visited set to six
    parents = graph({"d": ["x1", "x2", "x3", "x4", "x5", "t"]})
    assert lineage.path("d", "t", parents, max_nodes=limit) == (["d", "t"] if found else None)


def test_path_default_node_bound() -> None:
    wide = lambda n: [*range(99_999), "t"] if n == "d" else []  # noqa: E731
    assert lineage.path("d", "t", wide) == ["d", "t"]
    wider = lambda n: [*range(100_000), "t"] if n == "d" else []  # noqa: E731
    assert lineage.path("d", "t", wider) is None


def test_a_bound_skips_only_the_new_node() -> None:
    """Past a bound the walk still records the edges to nodes it has seen (a cycle's or diamond's closing edge)."""
    by_count = lineage.walk("s", graph({"s": ["1", "2", "s", "1"]}), max_nodes=1)
    assert by_count == Walk("s", (("1", 1),), (("s", "1"), ("s", "s"), ("s", "1")), True)
    by_depth = lineage.walk("a", graph({"a": ["b"], "b": ["c", "a"]}), max_depth=1)
    assert by_depth == Walk("a", (("b", 1),), (("a", "b"), ("b", "a")), True)
