"""Rows of raw statements become model instances as the ORM would make them."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models.signals import post_init

from django_aws_api_gateway_websockets import _sql
from django_aws_api_gateway_websockets.sessions import load_session


def test_values_are_converted_and_the_instance_is_saved_state(connected_session):
    session = load_session(connected_session.connection_id, connected_session.api_gateway)
    assert session is not None
    assert isinstance(session.created_on, datetime)
    assert session.created_on.tzinfo
    assert session.connected is True
    user = session.user
    assert isinstance(user.is_active, bool)
    assert isinstance(user.date_joined, datetime)
    assert not session._state.adding
    assert not user._state.adding
    user.first_name = "Alice"
    user.save(update_fields=["first_name"])  # a loaded row saves as an update
    assert get_user_model().objects.get().first_name == "Alice"


def test_post_init_receivers_still_run(connected_session):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=get_user_model())
    try:
        session = load_session(connected_session.connection_id, connected_session.api_gateway)
    finally:
        post_init.disconnect(receiver, sender=get_user_model())
    assert seen == [session.user]


def test_no_row_is_none():
    values = [None] * len(get_user_model()._meta.concrete_fields)
    assert _sql.instance_from_row(get_user_model(), values) is None
