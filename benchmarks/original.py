"""4.1.0 from PyPI in a virtual environment of its own, for the benchmarks that measure
it beside this package in one run."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

ORIGINAL_VERSION = "4.1.0"
ORIGINAL = f"django-aws-api-gateway-websockets=={ORIGINAL_VERSION}"
#: Ignored by git; made on first use.
ORIGINAL_ENV = Path(__file__).resolve().parent / ".venv-original"


def original_python() -> Path:
    """The interpreter of 4.1.0's environment, created on first use with this
    environment's Django, so that both packages run on the same Django."""
    import django

    python = ORIGINAL_ENV / "bin" / "python"
    marker = ORIGINAL_ENV / ".installed"
    if not marker.exists():
        print(f"Installing {ORIGINAL} into {ORIGINAL_ENV} ...", file=sys.stderr)
        venv.create(ORIGINAL_ENV, with_pip=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                ORIGINAL,
                f"Django=={django.get_version()}",
                "psycopg[binary]",
                "dj-database-url",
            ],
            check=True,
        )
        marker.touch()
    return python
