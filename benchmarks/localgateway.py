"""Local gateway benchmark: many concurrent WebSocket clients talking to Django through
the gateway, every reply sent by Django through the Management API.

Three processes, as in development: Django (the package's ``WebSocketView`` under
``runserver``'s threaded WSGI server, or under gunicorn with threads, a production
server), the gateway (``python -m django_aws_api_gateway_websockets.localgateway``, in
strict mode: every Management API signature is verified) and this one, which holds the
clients. Every client connects (paced under the 500/s connect limit) and is held open
to the end; ``--senders`` of them then send ``--messages`` messages one after the other,
and the handler answers each through ``send_message`` (or, with ``--route-response``,
with its return value). Prints, per server: connections held (and still open at the
end), connects/s, round trips/s, round-trip p50/p99 (queueing included), answers timed
out as AWS would (over 29 s), lost messages (must be 0) and each process's CPU per
round trip.

    python benchmarks/localgateway.py [--clients 5000] [--senders 1000] [--server both]

``DATABASE_URL=postgres://postgres@127.0.0.1:5432/test`` runs Django on PostgreSQL (in
its own ``test_lgbench`` database, or ``TEST_DB_NAME``); the default is a temporary SQLite
file. gunicorn comes with the ``bench`` dependency group (``pip install --group bench``).
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

#: Django's answer to every message: the echo goes back through the Management API.
SERVERS = ("runserver", "gunicorn")
#: Threads serving Django in either server (gunicorn: per worker, one worker per core).
THREADS = 16


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- Django (child process) ----------------------------------------------------------


def serve_django(port: int, gateway_port: int, server: str, route_response: bool) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    postgres = os.environ.get("DATABASE_URL", "").startswith("postgres")
    if not postgres:
        os.environ["DATABASE_URL"] = "sqlite://:memory:"
        os.environ["TEST_DB_NAME"] = str(Path(tempfile.mkdtemp()) / "lgbench.sqlite3")
    else:
        os.environ.setdefault("TEST_DB_NAME", "test_lgbench")
    import tests.settings as test_settings

    # gunicorn keeps each thread's connection, as a production deployment would;
    # runserver opens one per request, as in development (and so it can drop the database).
    test_settings.DATABASES["default"]["CONN_MAX_AGE"] = 60 if server == "gunicorn" else 0
    if not postgres:  # one file shared by the server's threads, writers queue up
        test_settings.DATABASES["default"]["OPTIONS"] = {
            "timeout": 60,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
        }
    import django

    django.setup()
    from django.conf import settings
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
    application = get_wsgi_application()
    parent = os.getpid()
    try:
        if server == "gunicorn":
            run_gunicorn(application, port)
        else:
            run_runserver(application, port)
    except KeyboardInterrupt:
        pass
    finally:
        if os.getpid() == parent:  # not in gunicorn's workers, which exit through here
            connection.close()
            connection.creation.destroy_test_db(old_name, verbosity=0)


def run_runserver(application: Any, port: int) -> None:
    """``manage.py runserver``'s threaded WSGI server (a thread per request)."""
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    class Server(ThreadedWSGIServer):
        request_queue_size = 256

    server = Server(("127.0.0.1", port), QuietHandler)
    server.set_app(application)
    print("ready", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def run_gunicorn(application: Any, port: int) -> None:
    """gunicorn with threaded workers, one per core, as a production deployment runs."""
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    connections.close_all()  # the workers fork: each opens its own

    class Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {
                "bind": f"127.0.0.1:{port}",
                "workers": os.cpu_count() or 2,
                "worker_class": "gthread",
                "threads": THREADS,
                "backlog": 2048,
                "keepalive": 75,
                "timeout": 300,  # a worker busy on a loaded machine is not a hung one
                "loglevel": "warning",
                "when_ready": lambda server: print("ready", flush=True),
            }
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self) -> Any:
            return application

    Gunicorn().run()


# -- clients (this process) ----------------------------------------------------------


