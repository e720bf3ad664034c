//! The chatbot, turn by turn.

use chrono::{DateTime, Duration, TimeZone, Utc};
use lapor_channels::conversation::*;
use lapor_domain::Lang;
use lapor_domain::ids::TrackingId;
use lapor_domain::report::Classification;

struct Dir;

impl Directory for Dir {
    fn find_regions(&self, text: &str) -> Vec<Place> {
        let all = [
            ("32.73", "Kota Bandung"),
            ("32.04", "Kabupaten Bandung"),
            ("32.17", "Kabupaten Bandung Barat"),
            ("35.78", "Kota Surabaya"),
        ];
        let t = text.to_lowercase();
        if let Some((c, n)) = all.iter().find(|(_, n)| n.to_lowercase() == t) {
            return vec![Place {
                code: c.to_string(),
                name: n.to_string(),
            }];
        }
        all.iter()
            .filter(|(_, n)| n.to_lowercase().contains(&t))
            .map(|(c, n)| Place {
                code: c.to_string(),
                name: n.to_string(),
            })
            .collect()
    }
    fn place_at(&self, lat: f64, _lon: f64) -> Option<Place> {
        (lat < -6.8 && lat > -7.0).then(|| Place {
            code: "32.73".into(),
            name: "Kota Bandung".into(),
        })
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 3, 0, 0).unwrap()
}

struct Chat {
    conv: Conversation,
    now: DateTime<Utc>,
    buttons: bool,
    last: Turn,
}

impl Chat {
    fn new(buttons: bool) -> Chat {
        let conv = Conversation::new(Lang::Id, t0());
        Chat {
            last: Turn {
                conversation: conv.clone(),
                replies: vec![],
                action: None,
                abandoned: None,
            },
            conv,
            now: t0(),
            buttons,
        }
    }
    fn send(&mut self, input: Input) -> &Turn {
        self.now += Duration::seconds(20);
        let ctx = Ctx {
            now: self.now,
            caps: Capabilities { buttons: self.buttons },
            dir: &Dir,
            max_photo_bytes: 10 * 1024 * 1024,
        };
        // The state goes through its stored form every turn, as in production.
        let stored = serde_json::to_string(&self.conv).unwrap();
        let conv: Conversation = serde_json::from_str(&stored).unwrap();
        self.last = step(&conv, &input, &ctx);
        self.conv = self.last.conversation.clone();
        &self.last
    }
    fn text(&mut self, s: &str) -> &Turn {
        self.send(Input::Text(s.into()))
    }
    fn press(&mut self, id: &str) -> &Turn {
        self.send(Input::Button(id.into()))
    }
    fn said(&self) -> String {
        self.last
            .replies
            .iter()
            .map(|r| r.text.clone())
            .collect::<Vec<_>>()
            .join("\n")
    }
    fn offered(&self) -> Vec<String> {
        self.last
            .replies
            .iter()
            .flat_map(|r| r.buttons.iter().map(|b| b.id.clone()))
            .collect()
    }
}

fn submitted(t: &Turn) -> Draft {
    match &t.action {
        Some(Action::Submit(d)) => d.clone(),
        other => panic!("expected a submission, got {other:?}"),
    }
}

#[test]
fn guided_submission_with_buttons() {
    let mut c = Chat::new(true);
    c.text("halo");
    assert!(
        c.offered().contains(&"report".to_string()),
        "menu first: {:?}",
        c.offered()
    );
    c.press("report");
    assert_eq!(c.offered(), vec!["c:pengaduan", "c:aspirasi", "c:permintaan_informasi"]);
    c.press("c:pengaduan");
    c.text("Jalan berlubang");
    c.text("Lubang besar di depan SDN 1, sudah dua minggu, membahayakan motor.");
    assert!(c.said().contains("lokasi"));
    c.send(Input::Location {
        lat: -6.9025,
        lon: 107.6186,
    });
    assert!(c.said().contains("foto"));
    c.send(Input::Photo(MediaRef {
        id: "f1".into(),
        mime: None,
        size: Some(200_000),
        url: None,
    }));
    assert!(c.said().contains("1/3"));
    c.press("skip");
    c.press("anon:yes");
    assert!(
        c.said().contains("Kota Bandung") && c.said().contains("Jalan berlubang"),
        "{}",
        c.said()
    );
    let t = c.press("send").clone();
    let d = submitted(&t);
    assert_eq!(d.classification, Some(Classification::Pengaduan));
    assert_eq!(d.place.unwrap().code, "32.73");
    assert_eq!(d.photos.len(), 1);
    assert_eq!(d.anonymous, Some(true));
    assert_eq!(t.conversation.state, State::Idle);
    assert_eq!(t.conversation.expires_at(), None);
}

