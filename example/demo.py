"""Run the demo chat: ``python example/demo.py`` (or ``make demo``).

Migrates the SQLite database, creates the demo users, then serves Django and the local
API Gateway together until Ctrl-C, when it closes every WebSocket (Django hears each
``$disconnect``) and stops both. The two talk only over HTTP, as on AWS.

``make demo PORT=9000`` serves Django on 9000 and the local gateway on the next port
(``GATEWAY_PORT=`` picks another); a port that is taken ends the demo with one line
saying so. ``--port 0`` binds free ports; the line ``Demo running at <url>`` says which,
and is how the browser tests find it. ``--idle-timeout`` and ``--max-duration``
shorten API Gateway's limits, to watch the client's heartbeats and renewals (the room
page takes client options from its query string, e.g.
``/rooms/lobby/?heartbeatIntervalMs=2000&rotateAfterMs=5000``).
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import sys
import threading
from pathlib import Path

EXAMPLE_DIR = Path(__file__).resolve().parent


class PortUnavailable(Exception):
    """A port the demo needs cannot be had; the message is the one line it prints."""

    def __init__(self, what: str, host: str, port: int, error: OSError) -> None:
        if error.errno == errno.EADDRINUSE:
            problem = f"port {port} is in use"
        else:
            problem = f"cannot listen on {host}:{port} ({error.strerror or error})"
        super().__init__(
            f"Cannot start the demo: {what}: {problem}. Pick free ports: make demo "
            "PORT=<port> (the local gateway takes the next one, or GATEWAY_PORT=<port>)."
        )


def tcp_port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port (0 to 65535)")
    return port


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=tcp_port, default=8000, help="Django's port (0: any free one)."
    )
    parser.add_argument(
        "--gateway-port",
        type=tcp_port,
        default=None,
        help="The local gateway's port (default: the one after --port; 0: any).",
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
    args = parser.parse_args(argv)
    if args.gateway_port is None:
        args.gateway_port = args.port + 1 if args.port else 0
        if args.gateway_port > 65535:
            parser.error("--port 65535 leaves no next port for the gateway: give --gateway-port")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return serve(args)
    except PortUnavailable as error:
        print(error, file=sys.stderr)
        return 1


def serve(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(EXAMPLE_DIR))
    os.environ["DJANGO_SETTINGS_MODULE"] = "demo.settings"
    os.environ["DEMO_DATABASE"] = args.database

    # Bind both ports first: the settings need the gateway's address, and the gateway
    # needs Django's. Neither serves a request before Django is set up.
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    try:
        httpd = ThreadedWSGIServer((args.host, args.port), WSGIRequestHandler)
    except OSError as error:
        raise PortUnavailable("Django's server", args.host, args.port, error) from None
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
    try:
        gateway.start()
    except OSError as error:
        httpd.server_close()
        raise PortUnavailable("the local gateway", args.host, args.gateway_port, error) from None
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
