"""GET registrations?latest=true: the newest `limit` records in one request (the explorer's first page)."""

from __future__ import annotations

from tests.support.served import Served


def test_latest_is_the_tail_of_the_whole_listing(served: Served) -> None:
    c = served.client
    total = c.get("/health").json()["index"]["records"]
    every = c.get("/api/v1/registrations", params={"limit": 1000}).json()["results"]
    assert len(every) == total > 3
    for limit in (1, 3, total, total + 5):
        page = c.get("/api/v1/registrations", params={"latest": "true", "limit": limit}).json()
        assert [r["id"] for r in page["results"]] == [r["id"] for r in every[-limit:]]
        assert page["next"] == every[-1]["seq"]
    paged = c.get("/api/v1/registrations", params={"after": total - 4, "limit": 3}).json()
    assert paged == c.get("/api/v1/registrations", params={"latest": "true", "limit": 3}).json()


def test_latest_takes_no_filter_and_no_cursor(served: Served) -> None:
    for extra in ({"kind": "product"}, {"after": 2}, {"registrar": "SDE"}):
        r = served.client.get("/api/v1/registrations", params={"latest": "true", **extra})
        assert r.status_code == 422 and "latest" in r.json()["detail"], r.text
