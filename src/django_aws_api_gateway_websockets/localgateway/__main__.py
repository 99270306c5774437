"""``python -m django_aws_api_gateway_websockets.localgateway``: the same options as
``manage.py runLocalGateway``; ``--api-gateway`` needs ``DJANGO_SETTINGS_MODULE``."""

from __future__ import annotations

import argparse
import sys

from .cli import add_arguments, build_config, configure_logging, gateway_row_settings, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m django_aws_api_gateway_websockets.localgateway",
        description="Run a local API Gateway for WebSocket APIs in front of Django.",
    )
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    try:
        row = None
        if options["api_gateway"] is not None:
            import django

            django.setup()
            row = gateway_row_settings(options["api_gateway"])
        config = build_config(options, row)
    except Exception as exc:  # every configuration problem is reported the same way
        parser.error(str(exc))
    configure_logging(options["quiet"])
    run(config, options["host"], options["port"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