#[test]
fn numbered_choices_without_buttons() {
    let mut c = Chat::new(false);
    c.text("lapor");
    assert!(c.last.replies.iter().all(|r| r.buttons.is_empty()));
    assert!(c.said().contains("1. Pengaduan"), "{}", c.said());
    c.text("2");
    c.text("Taman kota perlu lampu");
    c.text("Mohon dipasang lampu di taman kota karena gelap di malam hari.");
    c.text("surabaya");
    c.text("lewati");
    c.text("tidak");
    let d = submitted(&c.text("kirim").clone());
    assert_eq!(d.classification, Some(Classification::Aspirasi));
    assert_eq!(d.place.unwrap().name, "Kota Surabaya");
    assert_eq!(d.anonymous, Some(false));
}

#[test]
fn region_typed_as_text() {
    let mut c = Chat::new(true);
    c.press("report");
    c.press("c:aspirasi");
    c.text("Judul laporan");
    c.text("Isi laporan yang cukup panjang untuk diterima.");
    c.text("Atlantis");
    assert!(c.said().contains("tidak kami temukan"));
    c.text("bandung");
    // Three matches: offered as choices.
    let choices = c.offered();
    assert!(
        choices.contains(&"r:32.04".to_string()) && choices.contains(&"r:32.17".to_string()),
        "{choices:?}"
    );
    c.press("r:32.17");
    c.press("skip");
    c.press("anon:no");
    let d = submitted(&c.press("send").clone());
    assert_eq!(d.place.unwrap().name, "Kabupaten Bandung Barat");
}

#[test]
fn oversized_photo_is_refused_in_the_chat() {
    let mut c = Chat::new(true);
    c.press("report");
    c.press("c:pengaduan");
    c.text("Judul laporan");
    c.text("Isi laporan yang cukup panjang untuk diterima.");
    c.press("skip");
    c.send(Input::Photo(MediaRef {
        id: "big".into(),
        mime: None,
        size: Some(50 * 1024 * 1024),
        url: None,
    }));
    assert!(c.said().contains("terlalu besar"), "{}", c.said());
    match &c.conv.state {
        State::Draft {
            step: Step::Photo,
            draft,
        } => assert!(draft.photos.is_empty()),
        s => panic!("{s:?}"),
    }
}

#[test]
fn short_answers_are_asked_again() {
    let mut c = Chat::new(true);
    c.press("report");
    c.press("c:pengaduan");
    c.text("abc");
    assert!(c.said().contains("terlalu pendek"));
    c.text("Judul yang pas");
    c.text("pendek");
    assert!(c.said().contains("lebih rinci"));
    // "lapor" inside a text step is an answer, not a command… but too short.
    assert!(matches!(c.conv.state, State::Draft { step: Step::Body, .. }));
}

#[test]
fn cancel_and_timeout_hand_drafts_to_staff() {
    let mut c = Chat::new(true);
    c.press("report");
    c.press("c:pengaduan");
    c.text("Sampah menumpuk");
    let t = c.text("batal").clone();
    assert!(matches!(t.abandoned, Some(Abandoned::Draft(ref d)) if d.title.as_deref() == Some("Sampah menumpuk")));
    assert_eq!(t.conversation.state, State::Idle);

    c.press("report");
    c.press("c:pengaduan");
    c.text("Sampah menumpuk lagi");
    assert!(c.conv.expires_at().is_some());
    c.now += Duration::minutes(IDLE_TIMEOUT_MINUTES + 1);
    let t = c.text("halo").clone();
    assert!(c.said().contains("berakhir"), "{}", c.said());
    assert!(matches!(t.abandoned, Some(Abandoned::Draft(_))));

    // The scheduler's sweep does the same for someone who never comes back.
    c.press("report");
    c.press("c:aspirasi");
    c.text("Judul yang ditinggal");
    let mut conv = c.conv.clone();
    assert_eq!(conv.expire(c.now + Duration::minutes(5)), None);
    assert!(matches!(
        conv.expire(c.now + Duration::minutes(31)),
        Some(Abandoned::Draft(_))
    ));
    assert_eq!(conv.state, State::Idle);
}

#[test]
fn free_text_outside_a_flow() {
    let mut c = Chat::new(true);
    c.text("Pelayanan KTP di kecamatan sangat lambat sekali");
    assert_eq!(c.offered(), vec!["offer:yes", "offer:no"]);
    c.press("offer:yes");
    c.press("c:pengaduan");
    // The description is kept; the title is asked, then the location.
    c.text("KTP lambat");
    assert!(c.said().contains("lokasi"), "{}", c.said());
    match &c.conv.state {
        State::Draft { draft, .. } => assert_eq!(
            draft.body.as_deref(),
            Some("Pelayanan KTP di kecamatan sangat lambat sekali")
        ),
        s => panic!("{s:?}"),
    }

    let mut d = Chat::new(true);
    d.text("Saya cuma mau tanya jam buka kantor");
    let t = d.press("offer:no").clone();
    assert!(matches!(t.abandoned, Some(Abandoned::Text(ref s)) if s.contains("jam buka")));

    let mut e = Chat::new(true);
    e.text("?");
    assert!(e.offered().contains(&"report".to_string()), "short text gets the menu");
    assert_eq!(e.last.abandoned, None);
}

