"""A plain in-memory graph model of lineage: random DAGs (parent lists), their children, and breadth-first
distances, for the property tests of the lineage walks (core) and of the index's (indexer)."""

from __future__ import annotations

from collections import deque

from hypothesis import strategies as st


@st.composite
def dags(draw: st.DrawFn, max_nodes: int = 40) -> dict[int, list[int]]:
    n = draw(st.integers(1, max_nodes))
    parents: dict[int, list[int]] = {}
    for i in range(n):
        if i == 0:
            parents[i] = []
            continue
        parents[i] = draw(st.lists(st.integers(0, i - 1), max_size=4, unique=True))
    return parents


def children_of(parents: dict[int, list[int]]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {i: [] for i in parents}
    for child, ps in parents.items():
        for p in ps:
            out[p].append(child)
    return out


def distances(start: int, step: dict[int, list[int]]) -> dict[int, int]:
    dist = {start: 0}
    q = deque([start])
    while q:
        node = q.popleft()
        for nxt in step[node]:
            if nxt not in dist:
                dist[nxt] = dist[node] + 1
                q.append(nxt)
    del dist[start]
    return dist

