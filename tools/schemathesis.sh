#!/usr/bin/env bash
# schemathesis (PyPI) against the OpenAPI document a real `lapor serve --demo`
# serves: generated and mutated requests to every documented operation, as
# the public and as the national admin. Fails on any server error or any
# answer that does not match the document.
#
#   tools/schemathesis.sh [EXAMPLES_PER_OPERATION (default 25)] [extra st run args]
#
# Needs a built `lapor` (LAPOR_BIN, default target/debug/lapor) and Python 3.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
EXAMPLES=${1:-25}
shift || true

LAPOR_BIN=${LAPOR_BIN:-$ROOT/target/debug/lapor}
[ -x "$LAPOR_BIN" ] || (cargo build -p lapor-cli --locked --quiet)
command -v st >/dev/null || python3 -m pip install --quiet --root-user-action=ignore 'schemathesis>=4.3,<5'

WORK=$(mktemp -d)
cleanup() { [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

export LAPOR_DATABASE_URL="sqlite://$WORK/lapor.db" LAPOR_DATA_DIR="$ROOT/data" LAPOR_LOG=warn NO_COLOR=1
# Every generated request comes from 127.0.0.1: the per-address limits
# would answer 429 to most of them (they have their own tests).
export LAPOR_LIMIT_SIGN_IN_PER_MINUTE=0 LAPOR_LIMIT_SUBMIT_PER_MINUTE=0 LAPOR_LIMIT_SUBMIT_PER_ACCOUNT_PER_HOUR=0
"$LAPOR_BIN" serve --demo --bind 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER=$!
for _ in $(seq 1 120); do grep -q "^Demo logins" "$WORK/serve.out" && break; sleep 0.5; done
BASE=$(sed -n 's/^Lapor is running at \(http:[^ ]*\)\/ .*/\1/p' "$WORK/serve.out")
[ -n "$BASE" ] || { cat "$WORK/serve.err" >&2; echo "lapor serve did not start" >&2; exit 1; }

login() {
  local otp
  otp=$("$LAPOR_BIN" totp)
  curl -sf "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"login\":\"$1\",\"password\":\"$2\",\"otp\":\"$otp\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
PASSWORD=$(sed -n 's/^Demo logins (password for all: \(.*\)):$/\1/p' "$WORK/serve.out")
TOKEN=$(login nasional@lapor.demo "$PASSWORD")
[ -n "$TOKEN" ] || { echo "could not sign in as the national admin" >&2; exit 1; }

CHECKS=not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance
run() {
  echo "== schemathesis as $1 ($EXAMPLES examples per operation)"
  shift
  st run "$BASE/api/v1/openapi.json" --checks "$CHECKS" --max-examples "$EXAMPLES" \
    --phases examples,coverage,fuzzing --workers 2 --seed 1 --suppress-health-check all \
    --exclude-path-regex '^/api/v1/auth/logout$' --exclude-path-regex '/keys/rotate$' \
    "$@"
}
status=0
run "the public" "$@" || status=1
run "the national admin" -H "Authorization: Bearer $TOKEN" "$@" || status=1
if grep -q "panicked" "$WORK/serve.err"; then
  echo "the server panicked:" >&2; grep -A3 panicked "$WORK/serve.err" >&2; status=1
fi
exit $status
