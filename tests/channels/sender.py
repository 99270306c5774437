"""A sender in its own process, for the concurrency test: ``python -m
tests.channels.sender CHANNEL COUNT GO_FILE``, with ``DATABASE_URL`` naming the test
database. It waits for ``GO_FILE``, so that all senders start together, then sends
``COUNT`` messages ``{"sender": <pid>, "n": <n>}`` to ``CHANNEL`` with
``send_to_channel``."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def main(channel: str, count: int, go_file: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django

    django.setup()
    from django.test import override_settings

    from django_aws_api_gateway_websockets.channel_messages import send_to_channel

    while not go_file.exists():
        time.sleep(0.005)
    with override_settings(WEBSOCKETS={"history_channels": [channel]}):
        for n in range(count):
            send_to_channel(channel, {"sender": os.getpid(), "n": n})


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))
