"""The original's public surface of the views module, and replying from a handler."""

from __future__ import annotations

import re

import pytest

from django_aws_api_gateway_websockets import views
from django_aws_api_gateway_websockets.views import WebSocketView

MODULE_NAMES = [
    "JsonResponse",
    "HttpResponseBadRequest",
    "HttpResponseForbidden",
    "mail_admins",
    "F",
    "warnings",
    "time",
    "ApiGateway",
    "ChannelPermission",
    "ConnectionRateLimit",
    "WebSocketSession",
    "WebSocketToken",
    "get_setting",
    "GATEWAY_SECRET_HEADER",
    "get_gateway_secrets",
    "hash_session_key",
    "hash_user_auth",
    "logger",
]


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_module_level_names(name):
    assert hasattr(views, name)


def test_logger_name():
    assert views.logger.name == "django_aws_api_gateway_websockets.views"


def test_class_defaults():
    expected = {
        "debug": False,
        "SEND_EXCEPTION_MAIL": True,
        "EXCEPTION_MAIL_INTERVAL": 60,
        "MAX_BODY_SIZE": 131072,
        "MAX_CHANNEL_NAME_LENGTH": 128,
        "ALLOW_UNLISTED_CHANNELS": True,
        "CHECK_PERMISSIONS_ON_CONNECT": False,
        "ALLOWED_HANDLERS": set(),
        "ADDITIONAL_ALLOWED_HANDLERS": [],
        "USE_WS_TOKEN": True,
        "RATE_LIMIT_ENABLED": True,
        "RATE_LIMIT_MAX_ATTEMPTS": 0,
        "RATE_LIMIT_WINDOW_MINUTES": 0,
        "route_selection_key": "action",
        "handler_selection_key": "handler",
        "aws_api_gateway_id": None,
        "additional_required_headers": [],
        "expected_useragent_prefix": "AmazonAPIGateway_",
        "CHECK_CONNECT_USERAGENT": False,
        "permissions_required": [],
        "all_permissions_required": [],
        "BASE_HANDLERS": frozenset({"default", "change_channel"}),
    }
    assert {name: getattr(WebSocketView, name) for name in expected} == expected
    assert WebSocketView.CHANNEL_NAME_PATTERN.pattern == r"^[a-zA-Z0-9_-]+$"
    assert "Connectionid" in WebSocketView.required_headers


def test_constructor_kwargs(db, settings):
    settings.WEBSOCKETS = {"rate_limit_max_attempts": 7, "rate_limit_window_minutes": 3}
    view = WebSocketView(api_gateway="gw", websocket_session="s", debug=True)
    assert (view.api_gateway, view.websocket_session, view.debug) == ("gw", "s", True)
    assert (view.RATE_LIMIT_MAX_ATTEMPTS, view.RATE_LIMIT_WINDOW_MINUTES) == (7, 3)
    view._debug("<b>" + "x" * 600)
    assert view.debug_log[0].startswith("&lt;b&gt;")
    assert len(view.debug_log[0]) == 500
    plain = WebSocketView()
    assert (plain.api_gateway, plain.websocket_session, plain.debug_log) == (False, False, [])


def test_default_must_be_overridden(rf):
    with pytest.raises(NotImplementedError, match=r"^This logic needs to be defined within the"):
        WebSocketView().default(rf.post("/"))


def test_deprecated_route_selection_key_missing(rf):
    """4.1.0's warning and answer, word for word."""
    with pytest.warns(DeprecationWarning, match=r"^Deprecated: Use handler_selection_key_missing"):
        response = WebSocketView().route_selection_key_missing(rf.post("/"))
    assert (response.status_code, response.content) == (
        400,
        b"route_select_key action missing from request body.",
    )


def test_all_permissions_are_asked_one_by_one(rf):
    """As 4.1.0: ``has_perms([perm])`` for each, so a backend answering per permission
    is asked about each one."""
    asked: list[list[str]] = []

    class User:
        def has_perms(self, perms: list[str]) -> bool:
            asked.append(perms)
            return perms != ["app.second"]

    request = rf.post("/")
    request.user = User()
    view = WebSocketView()
    view.all_permissions_required = ["app.first", "app.second"]
    assert view.has_all_permission(request) is False
    assert asked == [["app.first"], ["app.second"]]


def test_channel_pattern_may_be_a_string(db):
    class StringPattern(WebSocketView):
        CHANNEL_NAME_PATTERN = r"^[a-z]+$"

    assert StringPattern()._channel_pattern() == re.compile(r"^[a-z]+$")


