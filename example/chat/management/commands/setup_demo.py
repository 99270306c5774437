"""``manage.py setup_demo``: the rooms, the demo users and the API Gateway row the local
gateway stands in for. Safe to run again: it only creates what is missing (and points
the gateway row at ``--target``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission, User
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from chat.demo_data import API_ID, PASSWORD, PROTECTED_ROOM, ROOMS, STAGE, USERS
from chat.models import Room
from django_aws_api_gateway_websockets.models import (
    ApiGateway,
    ChannelPermission,
    ChannelPermissionRule,
)


class Command(BaseCommand):
    help = "Create the demo's rooms, users and API Gateway row."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--target",
            default="http://127.0.0.1:8000/ws/",
            help="Django's WebSocket view without the route slug (the gateway row's "
            "target_base_endpoint).",
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        for slug, title, description in ROOMS:
            Room.objects.get_or_create(
                slug=slug, defaults={"title": title, "description": description}
            )
            if slug != PROTECTED_ROOM:
                ChannelPermission.objects.get_or_create(
                    channel_name=slug, defaults={"access": ChannelPermission.Access.ALLOW_ALL}
                )
        permission = Permission.objects.get(
            content_type__app_label="chat", codename="join_staff_room"
        )
        members, _ = Group.objects.get_or_create(name="Staff room members")
        members.permissions.add(permission)
        for username, member, superuser in USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(
                    username, password=PASSWORD, is_superuser=superuser, is_staff=superuser
                )
            if member:
                user.groups.add(members)
        channel, created = ChannelPermission.objects.get_or_create(
            channel_name=PROTECTED_ROOM,
            defaults={
                "access": ChannelPermission.Access.PERMISSIONS,
                "description": "Only members of the staff room group.",
            },
        )
        if created:
            ChannelPermissionRule.objects.create(channel_permission=channel).permissions.add(
                permission
            )
        gateway = ApiGateway.objects.filter(api_name="Demo chat").first() or ApiGateway(
            api_name="Demo chat", api_description="The local gateway of the demo"
        )
        gateway.api_id = API_ID
        gateway.stage_name = STAGE
        gateway.target_base_endpoint = options["target"]
        gateway.save()
        if options["verbosity"]:
            names = ", ".join(username for username, *_ in USERS)
            self.stdout.write(f"Demo ready: {len(ROOMS)} rooms, users {names}.")
