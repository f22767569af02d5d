"""The explorer's page as served: its stylesheet and scripts written into it, one ETag, gzip where asked for."""

from __future__ import annotations

import gzip
from importlib import resources
from pathlib import Path

import pytest

from provenance.api import negotiate, web_page
from tests.support.served import Served

WEB = resources.files("provenance") / "web"


def test_the_page_carries_its_stylesheet_and_scripts(served: Served) -> None:
    res = served.client.get("/", headers={"Accept-Encoding": "identity"})
    assert res.status_code == 200 and res.headers["content-type"] == "text/html; charset=utf-8"
    html = res.text
    assert '<script src="/static/' not in html and 'href="/static/style.css"' not in html
    for name in ("app.js", "property.js", "catalog.js", "style.css"):
        body = WEB.joinpath(name).read_text("utf-8")
        assert body in html, name
        # ... and the files are still served on their own, as they are
        assert served.client.get(f"/static/{name}").text == body
    # the scripts keep their order: the app first, then what it calls
    assert html.index("/* /static/app.js */") < html.index("/* /static/property.js */") \
        < html.index("/* /static/catalog.js */")


def test_gzip_and_etag(served: Served) -> None:
    plain = served.client.get("/", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.headers["vary"] == "Accept-Encoding"
    # httpx decodes gzip itself: ask for the raw bytes to see the encoding
    with served.client.stream("GET", "/", headers={"Accept-Encoding": "gzip"}) as res:
        raw = b"".join(res.iter_raw())
        assert res.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == plain.content and len(raw) < len(plain.content) / 3
    etag = plain.headers["etag"]
    again = served.client.get("/", headers={"If-None-Match": etag, "Accept-Encoding": "identity"})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert served.client.get("/", headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize(("header", "q"), [
    ("gzip", 1.0), ("br, gzip", 1.0), ("GZIP", 1.0), ("*", 1.0), ("gzip;q=0.5", 0.5), ("gzip; q=0", 0.0),
    ("gzip;q=0.000", 0.0), ("gzip;q=x", 0.0), ("gzip;q=1.1", 0.0), ("gzip;q=inf", 0.0), ("identity", 0.0), ("", 0.0),
    ("x-gzip-not", 0.0), ("*, gzip;q=0", 0.0), ("*;q=0, gzip", 1.0), ("*;q=0.3", 0.3),
])
def test_the_quality_of_gzip(header: str, q: float) -> None:
    assert negotiate.coding_quality(header, "gzip") == q


@pytest.mark.parametrize(("header", "etag", "matches"), [
    ('"a"', '"a"', True), ('W/"a"', '"a"', True), ('"b", "a"', '"a"', True), ("*", '"a"', True),
    ('"a"x', '"a"', False), ('"ab"', '"a"', False), ("", '"a"', False), ("a", '"a"', False),
])
def test_if_none_match(header: str, etag: str, matches: bool) -> None:
    assert web_page.none_match(header, etag) is matches


@pytest.mark.parametrize("closing", ["</script>", "</SCRIPT >"])
def test_a_script_that_would_end_its_element_is_refused_at_start(tmp_path: Path, closing: str) -> None:
    (tmp_path / "index.html").write_text('<head></head><body><script src="/static/app.js"></script></body>')
    (tmp_path / "app.js").write_text(f'const s = "{closing}";\n')
    with pytest.raises(ValueError, match="app.js contains </script"):
        web_page.build(tmp_path)  # type: ignore[arg-type]
    (tmp_path / "app.js").write_text('const s = "<\\/script>";\n')
    assert b'const s = "<\\/script>"' in web_page.build(tmp_path).html  # type: ignore[arg-type]