def cpu_seconds(pid: int, descendants: bool = True) -> float:
    """CPU time of a process and its descendants (gunicorn's workers), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    if not descendants:
        return own
    return own + sum(cpu_seconds(int(child)) for child in children)


class Run:
    """What the clients of one server saw."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.started = asyncio.Event()
        self.finished = asyncio.Event()
        self.held = 0
        self.conversing = 0
        self.open_at_end = 0
        self.sent = 0
        self.received = 0
        self.timed_out = 0
        self.latencies: list[float] = []
        self.errors: list[BaseException] = []


async def client(url: str, messages: int, run: Run) -> None:
    """Connect, wait for the start, send ``messages`` one after the other (none for an
    idle client), then wait for every client to finish and check it is still open."""
    try:
        async with websockets.connect(
            url, open_timeout=60, max_queue=None, ping_interval=None, close_timeout=5
        ) as ws:
            run.held += 1
            run.conversing += bool(messages)
            await run.started.wait()
            try:
                await converse(ws, messages, run)
            finally:
                run.conversing -= bool(messages)
            await run.finished.wait()
            run.open_at_end += ws.state is websockets.State.OPEN
    except Exception as exc:  # a refused or dropped connection: counted, not raised
        run.errors.append(exc)


async def converse(ws: Any, messages: int, run: Run) -> None:
    for seq in range(messages):
        if time.perf_counter() > run.deadline:
            return
        sent = time.perf_counter()
        await ws.send(json.dumps({"action": "echo", "seq": seq, "sent": sent}))
        run.sent += 1
        try:
            reply = json.loads(await asyncio.wait_for(ws.recv(), 60))
        except (asyncio.TimeoutError, websockets.ConnectionClosed):
            return
        if reply.get("seq") == seq:
            run.received += 1
            run.latencies.append(time.perf_counter() - sent)
        elif reply.get("message") == "Endpoint request timed out":
            run.timed_out += 1  # AWS's answer when Django is over 29 s behind
            return


async def drive(url: str, options: argparse.Namespace, pids: dict[str, int]) -> dict[str, Any]:
    clients, connect_rate = options.clients, options.connect_rate
    run = Run(deadline=time.perf_counter() + options.seconds)
    tasks = []
    connect_start = time.perf_counter()
    for index in range(clients):
        messages = options.messages if index < options.senders else 0
        tasks.append(asyncio.create_task(client(url, messages, run)))
        await asyncio.sleep(
            max(0.0, connect_start + (index + 1) / connect_rate - time.perf_counter())
        )
    while run.held + len(run.errors) < clients and time.perf_counter() < run.deadline:
        await asyncio.sleep(0.05)
    connect_seconds = time.perf_counter() - connect_start
    held = run.held
    # The clients' process is Django's and the gateway's parent: its own time only.
    cpu = {name: cpu_seconds(pid, name != "clients") for name, pid in pids.items()}
    begin = time.perf_counter()
    run.started.set()
    while run.conversing and time.perf_counter() < run.deadline + 60:
        await asyncio.sleep(0.01)
    seconds_taken = time.perf_counter() - begin
    run.finished.set()
    await asyncio.gather(*tasks)
    cpu = {name: cpu_seconds(pid, name != "clients") - cpu[name] for name, pid in pids.items()}
    return {
        "held": held,
        "open_at_end": run.open_at_end,
        "timed_out": run.timed_out,
        "connect_seconds": connect_seconds,
        "sent": run.sent,
        "received": run.received,
        "seconds": seconds_taken,
        "latencies": sorted(run.latencies),
        "errors": run.errors,
        "cpu": cpu,
    }


