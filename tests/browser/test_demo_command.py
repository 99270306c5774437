"""``make demo``'s program: it prints where to go and how to log in, serves the site and
the local gateway, and Ctrl-C stops both cleanly (also when run again on its database)."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from .conftest import start_demo

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
