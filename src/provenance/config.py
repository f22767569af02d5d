"""Node configuration: ``<data-dir>/node.toml``, written by ``provenance init``.

    [node]
    key = "SDE"                  # keystore label of the key this node signs with by default

    [chain]
    backend = "embedded"         # or "rpc"
    chain_id = 1502
    rpc_url = ""                 # for backend = "rpc"
    ws = ""                      # rpc: a ws(s):// URL of the same chain; new heads wake the follower (else it polls)
    receipt_timeout = 120        # seconds to wait for a receipt
    sync_writes = true           # embedded: fsync every block

    [contracts]                  # pinned at deployment; a node refuses a chain where they differ
    federation = "0x..."
    registry = "0x..."
    block = 2

    [keystore]
    scrypt_n = 262144

    [index]                      # the LevelDB lineage index under <data-dir>/index
    confirmations = 0            # index up to the head less this many blocks
    reorg_depth = 64             # blocks kept with undo records; a deeper reorg stops the follower
    max_range = 2000             # blocks per eth_getLogs request (split further if the endpoint refuses)

    [tlog]                       # C2SP witnesses this node pushes its log's checkpoints to (none by default)
    witnesses = ["http://127.0.0.1:8001/api/v1/tlog"]   # tlog-witness URL prefixes: POST <prefix>/add-checkpoint;
                                 # "<prefix> <vkey>" names the witness's cosignature key (else asked of <prefix>/keys)
    timeout = 5                  # seconds per request to a witness
    retries = 3                  # attempts per witness and checkpoint (a 409 moves the old size and tries again)

    [api]
    public_url = "https://sde.example/node"   # where others reach this node: written into the documents it signs
                                 # (certificates' credentialStatus, status lists, DCAT ids); `serve --public-url`
                                 # overrides it, and without either it is http://<serve --host>:<serve --port>
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from provenance.chain.contracts import Deployment
from provenance.core import note
from provenance.core.ijson import MAX_DEPTH
from provenance.errors import ConfigError
from provenance.store.keystore import DEFAULT_SCRYPT_N

CONFIG_NAME = "node.toml"
MAX_CONFIG_BYTES = 1024 * 1024
"""Largest node.toml read (the one written by init is under 1 KiB)."""


@dataclass(frozen=True)
class ChainConfig:
    backend: str = "embedded"
    chain_id: int | None = None
    rpc_url: str = ""
    ws: str = ""  # off unless set: no rule says where an endpoint serves WebSocket (anvil: its HTTP port; Besu: 8546)
    receipt_timeout: float = 120.0
    sync_writes: bool = True


@dataclass(frozen=True)
class IndexConfig:
    confirmations: int = 0
    reorg_depth: int = 64
    max_range: int = 2000


MAX_WITNESSES = 16


@dataclass(frozen=True)
class Witness:
    """A C2SP witness: its tlog-witness URL prefix and, if known, its cosignature verifier key (a vkey)."""

    url: str
    vkey: str = ""

    @classmethod
    def parse(cls, entry: str, source: str) -> Witness:
        url, _, vkey = entry.strip().partition(" ")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ConfigError(f"{source}: [tlog] witnesses are http(s) URL prefixes, optionally followed by a "
                              f"space and the witness's vkey, not {entry!r}")
        vkey = vkey.strip()
        if vkey:
            try:
                key = note.Verifier.from_vkey(vkey)
            except note.MalformedKey as exc:
                raise ConfigError(f"{source}: [tlog] witness {url}'s vkey: {exc.message}") from exc
            if key.sig_type != note.SIG_COSIGNATURE_V1:
                raise ConfigError(f"{source}: [tlog] witness {url}'s vkey is not a cosignature (type 0x04) key")
        return cls(url.rstrip("/"), vkey)

    def __str__(self) -> str:
        return f"{self.url} {self.vkey}" if self.vkey else self.url


@dataclass(frozen=True)
class TlogConfig:
    witnesses: tuple[Witness, ...] = ()
    timeout: float = 5.0
    retries: int = 3


MAX_PUBLIC_URL = 512


def check_public_url(url: str, setting: str) -> str:
    """The node's public base URL, as documents name it: an absolute http(s) URL with a host, no user, query or
    fragment; the trailing slash is dropped so that ``<base>/api/v1/...`` has one. Signed documents carry it for
    their whole life, so a wrong one is refused here rather than issued."""
    parts = urlsplit(url)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if (not url.isascii() or len(url) > MAX_PUBLIC_URL or any(ord(c) < 0x21 or c in '<>"{}|\\^`' for c in url)
            or parts.scheme not in ("http", "https") or not parts.hostname or parts.username is not None
            or parts.password is not None or "?" in url or "#" in url or not port_ok):
        raise ConfigError(f"{setting} must be an http:// or https:// URL with a host and no user, query "
                          f"or fragment (at most {MAX_PUBLIC_URL} ASCII characters), not {url!r}")
    return url.rstrip("/")


@dataclass(frozen=True)
class ApiConfig:
    public_url: str | None = None  # None: the address `serve` listens on


PUBLIC_URL_ENV = "PROVENANCE_PUBLIC_URL"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"


def public_url(data_dir: Path, default: str = DEFAULT_PUBLIC_URL) -> str:
    """The one base URL this node writes into its documents: PROVENANCE_PUBLIC_URL (which ``serve`` sets from
    --public-url, so that every part of the process names the same), else node.toml's [api] public_url, else
    ``default`` (``serve``'s own address; for the other commands, the one scripts/run serves on)."""
    env = os.environ.get(PUBLIC_URL_ENV)
    if env:
        return check_public_url(env, PUBLIC_URL_ENV)
    if (data_dir / CONFIG_NAME).exists():
        configured = NodeConfig.load(data_dir).api.public_url
        if configured is not None:
            return configured
    return check_public_url(default, "the default public URL")


@dataclass(frozen=True)
class NodeConfig:
    data_dir: Path
    key: str
    chain: ChainConfig
    deployment: Deployment | None
    scrypt_n: int = DEFAULT_SCRYPT_N
    index: IndexConfig = IndexConfig()
    tlog: TlogConfig = TlogConfig()
    api: ApiConfig = ApiConfig()

    @classmethod
    def load(cls, data_dir: Path) -> NodeConfig:
        path = data_dir / CONFIG_NAME
        try:
            with path.open("rb") as fh:
                data = fh.read(MAX_CONFIG_BYTES + 1)
            if len(data) > MAX_CONFIG_BYTES:
                raise ConfigError(f"{path} is more than {MAX_CONFIG_BYTES} bytes: not a node configuration")
            text = data.decode("utf-8")
            check_toml_depth(text, str(path))
            raw = tomllib.loads(text)
        except FileNotFoundError:
            raise ConfigError(
                f"{data_dir} is not an initialised data directory (no {CONFIG_NAME}); run `provenance init` first"
            ) from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from exc
        return cls.from_dict(data_dir, raw, source=str(path))

    @classmethod
    def from_dict(cls, data_dir: Path, raw: dict[str, Any], *, source: str = "config") -> NodeConfig:
        try:
            node = raw.get("node", {})
            ch = raw.get("chain", {})
            chain = ChainConfig(
                backend=str(ch.get("backend", "embedded")),
                chain_id=int(ch["chain_id"]) if "chain_id" in ch else None,
                rpc_url=str(ch.get("rpc_url", "")),
                ws=str(ch.get("ws", "")),
                receipt_timeout=float(ch.get("receipt_timeout", 120)),
                sync_writes=bool(ch.get("sync_writes", True)),
            )
            contracts = raw.get("contracts")
            deployment = None
            if contracts:
                if chain.chain_id is None:
                    raise ConfigError(f"{source}: [chain] chain_id is required when [contracts] is set")
                deployment = Deployment.from_json({"chain_id": chain.chain_id, **contracts})
            ix = raw.get("index", {})
            index = IndexConfig(confirmations=int(ix.get("confirmations", 0)),
                                reorg_depth=int(ix.get("reorg_depth", 64)), max_range=int(ix.get("max_range", 2000)))
            tl = raw.get("tlog", {})
            entries = tl.get("witnesses", [])
            if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
                raise ConfigError(f"{source}: [tlog] witnesses is a list of strings")
            if len(entries) > MAX_WITNESSES:
                raise ConfigError(f"{source}: [tlog] names at most {MAX_WITNESSES} witnesses")
            tlog_cfg = TlogConfig(witnesses=tuple(Witness.parse(e, source) for e in entries),
                                  timeout=float(tl.get("timeout", 5)), retries=int(tl.get("retries", 3)))
            api = raw.get("api", {})
            if not isinstance(api, dict):
                raise ConfigError(f"{source}: [api] is a table")
            url = api.get("public_url")
            if url is not None and not isinstance(url, str):
                raise ConfigError(f"{source}: [api] public_url is a string, not {url!r}")
            api_cfg = ApiConfig(None if url is None else check_public_url(url, f"{source}: [api] public_url"))
            cfg = cls(
                data_dir=data_dir,
                key=str(node.get("key", "")),
                chain=chain,
                deployment=deployment,
                scrypt_n=int(raw.get("keystore", {}).get("scrypt_n", DEFAULT_SCRYPT_N)),
                index=index,
                tlog=tlog_cfg,
                api=api_cfg,
            )
        except ConfigError:
            raise
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigError(f"{source}: invalid value: {exc}") from exc
        if chain.backend not in ("embedded", "rpc"):
            raise ConfigError(f"{source}: [chain] backend must be 'embedded' or 'rpc', not {chain.backend!r}")
        if chain.backend == "rpc" and not chain.rpc_url:
            raise ConfigError(f"{source}: [chain] rpc_url is required for the rpc backend")
        if chain.ws and (chain.backend != "rpc" or urlsplit(chain.ws).scheme not in ("ws", "wss")
                         or not urlsplit(chain.ws).hostname):
            raise ConfigError(f"{source}: [chain] ws must be a ws:// or wss:// URL, for the rpc backend only, "
                              f"not {chain.ws!r}")
        if chain.receipt_timeout <= 0:
            raise ConfigError(f"{source}: [chain] receipt_timeout must be positive")
        if not 0 < cfg.tlog.timeout <= 300 or not 1 <= cfg.tlog.retries <= 10:
            raise ConfigError(f"{source}: [tlog] timeout is 0 to 300 seconds and retries 1 to 10")
        if cfg.index.confirmations < 0 or cfg.index.reorg_depth < 1 or cfg.index.max_range < 1:
            raise ConfigError(f"{source}: [index] confirmations >= 0, reorg_depth >= 1 and max_range >= 1")
        return cfg

    def with_deployment(self, deployment: Deployment) -> NodeConfig:
        return replace(self, deployment=deployment, chain=replace(self.chain, chain_id=deployment.chain_id))

    def with_key(self, key: str) -> NodeConfig:
        return replace(self, key=key)

    def to_toml(self) -> str:
        lines = ["# provenance node configuration (written by `provenance init`)", "", "[node]",
                 f"key = {_q(self.key)}", "", "[chain]", f"backend = {_q(self.chain.backend)}"]
        if self.chain.chain_id is not None:
            lines.append(f"chain_id = {self.chain.chain_id}")
        lines.append(f"rpc_url = {_q(self.chain.rpc_url)}")
        if self.chain.ws:
            lines.append(f"ws = {_q(self.chain.ws)}")
        lines += [f"receipt_timeout = {self.chain.receipt_timeout:g}",
                  f"sync_writes = {'true' if self.chain.sync_writes else 'false'}", ""]
        if self.deployment is not None:
            d = self.deployment.to_json()
            lines += ["[contracts]", f"federation = {_q(d['federation'])}", f"registry = {_q(d['registry'])}"]
            if "cross_border" in d:
                lines.append(f"cross_border = {_q(d['cross_border'])}")
            if "property_register" in d:
                lines.append(f"property_register = {_q(d['property_register'])}")
            lines += [f"block = {d['block']}", ""]
        lines += ["[keystore]", f"scrypt_n = {self.scrypt_n}", "",
                  "[index]", f"confirmations = {self.index.confirmations}",
                  f"reorg_depth = {self.index.reorg_depth}", f"max_range = {self.index.max_range}", ""]
        if self.tlog != TlogConfig():
            lines += ["[tlog]", "witnesses = [" + ", ".join(_q(str(w)) for w in self.tlog.witnesses) + "]",
                      f"timeout = {self.tlog.timeout:g}", f"retries = {self.tlog.retries}", ""]
        if self.api.public_url is not None:
            lines += ["[api]", f"public_url = {_q(self.api.public_url)}", ""]
        return "\n".join(lines)

    def save(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / CONFIG_NAME
        tmp = path.with_suffix(".tmp")
        tmp.write_text(self.to_toml(), "utf-8")
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)


# What can nest in TOML: arrays and inline tables. Strings (four kinds) and comments are skipped whole, so that a
# bracket inside them does not count; table headers ([t], [[t]]) open and close on their line.
_TOML_TOKENS = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'.*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*'
                          r"|[\[\]{}]", re.S)


def check_toml_depth(text: str, source: str, max_depth: int = MAX_DEPTH) -> None:
    """Refuse (ConfigError) TOML nesting arrays or inline tables deeper than ``max_depth``, before tomllib reads
    it: tomllib recurses once a level, up to whatever the recursion limit is (py_ecc raises it to 100,000)."""
    depth = 0
    for token in _TOML_TOKENS.finditer(text):
        c = token.group()
        if c in "[{":
            depth += 1
            if depth > max_depth:
                raise ConfigError(f"{source}: arrays or inline tables nest more than {max_depth} levels deep "
                                  f"(line {text.count(chr(10), 0, token.start()) + 1})")
        elif c in "]}":
            depth -= 1


def _q(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
