//! Integration test against a real SMSC peer: `tests/smsc/smsc.mjs`, built on the npm `smpp`
//! package. Needs `node` and `npm`; installs the package with `npm ci` on first run. When node
//! is not installed the test prints why and passes without checking anything.

mod peer;

use std::path::Path;
use std::time::Duration;

use lapor_smpp::{Config, Disconnect, Error, Esme, Incoming};
use peer::{Json, Smsc, WAIT, json_str, prepare};
use tokio::sync::mpsc;
use tokio::time::timeout;

async fn next_message(incoming: &mut mpsc::Receiver<Incoming>) -> Incoming {
    timeout(WAIT, incoming.recv())
        .await
        .expect("no message from the ESME in time")
        .expect("session ended")
}

#[tokio::test]
async fn against_node_smpp_smsc() {
    let Some(dir) = prepare(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("smsc")) else {
        return;
    };
    let mut smsc = Smsc::start(&dir);
    let port = smsc.wait("listening").await.get("port").num() as u16;
    let addr = format!("127.0.0.1:{port}");

    // Wrong password: the SMSC's rejection status comes back typed.
    let mut bad = Config::new(addr.clone(), "lapor1708", "salah");
    bad.response_timeout = Duration::from_secs(5);
    let err = Esme::connect(bad).await.expect_err("wrong password must fail");
    assert!(matches!(err, Error::BindRejected(0x0E)), "{err}");
    assert!(!smsc.wait("bind").await.get("ok").eq(&Json::Bool(true)));

    let mut config = Config::new(addr.clone(), "lapor1708", "rahasia");
    config.system_type = "LAPOR".into();
    config.address_range = "1708".into();
    config.response_timeout = Duration::from_secs(5);
    config.enquire_link_interval = Duration::from_millis(300);
    let (esme, mut incoming) = Esme::connect(config.clone()).await.expect("bind");
    let bind = smsc.wait("bind").await;
    assert_eq!(bind.get("ok"), &Json::Bool(true));
    assert_eq!(bind.get("system_type").str(), "LAPOR");
    assert_eq!(bind.get("address_range").str(), "1708");
    assert_eq!(bind.get("interface_version").num(), 52.0);

    // 1. A short GSM message.
    let short = "Jalan berlubang di Jl. Merdeka No. 5 @ RT 02, bahaya!";
    smsc.send(&format!(
        r#"{{"cmd":"deliver","from":"6281234567890","text":{},"encoding":"gsm"}}"#,
        json_str(short)
    ));
    assert_eq!(smsc.wait("deliver_sent").await.get("parts").num(), 1.0);
    let msg = next_message(&mut incoming).await;
    assert_eq!(
        (msg.from.as_str(), msg.to.as_str(), msg.text.as_str()),
        ("6281234567890", "1708", short)
    );
    assert_eq!((msg.parts, msg.is_receipt, msg.data_coding), (1, false, 0));

    // 2. A long UCS-2 message, parts sent in reverse order with a 16-bit reference.
    let long_ucs2 = "Banjir setinggi lutut 🌊 di Kelurahan Cempaka Putih sejak subuh. Warga butuh perahu karet \
                     dan bantuan logistik 🙏 — mohon segera ditindaklanjuti oleh BPBD. Terima kasih 👍🏽";
    smsc.send(&format!(
        r#"{{"cmd":"deliver","from":"6285700001111","text":{},"encoding":"ucs2","ref16":true,"reverse":true}}"#,
        json_str(long_ucs2)
    ));
    let parts = smsc.wait("deliver_sent").await.get("parts").num() as usize;
    let mut delivered_parts = 1 + parts;
    assert!(parts >= 2, "expected a concatenated message, got {parts} part(s)");
    let msg = next_message(&mut incoming).await;
    assert_eq!(msg.text, long_ucs2);
    assert_eq!(
        (msg.from.as_str(), msg.parts, msg.data_coding),
        ("6285700001111", parts, 8)
    );

    // 3. A long GSM message with extension-table characters.
    let long_gsm = "Tarif parkir liar €2 di {Pasar Baru} [blok A] ~ pukul 08^00; petugas bilang \\ \"resmi\" | \
                    padahal tidak ada karcis. Lokasi: depan toko emas, sebelah ATM. Mohon ditertibkan, sudah \
                    berlangsung berbulan-bulan dan meresahkan pedagang.";
    assert!(lapor_smpp::fits_gsm(long_gsm));
    smsc.send(&format!(
        r#"{{"cmd":"deliver","from":"6281299998888","text":{},"encoding":"gsm"}}"#,
        json_str(long_gsm)
    ));
    let parts = smsc.wait("deliver_sent").await.get("parts").num() as usize;
    delivered_parts += parts;
    assert!(parts >= 2);
    let msg = next_message(&mut incoming).await;
    assert_eq!(msg.text, long_gsm);
    assert_eq!(msg.parts, parts);

    // Every deliver_sm part was acknowledged with status 0.
    for _ in 0..delivered_parts {
        let ack = smsc.wait("deliver_sm_resp").await;
        assert_eq!(ack.get("command_status").num(), 0.0, "{ack:?}");
    }

    // 4. A GSM reply longer than 160 characters, with extension characters.
    let reply = "Terima kasih, laporan #LPR-2025-000123 sudah kami terima dan diteruskan ke Dinas Perhubungan. \
                 Pantau status di lapor.go.id/l/000123 {kode: [A7]} ~ balas STOP untuk berhenti. Biaya €0.";
    assert!(reply.chars().count() > 160);
    let ids = esme.submit("+6281234567890", reply).await.expect("submit GSM reply");
    assert_eq!(ids.len(), 2, "{ids:?}");
    let seen = smsc.wait("submit_sm").await;
    assert_eq!(seen.get("text").str(), reply);
    assert_eq!(seen.get("parts").num(), 2.0);
    assert_eq!(seen.get("from").str(), "1708");
    assert_eq!(seen.get("to").str(), "6281234567890");
    assert_eq!(seen.get("data_coding").num(), 0.0);
    let smsc_ids: Vec<&str> = seen.get("message_ids").arr().iter().map(Json::str).collect();
    assert_eq!(smsc_ids, ids);
    let part_events = smsc.take_all("submit_sm_part");
    assert_eq!(part_events.len(), 2);
    assert!(
        part_events
            .iter()
            .all(|p| p.get("esm_class").num() == 64.0 && p.get("registered_delivery").num() == 1.0)
    );

    // 5. A UCS-2 reply longer than 70 code units.
    let reply_ucs2 =
        "Laporan Anda 🙏 sudah selesai ditangani oleh petugas kebersihan. Beri nilai 1–5 dengan membalas SMS ini ⭐";
    let ids = esme
        .submit("6285700001111", reply_ucs2)
        .await
        .expect("submit UCS-2 reply");
    assert!(ids.len() >= 2);
    let seen = smsc.wait("submit_sm").await;
    assert_eq!(seen.get("text").str(), reply_ucs2);
    assert_eq!(seen.get("data_coding").num(), 8.0);
    assert_eq!(seen.get("parts").num() as usize, ids.len());

    // 6. enquire_link both ways: our periodic keep-alive, an explicit one, and the SMSC's.
    smsc.wait("enquire_link").await;
    esme.enquire_link().await.expect("explicit enquire_link");
    smsc.send(r#"{"cmd":"enquire_link"}"#);
    let resp = smsc.wait("enquire_link_resp").await;
    assert_eq!(resp.get("command_status").num(), 0.0);

    // 7. A delivery receipt is surfaced as such, not as a citizen message.
    smsc.send(&format!(
        r#"{{"cmd":"receipt","from":"6281234567890","message_id":{}}}"#,
        json_str(&ids[0])
    ));
    let receipt = next_message(&mut incoming).await;
    assert!(receipt.is_receipt);
    let details = receipt.receipt.expect("receipt details");
    assert_eq!(details.message_id.as_deref(), Some(ids[0].as_str()));
    assert_eq!(details.stat.as_deref(), Some("DELIVRD"));
    assert_eq!(details.message_state, Some(2));

    // 8. Our unbind.
    assert_eq!(esme.unbind().await, Disconnect::Unbound);
    smsc.wait("unbind").await;
    assert!(timeout(WAIT, incoming.recv()).await.expect("channel closes").is_none());

    // 9. The SMSC's unbind is reported as a disconnection.
    let (esme, mut incoming) = Esme::connect(config).await.expect("rebind");
    assert_eq!(smsc.wait("bind").await.get("ok"), &Json::Bool(true));
    smsc.send(r#"{"cmd":"unbind"}"#);
    assert_eq!(
        timeout(WAIT, esme.closed()).await.expect("closed in time"),
        Disconnect::PeerUnbind
    );
    assert!(incoming.recv().await.is_none());
    assert!(matches!(esme.submit("62811", "x").await, Err(Error::Disconnected)));
}

#[test]
fn json_parser_handles_smsc_output() {
    let v = Json::parse(
        r#"{"event":"submit_sm","text":"a\"b\\c\n😀 \ud83d\ude00","n":-1.5,"ids":["x","y"],"ok":true,"z":null}"#,
    )
    .expect("parse");
    assert_eq!(v.get("text").str(), "a\"b\\c\n😀 😀");
    assert_eq!(v.get("n").num(), -1.5);
    assert_eq!(v.get("ids").arr().len(), 2);
    assert_eq!(v.get("ok"), &Json::Bool(true));
    assert_eq!(
        Json::parse(&format!("{{\"s\":{}}}", json_str("q\"\\\n\u{1}")))
            .expect("parse")
            .get("s")
            .str(),
        "q\"\\\n\u{1}"
    );
}
