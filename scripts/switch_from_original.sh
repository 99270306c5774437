#!/usr/bin/env bash
# Proves the drop-in switch from the original package (PyPI 4.1.0) on PostgreSQL:
#  1. a database migrated and filled by the original migrates with this package, shows
#     our squashed 0001 as applied and keeps its rows usable through our models;
#  2. the schema of the original's 15 migrations equals the one of our 0001 alone.
# Needs PostgreSQL (PGHOST/PGPORT/PGUSER, default 127.0.0.1:5432 postgres, trust auth)
# and PyPI. Works in throwaway virtualenvs; touches only the two databases below.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE="$ROOT/scripts/switch_check"
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
export PIP_DISABLE_PIP_VERSION_CHECK=1
DB_SWITCHED=switch_check        # original 0001..0015, then this package's migrate
DB_FRESH=switch_check_fresh     # this package's 0001 alone
APP=django_aws_api_gateway_websockets
SQUASHED=0001_squashed_0015_alter_apigateway_provisioning_status

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
say() { printf '\n--- %s\n' "$*"; }
fail() { printf '\nSWITCH CHECK FAILED: %s\n' "$*" >&2; exit 1; }

say "virtualenvs in $WORK ($($PYTHON --version))"
"$PYTHON" -m venv "$WORK/original"
"$PYTHON" -m venv "$WORK/ours"
"$WORK/original/bin/pip" install -q "django-aws-api-gateway-websockets==4.1.0" "Django>=5.2,<5.3" "psycopg[binary]>=3.2"
"$WORK/ours/bin/pip" install -q "$ROOT" "Django>=5.2,<5.3" "psycopg[binary]>=3.2"
"$WORK/original/bin/pip" show django-aws-api-gateway-websockets | grep -E '^(Name|Version)'
"$WORK/ours/bin/pip" show django-aws-api-gateway-websockets | grep -E '^(Name|Version)'

# Runs a Python of one venv inside the throwaway project, on one database.
run() {
  local venv=$1 db=$2; shift 2
  (cd "$HERE" && SWITCH_DB=$db DJANGO_SETTINGS_MODULE=settings PYTHONPATH="$HERE" \
    "$WORK/$venv/bin/python" "$@")
}

for db in "$DB_SWITCHED" "$DB_FRESH"; do
  dropdb --if-exists "$db"
  createdb "$db"
done

say "original 4.1.0: migrate and write rows"
run original "$DB_SWITCHED" -m django migrate -v 0
run original "$DB_SWITCHED" write_rows.py "$WORK/written.json"
psql -d "$DB_SWITCHED" -XAt -F ' | ' -f "$HERE/schema.sql" > "$WORK/schema-original.txt"

say "this package: 0001 alone on an empty database"
run ours "$DB_FRESH" -m django migrate -v 0 "$APP" "$SQUASHED"
psql -d "$DB_FRESH" -XAt -F ' | ' -f "$HERE/schema.sql" > "$WORK/schema-ours-0001.txt"

say "schema: original 0001..0015 versus our 0001"
if ! diff -u "$WORK/schema-original.txt" "$WORK/schema-ours-0001.txt"; then
  fail "the schema of our $SQUASHED differs from the original's 4.1.0 schema (diff above: - original, + ours)"
fi
echo "identical: $(grep -c '^column' "$WORK/schema-original.txt") columns, $(grep -c '^index' "$WORK/schema-original.txt") indexes, $(grep -c '^constraint' "$WORK/schema-original.txt") constraints"

say "this package: migrate the original's database"
run ours "$DB_SWITCHED" -m django migrate
run ours "$DB_SWITCHED" -m django showmigrations "$APP" | tee "$WORK/showmigrations.txt"
grep -q "^ \[X\] $SQUASHED" "$WORK/showmigrations.txt" || fail "$SQUASHED is not shown as applied"
if grep -q '^ \[ \]' "$WORK/showmigrations.txt"; then fail "unapplied migrations remain"; fi
run ours "$DB_SWITCHED" -m django makemigrations --check --dry-run "$APP" \
  || fail "our models and migrations disagree (makemigrations --check)"

say "rows written by the original, read through this package"
run ours "$DB_SWITCHED" check_rows.py "$WORK/written.json"

say "this package: the scheduled cleanup commands on the switched database"
run ours "$DB_SWITCHED" -m django clearWebSocketSessions | tee "$WORK/clear.txt"
grep -q "^Deleted 1 disconnected sessions" "$WORK/clear.txt" \
  || fail "clearWebSocketSessions did not delete the one disconnected session"
run ours "$DB_SWITCHED" -m django cleanupWebSocketTokens --token-age=300 --rate-limit-age=7

for db in "$DB_SWITCHED" "$DB_FRESH"; do dropdb --if-exists "$db"; done
say "switch from 4.1.0: OK"
