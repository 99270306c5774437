#!/usr/bin/env bash
# Follows docs/testing.rst literally in a fresh `django-admin startproject mysite`: a
# virtualenv with this package (from the checkout), pytest and pytest-django; every
# code block the page marks with `.. startproject-file: <path>` is appended to that
# file of the project; then `pytest` must pass. The examples are read from the page,
# never copied here.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
export PIP_DISABLE_PIP_VERSION_CHECK=1

WORK=$(mktemp -d)
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$WORK"' EXIT; else echo "work directory: $WORK"; fi

echo "--- a virtualenv with this package ($($PYTHON --version))"
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q "$ROOT" "pytest>=8" "pytest-django>=4.9"

echo "--- django-admin startproject mysite"
mkdir "$WORK/project"
(cd "$WORK/project" && "$WORK/venv/bin/django-admin" startproject mysite .)

echo "--- the examples of docs/testing.rst, into the project"
"$WORK/venv/bin/python" - "$ROOT/docs/testing.rst" "$WORK/project" <<'EOF'
import re
import sys
from pathlib import Path

page, project = Path(sys.argv[1]), Path(sys.argv[2])
lines = page.read_text(encoding="utf-8").splitlines()
target = None
written = 0
i = 0
while i < len(lines):
    marker = re.match(r"^\.\. startproject-file: (\S+)$", lines[i])
    if marker:
        target = marker.group(1)
    elif target and re.match(r"^\.\. code-block::", lines[i]):
        i += 1
        body = []
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith("   ")):
            body.append(lines[i][3:])
            i += 1
        path = project / target
        path.parent.mkdir(parents=True, exist_ok=True)
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
        path.write_text(existing + "\n" + "\n".join(body).strip() + "\n", encoding="utf-8")
        print(f"  {target}: {len(body)} lines")
        target, written = None, written + 1
        continue
    i += 1
if written < 8:
    sys.exit(f"only {written} blocks of docs/testing.rst are marked for the project")
EOF

echo "--- pytest in the project"
(cd "$WORK/project" && "$WORK/venv/bin/python" -m pytest -q -p no:cacheprovider)
echo "docs/testing.rst in a fresh startproject project: OK"
