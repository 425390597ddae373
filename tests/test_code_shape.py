"""The codebase stays easy to change: no function in ferbot/ or train/ longer than 60 lines."""

from __future__ import annotations

import ast

from tests.helpers.data import REPO

MAX_FUNCTION_LINES = 60


def test_no_function_is_longer_than_sixty_lines():
    long = []
    for package in ("ferbot", "train"):
        for path in sorted((REPO / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    length = node.end_lineno - node.lineno + 1
                    if length > MAX_FUNCTION_LINES:
                        long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name}() is {length} lines")
    assert not long, "split these functions:\n" + "\n".join(long)
