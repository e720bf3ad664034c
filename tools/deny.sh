#!/usr/bin/env bash
# cargo deny over the whole workspace (deny.toml): licences, banned crates
# (OpenSSL) and sources always; RustSec advisories when their database can
# be fetched from GitHub. Installs cargo-deny if it is missing.
#
#   tools/deny.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-deny >/dev/null; then
  echo "installing cargo-deny (crates.io)"
  cargo install --locked cargo-deny@^0.20 --quiet
fi

cargo deny --locked check licenses bans sources

# The advisory database lives on GitHub, which some build machines cannot
# reach: then say so loudly rather than pass in silence.
if timeout 20 git ls-remote --exit-code https://github.com/rustsec/advisory-db HEAD >/dev/null 2>&1; then
  cargo deny --locked check advisories
else
  echo "WARNING: github.com is unreachable from here: RustSec advisories were NOT checked." >&2
  echo "         Run tools/deny.sh on a machine with access before a release." >&2
fi
