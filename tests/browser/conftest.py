"""The demo chat running as ``make demo`` runs it (a subprocess on free ports, its own
SQLite file), and Debian's Chromium driven by Playwright for Python."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import chromium_path

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "example" / "demo.py"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_SECONDS = 60
PASSWORD = "demo1234"
#: How long a page may take to show what a test waits for.
WAIT_MS = 15_000


@dataclass
class Demo:
    process: subprocess.Popen[str]
    database: Path
    url: str = ""
    websocket_url: str = ""
    management_endpoint: str = ""
    output: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def query(self, sql: str, *params: object) -> list[tuple]:
        """Read the demo's database as it is now (the demo writes it from its threads)."""
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=10) as db:
            return db.execute(sql, params).fetchall()

    def sessions(self, username: str, channel: str) -> list[tuple[str, int]]:
        return self.query(
            "SELECT s.connection_id, s.connected"
            " FROM django_aws_api_gateway_websockets_websocketsession s"
            " JOIN auth_user u ON u.id = s.user_id"
            " WHERE u.username = ? AND s.channel_name = ?"
            " ORDER BY s.id",
            username,
            channel,
        )

    def tokens_issued(self, username: str) -> int:
        return self.query(
            "SELECT count(*) FROM django_aws_api_gateway_websockets_websockettoken t"
            " JOIN auth_user u ON u.id = t.user_id WHERE u.username = ?",
            username,
        )[0][0]

    def stop(self) -> int:
        """Ctrl-C, as a person would; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        finally:
            if self.reader is not None:
                self.reader.join(timeout=10)  # the last lines of output


def start_demo(tmp_path: Path, *options: str) -> Demo:
    """Start ``example/demo.py`` on free ports and wait until it prints its address."""
    database = tmp_path / "demo.sqlite3"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = subprocess.Popen(
        [
            sys.executable,
            str(DEMO),
            "--port",
            "0",
            "--gateway-port",
            "0",
            "--database",
            str(database),
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    demo = Demo(process, database)
    ready = threading.Event()

    def read_output() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            demo.output.append(line.rstrip("\n"))
            if line.startswith("Demo running at "):
                demo.url = line.split()[-1].rstrip("/")
            elif "WebSockets:" in line:
                demo.websocket_url = line.split()[1]
            elif "Management API:" in line:
                demo.management_endpoint = line.split()[2].split("/@connections")[0]
            elif line.startswith("Press Ctrl-C"):
                ready.set()
        ready.set()

    demo.reader = threading.Thread(target=read_output, daemon=True)
    demo.reader.start()
    if not ready.wait(STARTUP_SECONDS) or not demo.url or not demo.management_endpoint:
        demo.stop()
        pytest.fail("the demo did not start:\n" + "\n".join(demo.output))
    return demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    running = start_demo(tmp_path_factory.mktemp("demo"))
    yield running
    status = running.stop()
    assert status == 0, "\n".join(running.output)


def log_in(browser: Any, demo: Demo, username: str, path: str, errors: list[str]) -> Any:
    """A page of ``username`` in their own browser context, at ``path``; JavaScript
    errors of the page go to ``errors``."""
    page = browser.new_context().new_page()
    page.on("pageerror", lambda error: errors.append(f"{username}: {error}"))
    page.goto(f"{demo.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{demo.url}/")
    page.goto(f"{demo.url}{path}")
    return page


@pytest.fixture
def open_page(demo: Demo, browser: Any) -> Iterator[Any]:
    """Log a user in, in their own browser context; no page may raise a JavaScript error."""
    pages: list[Any] = []
    errors: list[str] = []

    def open_as(username: str, path: str) -> Any:
        pages.append(log_in(browser, demo, username, path, errors))
        return pages[-1]

    yield open_as
    for page in pages:
        page.context.close()
    assert errors == []


def expect_connected(page: Any) -> None:
    """The page's client says it is connected."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("status")).to_have_attribute("data-state", "open", timeout=WAIT_MS)


def alice_and_bob(open_page: Any, path: str) -> tuple[Any, Any]:
    """Alice's and Bob's pages at ``path``, each connected."""
    alice = open_page("alice", path)
    bob = open_page("bob", path)
    for page in (alice, bob):
        expect_connected(page)
    return alice, bob


def say(page: Any, text: str) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")


def record_statuses(page: Any) -> None:
    """Keep every text the page's connection status shows in ``window.statusTexts``."""
    page.evaluate(
        """() => {
            window.statusTexts = [];
            const status = document.getElementById("status");
            new MutationObserver(() => statusTexts.push(status.textContent))
                .observe(status, {childList: true, characterData: true, subtree: true});
        }"""
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright for Python")
    sync_playwright = sync_api.sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
