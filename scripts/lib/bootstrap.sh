# Shared by scripts/run, scripts/test and .ci/run: make what the project needs, only where it is missing or stale.
# Source it from the repository root.

PY=${PYTHON:-python3}
VENV=.venv

_stamp() { cat pyproject.toml constraints.txt setup.py src/provenance/core/_speedups.c | "$PY" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'; }

# ensure_venv [extras]: a virtual environment with the package installed (editable), reinstalled (and the C fast
# paths rebuilt) when pyproject.toml, constraints.txt, setup.py or the C source change.
ensure_venv() {
  local extras=${1:-}
  local want; want="$(_stamp)${extras:+:$extras}"
  local stampfile="$VENV/.provenance-stamp"
  if [ -x "$VENV/bin/python" ] && [ -f "$stampfile" ] && [ "$(cat "$stampfile")" = "$want" ]; then
    return 0
  fi
  "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
    echo "provenance needs Python 3.11 or newer (found $("$PY" --version 2>&1))" >&2; exit 1; }
  echo "Setting up $VENV (Python packages) ..." >&2
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  # This machine's pip configuration names local mirror folders that may not exist; drop only that warning.
  "$VENV/bin/python" -m pip install --quiet --upgrade pip >/dev/null 2> >(grep -v "is ignored: it is neither" >&2)
  "$VENV/bin/python" -m pip install --quiet -c constraints.txt -e ".${extras:+[$extras]}" \
    2> >(grep -v "is ignored: it is neither" >&2)
  echo "$want" > "$stampfile"
}

# ensure_node_tools: the pinned JavaScript tools of node/package-lock.json: the Solidity compiler (solcjs)
# Hardhat 2 (the tests' in-memory JSON-RPC chain) and anvil (the development federation's chain, its state kept in
# a file; npm installs its binary package for the platform). Reinstalled when the lock file changes.
ensure_node_tools() {
  local want; want=$("$PY" -c 'import hashlib; print(hashlib.sha256(open("node/package-lock.json","rb").read()).hexdigest())')
  if [ -f node/node_modules/.provenance-stamp ] && [ "$(cat node/node_modules/.provenance-stamp)" = "$want" ]; then
    return 0
  fi
  command -v npm >/dev/null || { echo "npm is needed to install the Solidity compiler, Hardhat and anvil" >&2; exit 1; }
  echo "Installing the pinned JavaScript tools (solc, Hardhat, anvil) from npm ..." >&2
  (cd node && npm ci --no-audit --no-fund --silent)
  echo "$want" > node/node_modules/.provenance-stamp
}

# ensure_artifacts: recompile the contracts only when their sources no longer match the committed artifacts.
ensure_artifacts() {
  if "$VENV/bin/python" -m provenance.chain.build --check >/dev/null 2>&1; then
    return 0
  fi
  echo "Contract sources changed: recompiling ..." >&2
  ensure_node_tools
  node scripts/compile-contracts.cjs
}

# ensure_chromium: Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium; its own
# browser download does not work on a machine that reaches only the package registries).
ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then
    return 0
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "the browser tests need Debian's chromium: apt-get install chromium" >&2; exit 1; }
    sudo=sudo
  fi
  echo "Installing Debian's chromium for the browser tests ..." >&2
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
}