def test_handler_replies_through_the_management_api(open_ws, management_api):
    """Handler return values never reach the browser; send_message does."""
    assert open_ws.connect().status_code == 200
    management_api.connect(open_ws.connection_id)
    assert open_ws.message({"handler": "reply", "text": "ping"}).status_code == 200
    assert management_api.json_messages(open_ws.connection_id) == [
        {"type": "reply", "echo": "ping"}
    ]


def test_provisioning_gets_its_client_from_the_models_factory(db):
    """4.1.0's users replace ``models.get_boto3_client`` in their provisioning tests."""
    from unittest.mock import patch

    from django_aws_api_gateway_websockets.models import ApiGateway

    gateway = ApiGateway.objects.create(
        api_name="seam", api_id="a1", deployment_id="d1", api_created=True
    )
    with (
        patch(
            "django_aws_api_gateway_websockets.models.get_boto3_client",
            side_effect=RuntimeError("the replaced factory"),
        ) as factory,
        pytest.raises(RuntimeError, match="the replaced factory"),
    ):
        gateway.sync_from_aws()
    factory.assert_called_once_with()  # the default service, asked for as 4.1.0 did


def test_admin_actions_accept_a_list_of_rows_and_no_model_admin(db, rf):
    """4.1.0's actions could be called with a list and without a ModelAdmin."""
    from django.contrib.messages.storage.cookie import CookieStorage

    from django_aws_api_gateway_websockets.admin import sync_to_aws
    from django_aws_api_gateway_websockets.models import ApiGateway

    request = rf.get("/admin/")
    request.user = type("User", (), {"pk": 1})()
    request._messages = CookieStorage(request)
    sync_to_aws(None, request, [ApiGateway.objects.create(api_name="not deployed")])
    assert [m.message for m in request._messages] == [
        "not deployed: The API must be deployed before it can be synced to AWS"
    ]


def test_a_listing_with_a_malformed_next_token_ends():
    from django_aws_api_gateway_websockets.provisioning.state import paged

    pages = iter([{"Items": [1], "NextToken": "t"}, {"Items": [2], "NextToken": object()}])
    assert list(paged(lambda **kwargs: next(pages))) == [1, 2]


def test_recording_management_api_records_and_restores_the_settings(gateway, settings):
    from django_aws_api_gateway_websockets.conf import get_websockets_config
    from django_aws_api_gateway_websockets.models import WebSocketSession
    from django_aws_api_gateway_websockets.testing import recording_management_api

    settings.WEBSOCKETS = {"send_concurrency": 4}
    with recording_management_api() as api:
        session = WebSocketSession.objects.create(connection_id=api.connect(), api_gateway=gateway)
        session.send_message({"text": "hello"})
        assert get_websockets_config()["send_concurrency"] == 4
        assert api.json_messages(session.connection_id) == [{"text": "hello"}]
    assert get_websockets_config() == {"send_concurrency": 4}


def test_the_test_toolkit_is_no_global_pytest_plugin():
    """Installing the package must not change the tests of projects that do not opt in."""
    from importlib.metadata import entry_points

    assert not [
        entry
        for entry in entry_points(group="pytest11")
        if entry.value.startswith("django_aws_api_gateway_websockets")
    ]


def test_deferred_aws_calls_go_through_the_models_function(db):
    """4.1.0's tests replace ``models.run_aws_after_commit`` to run the calls at once."""
    from unittest.mock import patch

    from django_aws_api_gateway_websockets.models import ApiGateway

    ApiGateway.objects.create(api_name="seam", api_id="a1", deployment_id="d1", api_created=True)
    gateway = ApiGateway.objects.get(api_name="seam")
    gateway.api_description = "changed"
    with patch("django_aws_api_gateway_websockets.models.run_aws_after_commit") as deferred:
        gateway.save()
    (operation,), _ = deferred.call_args
    assert operation.keywords == {"fields": ["api_description"]}


def test_the_instance_holds_the_resolved_handler_whitelist():
    class Chat(WebSocketView):
        ADDITIONAL_ALLOWED_HANDLERS = ["change_channel"]

        def chat(self, request, *args, **kwargs):
            return None

    assert {"default", "change_channel", "chat"} == Chat().ALLOWED_HANDLERS
    assert set() == Chat.ALLOWED_HANDLERS


def test_missing_headers_in_debug_names_expected_and_received_headers(rf):
    """As 4.1.0's debug log, with header names only (a value may be a cookie)."""
    view = WebSocketView(debug=True)
    response = view.missing_headers(rf.post("/", headers={"Cookie": "sessionid=secret"}))
    assert (response.status_code, response.content) == (400, b"Invalid request headers")
    (line,) = view.debug_log
    assert all(word in line for word in ("Expected headers", "Connectionid", "Received", "Cookie"))
    assert "secret" not in line
    assert WebSocketView().missing_headers(rf.post("/")).status_code == 400
