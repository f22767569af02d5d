"""The tests' own layout (issue 19): helpers shared by several test modules live in tests/support/, and no test
module imports another test module or a helper kept beside the tests (a change to one test then breaks no other)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_tests_import_only_the_support_package_of_the_tests() -> None:
    wrong = {f"{p.relative_to(TESTS)}: {name}"
             for p in TESTS.rglob("*.py")
             for name in _imports(p)
             if name.startswith("tests.") and not (name == "tests.support" or name.startswith("tests.support."))}
    assert not wrong, sorted(wrong)


def test_beside_the_tests_there_are_only_tests() -> None:
    stray = sorted(str(p.relative_to(TESTS)) for p in TESTS.rglob("*.py")
                   if "support" not in p.relative_to(TESTS).parts
                   and not p.name.startswith("test_") and p.name not in ("__init__.py", "conftest.py"))
    assert not stray, stray
