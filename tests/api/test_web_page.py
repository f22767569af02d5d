"""The explorer's page as served: its stylesheet and scripts written into it, one ETag, gzip where asked for."""

from __future__ import annotations

import gzip
from importlib import resources
from pathlib import Path

import pytest

from provenance.api import web_page
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
    again = served.client.get("/", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert served.client.get("/", headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize(("header", "takes"), [
    ("gzip", True), ("br, gzip", True), ("GZIP", True), ("*", True), ("gzip;q=0.5", True), ("gzip; q=0", False),
    ("gzip;q=0.000", False), ("gzip;q=x", False), ("identity", False), ("", False), ("x-gzip-not", False),
])
def test_accept_encoding(header: str, takes: bool) -> None:
    assert web_page.accepts_gzip(header) is takes


@pytest.mark.parametrize("closing", ["</script>", "</SCRIPT >"])
def test_a_script_that_would_end_its_element_is_refused_at_start(tmp_path: Path, closing: str) -> None:
    (tmp_path / "index.html").write_text('<head></head><body><script src="/static/app.js"></script></body>')
    (tmp_path / "app.js").write_text(f'const s = "{closing}";\n')
    with pytest.raises(ValueError, match="app.js contains </script"):
        web_page.build(tmp_path)  # type: ignore[arg-type]
    (tmp_path / "app.js").write_text('const s = "<\\/script>";\n')
    assert b'const s = "<\\/script>"' in web_page.build(tmp_path).html  # type: ignore[arg-type]
