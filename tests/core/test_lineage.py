"""Property tests of the lineage walks against a plain in-memory graph model, on random DAGs (and on corrupted
graphs with cycles, which must still terminate)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from provenance.core import lineage
from tests.support.lineage import children_of, dags, distances


@given(g=dags(), data=st.data())
def test_ancestors_and_descendants_match_the_model(g: dict[int, list[int]], data: st.DataObject) -> None:
    start = data.draw(st.sampled_from(sorted(g)))
    kids = children_of(g)
    for step, walk in ((g, lineage.ancestors), (kids, lineage.descendants)):
        w = walk(start, lambda n, s=step: s[n])
        assert dict(w.nodes) == distances(start, step) and not w.truncated
        assert len(w.ids()) == len(set(w.ids()))
        for a, b in w.edges:
            assert b in step[a]


@given(g=dags(), data=st.data())
def test_bounds_cut_and_say_so(g: dict[int, list[int]], data: st.DataObject) -> None:
    start = data.draw(st.sampled_from(sorted(g)))
    max_depth = data.draw(st.integers(0, 5))
    max_nodes = data.draw(st.integers(0, 10))
    full = distances(start, g)
    w = lineage.ancestors(start, lambda n: g[n], max_depth=max_depth, max_nodes=max_nodes)
    got = dict(w.nodes)
    assert all(d <= max_depth for d in got.values()) and len(got) <= max_nodes
    assert all(full[n] == d for n, d in got.items())
    within = {n for n, d in full.items() if d <= max_depth}
    assert w.truncated == (len(within) > len(got) or any(d > max_depth for d in full.values()))


@given(g=dags(), data=st.data())
def test_path_is_a_shortest_chain_of_parent_links(g: dict[int, list[int]], data: st.DataObject) -> None:
    a = data.draw(st.sampled_from(sorted(g)))
    b = data.draw(st.sampled_from(sorted(g)))
    p = lineage.path(a, b, lambda n: g[n])
    dist = distances(a, g)
    if a == b:
        assert p == [a]
    elif b not in dist:
        assert p is None
    else:
        assert p is not None and p[0] == a and p[-1] == b and len(p) == dist[b] + 1
        for child, parent in zip(p, p[1:], strict=False):
            assert parent in g[child]


@given(g=dags(max_nodes=20), data=st.data())
def test_cycles_in_a_corrupted_graph_terminate(g: dict[int, list[int]], data: st.DataObject) -> None:
    a = data.draw(st.sampled_from(sorted(g)))
    b = data.draw(st.sampled_from(sorted(g)))
    g[a] = [*g[a], b]  # possibly a cycle (b may be a descendant of a), possibly a self-loop
    w = lineage.ancestors(b, lambda n: g[n])
    assert len(w.ids()) == len(set(w.ids())) and b not in w.ids()
    lineage.path(a, b, lambda n: g[n])
    lineage.impact(a, lambda n: children_of(g)[n])


def test_inactive_ancestors_flags_the_affected() -> None:
    g = {0: [], 1: [0], 2: [1], 3: []}
    status = {0: False, 1: True, 2: True, 3: True}
    assert lineage.inactive_ancestors(2, lambda n: g[n], lambda n: status[n]) == ([0], False)
    assert lineage.inactive_ancestors(3, lambda n: g[n], lambda n: status[n]) == ([], False)
