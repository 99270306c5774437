"""Channel permissions on connect and change_channel, and the permission cache."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Permission

from django_aws_api_gateway_websockets.channels import channel_permission_for
from django_aws_api_gateway_websockets.models import (
    ChannelPermission,
    ChannelPermissionRule,
    WebSocketSession,
)
from tests.testapp.views import ChatView

Access = ChannelPermission.Access


def rule(channel: ChannelPermission, *codenames: str) -> ChannelPermissionRule:
    created = ChannelPermissionRule.objects.create(channel_permission=channel)
    created.permissions.set(Permission.objects.filter(codename__in=codenames))
    return created


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("sam", password="pw", is_staff=True)


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_superuser("root", password="pw")


@pytest.mark.parametrize(
    ("access", "who", "allowed"),
    [
        (Access.ALLOW_ALL, "anonymous", True),
        (Access.STAFF_ONLY, "anonymous", False),
        (Access.STAFF_ONLY, "user", False),
        (Access.STAFF_ONLY, "staff", True),
        (Access.STAFF_ONLY, "admin", True),
        (Access.SUPERUSER_ONLY, "staff", False),
        (Access.SUPERUSER_ONLY, "admin", True),
        (Access.PERMISSIONS, "user", False),
        (Access.PERMISSIONS, "admin", True),
        ("bogus", "admin", False),
    ],
)
def test_access_levels(access, who, allowed, user, staff, admin):
    people = {"anonymous": AnonymousUser(), "user": user, "staff": staff, "admin": admin}
    row = ChannelPermission.objects.create(channel_name="room", access=access)
    assert row.allows(people[who]) is allowed


def test_inactive_users_are_refused(staff):
    staff.is_active = False
    assert not ChannelPermission(channel_name="room", access=Access.STAFF_ONLY).allows(staff)


def test_permission_rules_any_rule_all_of_its_permissions(user):
    channel = ChannelPermission.objects.create(channel_name="ops", access=Access.PERMISSIONS)
    rule(channel, "view_user", "change_user")
    rule(channel, "delete_user")
    user.user_permissions.add(Permission.objects.get(codename="view_user"))
    assert not channel_permission_for("ops").allows(type(user).objects.get(pk=user.pk))
    user.user_permissions.add(Permission.objects.get(codename="delete_user"))
    assert channel_permission_for("ops").allows(type(user).objects.get(pk=user.pk))


def test_rules_load_in_two_queries_however_many(user, django_assert_num_queries):
    channel = ChannelPermission.objects.create(channel_name="ops", access=Access.PERMISSIONS)
    for _ in range(5):
        rule(channel, "view_user", "view_group")
    row = ChannelPermission.objects.get(pk=channel.pk)
    user.get_all_permissions()  # the user's own permissions are cached by Django
    with django_assert_num_queries(2):  # the rules, their permissions with content types
        assert not row.allows(user)
    cached = channel_permission_for("ops")
    with django_assert_num_queries(0):  # loaded with the row, not again
        cached.allows(user)


def test_connect_to_a_restricted_channel(ws, user, staff):
    ChannelPermission.objects.create(channel_name="staff-room", access=Access.STAFF_ONLY)
    assert ws.connect(token=ws.issue_token(user), channel="staff-room").status_code == 403
    ws.client.logout()
    assert ws.connect(token=ws.issue_token(staff), channel="staff-room").status_code == 200
    assert WebSocketSession.objects.get().user == staff


def test_unlisted_channels(open_ws, monkeypatch):
    from tests.testapp.views import OpenView

    monkeypatch.setattr(OpenView, "ALLOW_UNLISTED_CHANNELS", False)
    assert open_ws.connect(channel="anything").status_code == 403
    ChannelPermission.objects.create(channel_name="anything")
    assert open_ws.connect(channel="anything").status_code == 200


def test_cache_sees_changes_of_this_process(db, django_assert_num_queries):
    assert channel_permission_for("room") is None
    with django_assert_num_queries(0):
        assert channel_permission_for("room") is None
    ChannelPermission.objects.create(channel_name="room", access=Access.STAFF_ONLY)
    assert channel_permission_for("room").access == Access.STAFF_ONLY
    ChannelPermission.objects.filter(channel_name="room").delete()
    assert channel_permission_for("room") is None


@pytest.fixture
def chat(ws, user):
    assert ws.connect(token=ws.issue_token(user), channel="general").status_code == 200
    return ws


def test_change_channel(chat):
    response = chat.message({"handler": "change_channel", "channel": "random"})
    assert (response.status_code, response.json()) == (200, {})
    assert WebSocketSession.objects.get().channel_name == "random"


def test_change_channel_of_a_row_deleted_meanwhile_changes_nothing(chat, monkeypatch):
    """4.1.0's ``save(update_fields=...)`` failed (a 500) when the row had gone."""
    from django_aws_api_gateway_websockets import sessions

    def deleted_first(session, channel_name, **options):
        WebSocketSession.objects.filter(pk=session.pk).delete()
        move_session(session, channel_name, **options)

    move_session = sessions.move_session
    monkeypatch.setattr("django_aws_api_gateway_websockets.views.move_session", deleted_first)
    response = chat.message({"handler": "change_channel", "channel": "random"})
    assert response.status_code == 200
    assert not WebSocketSession.objects.exists()


@pytest.mark.parametrize("channel", [None, "", "bad name", 5, "x" * 129])
def test_change_channel_validates(chat, channel):
    response = chat.message({"handler": "change_channel", "channel": channel})
    assert (response.status_code, response.content) == (400, b"Invalid channel")
    assert WebSocketSession.objects.get().channel_name == "general"


def test_change_channel_checks_permission(chat):
    ChannelPermission.objects.create(channel_name="vip", access=Access.SUPERUSER_ONLY)
    response = chat.message({"handler": "change_channel", "channel": "vip"})
    assert (response.status_code, response.content) == (403, b"Permission Denied")
    assert WebSocketSession.objects.get().channel_name == "general"


def test_get_channel_permission_hook(chat, monkeypatch):
    monkeypatch.setattr(
        ChatView,
        "get_channel_permission",
        lambda self, name: ChannelPermission(channel_name=name, access=Access.SUPERUSER_ONLY),
    )
    assert chat.message({"handler": "change_channel", "channel": "any"}).status_code == 403


def test_cache_filled_by_one_test(open_ws):
    ChannelPermission.objects.create(channel_name="cached-room", access=Access.SUPERUSER_ONLY)
    assert open_ws.connect(channel="cached-room").status_code == 403


def test_is_empty_in_the_next_test(open_ws):
    """The package's pytest plugin clears the caches the previous test filled."""
    assert open_ws.connect(channel="cached-room").status_code == 200
