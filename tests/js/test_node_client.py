"""Runs the JavaScript client's unit tests (Node's built-in test runner) from pytest, so
the README's test command covers them too."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

JS_TESTS = Path(__file__).parent
NODE = shutil.which("node")


def node_major_version() -> int:
    if NODE is None:
        return 0
    output = subprocess.run([NODE, "--version"], capture_output=True, text=True, check=True)
    return int(output.stdout.strip().lstrip("v").split(".")[0])


@pytest.mark.skipif(
    node_major_version() < 18,
    reason="needs Node.js 18+ on PATH (`node`) to run the JavaScript client's tests",
)
def test_javascript_client_unit_tests() -> None:
    result = subprocess.run(
        [NODE, "--test", str(JS_TESTS)], capture_output=True, text=True, timeout=120
    )
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    passed = re.search(r"^# pass (\d+)$", result.stdout, re.MULTILINE)
    assert passed, report
    assert int(passed.group(1)) > 0, report
