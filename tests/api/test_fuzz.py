"""Schema-driven fuzzing of every endpoint (schemathesis against the node's own OpenAPI document), and hostile
bodies (nested around the depth limit, a key repeated) on every JSON route of a real server process.

Each operation gets schema-conforming (positive) and schema-violating (negative) requests, with an admin token so
writes get past authorisation and reach the contracts. No request may produce a server error, and every refusal
must be an RFC 9457 problem document.

The budget: PROVENANCE_FUZZ_CASES cases per operation and mode (default 100), so every operation with a parameter
or a body is fuzzed at least twice that (200 requests; a small input space that runs dry is topped up with violating
requests from other seeds). Operations without any parameter or body have a finite input space: for them Hypothesis
stops when it has tried every distinct request, so the floor applies to the others. The default keeps this file to
about 8 minutes on two shared cores (schemathesis' generation, not the requests, takes most of it);
PROVENANCE_FUZZ_CASES=500 is the deeper run the suite used to make (1,000 per operation, about 25 minutes in CI).
Generation is derandomized (seed 0, then seeds 1-5 for top-ups), so a run is reproducible and a failure found in CI
is found again locally with the same budget.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from provenance.core.ijson import MAX_DEPTH
from tests.support.served import Served
from tests.support.server import demo_node

CASES_PER_MODE = int(os.environ.get("PROVENANCE_FUZZ_CASES", "100"))
if CASES_PER_MODE < 1:
    raise ValueError(f"PROVENANCE_FUZZ_CASES must be a positive number of cases, not {CASES_PER_MODE}")
MIN_CASES = 2 * CASES_PER_MODE  # both modes' full budget, for every operation that takes input


def operations(served: Served) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", served.client.app)
    return [r.ok() for r in schema.get_all_operations()]


def fuzzer(op: Any, label: str, mode: GenerationMode, headers: dict[str, str], counts: Counter[str],
           statuses: Counter[int], failures: list[str], *, rerun: int = 0) -> Any:
    @settings(max_examples=CASES_PER_MODE, deadline=None, database=None, derandomize=rerun == 0,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @seed(rerun)
    @given(case=op.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        counts[label] += 1
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            failures.append(f"{label} [{mode.value}] -> {response.status_code}: {response.text[:300]} "
                            f"for {case.path_parameters} {case.query} {str(case.body)[:200]}")
        elif response.status_code >= 400 and "application/problem+json" not in \
                str(response.headers.get("content-type", "")):
            failures.append(f"{label} [{mode.value}] -> {response.status_code} is not a problem document")

    return run


@pytest.mark.slow
def test_every_endpoint_survives_fuzzing(served: Served) -> None:
    counts: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    headers = served.auth("admin")
    ops = operations(served)
    assert len(ops) >= 25

    timing: dict[str, float] = {}
    for op in ops:
        label = f"{op.method.upper()} {op.path}"
        started = time.perf_counter()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run = fuzzer(op, label, mode, headers, counts, statuses, failures)
            try:
                run()
            except Unsatisfiable:
                # Nothing can violate the schema of an operation that takes no input at all.
                assert mode is GenerationMode.NEGATIVE and not (op.path_parameters or op.query or op.body), label
        rerun = 0
        while counts[label] < MIN_CASES and (op.path_parameters or op.query or op.body) and rerun < 5:
            # A small input space (a body of one boolean, say) runs dry before the floor: more violating
            # requests, from other seeds, until it is reached.
            rerun += 1
            fuzzer(op, label, GenerationMode.NEGATIVE, headers, counts, statuses, failures, rerun=rerun)()
        timing[label] = time.perf_counter() - started

    report = ", ".join(f"{k}: {v} ({timing[k]:.1f} s)" for k, v in sorted(counts.items()))
    print(f"\nfuzzed {sum(counts.values())} requests over {len(ops)} operations; statuses {dict(statuses)}\n{report}")
    assert not failures, "\n".join(failures[:20])
    with_inputs = [o for o in ops if o.path_parameters or o.query or o.body]
    few = {f"{o.method.upper()} {o.path}": counts[f"{o.method.upper()} {o.path}"] for o in with_inputs
           if counts[f"{o.method.upper()} {o.path}"] < MIN_CASES}
    assert not few, f"operations fuzzed fewer than {MIN_CASES} times: {few}"


# ---------------------------------------------------------------------- hostile bodies on a real server process


@pytest.fixture(scope="module")
def node(demo_dir: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[str, dict[str, str]]]:
    with demo_node(demo_dir, tmp_path_factory.mktemp("fuzz-node"), "--rate", "0") as served:
        yield served


def fresh_connections() -> httpx.Client:
    """One client for a test's requests, each on a new connection as before: a client is built once, not per request
    (building one loads the CA bundle, about 140 ms here, which was most of these tests' time)."""
    return httpx.Client(timeout=60, limits=httpx.Limits(max_keepalive_connections=0))


def json_routes(url: str) -> list[tuple[str, str]]:
    """(method, path with its parameters filled) of every operation of the served OpenAPI document with a body."""
    doc = httpx.get(url + "/openapi.json", timeout=30).json()
    out = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if "requestBody" not in op:
                continue
            filled = path
            for p in op.get("parameters", []):
                if p["in"] == "path":
                    schema = p.get("schema", {})
                    value = "0x" + "11" * 32 if "0x" in schema.get("pattern", "") else \
                        "1" if schema.get("type") == "integer" else "SDE"
                    filled = filled.replace("{" + p["name"] + "}", value)
            out.append((method.upper(), filled))
    return out


def nested_body(depth: int, kind: str) -> bytes:
    """An object (as every route takes) nesting ``depth`` levels in all."""
    if kind == "arrays":
        return b'{"x": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"
    return b'{"x": ' * (depth - 1) + b"{}" + b"}" * (depth - 1)


@pytest.mark.slow
@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 1025, 100_000])
@pytest.mark.parametrize("kind", ["arrays", "objects"])
def test_every_json_route_at_depths_around_the_limit(node: tuple[str, dict[str, str]], depth: int, kind: str) -> None:
    url, admin = node
    routes = json_routes(url)
    assert len(routes) >= 20
    body = nested_body(depth, kind)
    wrong = []
    with fresh_connections() as http:
        for method, path in routes:
            for content_type in ("application/json", None):
                headers = {**admin, **({"Content-Type": content_type} if content_type else {})}
                r = http.request(method, url + path, content=body, headers=headers)
                problem = r.headers.get("content-type", "").startswith("application/problem+json")
                kind_of = r.json().get("type", "") if problem else ""
                if depth > MAX_DEPTH:
                    ok = r.status_code == 422 and kind_of.endswith("nesting-too-deep")
                else:  # within the limit the body reaches the route, which refuses its shape
                    ok = r.status_code < 500 and (r.status_code < 400 or problem) and \
                        not kind_of.endswith("nesting-too-deep")
                if not ok:
                    wrong.append((method, path, content_type, r.status_code, r.text[:160]))
    assert not wrong, wrong[:5]
    assert httpx.get(url + "/health", timeout=10).status_code == 200


