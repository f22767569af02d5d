"""Start and stop a Hardhat 2 node (node/hardhat.config.cjs) on a free 127.0.0.1 port for the tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HARDHAT = ROOT / "node" / "node_modules" / ".bin" / "hardhat"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def hardhat_node(*, timeout: float = 90.0) -> Iterator[str]:
    assert HARDHAT.exists(), "Hardhat is not installed: run scripts/test (it installs node/ from npm)"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, HARDHAT_DISABLE_TELEMETRY_PROMPT="true", CI="true")
    proc = subprocess.Popen(
        [str(HARDHAT), "--config", str(ROOT / "node" / "hardhat.config.cjs"), "node", "--hostname", "127.0.0.1",
         "--port", str(port)],
        cwd=ROOT / "node", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
            req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"hardhat exited with {proc.returncode}: {err[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"hardhat did not answer on {url} within {timeout:g}s")
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
