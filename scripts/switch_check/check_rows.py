"""Run with THIS package installed, after ``migrate``: the rows the original wrote
(see write_rows.py) must read back unchanged through our models and still work with
our code paths that need no network (hashes, token consumption, channel rules)."""

import json
import sys

import django

django.setup()

from django.contrib.auth.models import User  # noqa: E402

from django_aws_api_gateway_websockets import models as ws  # noqa: E402
from django_aws_api_gateway_websockets.hashing import (  # noqa: E402
    hash_session_key,
    hash_user_auth,
    user_auth_matches,
)

with open(sys.argv[1]) as fh:
    written = json.load(fh)
failures: list[str] = []


def expect(what: str, ok: bool) -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        failures.append(what)


user = User.objects.get(pk=written["user_id"])
gateway = ws.ApiGateway.objects.get(pk=written["gateway_id"])
expect(
    "gateway fields",
    (gateway.api_name, gateway.api_id, gateway.tags, gateway.default_channel_name)
    == ("switch-check", "abc123defg", {"team": "ops"}, "lobby"),
)
expect("gateway provisioning status kept", gateway.provisioning_status == "pending")
route = ws.ApiGatewayAdditionalRoute.objects.get(pk=written["route_id"])
expect("additional route", (route.api_gateway_id, route.route_key) == (gateway.pk, "chat"))

live = ws.WebSocketSession.objects.select_related("user", "api_gateway").get(
    pk=written["live_session_id"]
)
expect(
    "live session",
    (live.connection_id, live.connected, live.user, live.api_gateway)
    == ("Live1Conn=", True, user, gateway),
)
expect(
    "sessions by channel", ws.WebSocketSession.objects.connected().in_channel("lobby").count() == 1
)
expect(
    "disconnected session kept", ws.WebSocketSession.objects.filter(connected=False).count() == 1
)
expect(
    "session key hash matches ours",
    live.session_key_hash == hash_session_key(written["session_key"]),
)
expect("auth hash matches ours", live.auth_hash == hash_user_auth(user))
expect("login still holds for the switched session", user_auth_matches(user, live.auth_hash))

channel = ws.ChannelPermission.objects.get(pk=written["channel_id"])
rules = sorted(str(rule) for rule in channel.rules.all())
expect("channel rules", rules == ["auth.add_user AND auth.change_user", "auth.view_user"])

attempt = ws.ConnectionRateLimit.objects.get(pk=written["attempt_id"])
expect(
    "rate-limit row",
    (attempt.ip_address, attempt.user_id, attempt.successful) == ("203.0.113.7", user.pk, True),
)

token = ws.WebSocketToken.objects.get(token=written["token"])
expect("token row", (token.user_id, token.used) == (user.pk, False))
expect(
    "token session hash matches ours", token.session_key == hash_session_key(written["session_key"])
)

# Rows are writable through our models too.
live.channel_name = "lobby-2"
live.save(update_fields=["channel_name", "updated_on"])
expect("session update", ws.WebSocketSession.objects.get(pk=live.pk).channel_name == "lobby-2")

if failures:
    sys.exit(f"{len(failures)} check(s) failed: {', '.join(failures)}")
print("rows written by 4.1.0 are intact and usable")
