#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 60 s each), with corpora
# seeded from the project's own data. Needs cargo-fuzz (installed here if
# missing); uses RUSTC_BOOTSTRAP because this machine has only stable Rust.
#   fuzz/run.sh [SECONDS [TARGET...]]
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
shift || true
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
mkdir -p corpus/holidays_csv corpus/tracking_id corpus/pii corpus/request_headers corpus/search_terms corpus/media_clean
mkdir -p corpus/channel_webhooks corpus/sms_forms corpus/chatbot corpus/smpp_pdu corpus/inbound_mail corpus/webhook_verify corpus/open311_query corpus/integration_inputs corpus/reference_csv
# Webhook corpora from the real and documented bodies the adapter tests use.
fx=../crates/channels/tests/fixtures
cp $fx/telegram/*.json $fx/line/*.json $fx/messenger/*.json $fx/sms/*.json $fx/sms/*.form $fx/x/*.json corpus/channel_webhooks/ 2>/dev/null || true
python3 - "$fx/whatsapp" corpus/channel_webhooks <<'PY'
import json, os, sys
src, dst = sys.argv[1], sys.argv[2]
for f in os.listdir(src):
    if f.endswith('.json'):
        for name, body in json.load(open(os.path.join(src, f))).items():
            open(os.path.join(dst, f'wa-{f[:-5]}-{name}.json'), 'w').write(json.dumps(body))
PY
printf 'LAPOR Jalan rusak di depan SDN 1 Cimahi' > corpus/sms_forms/lapor
printf 'BALAS 7KQ4-M2XJ sudah diperbaiki' > corpus/sms_forms/balas
printf '#LAPOR Lampu jalan mati @LAPOR1708' > corpus/sms_forms/tweet
printf '\x05report\x05c:peng\x00Judul la\x00Isi lapor\x02\x10' > corpus/chatbot/seed
printf '\x00\x00\x00\x10\x80\x00\x00\x15\x00\x00\x00\x00\x00\x00\x00\x01' > corpus/smpp_pdu/enquire_link_resp
cp ../data/holidays/*.csv corpus/holidays_csv/ 2>/dev/null || true
printf 'From: Budi <budi@mail.example.id>\r\nTo: lapor@lapor.go.id\r\nSubject: Re: Jalan rusak [LAPOR 7KQ4-M2XJ]\r\nMessage-ID: <m1@mail.example.id>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nMasih rusak.\r\n\r\nPada Sen, LAPOR! menulis:\r\n> Sudah\r\n--b\r\nContent-Type: image/jpeg; name="a.jpg"\r\nContent-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n--b--\r\n' > corpus/inbound_mail/reply
# The first lines of the real reference files.
for f in provinces regencies districts villages postal-codes; do head -40 ../data/regions/$f.csv > corpus/reference_csv/$f.csv; done
head -40 ../data/institutions/national.csv > corpus/reference_csv/institutions.csv
printf '7KQ4-M2XJ' > corpus/tracking_id/seed
printf 'Saya Budi, NIK 3273010101900001, hp 0812-3456-7890, email budi@contoh.id, motor D 1234 ABC' > corpus/pii/seed
printf 'id-ID,id;q=0.9,en;q=0.8' > corpus/request_headers/lang
printf '1764000000000~7KQ4-M2XJ' > corpus/request_headers/cursor
printf 'Jalan rusak diperbaiki asal-asalan; perbaikan lampu penerangan jalan-jalan di Kelurahan Sukajadi' > corpus/search_terms/seed
printf '\xff\xd8\xff\xe1\x00\x10Exif\x00\x00MM\x00*GPS!\xff\xd9' > corpus/media_clean/jpeg
printf '\x89PNG\r\n\x1a\n' > corpus/media_clean/png
printf '%s' '{"results":{"data":[{"id":9,"content":"Diteruskan","created_at":"24-11-2026 09:30:00","institution_from_id":1,"institution_from_name":"KemenPANRB","data":"{\\"status_old\\":{\\"name\\":\\"Diproses\\"},\\"status_new\\":{\\"name\\":\\"Selesai\\"}}"}],"current_page":1,"last_page":2}}' > corpus/integration_inputs/page
printf '%s' 'YzEuMTIzLjQ1Ng' > corpus/integration_inputs/cursor
all="tracking_id pii holidays_csv request_headers search_terms media_clean channel_webhooks sms_forms chatbot smpp_pdu inbound_mail webhook_verify open311_query integration_inputs reference_csv"
for t in ${*:-$all}; do
  echo "== $t ($secs s)"
  cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -max_len=4096
done
