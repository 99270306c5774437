"""Run with the ORIGINAL 4.1.0 installed: write one row of each kind, as a user's
database would hold them, and record what was written in the JSON file given as
the first argument (read back by check_rows.py under this package)."""

import json
import sys

import django

django.setup()

from django.contrib.auth.models import Permission, User  # noqa: E402

from django_aws_api_gateway_websockets import models as ws  # noqa: E402

SESSION_KEY = "switchchecksessionkey0123456789a"

user = User.objects.create_user("alice", "alice@example.com", "pw-switch-check")
gateway = ws.ApiGateway.objects.create(
    api_name="switch-check",
    api_description="written by 4.1.0",
    default_channel_name="lobby",
    target_base_endpoint="https://www.example.com/ws/",
    api_id="abc123defg",
    stage_name="production",
    tags={"team": "ops"},
)
route = ws.ApiGatewayAdditionalRoute.objects.create(
    api_gateway=gateway,
    name="Chat",
    route_key="chat",
    integration_url="https://www.example.com/ws/chat",
)
live = ws.WebSocketSession.objects.create(
    connection_id="Live1Conn=",
    channel_name="lobby",
    user=user,
    api_gateway=gateway,
    session_key_hash=ws.hash_session_key(SESSION_KEY),
    auth_hash=ws.hash_user_auth(user),
)
ws.WebSocketSession.objects.create(
    connection_id="Gone1Conn=", channel_name="lobby", api_gateway=gateway, connected=False
)
channel = ws.ChannelPermission.objects.create(
    channel_name="staff-room", access="permissions", description="two rules"
)
both = ws.ChannelPermissionRule.objects.create(channel_permission=channel)
both.permissions.set(
    Permission.objects.filter(
        content_type__app_label="auth", codename__in=["add_user", "change_user"]
    )
)
one = ws.ChannelPermissionRule.objects.create(channel_permission=channel)
one.permissions.set(Permission.objects.filter(content_type__app_label="auth", codename="view_user"))
attempt = ws.ConnectionRateLimit.record_attempt("203.0.113.7", user, successful=True)
token = ws.WebSocketToken.generate_token(user, SESSION_KEY)

written = {
    "session_key": SESSION_KEY,
    "user_id": user.pk,
    "gateway_id": gateway.pk,
    "route_id": route.pk,
    "live_session_id": live.pk,
    "session_key_hash": live.session_key_hash,
    "auth_hash": live.auth_hash,
    "channel_id": channel.pk,
    "attempt_id": attempt.pk,
    "token": token.token,
}
with open(sys.argv[1], "w") as fh:
    json.dump(written, fh, indent=2)
print(f"original 4.1.0 wrote: {written}")
