"""A federation on one machine: a local JSON-RPC chain (Hardhat 2, node/) and three exchange nodes, each its own
process with its own keys, data directory and LevelDB index, cooperating only through the chain.

``provenance devnet up`` starts the chain, deploys the contracts once (from Shanghai's node), attaches the two
partners' nodes to the deployed addresses, admits them by the federation's threshold governance (the threshold
becomes 2, so the third exchange is admitted by two approvals), and starts the three nodes' HTTP services on
consecutive ports. ``down`` stops them all (nodes first, then the chain).

Two chains serve: **anvil** (the default of ``provenance devnet``; the ``@foundry-rs/anvil`` npm package's binary)
keeps its blocks, receipts and state in ``<dir>/chain/state.json`` (written every few seconds and on exit), so
``up`` after ``down`` resumes the same federation: the same genesis, contracts, records and data directories, and
each node's index carries on from its checkpoint. **Hardhat** (the tests' chain) lives in memory, so its federation
does not outlive ``down``: ``up`` after ``down`` starts a new one (the old data directories are moved aside, never
deleted). A saved anvil state that no longer matches the data directories (another genesis, contracts missing) is
refused rather than mixed with them.

This is the development stand-in for a consortium chain: the nodes are started with the same commands an operator
runs against a real endpoint (`provenance init --rpc-url ... [--federation ... --registry ...]`, `provenance
serve`); only the funding of keys (``hardhat_setBalance``) is particular to the local chain.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provenance.chain.contracts import Contracts
from provenance.chain.registry import RegistryService
from provenance.chain.rpc import RpcChain
from provenance.config import NodeConfig
from provenance.core import ijson
from provenance.dev.demo import EXCHANGES
from provenance.errors import ChainError, ConfigError, NotFound
from provenance.services.bootstrap import init_node
from provenance.store.keystore import Keystore, PassphraseSource
from provenance.store.tokens import TokenStore

STATE = "devnet.json"
MAX_ANSWER_BYTES = 16 * 1024 * 1024
DEFAULT_NODE_DIR = Path(__file__).resolve().parents[3] / "node"
FUNDS = 10**22  # wei given to each exchange key on the local chain
CHAINS = ("anvil", "hardhat")
STATE_INTERVAL_S = 5  # anvil writes its state file this often, besides on exit: a SIGKILL loses at most this much


@dataclass(frozen=True)
class Member:
    code: str
    name: str
    data_dir: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_file(self) -> Path:
        return self.data_dir / "devnet-admin.token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of this process is not alive
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return False


def _stop(pid: int, *, timeout: float = 20.0) -> None:
    """SIGTERM the process group, SIGKILL it if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            if not _alive(pid):
                return
            time.sleep(0.1)


def _get(url: str, timeout: float = 2.0) -> Any:
    """A node's JSON answer, read as I-JSON within 16 MiB (another process's answer is outside input)."""
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return ijson.loads(r.read(MAX_ANSWER_BYTES + 1), max_bytes=MAX_ANSWER_BYTES, what=f"the answer of {url}")


