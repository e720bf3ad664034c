//! SMS 1708 over SMPP, end to end: a real SMSC peer (the npm `smpp` package,
//! started by the test) delivers "LAPOR …" split over several SMS to Lapor,
//! which is bound to it as an ESME (transceiver). Lapor files the report and
//! answers over SMPP with the Tracking ID and PIN. A second SMS tracks the
//! report. (Answers longer than one SMS are split as the ESME test shows.)

mod common;
#[path = "../../smpp/tests/peer/mod.rs"]
mod peer;

use common::TestApp;
use lapor_server::ServerConfig;
use lapor_server::channels::{ChannelsConfig, SmppConfig, SmsConfig};
use lapor_server::worker::{Counters, WorkerConfig, run_batch};
use peer::{Json, Smsc, json_str, prepare};
use std::path::Path;
use std::time::Duration;

const CITIZEN: &str = "6281234500001";

/// Runs the delivery worker until the SMSC has seen a `submit_sm`.
async fn reply(app: &TestApp, smsc: &mut Smsc) -> Json {
    let cfg = WorkerConfig::default();
    let counters = Counters::default();
    for _ in 0..100 {
        run_batch(&app.state, &cfg, &counters).await.unwrap();
        if let Some(e) = smsc.take_all("submit_sm").into_iter().next() {
            return e;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no submit_sm reached the SMSC");
}

async fn run(db: lapor_store::testing::TestDb) {
    let Some(dir) = prepare(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../smpp/tests/smsc")) else {
        return;
    };
    let mut smsc = Smsc::start(&dir);
    let port = smsc.wait("listening").await.get("port").num() as u16;
    let smpp = SmppConfig {
        address: format!("127.0.0.1:{port}"),
        system_id: "lapor1708".into(),
        password: "rahasia".into(),
        system_type: String::new(),
    };
    let config = ServerConfig {
        channels: ChannelsConfig {
            sms: Some(SmsConfig {
                inbound_secret: None,
                twilio_auth_token: None,
                twilio_hook_url: None,
                send_via: "smpp".into(),
                sender_id: "1708".into(),
                http_send_url: None,
                http_send_token: None,
                twilio_account_sid: None,
                twilio_api_base: "http://127.0.0.1:9".into(),
                smpp: Some(smpp.clone()),
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let app = TestApp::start_with(db, config).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let session = tokio::spawn(lapor_server::channels::turn::run_smpp(
        app.state.clone(),
        smpp,
        "1708".into(),
        stopped,
    ));
    assert_eq!(smsc.wait("bind").await.get("ok"), &Json::Bool(true));

    // Longer than one SMS: the SMSC sends it in parts, Lapor joins them.
    let text = "LAPOR Pungutan liar di loket KTP Kecamatan Coblong: petugas meminta Rp50.000 untuk \
                mempercepat pembuatan KTP elektronik dan tidak memberi kuitansi resmi. Terjadi Senin pagi.";
    smsc.send(&format!(
        r#"{{"cmd":"deliver","from":"{CITIZEN}","to":"1708","text":{},"encoding":"gsm"}}"#,
        json_str(text)
    ));
    assert!(smsc.wait("deliver_sent").await.get("parts").num() >= 2.0);
    let answer = reply(&app, &mut smsc).await;
    assert_eq!((answer.get("to").str(), answer.get("from").str()), (CITIZEN, "1708"));
    let said = answer.get("text").str().to_string();
    let at = said.find("ID Pelacakan: ").expect("a Tracking ID in the answer") + "ID Pelacakan: ".len();
    let id = &said[at..at + 9];
    assert!(said.contains("PIN"), "{said}");
    let report = app
        .db
        .store
        .report(&lapor_domain::ids::TrackingId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap()
        .report;
    assert_eq!(report.channel, lapor_domain::report::Channel::Sms);
    assert!(report.body.contains("kuitansi resmi"), "{}", report.body);

    // Tracking by SMS.
    smsc.send(&format!(
        r#"{{"cmd":"deliver","from":"{CITIZEN}","to":"1708","text":{},"encoding":"gsm"}}"#,
        json_str(&format!("LACAK {id}"))
    ));
    let status = reply(&app, &mut smsc).await;
    assert!(status.get("text").str().contains(id), "{:?}", status.get("text"));

    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), session).await;
}

#[tokio::test]
async fn sqlite() {
    run(lapor_store::testing::TestDb::sqlite().await).await;
}

#[tokio::test]
async fn postgres() {
    let Some(db) = lapor_store::testing::TestDb::postgres().await else {
        eprintln!("LAPOR_TEST_PG_URL not set: skipped");
        return;
    };
    run(db).await;
}
