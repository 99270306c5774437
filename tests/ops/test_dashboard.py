"""The admin dashboard, fetched as a staff user through Django's test client."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from django_aws_api_gateway_websockets import dashboard, metrics
from django_aws_api_gateway_websockets.admin import dollars
from django_aws_api_gateway_websockets.billing import estimate, usage_this_month
from django_aws_api_gateway_websockets.models import WebSocketSession

pytestmark = [pytest.mark.urls("tests.ops.urls"), pytest.mark.django_db]

URL = "admin:django_aws_api_gateway_websockets_dashboard"


def section(html: str, name: str) -> str:
    match = re.search(rf'<section class="ws-card" id="ws-{name}">(.*?)</section>', html, re.S)
    assert match, name
    return match[1]


def minute_counts(chart: str) -> list[int]:
    return [int(n) for n in re.findall(r"<title>\d+ min ago: (\d+)</title>", chart)]


def test_the_dashboard_shows_connections_traffic_and_the_bill(admin_client, rows):
    WebSocketSession.objects.filter(connection_id="AnonConn2=").update(request_count=5)
    expected = estimate(usage_this_month(outbound_units=metrics.sent_units()))

    response = admin_client.get(reverse(URL))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<p class="ws-figure">2</p>' in section(html, "open")
    assert "ops-gateway: 1" in section(html, "open")
    # The connection time grows while the test runs; the messages do not.
    bill = f"{expected.usage.message_units} message units (${dollars(expected.messages_usd)})"
    assert bill in section(html, "bill")
    assert '<p class="ws-figure">$0.0' in section(html, "bill")
    connects = section(html, "connects")
    assert connects.count("<rect") == 60
    assert sum(minute_counts(connects)[-2:]) == 2, "both sessions opened just now"
    assert "<script" not in html.split('<div class="ws-dashboard">')[1]


def test_dollars_show_fractions_of_a_cent():
    assert [dollars(x) for x in (0, 0.000004, 0.0123, 1234.5)] == [
        "0.00",
        "0.000004",
        "0.01",
        "1,234.50",
    ]


def test_connects_per_minute_come_from_the_rows(db):
    now = timezone.now()
    for minutes_ago, count in ((0, 3), (5, 1), (59, 2), (60, 7)):
        for i in range(count):
            session = WebSocketSession.objects.create(connection_id=f"c{minutes_ago}-{i}=")
            WebSocketSession.objects.filter(pk=session.pk).update(
                created_on=now - timedelta(minutes=minutes_ago)
            )

    series = dashboard.connects_per_minute(now)

    assert len(series) == 60
    assert (series[-1], series[-6], series[0]) == (3, 1, 2)
    assert sum(series) == 6, "an hour ago is outside the chart"


def test_metrics_figures_appear_when_traffic_was_seen(admin_client, db):
    metrics.timeline.add("messages", 4)
    metrics.delivered("gone", 410)

    html = admin_client.get(reverse(URL)).content.decode()

    assert max(minute_counts(section(html, "messages"))) >= 4
    assert re.search(r"<title>gone: \d+</title>", section(html, "fanout"))


def test_chart_labels_and_titles_are_escaped():
    svg = dashboard.bar_chart([("<b>evil</b>", 3)], "<i>title</i>")

    assert "<b>" not in svg
    assert "<i>" not in svg
    assert "&lt;b&gt;evil&lt;/b&gt;: 3" in svg


def test_the_session_list_links_to_the_dashboard(admin_client, db):
    changelist = reverse("admin:django_aws_api_gateway_websockets_websocketsession_changelist")

    assert reverse(URL) in admin_client.get(changelist).content.decode()


def test_staff_without_view_permission_is_refused(client, django_user_model: Any, db):
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse(URL)).status_code == 403

    staff.user_permissions.add(Permission.objects.get(codename="view_websocketsession"))
    assert client.get(reverse(URL)).status_code == 200


def test_anonymous_users_are_sent_to_the_login(client, db):
    response = client.get(reverse(URL))

    assert response.status_code == 302
    assert "/login/" in response["Location"]
