"""A JSON-RPC endpoint in the middle: it forwards every call to a real chain and rewrites the document carried by
every ``MetadataPublished`` log it returns (one byte of the title changed), as a compromised endpoint or a
tampering network would. The node behind it must never show such a document, and must count it."""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from eth_hash.auto import keccak

METADATA_PUBLISHED = "0x" + keccak(b"MetadataPublished(bytes32,uint16,bytes)").hex()


def _tamper(data_hex: str) -> str:
    """ABI ``bytes`` in a log's data: offset, length, then the bytes. Change the first ASCII letter of the text."""
    raw = bytearray(bytes.fromhex(data_hex.removeprefix("0x")))
    length = int.from_bytes(raw[32:64], "big")
    doc = raw[64:64 + length]
    for i, b in enumerate(doc):
        if 0x61 <= b <= 0x7A and i > 10:  # a lower-case letter inside the document, not in its first key
            doc[i] = b ^ 0x20
            break
    raw[64:64 + length] = doc
    return "0x" + raw.hex()


class TamperingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.tampered = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - the http.server interface
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                req = urllib.request.Request(proxy.upstream, data=body, headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=60) as r:
                    answer = json.loads(r.read())
                calls = answer if isinstance(answer, list) else [answer]
                for call in calls:
                    result = call.get("result")
                    if isinstance(result, list):
                        for log in result:
                            if isinstance(log, dict) and (log.get("topics") or [None])[0] == METADATA_PUBLISHED:
                                log["data"] = _tamper(log["data"])
                                proxy.tampered += 1
                out = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
