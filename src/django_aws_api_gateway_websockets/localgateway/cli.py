"""Command-line options shared by ``manage.py runLocalGateway`` and
``python -m django_aws_api_gateway_websockets.localgateway``, and the loop that runs
the gateway until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from typing import Any

from .config import Credentials, GatewayConfig, Limits
from .server import LocalGateway, logger


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
    parser.add_argument("--port", type=int, default=8001, help="Port to listen on (0: any).")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--api-gateway",
        type=int,
        metavar="PK",
        help="Configure from this ApiGateway row (needs Django settings).",
    )
    source.add_argument(
        "--target",
        metavar="BASE_URL",
        help="Django's WebSocket view without the route slug, e.g. http://127.0.0.1:8000/ws/",
    )
    parser.add_argument("--stage", help="Stage name (default: the row's, else 'local').")
    parser.add_argument(
        "--api-id", help="API id sent to Django (default: the row's, else 'local')."
    )
    parser.add_argument("--route-selection-expression", metavar="EXPRESSION")
    parser.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="KEY=URL",
        help="An additional route and its integration URL (repeatable).",
    )
    parser.add_argument(
        "--route-response",
        action="append",
        default=[],
        metavar="KEY",
        help="Send this route's integration response back to the client (repeatable), "
        "e.g. '$default'.",
    )
    parser.add_argument("--gateway-secret", help="Default: the first WEBSOCKETS['gateway_secret'].")
    parser.add_argument(
        "--drop-disconnect",
        type=float,
        nargs="?",
        const=1.0,
        default=0.0,
        metavar="FRACTION",
        help="Drop $disconnect calls (all, or this fraction) to rehearse best-effort delivery.",
    )
    parser.add_argument(
        "--verify-signatures",
        action="store_true",
        help="Strict mode: verify @connections signatures against the credentials Django "
        "signs with (its AWS settings, else the package's local ones), as AWS does.",
    )
    defaults = Limits()
    parser.add_argument("--frame-bytes", type=int, default=defaults.frame_bytes)
    parser.add_argument("--message-bytes", type=int, default=defaults.message_bytes)
    parser.add_argument("--idle-timeout", type=float, default=defaults.idle_timeout)
    parser.add_argument("--max-duration", type=float, default=defaults.max_duration)
    parser.add_argument(
        "--connect-rate", type=float, default=defaults.connect_rate, help="0 turns it off."
    )
    parser.add_argument(
        "--management-rate",
        type=float,
        default=defaults.management_rate,
        help="@connections requests per second before 429 (0 turns it off).",
    )
    for flag, kind, text in (
        ("--integration-timeout", float, "Seconds Django has to answer (AWS: 29)."),
        ("--handshake-timeout", float, "Seconds a new connection has to send its request."),
        ("--keepalive-timeout", float, "Seconds an idle Management API connection is kept."),
        ("--max-connections", int, "Connections held at once; the next one gets 503."),
    ):
        default = getattr(defaults, flag[2:].replace("-", "_"))
        parser.add_argument(flag, type=kind, default=default, help=text + " 0 turns it off.")
    parser.add_argument(
        "--integration-connections",
        type=int,
        default=100,
        help="Most calls to Django in flight at once (each holds a server thread).",
    )
    parser.add_argument("--quiet", action="store_true", help="Log only warnings.")


def _parse_routes(values: list[str]) -> dict[str, str]:
    routes = {}
    for value in values:
        key, sep, url = value.partition("=")
        if not sep or not key or not url:
            raise ValueError(f"--route takes KEY=URL, not {value!r}.")
        routes[key] = url
    return routes


def _configured_secret() -> str | None:
    from django.conf import settings

    if not settings.configured:
        return None
    from ..conf import get_gateway_secrets

    secrets = get_gateway_secrets()
    return secrets[0] if secrets else None


def signing_credentials() -> Credentials:
    """The credentials and region a deployed Django would sign ``@connections`` calls
    with: its AWS settings as the package resolves them (``python -m`` without Django
    settings: boto3's default chain)."""
    from django.conf import settings

    if settings.configured:
        from ..messaging.endpoint import signing_region
        from ..messaging.signing import current_credentials

        frozen = current_credentials(for_aws=False)
        try:
            region: str | None = signing_region()
        except RuntimeError:  # no region and sending still points at AWS: any region
            region = None
        return Credentials(frozen.access_key, frozen.secret_key, region)
    import boto3

    session = boto3.session.Session()
    found = session.get_credentials()
    if found is None:
        raise ValueError(
            "--verify-signatures needs the credentials Django signs with: set "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run it through manage.py."
        )
    frozen = found.get_frozen_credentials()
    return Credentials(frozen.access_key, frozen.secret_key, session.region_name)


def gateway_row_settings(pk: int | None) -> dict[str, Any]:
    """What an ``ApiGateway`` row says about its API: the only row when ``pk`` is None."""
    from ..models import ApiGateway

    rows = ApiGateway.objects.all() if pk is None else ApiGateway.objects.filter(pk=pk)
    gateways = list(rows[:2])
    if len(gateways) != 1:
        if pk is not None:
            raise ValueError(f"There is no ApiGateway with pk {pk}.")
        raise ValueError("Pass --target BASE_URL, or --api-gateway PK to pick an ApiGateway row.")
    gateway = gateways[0]
    if not gateway.target_base_endpoint:
        raise ValueError(f"ApiGateway {gateway.pk} has no target_base_endpoint.")
    return {
        "target_base_url": gateway.target_base_endpoint,
        "api_id": gateway.api_id or None,
        "stage": gateway.effective_stage_name,
        "route_selection_expression": gateway.route_selection_expression,
        "routes": {r.route_key: r.integration_url for r in gateway.additional_routes.all()},
    }


def build_config(options: dict[str, Any], row: dict[str, Any] | None = None) -> GatewayConfig:
    """Options on the command line win over what the row says."""
    row = row or {}
    target = options.get("target") or row.get("target_base_url")
    if not target:
        raise ValueError("Pass --target BASE_URL or --api-gateway PK.")
    if row and not row.get("api_id") and not options.get("api_id"):
        raise ValueError(
            "The ApiGateway row has no api_id, so Django would refuse the gateway's calls: "
            "give the row one (any short name, e.g. 'local') or pass --api-id."
        )
    defaults = Limits()
    limits = Limits(
        frame_bytes=options["frame_bytes"] or None,
        message_bytes=options["message_bytes"] or None,
        idle_timeout=options["idle_timeout"] or None,
        max_duration=options["max_duration"] or None,
        connect_rate=options["connect_rate"] or None,
        management_rate=options["management_rate"] or None,
        integration_timeout=options.get("integration_timeout") or defaults.integration_timeout,
        handshake_timeout=options.get("handshake_timeout", defaults.handshake_timeout) or None,
        keepalive_timeout=options.get("keepalive_timeout", defaults.keepalive_timeout) or None,
        max_connections=options.get("max_connections", defaults.max_connections) or None,
    )
    secret = options.get("gateway_secret")
    return GatewayConfig(
        target_base_url=target,
        api_id=options.get("api_id") or row.get("api_id") or "local",
        stage=options.get("stage") or row.get("stage") or "local",
        route_selection_expression=options.get("route_selection_expression")
        or row.get("route_selection_expression")
        or "$request.body.action",
        routes={**row.get("routes", {}), **_parse_routes(options.get("route") or [])},
        route_responses=frozenset(options.get("route_response") or []),
        gateway_secret=secret if secret is not None else _configured_secret(),
        drop_disconnect=options.get("drop_disconnect") or 0.0,
        limits=limits,
        credentials=signing_credentials() if options.get("verify_signatures") else None,
        integration_pool_size=options.get("integration_connections") or 100,
    )


def configure_logging(quiet: bool) -> None:
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(logging.WARNING if quiet else logging.INFO)


def run(config: GatewayConfig, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM, then close every connection and stop."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        gateway = LocalGateway(config, host, port)
        await gateway.start()
        try:
            await stop.wait()
        finally:
            logger.info("Stopping: closing %d connection(s)", len(gateway.table))
            await gateway.stop()

    asyncio.run(main())
