"""``manage.py runLocalGateway`` and ``python -m ...localgateway``: configuration from
an ``ApiGateway`` row or the command line, and a real process that serves and stops."""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from django_aws_api_gateway_websockets.localgateway import Credentials
from django_aws_api_gateway_websockets.localgateway.__main__ import main
from django_aws_api_gateway_websockets.localgateway.cli import (
    add_arguments,
    build_config,
    gateway_row_settings,
)
from django_aws_api_gateway_websockets.localgateway.server import logger
from django_aws_api_gateway_websockets.models import ApiGateway, ApiGatewayAdditionalRoute


def parse(*argv: str) -> dict:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return vars(parser.parse_args(argv))


@pytest.fixture
def gateway(db):
    row = ApiGateway.objects.create(
        api_name="chat",
        api_id="abc123",
        stage_name="dev",
        target_base_endpoint="http://127.0.0.1:8000/ws/",
        route_selection_expression="$request.body.type",
    )
    ApiGatewayAdditionalRoute.objects.create(
        api_gateway=row, name="Join", route_key="join", integration_url="http://127.0.0.1:8000/j"
    )
    return row


def test_a_gateway_row_configures_the_gateway(gateway):
    config = build_config(parse("--api-gateway", str(gateway.pk)), gateway_row_settings(gateway.pk))
    assert config.base_url == "http://127.0.0.1:8000/ws/"
    assert config.api_id == "abc123"
    assert config.stage == "dev"
    assert config.route_selection_expression == "$request.body.type"
    assert config.routes == {"join": "http://127.0.0.1:8000/j"}
    assert config.limits.frame_bytes == 32 * 1024


def test_the_command_line_wins_over_the_row(gateway):
    options = parse(
        "--stage",
        "local",
        "--route",
        "join=http://other/j",
        "--route-response",
        "$default",
        "--drop-disconnect",
        "--idle-timeout",
        "0",
        "--gateway-secret",
        "x" * 32,
        "--integration-connections",
        "8",
    )
    config = build_config(options, gateway_row_settings(None))  # the only row
    assert config.stage == "local"
    assert config.routes == {"join": "http://other/j"}
    assert config.route_responses == frozenset({"$default"})
    assert config.drop_disconnect == 1.0
    assert config.limits.idle_timeout is None
    assert config.gateway_secret == "x" * 32
    assert config.integration_pool_size == 8


@override_settings(AWS_ACCESS_KEY_ID="AKIDDJANGO", AWS_SECRET_ACCESS_KEY="django-secret")
def test_verify_signatures_takes_the_credentials_django_signs_with():
    assert build_config(parse("--target", "http://127.0.0.1:8000/ws/")).credentials is None
    options = parse("--target", "http://127.0.0.1:8000/ws/", "--verify-signatures")
    credentials = build_config(options).credentials
    assert credentials == Credentials("AKIDDJANGO", "django-secret", "eu-west-1")
    assert "django-secret" not in repr(credentials)


def test_the_connection_limits_come_from_the_command_line():
    defaults = build_config(parse("--target", "http://127.0.0.1:8000/ws/")).limits
    assert (defaults.handshake_timeout, defaults.max_connections) == (10.0, 10_000)
    options = parse(
        "--target",
        "http://127.0.0.1:8000/ws/",
        "--handshake-timeout",
        "2.5",
        "--keepalive-timeout",
        "0",
        "--max-connections",
        "50",
        "--integration-timeout",
        "3",
    )
    limits = build_config(options).limits
    assert limits.handshake_timeout == 2.5
    assert limits.keepalive_timeout is None
    assert limits.max_connections == 50
    assert limits.integration_timeout == 3.0


def test_a_row_without_an_api_id_needs_one_from_the_command_line(gateway):
    gateway.api_id = ""
    gateway.save(update_fields=["api_id"])
    row = gateway_row_settings(gateway.pk)
    with pytest.raises(ValueError, match="no api_id"):
        build_config(parse(), row)
    assert build_config(parse("--api-id", "dev"), row).api_id == "dev"


@override_settings(WEBSOCKETS={"gateway_secret": ["first-secret" * 3, "second-secret" * 3]})
def test_the_first_configured_gateway_secret_is_sent():
    config = build_config(parse("--target", "http://127.0.0.1:8000/ws/"))
    assert config.gateway_secret == "first-secret" * 3
    assert config.api_id == "local"
    assert config.stage == "local"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "Pass --target"),
        (("--api-gateway", "999"), "no ApiGateway with pk 999"),
        (("--target", "ftp://x/"), "must start with http"),
        (("--target", "http://x/", "--route", "nourl"), "KEY=URL"),
        (("--target", "http://x/", "--stage", "a/b"), "one non-empty path segment"),
    ],
)
def test_the_command_reports_bad_configuration(argv, message):
    with pytest.raises(CommandError, match=message):
        call_command("runLocalGateway", *argv)


def test_python_dash_m_serves_until_interrupted():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "django_aws_api_gateway_websockets.localgateway",
            "--target",
            "http://127.0.0.1:9/ws/",
            "--port",
            "0",
            "--stage",
            "dev",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        match = re.search(r"ws://127\.0\.0\.1:(\d+)/dev", first)
        assert match, first
        url = f"http://127.0.0.1:{match.group(1)}/dev/@connections/abc%3D"
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(urllib.request.Request(url, data=b"x"), timeout=5)
        assert caught.value.code == 403  # unsigned
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
        assert "Stopping" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()


def test_python_dash_m_rejects_bad_options():
    result = subprocess.run(
        [sys.executable, "-m", "django_aws_api_gateway_websockets.localgateway"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "Pass --target BASE_URL" in result.stderr


def interrupt_once_listening(port: int) -> threading.Thread:
    """SIGINT to this process as soon as the gateway accepts connections (its signal
    handlers are installed before it binds)."""

    def wait_then_interrupt() -> None:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                threading.Event().wait(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=wait_then_interrupt, daemon=True)
    thread.start()
    return thread


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def restore_logger():
    """The commands give the gateway's logger a handler on the current stderr."""
    handlers, level, propagate = logger.handlers[:], logger.level, logger.propagate
    yield
    logger.handlers[:], logger.level, logger.propagate = handlers, level, propagate


@pytest.mark.usefixtures("restore_logger")
def test_the_command_serves_until_interrupted(gateway):
    port = free_port()
    killer = interrupt_once_listening(port)
    call_command("runLocalGateway", "--port", str(port))  # the only row configures it
    killer.join(5)
    assert not killer.is_alive()


@pytest.mark.usefixtures("restore_logger")
def test_the_module_entry_point_reads_a_row(gateway):
    port = free_port()
    killer = interrupt_once_listening(port)
    assert main(["--api-gateway", str(gateway.pk), "--port", str(port), "--quiet"]) == 0
    killer.join(5)
    assert not killer.is_alive()
