"""Run the demo chat: ``python example/demo.py`` (or ``make demo``).

Migrates the SQLite database, creates the demo users, then serves Django and the local
API Gateway together until Ctrl-C, when it closes every WebSocket (Django hears each
``$disconnect``) and stops both. The two talk only over HTTP, as on AWS.

``--port 0 --gateway-port 0`` binds free ports; the line ``Demo running at <url>`` says
which, and is how the browser tests find it. ``--idle-timeout`` and ``--max-duration``
shorten API Gateway's limits, to watch the client's heartbeats and renewals (the room
page takes client options from its query string, e.g.
``/rooms/lobby/?heartbeatIntervalMs=2000&rotateAfterMs=5000``).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

EXAMPLE_DIR = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="Django's port (0: any free one).")
    parser.add_argument(
        "--gateway-port", type=int, default=8001, help="The local gateway's port (0: any)."
    )
    parser.add_argument(
        "--database", default=str(EXAMPLE_DIR / "db.sqlite3"), help="The SQLite file."
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=600.0,
        help="Seconds without a message before the gateway closes a connection (AWS: 600).",
    )
    parser.add_argument(
        "--max-duration",
        type=float,
        default=7200.0,
        help="Seconds a connection may live (AWS: 7200).",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(EXAMPLE_DIR))
    os.environ["DJANGO_SETTINGS_MODULE"] = "demo.settings"
    os.environ["DEMO_DATABASE"] = args.database

    # Bind both ports first: the settings need the gateway's address, and the gateway
    # needs Django's. Neither serves a request before Django is set up.
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    httpd = ThreadedWSGIServer((args.host, args.port), WSGIRequestHandler)
    site_url = f"http://{args.host}:{httpd.server_address[1]}"

    from chat.demo_data import API_ID, PASSWORD, STAGE, USERS

    from django_aws_api_gateway_websockets.localgateway.cli import configure_logging
    from django_aws_api_gateway_websockets.localgateway.config import GatewayConfig, Limits
    from django_aws_api_gateway_websockets.localgateway.server import LocalGateway
    from django_aws_api_gateway_websockets.localgateway.thread import GatewayThread

    secret = os.environ.setdefault("DEMO_GATEWAY_SECRET", os.urandom(24).hex())
    config = GatewayConfig(
        target_base_url=f"{site_url}/ws/",
        api_id=API_ID,
        stage=STAGE,
        gateway_secret=secret,
        limits=Limits(idle_timeout=args.idle_timeout, max_duration=args.max_duration),
    )
    gateway = GatewayThread(LocalGateway(config, args.host, args.gateway_port))
    configure_logging(quiet=False)
    gateway.start()
    os.environ["DEMO_WEBSOCKET_URL"] = gateway.gateway.url
    os.environ["DEMO_MANAGEMENT_ENDPOINT"] = gateway.gateway.management_endpoint

    try:
        import django
        from django.contrib.staticfiles.handlers import StaticFilesHandler
        from django.core.management import call_command
        from django.core.wsgi import get_wsgi_application

        django.setup()
        call_command("migrate", verbosity=0)
        call_command("setup_demo", target=config.target_base_url, verbosity=0)
        httpd.set_app(StaticFilesHandler(get_wsgi_application()))
    except BaseException:
        gateway.stop()
        httpd.server_close()
        raise

    server = threading.Thread(target=httpd.serve_forever, name="django", daemon=True)
    server.start()
    print(f"Demo running at {site_url}/", flush=True)
    print(f"  WebSockets:     {gateway.gateway.url} (the local API Gateway)")
    print(f"  Management API: {gateway.gateway.management_endpoint}/@connections/{{id}}")
    for username, member, superuser in USERS:
        role = "staff room member" if member else "admin site" if superuser else "no staff room"
        print(f"  Log in as {username:<6} password {PASSWORD}  ({role})")
    print("Press Ctrl-C to stop.", flush=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    print("Stopping: closing WebSockets, then Django.", flush=True)
    gateway.stop()  # while Django still answers, so it hears every $disconnect
    httpd.shutdown()
    httpd.server_close()
    logging.shutdown()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
