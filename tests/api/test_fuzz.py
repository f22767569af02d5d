"""Schema-driven fuzzing of every endpoint (schemathesis against the node's own OpenAPI document).

Each operation gets schema-conforming (positive) and schema-violating (negative) requests, with an admin token so
writes get past authorisation and reach the contracts. No request may produce a server error, and every refusal
must be an RFC 9457 problem document. Operations without any parameter or body have a finite input space: for
them Hypothesis stops when it has tried every distinct request, so the 1,000-case floor applies to the others.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.api.conftest import Served

CASES_PER_MODE = int(os.environ.get("PROVENANCE_FUZZ_CASES", "500"))
MIN_CASES = 1000 if CASES_PER_MODE >= 500 else 2 * CASES_PER_MODE - 100


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
