"""A connection lives as long as the login behind it: logout, a password change and a
deactivation spend the user's unused tokens, mark the sessions disconnected and close
the connections through the Management API (``DELETE @connections/{id}``)."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client, override_settings

from django_aws_api_gateway_websockets.models import WebSocketSession, WebSocketToken
from django_aws_api_gateway_websockets.revocation import close_connections_task

MIDDLEWARE_WITH_REVOCATION = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_aws_api_gateway_websockets.middleware.LoginRevocationMiddleware",
]

# Real commits: the closing runs on commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def change_password(client: Client) -> int:
    """Django's own password change view, from ``client``'s login."""
    new = "N3w-passw0rd!"
    form = {"old_password": "pw-alice", "new_password1": new, "new_password2": new}
    return client.post("/password/", form).status_code


def deletes(management_api) -> list[str]:
    return [r.connection_id for r in management_api.requests if r.method == "DELETE"]


def connected_ids() -> set[str]:
    return set(
        WebSocketSession.objects.filter(connected=True).values_list("connection_id", flat=True)
    )


def unused_tokens(user) -> int:
    return WebSocketToken.objects.filter(user=user, used=False).count()


def test_logout_closes_that_logins_connections_and_spends_its_tokens(connect, user, management_api):
    laptop, phone = Client(), Client()
    first = connect(laptop, user)
    other = connect(phone, user)
    first.issue_token(user)  # unused, bound to the laptop's session
    phone_token = other.issue_token(user)

    laptop.logout()

    assert connected_ids() == {other.connection_id}
    assert deletes(management_api) == [first.connection_id]
    assert not management_api.is_connected(first.connection_id)
    assert management_api.is_connected(other.connection_id)
    # The phone's login stands: its token is still good.
    assert WebSocketToken.objects.filter(used=False).count() == 1
    assert phone_token


def test_set_password_and_save_closes_every_connection_of_the_user(connect, user, management_api):
    first, second = connect(Client(), user), connect(Client(), user)
    first.issue_token(user)
    assert unused_tokens(user) == 1

    user.set_password("a new password")
    user.save()

    assert connected_ids() == set()
    assert sorted(deletes(management_api)) == sorted([first.connection_id, second.connection_id])
    assert unused_tokens(user) == 0
    # A token issued under the new password is not touched by a later save.
    second.client.force_login(user)
    fresh = second.issue_token(user)
    user.first_name = "Alice"
    user.save()
    assert unused_tokens(user) == 1
    assert fresh


def test_deactivation_closes_every_connection_and_spends_tokens(connect, user, management_api):
    ws = connect(Client(), user)
    ws.issue_token(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert connected_ids() == set()
    assert deletes(management_api) == [ws.connection_id]
    assert unused_tokens(user) == 0


def test_other_users_and_ordinary_saves_are_left_alone(
    connect, user, management_api, django_user_model, django_assert_num_queries
):
    bob = django_user_model.objects.create_user("bob", password="pw-bob")
    mine, theirs = connect(Client(), user), connect(Client(), bob)
    with django_assert_num_queries(1):  # the UPDATE of last_login only
        bob.save(update_fields=["last_login"])
    bob.set_password("changed")
    bob.save()
    assert connected_ids() == {mine.connection_id}
    assert deletes(management_api) == [theirs.connection_id]


def test_a_rolled_back_change_closes_nothing(connect, user, management_api):
    ws = connect(Client(), user)

    def change_then_fail() -> None:
        with transaction.atomic():
            user.set_password("never committed")
            user.save()
            raise RuntimeError

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert connected_ids() == {ws.connection_id}
    assert deletes(management_api) == []


@override_settings(ROOT_URLCONF="tests.trust.urls", MIDDLEWARE=MIDDLEWARE_WITH_REVOCATION)
def test_password_change_keeps_only_the_session_that_made_it(connect, user, management_api):
    this_browser, other_browser = Client(), Client()
    here, also_here = connect(this_browser, user), connect(this_browser, user)
    there = connect(other_browser, user)

    assert change_password(this_browser) == 302

    assert connected_ids() == {here.connection_id, also_here.connection_id}
    assert deletes(management_api) == [there.connection_id]
    # The kept connections go on working under the new password and the new session key.
    assert here.message({"handler": "chat"}).status_code == 200
    this_browser.logout()
    assert connected_ids() == set()


@override_settings(ROOT_URLCONF="tests.trust.urls")
def test_without_the_middleware_a_password_change_closes_every_connection(
    connect, user, management_api
):
    this_browser = Client()
    here = connect(this_browser, user)
    assert change_password(this_browser) == 302
    assert connected_ids() == set()
    assert deletes(management_api) == [here.connection_id]


def test_the_close_task_reports_closed_gone_and_failed(connect, user, management_api):
    ws = connect(Client(), user)
    session = WebSocketSession.objects.get()
    rows = [
        [session.pk, ws.connection_id, session.api_gateway_id],
        [0, "gone-id=", session.api_gateway_id],
    ]
    assert close_connections_task.call(rows) == {"closed": 1, "gone": 1, "failed": 0}
    assert not management_api.is_connected(ws.connection_id)
