"""The admin with a custom user model: a separate pytest run, because the user model
cannot be swapped inside one process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_admin_works_with_a_user_model_without_username() -> None:
    env = dict(os.environ)
    if env.get("DATABASE_URL", "").startswith("postgres"):
        # Its own test database: the outer run's one is in use.
        env["TEST_DB_NAME"] = f"{env.get('TEST_DB_NAME') or 'test_test'}_emailuser"
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "error::DeprecationWarning",
            "-W",
            "error::PendingDeprecationWarning",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--ds",
            "tests.ops.settings_email_user",
            "tests/ops/emailuser/admin_checks.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout, result.stdout
