"""Local gateway benchmark: many concurrent WebSocket clients talking to Django through
the gateway, every reply sent by Django through the Management API.

Three processes, as in development: Django (a threaded WSGI server running the
package's ``WebSocketView``), the gateway (``python -m
django_aws_api_gateway_websockets.localgateway``) and this one, which holds the clients.
Each client connects (paced under the 500/s connect limit), then sends ``--messages``
messages; the handler answers each through ``send_message`` (or, with
``--route-response``, with its return value). Prints connections held, messages per
second, round-trip p50/p99 and lost messages (must be 0).

    python benchmarks/localgateway.py [--clients 1000] [--messages 5]

``DATABASE_URL=postgres://postgres@127.0.0.1:5432/test`` runs Django on PostgreSQL (in
its own ``test_lgbench`` database); the default is a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import websockets

ROOT = Path(__file__).resolve().parent.parent
urlpatterns: list[Any] = []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- Django (child process) ----------------------------------------------------------


def serve_django(port: int, gateway_port: int, route_response: bool) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    postgres = os.environ.get("DATABASE_URL", "").startswith("postgres")
    if not postgres:
        os.environ["DATABASE_URL"] = "sqlite://:memory:"
        os.environ["TEST_DB_NAME"] = str(Path(tempfile.mkdtemp()) / "lgbench.sqlite3")
    else:
        os.environ.setdefault("TEST_DB_NAME", "test_lgbench")
    import tests.settings as test_settings

    # Keep each server thread's connection, as a production deployment would.
    test_settings.DATABASES["default"]["CONN_MAX_AGE"] = 60
    if not postgres:  # one file shared by the server's threads, writers queue up
        test_settings.DATABASES["default"]["OPTIONS"] = {
            "timeout": 60,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
        }
    import django

    django.setup()
    from django.conf import settings
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application
    from django.db import connection
    from django.http import JsonResponse
    from django.urls import path

    from django_aws_api_gateway_websockets.models import ApiGateway
    from django_aws_api_gateway_websockets.views import WebSocketView

    class EchoView(WebSocketView):
        USE_WS_TOKEN = False
        RATE_LIMIT_ENABLED = False

        def default(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            reply = {"seq": self.body.get("seq"), "sent": self.body.get("sent")}
            if route_response:
                return JsonResponse(reply)
            self.websocket_session.send_message(reply)
            return None

    urlpatterns.append(path("ws/<slug:route>", EchoView.as_view()))
    settings.ROOT_URLCONF = __name__
    settings.WEBSOCKETS = {"management_endpoint_url": f"http://127.0.0.1:{gateway_port}/{{stage}}"}
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    ApiGateway.objects.create(api_name="bench", api_id="bench", stage_name="bench")

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadedWSGIServer):
        request_queue_size = 256

    server = Server(("127.0.0.1", port), QuietHandler)
    server.set_app(get_wsgi_application())
    print("ready", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


# -- clients (this process) ----------------------------------------------------------


async def client(
    url: str, messages: int, started: asyncio.Event, latencies: list[float], held: list[int]
) -> int:
    """Returns how many replies arrived."""
    async with websockets.connect(url, open_timeout=60, max_queue=None) as ws:
        held.append(1)
        await started.wait()
        received = 0
        for seq in range(messages):
            sent = time.perf_counter()
            await ws.send(json.dumps({"action": "echo", "seq": seq, "sent": sent}))
            try:
                reply = json.loads(await asyncio.wait_for(ws.recv(), 60))
            except (asyncio.TimeoutError, websockets.ConnectionClosed):
                break
            if reply.get("seq") == seq:
                received += 1
                latencies.append(time.perf_counter() - sent)
        return received


async def drive(url: str, clients: int, messages: int, connect_rate: float) -> dict[str, Any]:
    started = asyncio.Event()
    latencies: list[float] = []
    held: list[int] = []
    tasks = []
    connect_start = time.perf_counter()
    for index in range(clients):
        tasks.append(asyncio.create_task(client(url, messages, started, latencies, held)))
        await asyncio.sleep(
            max(0.0, connect_start + (index + 1) / connect_rate - time.perf_counter())
        )
    while len(held) < clients and not any(task.done() for task in tasks):
        await asyncio.sleep(0.05)
    connect_seconds = time.perf_counter() - connect_start
    concurrent = len(held)
    begin = time.perf_counter()
    started.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    seconds = time.perf_counter() - begin
    received = sum(r for r in results if isinstance(r, int))
    errors = [r for r in results if isinstance(r, BaseException)]
    return {
        "connections_held": concurrent,
        "connect_seconds": connect_seconds,
        "received": received,
        "seconds": seconds,
        "latencies": sorted(latencies),
        "errors": errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=5, help="Messages per client.")
    parser.add_argument("--connect-rate", type=float, default=450.0, help="Connects per second.")
    parser.add_argument("--route-response", action="store_true")
    parser.add_argument(
        "--integration-connections",
        type=int,
        default=32,
        help="Concurrent calls from the gateway to Django (each holds a database connection).",
    )
    parser.add_argument("--serve-django", nargs=2, type=int, metavar=("PORT", "GATEWAY_PORT"))
    options = parser.parse_args()
    if options.serve_django:
        serve_django(*options.serve_django, options.route_response)
        return 0

    django_port, gateway_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    django_cmd = [sys.executable, __file__, "--serve-django", str(django_port), str(gateway_port)]
    if options.route_response:
        django_cmd.append("--route-response")
    gateway_cmd = [
        sys.executable,
        "-m",
        "django_aws_api_gateway_websockets.localgateway",
        "--target",
        f"http://127.0.0.1:{django_port}/ws/",
        "--port",
        str(gateway_port),
        "--api-id",
        "bench",
        "--stage",
        "bench",
        "--quiet",
        "--integration-connections",
        str(options.integration_connections),
    ]
    if options.route_response:
        gateway_cmd += ["--route-response", "$default"]
    django = subprocess.Popen(django_cmd, env=env, stdout=subprocess.PIPE, text=True)
    gateway = subprocess.Popen(gateway_cmd, env=env)
    try:
        assert django.stdout is not None
        if django.stdout.readline().strip() != "ready":
            print("Django did not start", file=sys.stderr)
            return 1
        time.sleep(0.5)  # the gateway binds its port
        url = f"ws://127.0.0.1:{gateway_port}/bench"
        result = asyncio.run(drive(url, options.clients, options.messages, options.connect_rate))
    finally:
        for process in (gateway, django):
            process.send_signal(2)
        for process in (gateway, django):
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
    expected = options.clients * options.messages
    latencies = result["latencies"]
    mode = "route response" if options.route_response else "send_message"
    print(f"local gateway benchmark ({mode}, Django threaded WSGI, {os.cpu_count()} cores)")
    print(f"  clients:                 {options.clients}")
    print(f"  connections held:        {result['connections_held']}")
    print(f"  connect phase:           {result['connect_seconds']:.2f} s")
    print(f"  messages:                {expected} sent, {result['received']} replies")
    print(f"  messages per second:     {result['received'] / result['seconds']:.0f} round trips")
    if latencies:
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        print(f"  round trip p50 / p99:    {p50:.1f} ms / {p99:.1f} ms")
    print(f"  lost messages:           {expected - result['received']}")
    for error in result["errors"][:3]:
        print(f"  client error: {error!r}")
    return 0 if expected == result["received"] else 1


if __name__ == "__main__":
    sys.exit(main())
