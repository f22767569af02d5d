"""Lineage over a record graph given as functions: ancestors, descendants, a path, and impact.

Pure: the graph is whatever ``parents_of`` / ``children_of`` return (the LevelDB index, an in-memory model
in the tests). Every walk is breadth first, bounded by ``max_depth`` and ``max_nodes``, and keeps a visited
set, so even a corrupted index with a cycle cannot make it loop; a result says when a bound cut it short.
Node keys are opaque hashable values (the index uses its dense record numbers).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

N = TypeVar("N", bound=Hashable)

DEFAULT_MAX_DEPTH = 64
DEFAULT_MAX_NODES = 100_000


@dataclass(frozen=True)
class Walk(Generic[N]):
    """Nodes reached (with their depth, in breadth-first order, the start excluded), the edges followed as
    (from, to) pairs, and whether a bound stopped the walk."""

    start: N
    nodes: tuple[tuple[N, int], ...]
    edges: tuple[tuple[N, N], ...]
    truncated: bool

    def ids(self) -> list[N]:
        return [n for n, _ in self.nodes]


def walk(start: N, step: Callable[[N], Iterable[N]], *, max_depth: int = DEFAULT_MAX_DEPTH,
         max_nodes: int = DEFAULT_MAX_NODES) -> Walk[N]:
    if max_depth < 0 or max_nodes < 0:
        raise ValueError("max_depth and max_nodes must not be negative")
    seen: set[N] = {start}
    nodes: list[tuple[N, int]] = []
    edges: list[tuple[N, N]] = []
    queue: deque[tuple[N, int]] = deque([(start, 0)])
    truncated = False
    while queue:
        node, depth = queue.popleft()
        for nxt in step(node):
            if nxt in seen:
                edges.append((node, nxt))  # a diamond (or, in a corrupted index, a cycle): edge, no revisit
                continue
            if depth + 1 > max_depth or len(nodes) >= max_nodes:
                truncated = True
                continue
            seen.add(nxt)
            edges.append((node, nxt))
            nodes.append((nxt, depth + 1))
            queue.append((nxt, depth + 1))
    return Walk(start, tuple(nodes), tuple(edges), truncated)


def ancestors(start: N, parents_of: Callable[[N], Iterable[N]], **bounds: int) -> Walk[N]:
    return walk(start, parents_of, **bounds)


def descendants(start: N, children_of: Callable[[N], Iterable[N]], **bounds: int) -> Walk[N]:
    return walk(start, children_of, **bounds)


def path(descendant: N, ancestor: N, parents_of: Callable[[N], Iterable[N]], *,
         max_depth: int = DEFAULT_MAX_DEPTH, max_nodes: int = DEFAULT_MAX_NODES) -> list[N] | None:
    """A shortest derivation path from ``descendant`` up to ``ancestor`` (both included), or None."""
    if descendant == ancestor:
        return [descendant]
    came_from: dict[N, N] = {}
    seen: set[N] = {descendant}
    queue: deque[tuple[N, int]] = deque([(descendant, 0)])
    while queue:
        node, depth = queue.popleft()
        if depth >= max_depth:
            continue
        for parent in parents_of(node):
            if parent in seen or len(seen) > max_nodes:
                continue
            seen.add(parent)
            came_from[parent] = node
            if parent == ancestor:
                out = [parent]
                while out[-1] != descendant:
                    out.append(came_from[out[-1]])
                return out[::-1]
            queue.append((parent, depth + 1))
    return None


@dataclass(frozen=True)
class Impact(Generic[N]):
    """Descendants affected because an ancestor is not active (revoked, suspended or superseded)."""

    start: N
    affected: tuple[tuple[N, int], ...]
    truncated: bool


def impact(start: N, children_of: Callable[[N], Iterable[N]], **bounds: int) -> Impact[N]:
    """Every descendant of ``start``: what is affected when ``start`` is revoked or suspended."""
    w = walk(start, children_of, **bounds)
    return Impact(start, w.nodes, w.truncated)


def inactive_ancestors(start: N, parents_of: Callable[[N], Iterable[N]], is_active: Callable[[N], bool],
                       **bounds: int) -> tuple[list[N], bool]:
    """The ancestors of ``start`` that are not active (a product with such an ancestor is flagged)."""
    w = walk(start, parents_of, **bounds)
    return [n for n, _ in w.nodes if not is_active(n)], w.truncated
