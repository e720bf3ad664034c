//! Every adapter parses the real bodies in `fixtures/` (see its README for
//! the documentation each one follows), and builds the outbound calls the
//! platforms document.

use lapor_channels::conversation::{Button, Input, Reply};
use lapor_channels::{line, meta, signature, sms, telegram, x};
use lapor_domain::report::Channel;
use serde_json::Value;

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).expect(path)
}

/// The named variants of a pywa fixture file, each one webhook body.
fn variants(path: &str) -> Vec<(String, Vec<u8>)> {
    let v: Value = serde_json::from_slice(&fixture(path)).unwrap();
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, body)| (k.clone(), serde_json::to_vec(body).unwrap()))
        .collect()
}

fn menu_reply() -> Reply {
    Reply {
        text: "Pilih menu:".into(),
        buttons: vec![
            Button {
                id: "report".into(),
                label: "Buat laporan".into(),
            },
            Button {
                id: "track".into(),
                label: "Lacak laporan".into(),
            },
        ],
    }
}

#[test]
fn telegram_updates() {
    let p = telegram::parse(&fixture("telegram/text.json")).unwrap();
    let m = p.message.unwrap();
    assert_eq!(m.channel, Channel::Telegram);
    assert!(matches!(m.input, Input::Text(ref t) if t.contains("Jalan rusak")));
    assert!(m.sent_at.is_some());
    assert_eq!(m.lang_hint.as_deref(), Some("id"));

    let start = telegram::parse(&fixture("telegram/command_start.json"))
        .unwrap()
        .message
        .unwrap();
    assert_eq!(start.input, Input::Text("/start".into()));

    let cb = telegram::parse(&fixture("telegram/callback_query.json")).unwrap();
    assert_eq!(cb.callback_query_id.as_deref(), Some("2200833491184925671"));
    let cbm = cb.message.unwrap();
    assert_eq!(cbm.sender, "5123456789");
    assert!(matches!(cbm.input, Input::Button(_)));

    let loc = telegram::parse(&fixture("telegram/location.json"))
        .unwrap()
        .message
        .unwrap();
    assert!(
        matches!(loc.input, Input::Location { lat, lon } if (lat + 6.9025).abs() < 1e-6 && (lon - 107.6186).abs() < 1e-6)
    );

    let photo = telegram::parse(&fixture("telegram/photo.json"))
        .unwrap()
        .message
        .unwrap();
    match photo.input {
        Input::Photo(m) => assert!(m.size.unwrap() > 0 && !m.id.is_empty()),
        other => panic!("{other:?}"),
    }

    let edited = telegram::parse(&fixture("telegram/edited_message.json")).unwrap();
    assert_eq!(edited.message, None);

    let (url, size) = telegram::file_url(
        "https://api.telegram.org",
        "T",
        &fixture("telegram/get_file_response.json"),
    )
    .unwrap();
    assert!(url.starts_with("https://api.telegram.org/file/botT/"));
    assert!(size.is_some());

    for bad in [&b"{"[..], b"[]", b"{\"message\":{}}", b""] {
        assert!(telegram::parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn telegram_send_message_shape() {
    let r = telegram::send_message("https://api.telegram.org", "123:ABC", "5123456789", &menu_reply());
    assert_eq!(r.method, "POST");
    assert_eq!(r.url, "https://api.telegram.org/bot123:ABC/sendMessage");
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["chat_id"], 5123456789i64);
    assert_eq!(body["reply_markup"]["inline_keyboard"][0][1]["callback_data"], "track");
}

#[test]
fn line_webhooks() {
    for f in ["line/webhook_v2.json", "line/webhook_v3.json"] {
        let events = line::parse(&fixture(f)).unwrap();
        // One-to-one user events only: text, image, location, postbacks,
        // follow and the unsupported kinds; group and room events are skipped.
        assert!(events.iter().all(|e| e.sender.starts_with('U')));
        assert!(
            events
                .iter()
                .any(|e| matches!(&e.input, Input::Text(t) if t == "Hello, world"))
        );
        assert!(events.iter().any(|e| matches!(e.input, Input::Location { .. })));
        assert!(events.iter().any(|e| matches!(e.input, Input::Photo(_))));
        assert!(
            events
                .iter()
                .any(|e| matches!(&e.input, Input::Button(d) if d.starts_with("action=buyItem")))
        );
        assert!(
            events
                .iter()
                .any(|e| matches!(&e.input, Input::Button(d) if d == "menu")),
            "follow greets"
        );
        assert!(events.iter().all(|e| e.reply_token.is_some()));
    }
    assert!(
        line::parse(b"{\"events\":[{\"type\":\"message\"}]}")
            .unwrap()
            .is_empty()
    );
    assert!(line::parse(b"{\"destination\":\"x\"}").is_err());
}

#[test]
fn line_signature_on_fixture() {
    let body = fixture("line/webhook_v2.json");
    let sig = signature::line_sign("secret", &body);
    assert!(signature::line("secret", &body, &sig));
    assert!(!signature::line("other", &body, &sig));
}

#[test]
fn line_reply_and_push_shape() {
    let r = line::reply("https://api.line.me", "TOKEN", "rt-1", &[menu_reply()]);
    assert_eq!(r.url, "https://api.line.me/v2/bot/message/reply");
    assert_eq!(r.header("authorization"), Some("Bearer TOKEN"));
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["replyToken"], "rt-1");
    assert_eq!(
        body["messages"][0]["quickReply"]["items"][0]["action"]["type"],
        "postback"
    );
    assert_eq!(
        body["messages"][0]["quickReply"]["items"][0]["action"]["data"],
        "report"
    );
    let p = line::push("https://api.line.me", "TOKEN", "U1", &[menu_reply()], "job-1");
    let key = p.header("x-line-retry-key").unwrap();
    assert_eq!(key.len(), 36);
    assert_eq!(
        key,
        line::push("https://api.line.me", "TOKEN", "U1", &[menu_reply()], "job-1")
            .header("x-line-retry-key")
            .unwrap()
    );
}

#[test]
fn whatsapp_notifications() {
    let mut kinds = Vec::new();
    for file in [
        "message.json",
        "callback_button.json",
        "callback_selection.json",
        "message_status.json",
        "system.json",
    ] {
        for (name, body) in variants(&format!("whatsapp/{file}")) {
            let parsed = meta::parse_whatsapp(&body).unwrap_or_else(|e| panic!("{file}/{name}: {e}"));
            for m in parsed {
                assert_eq!(m.channel, Channel::Whatsapp);
                assert!(m.platform_id.starts_with("wamid."), "{file}/{name}");
                kinds.push((file, name.clone(), m.input));
            }
        }
    }
    let has = |f: &dyn Fn(&Input) -> bool| kinds.iter().any(|(_, _, i)| f(i));
    assert!(has(&|i| matches!(i, Input::Text(t) if t == "Body Text")));
    assert!(has(&|i| matches!(i, Input::Photo(m) if m.id == "65463453")));
    assert!(has(&|i| matches!(i, Input::Button(b) if b == "callback_data")));
    assert!(has(&|i| matches!(i, Input::Location { .. })));
    // Status updates and system messages are not citizen input.
    assert!(
        !kinds
            .iter()
            .any(|(f, _, _)| *f == "message_status.json" || *f == "system.json")
    );
    assert!(meta::parse_whatsapp(b"{\"object\":\"page\",\"entry\":[]}").is_err());
}

#[test]
fn whatsapp_send_shapes() {
    let api = meta::WhatsappApi {
        base: "https://graph.facebook.com",
        version: "v21.0",
        phone_number_id: "1122334455667",
        access_token: "WA",
        notice_template: Some("lapor_update"),
    };
    let two = meta::send_whatsapp(&api, "6281234567890", &menu_reply(), false);
    assert_eq!(two.url, "https://graph.facebook.com/v21.0/1122334455667/messages");
    let b: Value = serde_json::from_slice(&two.body).unwrap();
    assert_eq!(b["type"], "interactive");
    assert_eq!(b["interactive"]["type"], "button");
    let mut five = menu_reply();
    for i in 0..3 {
        five.buttons.push(Button {
            id: format!("x{i}"),
            label: format!("Pilihan {i}"),
        });
    }
    let b: Value = serde_json::from_slice(&meta::send_whatsapp(&api, "62", &five, false).body).unwrap();
    assert_eq!(b["interactive"]["type"], "list");
    assert_eq!(
        b["interactive"]["action"]["sections"][0]["rows"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let b: Value =
        serde_json::from_slice(&meta::send_whatsapp(&api, "62", &Reply::text("Status berubah"), true).body).unwrap();
    assert_eq!(b["type"], "template");
    assert_eq!(b["template"]["name"], "lapor_update");
}

#[test]
fn meta_subscription_handshake() {
    let q = |mode: &str, tok: &str| {
        vec![
            ("hub.mode".to_string(), mode.to_string()),
            ("hub.verify_token".to_string(), tok.to_string()),
            ("hub.challenge".to_string(), "1158201444".to_string()),
        ]
    };
    assert_eq!(
        meta::verify_subscription(&q("subscribe", "vt"), "vt"),
        Some("1158201444")
    );
    assert_eq!(meta::verify_subscription(&q("subscribe", "xx"), "vt"), None);
    assert_eq!(meta::verify_subscription(&q("unsubscribe", "vt"), "vt"), None);
    assert_eq!(meta::verify_subscription(&q("subscribe", ""), ""), None);
}

#[test]
fn messenger_events() {
    let text = meta::parse_messenger(&fixture("messenger/text.json")).unwrap();
    assert_eq!(text.len(), 1);
    assert!(matches!(text[0].input, Input::Text(_)));
    assert!(text[0].platform_id.starts_with("m_"), "{}", text[0].platform_id);
    let q = meta::parse_messenger(&fixture("messenger/quick_reply.json")).unwrap();
    assert!(matches!(q[0].input, Input::Button(_)));
    let pb = meta::parse_messenger(&fixture("messenger/postback.json")).unwrap();
    assert!(matches!(pb[0].input, Input::Button(_)));
    let img = meta::parse_messenger(&fixture("messenger/image.json")).unwrap();
    assert!(matches!(&img[0].input, Input::Photo(m) if m.url.as_deref().is_some_and(|u| u.starts_with("https://"))));
    assert!(
        meta::parse_messenger(&fixture("messenger/echo.json"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn messenger_send_shape() {
    let api = meta::MessengerApi {
        base: "https://graph.facebook.com",
        version: "v21.0",
        page_access_token: "PAGE",
    };
    let r = meta::send_messenger(&api, "PSID1", &menu_reply(), false);
    assert_eq!(r.url, "https://graph.facebook.com/v21.0/me/messages");
    let b: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(b["recipient"]["id"], "PSID1");
    assert_eq!(b["messaging_type"], "RESPONSE");
    assert_eq!(b["message"]["quick_replies"][0]["payload"], "report");
    let n: Value = serde_json::from_slice(&meta::send_messenger(&api, "PSID1", &Reply::text("x"), true).body).unwrap();
    assert_eq!(n["messaging_type"], "MESSAGE_TAG");
}

#[test]
fn sms_gateways() {
    let g = sms::parse_generic(&fixture("sms/generic.json")).unwrap();
    assert_eq!(g.sender, "+6281234567890");
    assert!(matches!(g.input, Input::Text(ref t) if t.starts_with("LAPOR ")));
    let long = sms::parse_generic(&fixture("sms/generic_long.json")).unwrap();
    assert!(matches!(long.input, Input::Text(ref t) if t.chars().count() > 160));
    assert!(sms::parse_generic(b"{\"id\":\"1\",\"from\":\"not a phone\",\"text\":\"x\"}").is_err());
    assert!(sms::parse_generic(b"{\"id\":\"1\",\"from\":\"+62\",\"text\":\"x\",\"extra\":1}").is_err());

    let form = fixture("sms/twilio_inbound.form");
    let url = String::from_utf8(fixture("sms/twilio_inbound.url")).unwrap();
    let sig = String::from_utf8(fixture("sms/twilio_inbound.signature")).unwrap();
    let params = sms::form_params(&form).unwrap();
    assert!(signature::twilio("12345", url.trim(), &params, sig.trim()));
    assert!(!signature::twilio("54321", url.trim(), &params, sig.trim()));
    let t = sms::parse_twilio(&params).unwrap();
    assert_eq!(t.sender, "+6281234567890");
    assert!(t.platform_id.starts_with("SM"));
}

#[test]
fn twilio_published_vector() {
    let v: Value = serde_json::from_slice(&fixture("sms/twilio_doc_vector.json")).unwrap();
    let params: Vec<(String, String)> = v["params"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        signature::twilio_sign(v["auth_token"].as_str().unwrap(), v["url"].as_str().unwrap(), &params),
        v["expected_signature"].as_str().unwrap()
    );
}

#[test]
fn sms_send_shapes() {
    let r = sms::send_twilio(
        "https://api.twilio.com",
        "AC1",
        "tok",
        "1708",
        "+6281",
        "Halo & selamat",
    );
    assert_eq!(r.url, "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json");
    assert_eq!(
        String::from_utf8(r.body).unwrap(),
        "To=%2B6281&From=1708&Body=Halo+%26+selamat"
    );
    assert_eq!(r.headers[1].1, "Basic QUMxOnRvaw==");
    let g = sms::send_generic("http://gw/send", "k", "1708", "+6281", "hi", "job-1");
    assert_eq!(g.header("idempotency-key"), Some("job-1"));
}

#[test]
fn x_mentions() {
    let page = x::parse_mentions(&fixture("x/mentions.json")).unwrap();
    assert_eq!(page.mentions.len(), 3);
    assert!(page.newest_id.is_some());
    assert_eq!(page.mentions[0].author_username.as_deref(), Some("rinakusuma_bdg"));
    let empty = x::parse_mentions(&fixture("x/mentions_empty.json")).unwrap();
    assert!(empty.mentions.is_empty());
    let r = x::mentions_request("https://api.x.com", "B", "42", Some("100"), None);
    assert!(r.url.starts_with("https://api.x.com/2/users/42/mentions?"));
    assert!(r.url.contains("since_id=100"));
    let reply = x::reply_request("https://api.x.com", "U", "2123585880979714050", "Terima kasih");
    let b: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(b["reply"]["in_reply_to_tweet_id"], "2123585880979714050");
}

/// Whatever arrives, the parsers answer with a value or an error.
#[test]
fn truncated_bodies_never_panic() {
    let bodies = [
        fixture("telegram/photo.json"),
        fixture("line/webhook_v3.json"),
        fixture("messenger/image.json"),
        fixture("x/mentions.json"),
        fixture("sms/generic.json"),
    ];
    for b in &bodies {
        for cut in (0..b.len()).step_by(7) {
            let part = &b[..cut];
            let _ = telegram::parse(part);
            let _ = line::parse(part);
            let _ = meta::parse_whatsapp(part);
            let _ = meta::parse_messenger(part);
            let _ = sms::parse_generic(part);
            let _ = x::parse_mentions(part);
        }
    }
}
