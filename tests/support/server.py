"""A node served by a real uvicorn process on 127.0.0.1 and a free port, stopped when the block ends."""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def node_process(data_dir: Path, passphrase_file: Path, *extra: str, timeout: float = 60.0) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "PROVENANCE_PASSPHRASE": passphrase_file.read_text()}
    log = open(data_dir.parent / f"serve-{port}.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "provenance.cli", "--data-dir", str(data_dir), "serve",
                             "--host", "127.0.0.1", "--port", str(port), *extra],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the node exited: {(data_dir.parent / f'serve-{port}.log').read_text()}")
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the node did not start in time")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@contextmanager
def demo_node(demo_dir: tuple[Path, dict[str, Any]], folder: Path, *extra: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A copy of the demo federation served by a real process; yields its URL and an admin token's headers."""
    from provenance.api.auth import TokenStore
    from tests.support.passphrase import passphrase

    src, _demo = demo_dir
    data = folder / "data"
    shutil.copytree(src, data)
    token = TokenStore(data).create("admin", "hostile-admin")
    passphrase(folder)
    with node_process(data, folder / "passphrase.txt", *extra) as url:
        yield url, {"Authorization": f"Bearer {token}"}


def raw_request(url: str, request: bytes, *, timeout: float = 20.0) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are over a fresh connection; the status, headers (lower-cased) and body of the answer.

    The request goes in pieces, and sending stops as soon as the server answers: a server that answers and closes
    while unread bytes wait resets the connection, which can discard its answer before the client reads it."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        for i in range(0, len(request), 8192):
            if select.select([s], [], [], 0)[0]:
                break  # answered already
            try:
                s.sendall(request[i:i + 8192])
            except (BrokenPipeError, ConnectionResetError):
                break
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
            head, sep, rest = data.partition(b"\r\n\r\n")
            if sep:
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:]
                               if line.lower().startswith(b"content-length:")), None)
                if length is not None and len(rest) >= length:
                    break
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if len(lines[0].split()) > 1 else 0
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if headers.get("content-length", "").isdigit():
        body = body[:int(headers["content-length"])]  # the first answer only (the request may have held two)
    return status, headers, body


@contextmanager
def threaded_server(app: Any, *, deadlines: dict[str, float], **options: Any) -> Iterator[tuple[str, int]]:
    """The node's server configuration (``api.server.config``: uvicorn with its h11 protocol) around ``app``, in a
    thread on a free port, with the protocol's deadlines (``head_timeout``, ``body_timeout``, ...) set for the
    tests; yields (host, port)."""
    import pytest
    import uvicorn

    from provenance.api.server import ProblemH11Protocol, config

    patch = pytest.MonkeyPatch()
    for name, seconds in deadlines.items():
        patch.setattr(ProblemH11Protocol, name, seconds)
    srv = uvicorn.Server(config(app, host="127.0.0.1", port=free_port(), **options))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield "127.0.0.1", srv.config.port
    finally:
        srv.should_exit = True
        thread.join(10)
        patch.undo()
