"""Admin pages with a user model that has no ``username``. Collected only when
test_admin_custom_user.py runs this file under ``tests.ops.settings_email_user``."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from django_aws_api_gateway_websockets.models import (
    ConnectionRateLimit,
    WebSocketSession,
    WebSocketToken,
)
from tests.ops.emailuser.models import EmailUser

APP = "django_aws_api_gateway_websockets"


@pytest.fixture
def staff_client(db: None) -> Client:
    assert settings.AUTH_USER_MODEL == "emailuser.EmailUser"
    admin = EmailUser.objects.create_user(
        "root@example.com", "pw", is_staff=True, is_superuser=True
    )
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def alice(db: None) -> EmailUser:
    alice = EmailUser.objects.create_user("alice@example.com", "pw")
    WebSocketSession.objects.create(connection_id="EmailConn1=", user=alice)
    WebSocketToken.objects.create(token="f" * 64, user=alice, session_key="0" * 64)
    ConnectionRateLimit.objects.create(ip_address="198.51.100.1", user=alice)
    return alice


@pytest.mark.parametrize("model", ["websocketsession", "websockettoken", "connectionratelimit"])
def test_search_by_email(staff_client: Client, alice: EmailUser, model: str) -> None:
    assert not hasattr(alice, "username")
    changelist = reverse(f"admin:{APP}_{model}_changelist")
    found = staff_client.get(changelist, {"q": "alice@example"})
    assert found.status_code == 200
    assert found.context["cl"].result_count == 1
    assert staff_client.get(changelist, {"q": "bob@"}).context["cl"].result_count == 0


def test_mark_disconnected(staff_client: Client, alice: EmailUser) -> None:
    session = WebSocketSession.objects.get(user=alice)
    response = staff_client.post(
        reverse(f"admin:{APP}_websocketsession_changelist"),
        {"action": "mark_disconnected", "_selected_action": [session.pk]},
    )
    assert response.status_code == 302
    assert not WebSocketSession.objects.get(pk=session.pk).connected
