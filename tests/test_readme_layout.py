"""The README's layout section ("What is in it") is true to the tree: every package and top-level module of
``src/provenance`` is named there, and every module it names under a package exists in that package."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "provenance"
ENTRY = re.compile(r"^  (\S.*?)(?:\s{2,}|$)")
MODULE = re.compile(r"(?<![\w/.])([A-Za-z_][\w]*\.(?:py|c))\b")


def _layout() -> dict[str, str]:
    """Each entry of the src/provenance part of the layout block (a package "core/" or modules "config.py")
    with the text describing it, continuation lines included."""
    text = (ROOT / "README.md").read_text("utf-8")
    block = text.split("## What is in it", 1)[1].split("```", 2)[1]
    lines = block.splitlines()
    start = lines.index("src/provenance/") + 1
    entries: dict[str, str] = {}
    current = None
    for line in lines[start:]:
        if line and not line.startswith(" "):
            break  # the next top-level directory (node/, scripts/, ...)
        m = ENTRY.match(line)
        if m and not line.startswith("   "):
            current = m.group(1)
            entries[current] = line[m.end():]
        elif current is not None:
            entries[current] += " " + line.strip()
    return entries


def test_every_package_and_top_level_module_is_named() -> None:
    named = {name.strip().rstrip("/") for entry in _layout() for name in entry.split(",")}
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith("__")}
    modules = {p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    assert packages - named == set(), f"packages the README's layout does not name: {sorted(packages - named)}"
    assert modules - named == set(), f"modules the README's layout does not name: {sorted(modules - named)}"
    stale = {n for n in named if not (PACKAGE / n).exists()}
    assert stale == set(), f"the README's layout names what src/provenance does not have: {sorted(stale)}"


def test_every_module_named_under_a_package_exists_in_it() -> None:
    missing = []
    for entry, text in _layout().items():
        folders = [PACKAGE / name.strip().rstrip("/") for name in entry.split(",") if name.strip().endswith("/")]
        if not folders:
            continue
        for module in MODULE.findall(text):
            # A name with a path ("core/flows.py") points elsewhere; a bare name is in this package or, like
            # setup.py, at the top of the repository.
            if not any(any(folder.rglob(module)) for folder in folders) and not (ROOT / module).exists():
                missing.append(f"{entry} {module}")
    assert missing == [], f"modules the README's layout names that do not exist: {missing}"
