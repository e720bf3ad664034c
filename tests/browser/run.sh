#!/usr/bin/env bash
# Browser tests of the citizen web app and the institution workspace: Chromium (Debian's package) driven by
# playwright-core, axe-core checks, screenshots into docs/screenshots/.
# Works from a clean clone: installs what is missing, builds the binary if
# there is none (set LAPOR_BIN to use another).
#
#   tests/browser/run.sh [extra node --test arguments]
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)

log() { printf '\n== %s\n' "$*"; }

command -v node >/dev/null || { echo "node (20 or newer) is needed for the browser tests" >&2; exit 1; }

if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/axe-core ]; then
  log "npm ci (playwright-core, axe-core)"
  npm ci --no-audit --no-fund
fi

export CHROMIUM_PATH=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM_PATH" ]; then
  log "installing chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi

export LAPOR_BIN=${LAPOR_BIN:-$ROOT/target/debug/lapor}
if [ ! -x "$LAPOR_BIN" ]; then
  log "cargo build -p lapor-cli"
  (cd "$ROOT" && cargo build -p lapor-cli --locked)
fi

log "browser tests ($("$CHROMIUM_PATH" --version 2>/dev/null | head -n1))"
# Both files take a couple of minutes; the limit only stops a hang.
timeout --kill-after=10 900 node --test --test-concurrency=1 "$@" lapor.test.mjs workspace.test.mjs dashboard.test.mjs pwa.test.mjs
