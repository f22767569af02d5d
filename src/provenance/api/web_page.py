"""The explorer's page as the node serves it: ``index.html`` with its stylesheet and scripts written into it.

A cold page then costs one request before its scripts run, not four: the browser opens at most six connections to a
host, and the page's own first reads (``index.html`` asks for the view's data before anything else loads) would
otherwise queue the scripts behind them. The files stay separate in the package and are still served under
``/static`` as they are. The page is built once, when the app is built, with its gzip form and an ETag, so a
repeat visit is answered 304 and a slow link gets a fifth of the bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass
from importlib.abc import Traversable

_STYLESHEET = re.compile(r'<link rel="stylesheet" href="/static/([a-z_]+\.css)">')
_SCRIPT = re.compile(r'<script src="/static/([a-z_]+\.js)"></script>')


@dataclass(frozen=True)
class Page:
    html: bytes
    gzipped: bytes
    etag: str  # of the page as it is; each coding is another representation, with its own strong tag
    gzip_etag: str


def build(web: Traversable) -> Page:
    """``index.html`` with every ``/static`` stylesheet and script it names written in place. A file that could end
    its element early (``</style`` or ``</script`` in it, in any case) is refused here, at start, rather than served
    as a broken page."""
    text = web.joinpath("index.html").read_text("utf-8")

    def inline(tag: str, name: str) -> str:
        body = web.joinpath(name).read_text("utf-8")
        if f"</{tag}" in body.lower():
            raise ValueError(f"web/{name} contains </{tag}: it cannot be written into the page")
        return f"<{tag}>\n/* /static/{name} */\n{body}</{tag}>"

    text = _STYLESHEET.sub(lambda m: inline("style", m.group(1)), text)
    text = _SCRIPT.sub(lambda m: inline("script", m.group(1)), text)
    html = text.encode("utf-8")
    tag = hashlib.sha256(html).hexdigest()[:32]
    return Page(html, gzip.compress(html, 9, mtime=0), f'"{tag}"', f'"{tag}-gzip"')


def none_match(header: str, etag: str) -> bool:
    """Whether If-None-Match matches ``etag`` (RFC 9110 13.1.2): ``*``, or any listed tag equal to it under the
    weak comparison (a ``W/`` prefix ignored). A malformed header matches nothing."""
    header = header.strip()
    if header == "*":
        return True
    for tag in header.split(","):
        tag = tag.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag == etag:
            return True
    return False