class Devnet:
    def __init__(self, root: Path, *, base_port: int = 8601, chain_port: int = 8545, passphrase: str = "devnet",
                 node_dir: Path = DEFAULT_NODE_DIR, scrypt_n: int | None = None, chain: str = "hardhat") -> None:
        if chain not in CHAINS:
            raise ConfigError(f"devnet chain must be one of {', '.join(CHAINS)}, not {chain!r}")
        self.chain = chain
        self.root = root
        self.base_port = base_port
        self.chain_port = chain_port
        self.passphrase = passphrase
        self.node_dir = node_dir
        self.scrypt_n = scrypt_n
        self.members = [Member(code, name, root / code, base_port + i) for i, (code, name) in enumerate(EXCHANGES)]

    # ------------------------------------------------------------------ state

    @property
    def chain_url(self) -> str:
        return f"http://127.0.0.1:{self.chain_port}"

    def state(self) -> dict[str, Any]:
        path = self.root / STATE
        return json.loads(path.read_text()) if path.exists() else {}

    def _save(self, state: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / (STATE + ".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        os.replace(tmp, self.root / STATE)

    def member(self, code: str) -> Member:
        for m in self.members:
            if m.code == code:
                return m
        raise NotFound(f"no exchange {code!r} in this federation")

    def _pass(self) -> PassphraseSource:
        path = self.root / ".passphrase"
        if not path.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(self.passphrase)
        return PassphraseSource(env=None, file=path, prompt=False)

    # ------------------------------------------------------------------ up / down

    def up(self, say: Any = print) -> dict[str, Any]:
        state = self.state()
        if state.get("chain") and _alive(state["chain"]["pid"]):
            raise ConfigError(f"a federation is already running from {self.root} (chain pid {state['chain']['pid']}); "
                              f"run `provenance devnet down --dir {self.root}` first")
        self.root.mkdir(parents=True, exist_ok=True)
        resume = self._resumable(state)
        if not resume:
            self._retire_old_dirs()
            (self.root / "chain" / "state.json").unlink(missing_ok=True)
        state = {**(state if resume else {}), "chain": self._start_chain(say)}
        state.pop("stopped", None)
        state.pop("nodes", None)
        self._save(state)
        try:
            if resume:
                self._check_resumed(state, say)
            else:
                state["contracts"] = self._deploy_and_admit(say)
                state["genesis"] = self._genesis()
            self._save(state)
            state["nodes"] = {}
            for m in self.members:
                state["nodes"][m.code] = self.start_node(m.code)
                self._save(state)
                say(f"{m.code} node serving on {m.url} (data {m.data_dir}, admin token in {m.token_file})")
        except BaseException:
            self.down(say=lambda _m: None)
            raise
        return state

    def down(self, say: Any = print) -> None:
        state = self.state()
        for code, info in (state.get("nodes") or {}).items():
            if _alive(info["pid"]):
                _stop(info["pid"])
                say(f"stopped the {code} node (pid {info['pid']})")
        chain = state.get("chain")
        if chain and _alive(chain["pid"]):
            _stop(chain["pid"])
            say(f"stopped the chain (pid {chain['pid']})")
        if state:
            self._save({**state, "stopped": True})

    def _resumable(self, state: dict[str, Any]) -> bool:
        """An anvil federation whose chain state was saved resumes; anything else starts anew."""
        return (self.chain == "anvil" and state.get("chain", {}).get("kind") == "anvil"
                and bool(state.get("contracts")) and bool(state.get("genesis"))
                and (self.root / "chain" / "state.json").is_file()
                and all(m.data_dir.exists() for m in self.members))

    def _genesis(self) -> str:
        chain = RpcChain(self.chain_url)
        try:
            return "0x" + chain.get_block(0).hash.hex()
        finally:
            chain.close()

    def _check_resumed(self, state: dict[str, Any], say: Any) -> None:
        """The reloaded chain must be the one the data directories were made on, with the contracts deployed."""
        genesis = self._genesis()
        if genesis != state["genesis"]:
            raise ChainError(f"the saved chain state in {self.root / 'chain'} has genesis {genesis}, but this "
                             f"federation was made on {state['genesis']}; move {self.root} aside to start anew")
        chain = RpcChain(self.chain_url)
        try:
            for name in ("federation", "registry", "cross_border"):
                address = state["contracts"].get(name)
                if address and not chain.get_code(bytes.fromhex(address.removeprefix("0x"))):
                    raise ChainError(f"the saved chain state has no {name} contract at {address}; move {self.root} "
                                     f"aside to start anew")
            head = chain.block_number()
        finally:
            chain.close()
        say(f"resumed the federation from {self.root / 'chain' / 'state.json'} at block {head}")

    def _retire_old_dirs(self) -> None:
        """The chain of a previous federation is gone: move its nodes' data aside (keys included) and start anew."""
        existing = [m.data_dir for m in self.members if m.data_dir.exists()]
        if not existing:
            return
        aside = self.root / f"previous-{int(time.time())}"
        aside.mkdir(parents=True)
        for d in existing:
            d.rename(aside / d.name)

    # ------------------------------------------------------------------ the chain

    def _chain_command(self) -> list[str]:
        if self.chain == "anvil":
            found = sorted(self.node_dir.glob("node_modules/@foundry-rs/anvil-*/bin/anvil"))
            if not found:
                raise ConfigError(f"anvil is not installed under {self.node_dir} (the @foundry-rs/anvil npm package "
                                  f"ships a binary for Linux x64, macOS and Windows): run `npm ci` there "
                                  f"(scripts/federation does it), or use --chain hardhat")
            state_dir = self.root / "chain"
            state_dir.mkdir(parents=True, exist_ok=True)
            # --state loads the file if it exists and dumps to it on exit; --preserve-historical-states keeps the
            # state at past blocks, so calls "at block N" (a certificate's block) still answer after a restart.
            return [str(found[0]), "--host", "127.0.0.1", "--port", str(self.chain_port), "--hardfork", "cancun",
                    "--state", str(state_dir / "state.json"), "--state-interval", str(STATE_INTERVAL_S),
                    "--preserve-historical-states", "--silent"]
        hardhat = self.node_dir / "node_modules" / ".bin" / "hardhat"
        if not hardhat.exists():
            raise ConfigError(f"Hardhat is not installed under {self.node_dir}: run `npm ci` there "
                              f"(scripts/federation does it)")
        return [str(hardhat), "--config", str(self.node_dir / "hardhat.config.cjs"), "node",
                "--hostname", "127.0.0.1", "--port", str(self.chain_port)]

    def _start_chain(self, say: Any) -> dict[str, Any]:
        command = self._chain_command()
        log = open(self.root / "chain.log", "w")  # noqa: SIM115 - handed to the child
        env = dict(os.environ, HARDHAT_DISABLE_TELEMETRY_PROMPT="true", CI="true")
        proc = subprocess.Popen(command, cwd=self.node_dir, stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
        log.close()
        deadline = time.monotonic() + 90
        while True:
            try:
                chain = RpcChain(self.chain_url, request_timeout=2)
                chain_id = chain.chain_id
                chain.close()
                break
            except ChainError:
                if proc.poll() is not None:
                    raise ChainError(f"the chain exited: {(self.root / 'chain.log').read_text()[-2000:]}") from None
                if time.monotonic() > deadline:
                    _stop(proc.pid)
                    raise ChainError(f"the chain did not answer on {self.chain_url} within 90 s") from None
                time.sleep(0.3)
        say(f"chain {chain_id} ({'anvil, state kept' if self.chain == 'anvil' else 'Hardhat, in memory'}, "
            f"cancun) on {self.chain_url}")
        return {"url": self.chain_url, "pid": proc.pid, "chain_id": chain_id, "kind": self.chain}

    def _fund(self, chain: RpcChain, address: str) -> None:
        chain.request("hardhat_setBalance", [address, hex(FUNDS)])

    # ------------------------------------------------------------------ contracts and governance

    def _deploy_and_admit(self, say: Any) -> dict[str, Any]:
        pw = self._pass()
        chain = RpcChain(self.chain_url)
        try:
            first, *partners = self.members
            keys = {}
            for m in self.members:
                ks = Keystore(m.data_dir / "keystore", pw, **({"scrypt_n": self.scrypt_n} if self.scrypt_n else {}))
                keys[m.code] = ks.load(m.code) if ks.has(m.code) else ks.create(m.code)
                self._fund(chain, keys[m.code].address)
            cfg = init_node(first.data_dir, exchange=first.code, name=first.name, passphrase=pw,
                            rpc_url=self.chain_url, scrypt_n=self.scrypt_n)
            assert cfg.deployment is not None
            dep = cfg.deployment.to_json()
            say(f"{first.code} deployed the federation at {dep['federation']} and the registry at {dep['registry']}")
            for m in partners:
                init_node(m.data_dir, exchange=m.code, name=m.name, passphrase=pw, rpc_url=self.chain_url,
                          federation=dep["federation"], registry=dep["registry"],
                          cross_border=dep.get("cross_border"), scrypt_n=self.scrypt_n)
                say(f"{m.code} attached to the deployed contracts")
            svc = RegistryService(Contracts.attach(chain, cfg.deployment))
            sde = keys[first.code]
            second, third = partners
            svc.propose_add_exchange(sde, second.code, second.name, keys[second.code])  # the key signs its consent
            svc.propose_threshold(sde, 2)
            pid = svc.propose_add_exchange(sde, third.code, third.name, keys[third.code]).proposal_id
            out = svc.approve(keys[second.code], pid)
            assert out.executed
            say(f"{second.code} admitted; threshold 2; {third.code} admitted with the approvals of "
                f"{first.code} and {second.code}")
            for m in self.members:
                # The index starts at the deployment block for every node.
                NodeConfig.load(m.data_dir).with_deployment(cfg.deployment).save()
                token = TokenStore(m.data_dir).create("admin", "devnet-admin")
                fd = os.open(m.token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as fh:
                    fh.write(token + "\n")
            return dep
        finally:
            chain.close()

    # ------------------------------------------------------------------ nodes

    def start_node(self, code: str, *, wait: float = 60.0) -> dict[str, Any]:
        """Start (or restart) one exchange's node process and wait until it answers."""
        m = self.member(code)
        log = open(m.data_dir / "serve.log", "a")  # noqa: SIM115 - handed to the child
        env = dict(os.environ, PROVENANCE_PASSPHRASE=self.passphrase)
        proc = subprocess.Popen([sys.executable, "-m", "provenance.cli", "--data-dir", str(m.data_dir), "serve",
                                 "--host", "127.0.0.1", "--port", str(m.port)],
                                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        log.close()
        deadline = time.monotonic() + wait
        while True:
            try:
                if _get(m.url + "/health", timeout=1)["status"] in ("ok", "degraded"):
                    break
            except (urllib.error.URLError, OSError, ValueError):
                pass
            if proc.poll() is not None:
                tail = (m.data_dir / "serve.log").read_text()[-2000:]
                raise ConfigError(f"the {code} node exited with {proc.returncode}:\n{tail}")
            if time.monotonic() > deadline:
                _stop(proc.pid)
                raise ConfigError(f"the {code} node did not answer on {m.url} within {wait:g} s")
            time.sleep(0.2)
        state = self.state()
        info = {"pid": proc.pid, "url": m.url, "data_dir": str(m.data_dir), "token_file": str(m.token_file)}
        state.setdefault("nodes", {})[code] = info
        self._save(state)
        return info

    def kill_node(self, code: str, sig: int = signal.SIGKILL) -> None:
        info = self.state().get("nodes", {}).get(code)
        if info is None:
            raise NotFound(f"no {code} node was started")
        try:
            os.killpg(info["pid"], sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 20
        while _alive(info["pid"]) and time.monotonic() < deadline:
            try:
                os.waitpid(info["pid"], os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.05)

    def token(self, code: str) -> str:
        return self.member(code).token_file.read_text().strip()

    def status(self) -> dict[str, Any]:
        state = self.state()
        out: dict[str, Any] = {"root": str(self.root), "contracts": state.get("contracts")}
        chain = state.get("chain")
        out["chain"] = {**chain, "running": _alive(chain["pid"])} if chain else None
        nodes = {}
        for code, info in (state.get("nodes") or {}).items():
            health = None
            if _alive(info["pid"]):
                try:
                    health = _get(info["url"] + "/health")
                except (urllib.error.URLError, OSError, ValueError):
                    health = None
            nodes[code] = {**info, "running": health is not None, "health": health}
        out["nodes"] = nodes
        return out
