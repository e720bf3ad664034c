#!/usr/bin/env bash
# Drives one report from submission to "completed" through the REST API of a
# running demo server (`cargo run --release -- serve --demo`).
#
#   examples/lifecycle.sh [BASE_URL]      (default http://127.0.0.1:8080)
#
# Needs curl and jq. Exits non-zero at the first unexpected answer.
set -euo pipefail
BASE=${1:-${LAPOR_URL:-http://127.0.0.1:8080}}
API="$BASE/api/v1"
PASSWORD=${LAPOR_DEMO_PASSWORD:-demo-lapor-2026}

# call METHOD PATH [JSON] [extra curl args...]: prints the body, fails on >= 400.
call() {
  local method=$1 path=$2 body=${3:-}
  shift 3 || shift $#
  local out status
  out=$(mktemp)
  status=$(curl -sS -o "$out" -w '%{http_code}' -X "$method" "$API$path" \
    -H 'content-type: application/json' ${body:+--data "$body"} "$@")
  if [ "$status" -ge 400 ]; then
    echo "FAILED $method $path -> $status: $(cat "$out")" >&2
    rm -f "$out"
    exit 1
  fi
  cat "$out"
  rm -f "$out"
}

# The demo admins' published authenticator key (see `lapor serve --demo`).
DEMO_TOTP_KEY=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP

# The current TOTP code (RFC 6238: HMAC-SHA1, 30 s, 6 digits).
totp() {
  python3 -c 'import base64,hmac,struct,sys,time
k=base64.b32decode(sys.argv[1]); m=hmac.new(k,struct.pack(">Q",int(time.time())//30),"sha1").digest()
o=m[19]&15; print("%06d"%((struct.unpack(">I",m[o:o+4])[0]&0x7fffffff)%1000000))' "$DEMO_TOTP_KEY"
}

login() {
  call POST /auth/login "{\"login\":\"$1\",\"password\":\"$PASSWORD\",\"otp\":\"$(totp)\"}" | jq -r .token
}

step() { printf '%-44s %s\n' "$1" "$2"; }

# 1. A citizen files a report without an account.
REPORT=$(call POST /reports '{
  "classification": "pengaduan",
  "category": "jalan",
  "title": "Jalan berlubang di Jl. Setiabudi",
  "body": "Lubang besar di depan sekolah membahayakan pengendara motor setiap pagi.",
  "region_code": "32.73.01.1001",
  "latitude": -6.8601, "longitude": 107.5953,
  "anonymous": true
}')
ID=$(jq -r .tracking_id <<<"$REPORT")
PIN=$(jq -r .pin <<<"$REPORT")
step "submitted (no account)" "Tracking ID $ID, PIN $PIN"

NATIONAL=$(login nasional@lapor.demo)
BANDUNG=$(login admin.bandung@lapor.demo)
LIAISON=$(login penghubung.bandung@lapor.demo)

# 2. The national admin verifies it and forwards it to Kota Bandung.
S=$(call POST "/reports/$ID/disposition" '{"institution":"pemkot-32.73","version":1}' -H "authorization: Bearer $NATIONAL" | jq -r .status)
step "verified and dispositioned to pemkot-32.73" "$S"

# 3. Kota Bandung accepts it and passes it to its transport office.
S=$(call POST "/reports/$ID/accept" '{}' -H "authorization: Bearer $BANDUNG" | jq -r .status)
step "accepted by the institution" "$S"
S=$(call POST "/reports/$ID/disposition-unit" '{"unit":"pemkot-32.73-dishub"}' -H "authorization: Bearer $BANDUNG" | jq -r .status)
step "dispositioned to the unit (internal)" "$S"

# 4. The liaison officer answers.
R=$(call POST "/reports/$ID/follow-up" '{"body":"Lubang sudah ditambal oleh tim Dishub pada pagi ini."}' -H "authorization: Bearer $LIAISON")
step "follow-up (tindak lanjut)" "$(jq -r .status <<<"$R"), reply due $(jq -r .due_at <<<"$R")"

# 5. The reporter, with the PIN, replies; the liaison answers again.
S=$(call POST "/reports/$ID/reply" '{"body":"Terima kasih, tapi masih ada satu lubang lagi."}' -H "x-lapor-pin: $PIN" | jq -r .status)
step "reporter replied (PIN)" "$S"
S=$(call POST "/reports/$ID/follow-up" '{"body":"Lubang kedua juga sudah ditambal."}' -H "authorization: Bearer $LIAISON" | jq -r .status)
step "second follow-up" "$S"

# 6. The reporter rates the answer, which completes the report.
S=$(call POST "/reports/$ID/rate" '{"rating":5,"comment":"Cepat dan tuntas."}' -H "x-lapor-pin: $PIN" | jq -r .status)
step "rated 5/5" "$S"
[ "$S" = completed ] || { echo "expected completed, got $S" >&2; exit 1; }

# 7. What the public sees now.
PUBLIC=$(call GET "/reports/$ID" "")
step "public view" "$(jq -r '"\(.status), reporter \(.reporter_label), \(.events | length) public events"' <<<"$PUBLIC")"
echo "OK: $ID went from submitted to completed"
