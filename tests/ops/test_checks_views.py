"""System checks over the routed WebSocket views."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from django_aws_api_gateway_websockets import checks

from .views_for_checks import (
    ChattyView,
    CleanView,
    ListedView,
    LongChannelView,
    OpenView,
    ShoutView,
)

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.urls("tests.ops.urls_checks")


def ours(messages: list[Any]) -> list[tuple[str, Any]]:
    return sorted(
        ((m.id.rsplit(".", 1)[1], m.obj) for m in messages if m.id.startswith(checks.PREFIX)),
        key=lambda pair: (pair[0], getattr(pair[1], "__name__", "")),
    )


def test_routed_views_walks_nested_includes() -> None:
    found = [view for view, _pattern in checks.routed_views()]
    assert found == [
        OpenView,
        ChattyView,
        ChattyView,
        ListedView,
        ShoutView,
        LongChannelView,
        ListedView,
    ]


def test_w004_unlisted_channels() -> None:
    assert ours(checks.check_unlisted_channels()) == [("W004", OpenView)]


def test_w005_automatic_handlers_once_per_view() -> None:
    messages = checks.check_automatic_handlers()
    assert ours(messages) == [("W005", ChattyView), ("W005", ShoutView)]
    by_view = {m.obj: m.msg for m in messages}
    assert "call chat, kick:" in by_view[ChattyView]
    assert "call chat, kick, shout:" in by_view[ShoutView]


def test_e005_and_w008() -> None:
    messages = checks.check_view_routes()
    assert ours(messages) == [("E005", LongChannelView), ("W008", ListedView)]
    assert "'listed-without-route/'" in messages[1].msg


def test_deploy_run_reports_exactly_these(settings: Any) -> None:
    settings.WEBSOCKETS = {"gateway_secret": "S" * 40}
    found = {
        (code, view.__name__) for code, view in ours(run_checks(include_deployment_checks=True))
    }
    assert found == {
        ("E005", "LongChannelView"),
        ("W004", "OpenView"),
        ("W005", "ChattyView"),
        ("W005", "ShoutView"),
        ("W008", "ListedView"),
    }


def test_deploy_only_checks_stay_out_of_a_plain_run() -> None:
    codes = {code for code, _view in ours(run_checks())}
    assert codes == {"E005", "W008"}


def test_check_command_fails_on_our_errors() -> None:
    with pytest.raises(SystemCheckError, match=r"LongChannelView\.MAX_CHANNEL_NAME_LENGTH is 191"):
        call_command("check", stdout=StringIO(), stderr=StringIO())


@pytest.mark.urls("tests.ops.urls")
def test_clean_project_has_no_messages(settings: Any) -> None:
    settings.WEBSOCKETS = {"gateway_secret": "S" * 40}
    assert [view for view, _pattern in checks.routed_views()] == [CleanView]
    assert ours(run_checks(include_deployment_checks=True)) == []


def test_project_without_urls(settings: Any) -> None:
    del settings.ROOT_URLCONF
    settings.WEBSOCKETS = {"gateway_secret": "S" * 40}
    assert list(checks.routed_views()) == []
    assert ours(run_checks(include_deployment_checks=True)) == []


def test_setup_and_checks_do_not_import_views() -> None:
    code = (
        "import sys, django; django.setup();"
        "import django_aws_api_gateway_websockets.checks;"
        "print('django_aws_api_gateway_websockets.views' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