#[test]
fn track_reply_and_rate() {
    let id = TrackingId::from_random(987654321);
    let mut c = Chat::new(true);
    let t = c.text(id.as_str()).clone();
    assert_eq!(t.action, Some(Action::Track(id.clone())));
    let t = c
        .text(&format!("lacak {}", id.as_str().to_lowercase().replace('-', "")))
        .clone();
    assert_eq!(t.action, Some(Action::Track(id.clone())));

    c.press("track");
    c.text("XXXX-YYYY");
    assert!(c.said().contains("tidak dikenali"));
    assert_eq!(c.text(id.as_str()).action, Some(Action::Track(id.clone())));

    c.press("reply");
    c.text(id.as_str());
    let t = c.text("Terima kasih, tapi lubangnya belum ditambal").clone();
    assert_eq!(
        t.action,
        Some(Action::Reply {
            tracking_id: id.clone(),
            text: "Terima kasih, tapi lubangnya belum ditambal".into()
        })
    );

    c.press("rate");
    c.text(id.as_str());
    assert_eq!(c.offered().len(), 5);
    c.text("9");
    assert!(c.said().contains("1 sampai 5"));
    assert_eq!(
        c.press("star:4").action,
        Some(Action::Rate {
            tracking_id: id.clone(),
            stars: 4
        })
    );
}

#[test]
fn english_and_help() {
    let mut c = Chat::new(true);
    c.text("english");
    assert_eq!(c.conv.lang, Lang::En);
    assert!(c.said().contains("Welcome"));
    c.text("help");
    assert!(c.said().contains("Commands"));
    c.text("bahasa");
    assert_eq!(c.conv.lang, Lang::Id);
    // Help in the middle of a draft keeps the draft.
    c.press("report");
    c.press("c:pengaduan");
    let t = c.text("bantuan").clone();
    assert!(matches!(t.conversation.state, State::Draft { step: Step::Title, .. }));
    assert_eq!(t.abandoned, None);
}

#[test]
fn outcomes_are_worded() {
    let r = outcome(
        Lang::Id,
        &Outcome::Submitted {
            tracking_id: "7KQ4-M2XJ".into(),
            pin: "04815162".into(),
            photos_dropped: 1,
        },
    );
    assert!(r[0].text.contains("7KQ4-M2XJ") && r[0].text.contains("04815162"));
    assert_eq!(r.len(), 2);
    let s = outcome(
        Lang::En,
        &Outcome::Status(Summary {
            tracking_id: "7KQ4-M2XJ".into(),
            title: "Jalan".into(),
            status_label: "Responded".into(),
            institution: Some("Kota Bandung".into()),
            latest: Some("Sudah ditambal".into()),
            can_reply: true,
        }),
    );
    assert!(s[0].text.contains("Latest follow-up: Sudah ditambal"));
    assert!(s[0].buttons.iter().any(|b| b.id == "rate"));
}

/// No input, in any state, makes the engine panic or lose its language.
#[test]
fn every_input_in_every_state() {
    let inputs = [
        Input::Text(String::new()),
        Input::Text("   ".into()),
        Input::Text("1".into()),
        Input::Text("99".into()),
        Input::Text("x".repeat(20_000)),
        Input::Text("batal".into()),
        Input::Button("nonsense".into()),
        Input::Button("r:99.99".into()),
        Input::Button("star:0".into()),
        Input::Location { lat: 200.0, lon: 0.0 },
        Input::Location {
            lat: f64::NAN,
            lon: f64::NAN,
        },
        Input::Photo(MediaRef {
            id: String::new(),
            mime: None,
            size: None,
            url: None,
        }),
        Input::Unsupported("sticker".into()),
    ];
    let mut paths: Vec<Vec<Input>> = vec![vec![]];
    for start in [
        vec![Input::Button("report".into())],
        vec![Input::Button("report".into()), Input::Button("c:pengaduan".into())],
        vec![
            Input::Button("report".into()),
            Input::Button("c:pengaduan".into()),
            Input::Text("Judul laporan".into()),
            Input::Text("Isi laporan yang cukup panjang".into()),
        ],
        vec![Input::Button("track".into())],
        vec![
            Input::Button("rate".into()),
            Input::Text(TrackingId::from_random(5).to_string()),
        ],
        vec![Input::Text("Kalimat panjang yang bukan perintah apa pun".into())],
    ] {
        paths.push(start);
    }
    for path in paths {
        for input in &inputs {
            let mut c = Chat::new(true);
            c.text("english");
            for p in &path {
                c.send(p.clone());
            }
            c.send(input.clone());
            assert_eq!(c.conv.lang, Lang::En);
            assert!(
                !c.last.replies.is_empty() || c.last.action.is_some(),
                "{path:?} then {input:?}: silence"
            );
        }
    }
}