def measure(server: str, options: argparse.Namespace) -> dict[str, Any]:
    """Start Django under ``server`` and a gateway, drive the clients, stop both."""
    django_port, gateway_port = free_port(), free_port()
    # Django signs with these (boto3's chain finds them); the gateway verifies against them.
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "AWS_ACCESS_KEY_ID": "AKIDLGBENCH",
        "AWS_SECRET_ACCESS_KEY": "local-gateway-bench",
        "AWS_DEFAULT_REGION": "eu-west-1",  # tests.settings' AWS_GATEWAY_REGION_NAME
    }
    django_cmd = [
        sys.executable,
        __file__,
        "--serve-django",
        str(django_port),
        str(gateway_port),
        server,
    ]
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
        "--verify-signatures",
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
            raise RuntimeError(f"Django under {server} did not start")
        time.sleep(1.0)  # the gateway binds its port, gunicorn's workers boot
        url = f"ws://127.0.0.1:{gateway_port}/bench"
        pids = {"django": django.pid, "gateway": gateway.pid, "clients": os.getpid()}
        return asyncio.run(drive(url, options, pids))
    finally:
        for process in (gateway, django):
            process.send_signal(2)
        for process in (gateway, django):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def report(server: str, options: argparse.Namespace, result: dict[str, Any]) -> bool:
    """Print one server's figures; whether no message was lost."""
    latencies = result["latencies"]
    lost = result["sent"] - result["received"] - result["timed_out"]
    mode = "route response" if options.route_response else "send_message"
    print(f"{server} ({'your handler' if options.url else mode}, {os.cpu_count()} cores)")
    held, still_open = result["held"], result["open_at_end"]
    print(f"  connections held:        {held} of {options.clients}, {still_open} open at the end")
    print(
        f"  connects per second:     {result['held'] / result['connect_seconds']:.0f}"
        f" (paced at {options.connect_rate:.0f})"
    )
    expected = min(options.senders, options.clients) * options.messages
    sent, received = result["sent"], result["received"]
    print(f"  messages:                {sent} sent of {expected}, {received} replies")
    print(f"  timed out (over 29 s):   {result['timed_out']}")
    print(f"  round trips per second:  {result['received'] / result['seconds']:.0f}")
    if latencies:
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        print(f"  round trip p50 / p99:    {p50:.1f} ms / {p99:.1f} ms")
    print(f"  lost messages:           {lost}")
    if received:
        per_trip = {name: seconds / received * 1e6 for name, seconds in result["cpu"].items()}
        total = sum(per_trip.values())
        parts = ", ".join(f"{name} {value:.0f}" for name, value in per_trip.items())
        print(f"  CPU per round trip:      {total:.0f} us ({parts})")
        print(f"  2 idle cores would give: {2e6 / total:.0f} round trips per second")
    for error in result["errors"][:3]:
        print(f"  client error: {error!r}")
    return lost == 0 and not result["errors"] and still_open == held


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--messages", type=int, default=5, help="Messages per sender.")
    parser.add_argument(
        "--senders",
        type=int,
        default=1000,
        help="Clients that send messages; the others are held open, idle, and checked at the "
        "end (every client sending at once only measures queueing).",
    )
    parser.add_argument("--connect-rate", type=float, default=450.0, help="Connects per second.")
    parser.add_argument("--server", choices=(*SERVERS, "both"), default="both")
    parser.add_argument(
        "--seconds", type=float, default=90.0, help="Time bound per server (connects included)."
    )
    parser.add_argument("--route-response", action="store_true")
    parser.add_argument(
        "--integration-connections",
        type=int,
        default=2 * THREADS,
        help="Concurrent calls from the gateway to Django (each holds a server thread).",
    )
    parser.add_argument(
        "--url",
        help="Drive the clients against your own gateway (runLocalGateway in front of your "
        "Django) instead: its handler for 'echo' messages must send back their 'seq'.",
    )
    parser.add_argument("--serve-django", nargs=3, metavar=("PORT", "GATEWAY_PORT", "SERVER"))
    options = parser.parse_args()
    if options.serve_django:
        port, gateway_port, server = options.serve_django
        serve_django(int(port), int(gateway_port), server, options.route_response)
        return 0
    if options.url:
        result = asyncio.run(drive(options.url, options, {"clients": os.getpid()}))
        return 0 if report(options.url, options, result) else 1
    servers = SERVERS if options.server == "both" else (options.server,)
    results = {server: measure(server, options) for server in servers}
    ok = [report(server, options, result) for server, result in results.items()]
    if len(results) == 2:
        rates = [r["received"] / r["seconds"] for r in results.values()]
        print(f"gunicorn / runserver round trips per second: {rates[1] / max(rates[0], 1e-9):.2f}x")
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
