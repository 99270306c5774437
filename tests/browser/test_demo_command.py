"""``make demo``'s program: it prints where to go and how to log in, serves the site and
the local gateway, and Ctrl-C stops both cleanly (also when run again on its database);
``make demo PORT=...`` picks the ports, and a port in use is one line, not a traceback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from .conftest import DEMO, ROOT, start_demo

pytestmark = pytest.mark.e2e


def refuses_connections(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=1).close()
    except OSError:
        return True
    return False


def test_demo_serves_both_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    for run in ("first run", "second run on the same database"):
        demo = start_demo(tmp_path)
        try:
            text = "\n".join(demo.output)
            for username in ("alice", "bob", "admin"):
                assert f"Log in as {username}" in text, run
            assert "password demo1234" in text
            with urllib.request.urlopen(f"{demo.url}/accounts/login/", timeout=10) as page:
                assert page.status == 200
            # The gateway holds the handshake until Django answers, and passes its refusal
            # on: no session cookie, no token.
            with pytest.raises(InvalidStatus) as refused:
                connect(f"{demo.websocket_url}?channel=lobby", open_timeout=10)
            assert refused.value.response.status_code == 400
        finally:
            status = demo.stop()
        assert status == 0, "\n".join(demo.output)
        assert demo.output[-1] == "Stopped.", run
        assert refuses_connections(demo.url)
        assert refuses_connections(demo.websocket_url)


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.parametrize(
    ("options", "what"),
    [
        (["--port", "{taken}"], "Django's server"),
        (["--port", "0", "--gateway-port", "{taken}"], "the local gateway"),
    ],
)
def test_a_port_in_use_is_one_clear_line(
    tmp_path: Path, taken_port: int, options: list[str], what: str
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(DEMO),
            *(option.format(taken=taken_port) for option in options),
            "--database",
            str(tmp_path / "demo.sqlite3"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    expected = f"Cannot start the demo: {what}: port {taken_port} is in use."
    assert lines[0].startswith(expected), lines
    assert "make demo PORT=" in lines[0]
    assert not (tmp_path / "demo.sqlite3").exists()  # stopped before touching anything


@pytest.mark.parametrize(
    ("variables", "command"),
    [
        ([], "example/demo.py --port 8000"),
        (["PORT=9000"], "example/demo.py --port 9000"),
        (["PORT=9000", "GATEWAY_PORT=9100"], "example/demo.py --port 9000 --gateway-port 9100"),
    ],
)
def test_make_demo_passes_the_ports_on(variables: list[str], command: str) -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("needs make on PATH")
    # Run from `make test` too: the outer make's variables must not reach this one.
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    result = subprocess.run(
        [make, "--dry-run", "--always-make", "--no-print-directory", "demo", *variables],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
    )
    assert result.stdout.splitlines()[-1].strip().endswith(command), result.stdout


def test_the_gateway_takes_the_port_after_djangos() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("demo_command", DEMO)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.parse_args(["--port", "9000"]).gateway_port == 9001
    assert module.parse_args(["--port", "0"]).gateway_port == 0
    assert module.parse_args(["--port", "9000", "--gateway-port", "0"]).gateway_port == 0
    with pytest.raises(SystemExit):
        module.parse_args(["--port", "70000"])