def hostile_variants(op: Any, http: httpx.Client, url: str, admin: dict[str, str], counts: Counter[str],
                     failures: list[str]) -> Any:
    label = f"{op.method.upper()} {op.path}"

    @settings(max_examples=8, deadline=None, database=None, derandomize=True, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy(generation_mode=GenerationMode.POSITIVE))
    def run(case: Any) -> None:
        if not isinstance(case.body, dict) or not case.body:
            return
        target = url + case.formatted_path
        first = next(iter(case.body))
        members = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in case.body.items())
        repeated = "{" + f"{json.dumps(first)}: {json.dumps(['repeated'])}, " + members + "}"
        deep = "{" + members + ', "zz": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}"
        for variant, text, want in (("repeated", repeated, "duplicate-key"), ("deep", deep, "nesting-too-deep")):
            r = http.request(case.method, target, content=text.encode(), params=case.query,
                             headers={**admin, "Content-Type": "application/json"})
            counts[variant] += 1
            if r.status_code != 422 or not r.json().get("type", "").endswith(want):
                failures.append(f"{label} [{variant}] -> {r.status_code}: {r.text[:200]}")
            elif variant == "repeated" and r.json().get("key") != first:
                failures.append(f"{label} [repeated] names {r.json().get('key')!r}, not {first!r}")

    return run


@pytest.mark.slow
def test_schemathesis_bodies_with_a_key_repeated_or_nested_too_deep(node: tuple[str, dict[str, str]]) -> None:
    """Schema-conforming bodies that schemathesis generates for each operation, sent to the real server with their
    first key written twice (a different value first), or with one more member nesting past the limit: each is
    refused for its form (422, the repeated key named) whatever its content, and the server keeps serving."""
    url, admin = node
    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    counts: Counter[str] = Counter()
    failures: list[str] = []
    with fresh_connections() as http:
        for op in (r.ok() for r in schema.get_all_operations()):
            if op.body:
                hostile_variants(op, http, url, admin, counts, failures)()
    assert not failures, "\n".join(failures[:20])
    assert counts["repeated"] >= 40 and counts["deep"] >= 40, counts
    assert httpx.get(url + "/health", timeout=10).status_code == 200
