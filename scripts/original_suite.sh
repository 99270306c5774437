#!/usr/bin/env bash
# Runs the test suite of the original package (the tests/ of its 4.1.0 sdist on PyPI)
# against this package, installed from the checkout into a virtualenv of its own.
# Prints the pass and fail counts and every failing test; fails when fewer than
# ORIGINAL_SUITE_TARGET tests pass, when a failing test is not accounted for in the
# table of docs/upgrading_from_original.rst, or when a test listed there passes.
#
#   bash scripts/original_suite.sh            # PYTHON=python3.11 by default
#   KEEP=1 bash scripts/original_suite.sh     # keep the work directory to look at
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
TARGET=${ORIGINAL_SUITE_TARGET:-450}
VERSION=4.1.0
export PIP_DISABLE_PIP_VERSION_CHECK=1

WORK=$(mktemp -d)
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$WORK"' EXIT; else echo "work directory: $WORK"; fi

echo "--- 4.1.0's sdist and a virtualenv with this package ($($PYTHON --version))"
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/pip" download -q --no-deps --no-binary :all: \
  "django-aws-api-gateway-websockets==$VERSION" -d "$WORK/sdist"
tar -xzf "$WORK/sdist/django_aws_api_gateway_websockets-$VERSION.tar.gz" -C "$WORK/sdist"
"$WORK/venv/bin/pip" install -q "$ROOT" "Django>=5.2,<5.3" "pytest>=8" "pytest-django>=4.9" "pytest-timeout>=2.3"

# Only 4.1.0's tests/ (its own package must not shadow the installed one), with the
# pytest settings of its tox.ini.
SUITE="$WORK/suite"
mkdir -p "$SUITE"
cp -r "$WORK/sdist/django_aws_api_gateway_websockets-$VERSION/tests" "$SUITE/"
printf '[pytest]\nDJANGO_SETTINGS_MODULE = tests.settings\ndjango_find_project = false\n' \
  > "$SUITE/pytest.ini"
cat > "$SUITE/conftest.py" <<'EOF'
"""4.1.0's tests/test_models.py imports the private helper models._post_to_connection
at module level; without it none of that module's tests would even be collected. This
stand-in fails when called, so the tests of that private helper still fail (they are
listed as private-helper tests) while the module's other tests run."""


def _not_provided(*args, **kwargs):
    raise AssertionError("models._post_to_connection is a private helper of 4.1.0")


def pytest_sessionstart(session):
    from django_aws_api_gateway_websockets import models

    if not hasattr(models, "_post_to_connection"):
        models._post_to_connection = _not_provided
EOF

echo "--- 4.1.0's test suite against $("$WORK/venv/bin/pip" show django-aws-api-gateway-websockets | grep '^Version')"
(cd "$SUITE" && "$WORK/venv/bin/python" -m pytest -q -p no:cacheprovider \
  --continue-on-collection-errors --timeout=60 -o junit_family=xunit1 --junitxml="$WORK/results.xml" \
  >"$WORK/pytest.log" 2>&1) || true
tail -n 1 "$WORK/pytest.log"

"$WORK/venv/bin/python" - "$WORK/results.xml" "$ROOT/docs/upgrading_from_original.rst" "$TARGET" <<'EOF'
import re
import sys
import xml.etree.ElementTree as ET

results, page, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
documented = open(page, encoding="utf-8").read()
passed, failed = [], []
for case in ET.parse(results).iter("testcase"):
    name = f"{case.get('classname').rsplit('.', 1)[-1]}.{case.get('name')}"
    outcome = {child.tag for child in case}
    (failed if outcome & {"failure", "error"} else passed).append(name)
failed = sorted(set(failed))
unexplained = [name for name in failed if f"``{name}``" not in documented]
# A listed test that passes makes the table lie about what still differs.
listed = set(re.findall(r"^\* ``(\w+\.\w+)``", documented, re.M))
stale = sorted(listed & set(passed))
total = len(passed) + len(failed)
print(f"\nORIGINAL SUITE ({total} tests): {len(passed)} passed, {len(failed)} failed "
      f"(target: at least {target} passed)")
for name in failed:
    print(f"  failed: {name}{'   <- not in docs/upgrading_from_original.rst' if name in unexplained else ''}")
problems = []
if len(passed) < target:
    problems.append(f"only {len(passed)} passed, fewer than {target}")
if unexplained:
    problems.append(f"{len(unexplained)} failing tests are not accounted for in the docs table")
for name in stale:
    print(f"  passed but listed as failing: {name}")
if stale:
    problems.append(f"{len(stale)} passing tests are still listed as failing in the docs table")
if problems:
    sys.exit("ORIGINAL SUITE FAILED: " + "; ".join(problems))
print("original suite: OK")
EOF
