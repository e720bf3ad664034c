//! The chatbot every chat channel shares. Pure: it takes the persisted
//! conversation, one input and a read-only directory of places, and returns
//! the next conversation, the replies to send and at most one action for the
//! adapter to carry out (submit, track, reply, rate). The adapter then asks
//! [`outcome`] for the words that report how the action went.
//!
//! Flows: a menu; guided submission (classification → title → description →
//! location → photo → anonymous? → confirm); tracking by Tracking ID;
//! replying to a follow-up; rating; help and cancel. Idle conversations
//! time out after [`IDLE_TIMEOUT_MINUTES`]; a draft left behind is handed
//! back as `abandoned` so it can land in the staff inbox.

use chrono::{DateTime, Duration, Utc};
use lapor_domain::Lang;
use lapor_domain::ids::TrackingId;
use lapor_domain::report::{BODY_MAX, Classification, TITLE_MAX};
use serde::{Deserialize, Serialize};

pub const IDLE_TIMEOUT_MINUTES: i64 = 30;
/// Photos a chat report may carry (the web form allows five files).
pub const MAX_PHOTOS: usize = 3;
const MIN_TITLE: usize = 5;
const MIN_BODY: usize = 10;
/// Region matches offered as buttons; more means "be more specific".
const MAX_CHOICES: usize = 5;

/// One thing a citizen sent, already taken out of the platform's format.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Text(String),
    /// A quick-reply or button press, by its payload id.
    Button(String),
    Location {
        lat: f64,
        lon: f64,
    },
    Photo(MediaRef),
    /// Stickers, voice notes, videos…: answered with a hint.
    Unsupported(String),
}

/// A platform's handle on an uploaded file, fetched only when a report is
/// submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaRef {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    /// Size when the platform says it up front (Telegram does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// A direct URL when the platform gives one (Messenger does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A regency/city (or province) the location step settled on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Place {
    pub code: String,
    pub name: String,
}

/// Region lookups the engine needs, answered from memory by the adapter.
pub trait Directory {
    /// Regions whose name matches what was typed, best first.
    fn find_regions(&self, text: &str) -> Vec<Place>;
    /// The regency/city containing a point.
    fn place_at(&self, lat: f64, lon: f64) -> Option<Place>;
}

/// What the platform can show.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Capabilities {
    /// Quick replies or buttons; without them choices are numbered.
    pub buttons: bool,
}

pub struct Ctx<'a> {
    pub now: DateTime<Utc>,
    pub caps: Capabilities,
    pub dir: &'a (dyn Directory + Sync),
    /// Largest photo accepted, in bytes.
    pub max_photo_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub lang: Lang,
    pub state: State,
    pub updated_at: DateTime<Utc>,
}

impl Conversation {
    pub fn new(lang: Lang, now: DateTime<Utc>) -> Conversation {
        Conversation {
            lang,
            state: State::Idle,
            updated_at: now,
        }
    }

    /// When an unfinished conversation stops waiting for its citizen.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        (self.state != State::Idle).then(|| self.updated_at + Duration::minutes(IDLE_TIMEOUT_MINUTES))
    }

    /// Ends an idle-too-long conversation; returns what it left unfinished.
    pub fn expire(&mut self, now: DateTime<Utc>) -> Option<Abandoned> {
        match self.expires_at() {
            Some(at) if at <= now => {
                let left = abandoned_of(&self.state);
                self.state = State::Idle;
                self.updated_at = now;
                left
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "at", rename_all = "snake_case")]
pub enum State {
    Idle,
    Draft {
        step: Step,
        draft: Draft,
    },
    /// Waiting for a Tracking ID, to then do `then`.
    AskId {
        then: Then,
    },
    AskReplyText {
        tracking_id: String,
    },
    AskRating {
        tracking_id: String,
    },
    /// Free text arrived outside a flow: offered to turn it into a report.
    Offer {
        text: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Then {
    Track,
    Reply,
    Rate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    Classification,
    Title,
    Body,
    Location,
    PickRegion { choices: Vec<Place> },
    Photo,
    Anonymous,
    Confirm,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub classification: Option<Classification>,
    pub title: Option<String>,
    pub body: Option<String>,
    pub place: Option<Place>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    #[serde(default)]
    pub photos: Vec<MediaRef>,
    pub anonymous: Option<bool>,
}

impl Draft {
    fn is_empty(&self) -> bool {
        self.title.is_none() && self.body.is_none() && self.photos.is_empty()
    }
}

/// Something a citizen started and did not finish: kept for staff.
#[derive(Debug, Clone, PartialEq)]
pub enum Abandoned {
    Draft(Draft),
    Text(String),
}

fn abandoned_of(state: &State) -> Option<Abandoned> {
    match state {
        State::Draft { draft, .. } if !draft.is_empty() => Some(Abandoned::Draft(draft.clone())),
        State::Offer { text } => Some(Abandoned::Text(text.clone())),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Button {
    pub id: String,
    pub label: String,
}

/// One message back to the citizen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
}

impl Reply {
    pub fn text(text: impl Into<String>) -> Reply {
        Reply {
            text: text.into(),
            buttons: Vec::new(),
        }
    }

    /// The text with the choices numbered, for platforms without buttons.
    pub fn flattened(&self) -> String {
        if self.buttons.is_empty() {
            return self.text.clone();
        }
        let mut s = self.text.clone();
        for (i, b) in self.buttons.iter().enumerate() {
            s.push_str(&format!("\n{}. {}", i + 1, b.label));
        }
        s
    }
}

/// What the adapter must do for the citizen.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Submit(Draft),
    Track(TrackingId),
    Reply { tracking_id: TrackingId, text: String },
    Rate { tracking_id: TrackingId, stars: u8 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub conversation: Conversation,
    pub replies: Vec<Reply>,
    pub action: Option<Action>,
    /// A draft or message the citizen walked away from (cancel, time-out,
    /// declined offer): it goes to the staff inbox.
    pub abandoned: Option<Abandoned>,
}

/// How an action went, for [`outcome`].
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Submitted {
        tracking_id: String,
        pin: String,
        /// Photos that could not be fetched or were refused.
        photos_dropped: usize,
    },
    Status(Summary),
    NotFound,
    Replied,
    Rated {
        stars: u8,
    },
    /// The action was refused; the message says why (already localised).
    Refused(String),
}

/// What tracking shows about a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub tracking_id: String,
    pub title: String,
    pub status_label: String,
    pub institution: Option<String>,
    /// The latest follow-up the citizen may see.
    pub latest: Option<String>,
    /// Whether the citizen may reply / rate now (it is their report and the
    /// institution has answered).
    pub can_reply: bool,
}

fn t(lang: Lang, id: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Id => id,
        Lang::En => en,
    }
}

fn b(id: &str, label: &str) -> Button {
    Button {
        id: id.to_string(),
        label: label.to_string(),
    }
}

/// A command recognised anywhere in a conversation.
#[derive(Debug, Clone, PartialEq)]
enum Command {
    Menu,
    Help,
    Cancel,
    Report,
    Track(Option<String>),
    Reply,
    Rate,
    Lang(Lang),
}

fn command(input: &Input) -> Option<Command> {
    let raw = match input {
        Input::Text(s) => s.trim(),
        Input::Button(id) => {
            return match id.as_str() {
                "menu" => Some(Command::Menu),
                "help" => Some(Command::Help),
                "cancel" => Some(Command::Cancel),
                "report" => Some(Command::Report),
                "track" => Some(Command::Track(None)),
                "reply" => Some(Command::Reply),
                "rate" => Some(Command::Rate),
                "lang:en" => Some(Command::Lang(Lang::En)),
                "lang:id" => Some(Command::Lang(Lang::Id)),
                _ => None,
            };
        }
        _ => return None,
    };
    let lower = raw.trim_start_matches('/').to_lowercase();
    // "/start@LaporBot" in Telegram groups.
    let (word, rest) = match lower.split_once(char::is_whitespace) {
        Some((w, r)) => (w.split('@').next().unwrap_or(w), r.trim()),
        None => (lower.split('@').next().unwrap_or(&lower), ""),
    };
    let only = rest.is_empty();
    match word {
        "menu" | "start" | "mulai" | "halo" | "hai" | "hi" | "hello" if only => Some(Command::Menu),
        "bantuan" | "help" | "tolong" if only => Some(Command::Help),
        "batal" | "cancel" | "stop" | "berhenti" if only => Some(Command::Cancel),
        "lapor" | "report" if only => Some(Command::Report),
        "lacak" | "track" | "cek" | "status" => Some(Command::Track((!only).then(|| rest.to_string()))),
        "balas" | "reply" if only => Some(Command::Reply),
        "nilai" | "rate" if only => Some(Command::Rate),
        "english" | "inggris" if only => Some(Command::Lang(Lang::En)),
        "indonesia" | "bahasa" if only => Some(Command::Lang(Lang::Id)),
        _ => None,
    }
}

fn menu(lang: Lang) -> Reply {
    Reply {
        text: t(
            lang,
            "Selamat datang di LAPOR!, layanan pengaduan pelayanan publik. Pilih menu:",
            "Welcome to LAPOR!, the public service complaints service. Choose an option:",
        )
        .to_string(),
        buttons: vec![
            b("report", t(lang, "Buat laporan", "New report")),
            b("track", t(lang, "Lacak laporan", "Track a report")),
            b("reply", t(lang, "Balas tindak lanjut", "Reply to a follow-up")),
            b("rate", t(lang, "Beri penilaian", "Rate the answer")),
            b("help", t(lang, "Bantuan", "Help")),
        ],
    }
}

fn help(lang: Lang) -> Reply {
    Reply::text(t(
        lang,
        "Perintah: MENU, LAPOR (buat laporan), LACAK <ID Pelacakan>, BALAS, NILAI, BATAL, ENGLISH.\n\
         Laporan Anda diteruskan ke instansi yang berwenang dan wajib ditindaklanjuti dalam batas waktu hari kerja. \
         Simpan ID Pelacakan dan PIN yang kami kirim.",
        "Commands: MENU, REPORT (new report), TRACK <Tracking ID>, REPLY, RATE, CANCEL, INDONESIA.\n\
         Your report is forwarded to the competent institution, which must follow it up within working-day deadlines. \
         Keep the Tracking ID and PIN we send you.",
    ))
}

fn cancel_button(lang: Lang) -> Button {
    b("cancel", t(lang, "Batal", "Cancel"))
}

fn ask(step: &Step, draft: &Draft, lang: Lang) -> Reply {
    let cancel = cancel_button(lang);
    match step {
        Step::Classification => Reply {
            text: t(lang, "Jenis laporan Anda?", "What kind of report is it?").to_string(),
            buttons: vec![
                b("c:pengaduan", t(lang, "Pengaduan", "Complaint")),
                b("c:aspirasi", t(lang, "Aspirasi", "Suggestion")),
                b(
                    "c:permintaan_informasi",
                    t(lang, "Permintaan informasi", "Information request"),
                ),
            ],
        },
        Step::Title => Reply {
            text: t(
                lang,
                "Tulis judul singkat laporan Anda (5–200 huruf).",
                "Write a short title for your report (5–200 characters).",
            )
            .to_string(),
            buttons: vec![cancel],
        },
        Step::Body => Reply {
            text: t(
                lang,
                "Ceritakan apa yang terjadi: di mana, kapan, dan siapa yang terlibat.",
                "Describe what happened: where, when and who was involved.",
            )
            .to_string(),
            buttons: vec![cancel],
        },
        Step::Location => Reply {
            text: t(
                lang,
                "Di mana kejadiannya? Bagikan lokasi, atau ketik nama kabupaten/kota.",
                "Where did it happen? Share a location, or type the regency/city name.",
            )
            .to_string(),
            buttons: vec![b("skip", t(lang, "Lewati", "Skip")), cancel],
        },
        Step::PickRegion { choices } => Reply {
            text: t(lang, "Yang mana maksud Anda?", "Which one do you mean?").to_string(),
            buttons: choices
                .iter()
                .map(|p| b(&format!("r:{}", p.code), &p.name))
                .chain([b("skip", t(lang, "Lewati", "Skip"))])
                .collect(),
        },
        Step::Photo => Reply {
            text: if draft.photos.is_empty() {
                t(
                    lang,
                    "Kirim foto pendukung (boleh lebih dari satu), atau pilih Lewati.",
                    "Send a supporting photo (more than one is fine), or choose Skip.",
                )
                .to_string()
            } else {
                format!(
                    "{} ({}/{MAX_PHOTOS})",
                    t(
                        lang,
                        "Foto diterima. Kirim foto lain atau pilih Lanjut.",
                        "Photo received. Send another or choose Continue.",
                    ),
                    draft.photos.len()
                )
            },
            buttons: if draft.photos.is_empty() {
                vec![b("skip", t(lang, "Lewati", "Skip")), cancel]
            } else {
                vec![b("skip", t(lang, "Lanjut", "Continue")), cancel]
            },
        },
        Step::Anonymous => Reply {
            text: t(
                lang,
                "Rahasiakan identitas Anda dari instansi dan publik (anonim)?",
                "Hide your identity from the institution and the public (anonymous)?",
            )
            .to_string(),
            buttons: vec![
                b("anon:no", t(lang, "Tidak, tampilkan nama", "No, show my name")),
                b("anon:yes", t(lang, "Ya, anonim", "Yes, anonymous")),
            ],
        },
        Step::Confirm => Reply {
            text: summary_text(draft, lang),
            buttons: vec![b("send", t(lang, "Kirim laporan", "Send report")), cancel],
        },
    }
}

fn classification_label(c: Classification, lang: Lang) -> &'static str {
    match c {
        Classification::Pengaduan => t(lang, "Pengaduan", "Complaint"),
        Classification::Aspirasi => t(lang, "Aspirasi", "Suggestion"),
        Classification::PermintaanInformasi => t(lang, "Permintaan informasi", "Information request"),
    }
}

fn summary_text(d: &Draft, lang: Lang) -> String {
    let dash = "-".to_string();
    let place = match (&d.place, d.lat, d.lon) {
        (Some(p), _, _) => p.name.clone(),
        (None, Some(la), Some(lo)) => format!("{la:.5}, {lo:.5}"),
        _ => dash.clone(),
    };
    format!(
        "{}\n{}: {}\n{}: {}\n{}: {}\n{}: {}\n{}: {}\n{}: {}",
        t(lang, "Periksa laporan Anda:", "Check your report:"),
        t(lang, "Jenis", "Kind"),
        d.classification.map(|c| classification_label(c, lang)).unwrap_or("-"),
        t(lang, "Judul", "Title"),
        d.title.as_ref().unwrap_or(&dash),
        t(lang, "Isi", "Text"),
        d.body.as_ref().unwrap_or(&dash),
        t(lang, "Lokasi", "Location"),
        place,
        t(lang, "Foto", "Photos"),
        d.photos.len(),
        t(lang, "Anonim", "Anonymous"),
        if d.anonymous == Some(true) {
            t(lang, "ya", "yes")
        } else {
            t(lang, "tidak", "no")
        },
    )
}

/// The step after `step`, skipping what the draft already has.
fn next_step(step: &Step, d: &Draft) -> Step {
    let order = [
        Step::Classification,
        Step::Title,
        Step::Body,
        Step::Location,
        Step::Photo,
        Step::Anonymous,
        Step::Confirm,
    ];
    let pos = match step {
        Step::PickRegion { .. } => 3,
        s => order.iter().position(|o| o == s).unwrap_or(0),
    };
    for s in order.iter().skip(pos + 1) {
        let done = match s {
            Step::Classification => d.classification.is_some(),
            Step::Title => d.title.is_some(),
            Step::Body => d.body.is_some(),
            _ => false,
        };
        if !done {
            return s.clone();
        }
    }
    Step::Confirm
}

fn choice(input: &Input, buttons: &[Button]) -> Option<String> {
    match input {
        Input::Button(id) => Some(id.clone()),
        // Numbered choices on platforms without buttons, or the label typed.
        Input::Text(s) => {
            let s = s.trim();
            if let Ok(n) = s.parse::<usize>()
                && (1..=buttons.len()).contains(&n)
            {
                return Some(buttons[n - 1].id.clone());
            }
            buttons
                .iter()
                .find(|b| b.label.eq_ignore_ascii_case(s) || b.id.eq_ignore_ascii_case(s))
                .map(|b| b.id.clone())
        }
        _ => None,
    }
}

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

/// Runs one citizen input through the conversation.
pub fn step(conv: &Conversation, input: &Input, ctx: &Ctx<'_>) -> Turn {
    let mut conv = conv.clone();
    let mut replies = Vec::new();
    let mut abandoned = None;
    if let Some(left) = conv.expire(ctx.now) {
        abandoned = Some(left);
        replies.push(Reply::text(t(
            conv.lang,
            "Percakapan sebelumnya berakhir karena lama tidak ada balasan.",
            "Your previous conversation ended after a long silence.",
        )));
    }
    conv.updated_at = ctx.now;
    let mut turn = run(conv, input, ctx);
    if abandoned.is_some() && turn.abandoned.is_none() {
        turn.abandoned = abandoned;
    }
    replies.append(&mut turn.replies);
    turn.replies = replies;
    turn.replies = for_platform(std::mem::take(&mut turn.replies), ctx.caps);
    turn
}

fn turn(conversation: Conversation, replies: Vec<Reply>) -> Turn {
    Turn {
        conversation,
        replies,
        action: None,
        abandoned: None,
    }
}

fn run(mut conv: Conversation, input: &Input, ctx: &Ctx<'_>) -> Turn {
    let lang = conv.lang;
    if let Some(cmd) = command(input) {
        // Inside a draft, plain words like "lapor" may be an answer; only the
        // escape commands interrupt it.
        let in_text_step = matches!(&conv.state, State::Draft { step, .. } if matches!(step, Step::Title | Step::Body))
            || matches!(conv.state, State::AskReplyText { .. });
        let interrupts = matches!(cmd, Command::Cancel | Command::Menu | Command::Help)
            || matches!(input, Input::Button(_))
            || !in_text_step;
        if interrupts {
            return run_command(conv, cmd, ctx);
        }
    }
    match conv.state.clone() {
        State::Idle => idle(conv, input, ctx),
        State::Draft { step, draft } => draft_step(conv, step, draft, input, ctx),
        State::AskId { then } => {
            let text = match input {
                Input::Text(s) => s.clone(),
                _ => String::new(),
            };
            match TrackingId::parse(&text) {
                Ok(id) => with_id(conv, then, id),
                Err(_) => turn(
                    conv,
                    vec![Reply {
                        text: t(
                            lang,
                            "ID Pelacakan tidak dikenali. Contoh: 7KQ4-M2XJ.",
                            "That Tracking ID is not valid. Example: 7KQ4-M2XJ.",
                        )
                        .to_string(),
                        buttons: vec![cancel_button(lang)],
                    }],
                ),
            }
        }
        State::AskReplyText { tracking_id } => match input {
            Input::Text(s) if s.trim().chars().count() >= 2 => {
                let text = s.trim().chars().take(BODY_MAX).collect::<String>();
                conv.state = State::Idle;
                match TrackingId::parse(&tracking_id) {
                    Ok(id) => Turn {
                        conversation: conv,
                        replies: Vec::new(),
                        action: Some(Action::Reply { tracking_id: id, text }),
                        abandoned: None,
                    },
                    Err(_) => turn(conv, vec![menu(lang)]),
                }
            }
            _ => turn(
                conv,
                vec![Reply {
                    text: t(lang, "Tulis balasan Anda sebagai teks.", "Write your reply as text.").to_string(),
                    buttons: vec![cancel_button(lang)],
                }],
            ),
        },
        State::AskRating { tracking_id } => {
            let buttons = stars(lang);
            let stars_given = choice(input, &buttons)
                .and_then(|id| id.strip_prefix("star:").and_then(|n| n.parse::<u8>().ok()))
                .filter(|n| (1..=5).contains(n));
            match (stars_given, TrackingId::parse(&tracking_id)) {
                (Some(n), Ok(id)) => {
                    conv.state = State::Idle;
                    Turn {
                        conversation: conv,
                        replies: Vec::new(),
                        action: Some(Action::Rate {
                            tracking_id: id,
                            stars: n,
                        }),
                        abandoned: None,
                    }
                }
                _ => turn(
                    conv,
                    vec![Reply {
                        text: t(lang, "Pilih nilai 1 sampai 5.", "Choose a rating from 1 to 5.").to_string(),
                        buttons,
                    }],
                ),
            }
        }
        State::Offer { text } => {
            let buttons = offer_buttons(lang);
            match choice(input, &buttons).as_deref() {
                Some("offer:yes") => {
                    let draft = Draft {
                        body: Some(text.chars().take(BODY_MAX).collect()),
                        ..Draft::default()
                    };
                    start_draft(conv, draft)
                }
                Some("offer:no") => {
                    conv.state = State::Idle;
                    let mut tn = turn(
                        conv,
                        vec![Reply::text(t(
                            lang,
                            "Baik. Pesan Anda kami teruskan ke petugas.",
                            "All right. We pass your message on to our staff.",
                        ))],
                    );
                    tn.abandoned = Some(Abandoned::Text(text));
                    tn
                }
                // Something else: the offer lapses and the new input counts.
                _ => {
                    conv.state = State::Idle;
                    let mut tn = idle(conv, input, ctx);
                    tn.abandoned.get_or_insert(Abandoned::Text(text));
                    tn
                }
            }
        }
    }
}

fn stars(lang: Lang) -> Vec<Button> {
    let _ = lang;
    (1..=5u8)
        .map(|n| b(&format!("star:{n}"), &format!("{n} {}", "★".repeat(n as usize))))
        .collect()
}

fn offer_buttons(lang: Lang) -> Vec<Button> {
    vec![
        b("offer:yes", t(lang, "Ya, buat laporan", "Yes, make it a report")),
        b("offer:no", t(lang, "Tidak", "No")),
    ]
}

fn start_draft(mut conv: Conversation, draft: Draft) -> Turn {
    let step = Step::Classification;
    let reply = ask(&step, &draft, conv.lang);
    conv.state = State::Draft { step, draft };
    turn(conv, vec![reply])
}

fn with_id(mut conv: Conversation, then: Then, id: TrackingId) -> Turn {
    let lang = conv.lang;
    match then {
        Then::Track => {
            conv.state = State::Idle;
            Turn {
                conversation: conv,
                replies: Vec::new(),
                action: Some(Action::Track(id)),
                abandoned: None,
            }
        }
        Then::Reply => {
            conv.state = State::AskReplyText {
                tracking_id: id.to_string(),
            };
            turn(
                conv,
                vec![Reply {
                    text: t(
                        lang,
                        "Tulis balasan Anda untuk tindak lanjut instansi.",
                        "Write your reply to the institution's follow-up.",
                    )
                    .to_string(),
                    buttons: vec![cancel_button(lang)],
                }],
            )
        }
        Then::Rate => {
            conv.state = State::AskRating {
                tracking_id: id.to_string(),
            };
            turn(
                conv,
                vec![Reply {
                    text: t(
                        lang,
                        "Seberapa puas Anda dengan tindak lanjutnya?",
                        "How satisfied are you with the follow-up?",
                    )
                    .to_string(),
                    buttons: stars(lang),
                }],
            )
        }
    }
}

fn run_command(mut conv: Conversation, cmd: Command, _ctx: &Ctx<'_>) -> Turn {
    // Any command but help leaves the current flow behind.
    let left = if cmd == Command::Help {
        None
    } else {
        abandoned_of(&conv.state)
    };
    let lang = conv.lang;
    let mut tn = match cmd {
        Command::Menu => {
            conv.state = State::Idle;
            turn(conv, vec![menu(lang)])
        }
        Command::Help => turn(conv, vec![help(lang)]),
        Command::Cancel => {
            conv.state = State::Idle;
            turn(
                conv,
                vec![Reply {
                    text: t(lang, "Dibatalkan.", "Cancelled.").to_string(),
                    buttons: vec![b("menu", "Menu")],
                }],
            )
        }
        Command::Report => start_draft(conv, Draft::default()),
        Command::Track(Some(text)) => match TrackingId::parse(&text) {
            Ok(id) => with_id(conv, Then::Track, id),
            Err(_) => {
                conv.state = State::AskId { then: Then::Track };
                turn(conv, vec![ask_id(lang)])
            }
        },
        Command::Track(None) => {
            conv.state = State::AskId { then: Then::Track };
            turn(conv, vec![ask_id(lang)])
        }
        Command::Reply => {
            conv.state = State::AskId { then: Then::Reply };
            turn(conv, vec![ask_id(lang)])
        }
        Command::Rate => {
            conv.state = State::AskId { then: Then::Rate };
            turn(conv, vec![ask_id(lang)])
        }
        Command::Lang(l) => {
            conv.lang = l;
            conv.state = State::Idle;
            turn(conv, vec![menu(l)])
        }
    };
    tn.abandoned = left;
    tn
}

fn ask_id(lang: Lang) -> Reply {
    Reply {
        text: t(
            lang,
            "Ketik ID Pelacakan laporan Anda (contoh: 7KQ4-M2XJ).",
            "Type your report's Tracking ID (for example 7KQ4-M2XJ).",
        )
        .to_string(),
        buttons: vec![cancel_button(lang)],
    }
}

fn idle(mut conv: Conversation, input: &Input, _ctx: &Ctx<'_>) -> Turn {
    let lang = conv.lang;
    match input {
        Input::Text(s) => {
            let s = s.trim();
            if let Ok(id) = TrackingId::parse(s) {
                return with_id(conv, Then::Track, id);
            }
            // Something substantial: offer to make it a report.
            if words(s) >= 4 && s.chars().count() >= MIN_BODY {
                conv.state = State::Offer { text: s.to_string() };
                return turn(
                    conv,
                    vec![Reply {
                        text: t(
                            lang,
                            "Apakah Anda ingin menjadikan pesan ini laporan?",
                            "Would you like to turn this message into a report?",
                        )
                        .to_string(),
                        buttons: offer_buttons(lang),
                    }],
                );
            }
            turn(conv, vec![menu(lang)])
        }
        Input::Photo(_) | Input::Location { .. } => turn(
            conv,
            vec![Reply {
                text: t(
                    lang,
                    "Untuk melapor dengan foto atau lokasi, mulai dengan Buat laporan.",
                    "To report with a photo or location, start with New report.",
                )
                .to_string(),
                buttons: vec![b("report", t(lang, "Buat laporan", "New report")), b("menu", "Menu")],
            }],
        ),
        Input::Unsupported(_) | Input::Button(_) => turn(conv, vec![menu(lang)]),
    }
}

fn draft_step(mut conv: Conversation, step: Step, mut draft: Draft, input: &Input, ctx: &Ctx<'_>) -> Turn {
    let lang = conv.lang;
    let advance = |mut conv: Conversation, step: &Step, draft: Draft| {
        let next = next_step(step, &draft);
        let reply = ask(&next, &draft, conv.lang);
        conv.state = State::Draft { step: next, draft };
        turn(conv, vec![reply])
    };
    let again = |conv: Conversation, step: &Step, draft: &Draft, why: Option<&str>| {
        let mut r = ask(step, draft, conv.lang);
        if let Some(w) = why {
            r.text = format!("{w}\n{}", r.text);
        }
        let st = State::Draft {
            step: step.clone(),
            draft: draft.clone(),
        };
        let mut conv = conv;
        conv.state = st;
        turn(conv, vec![r])
    };
    match &step {
        Step::Classification => {
            let buttons = ask(&step, &draft, lang).buttons;
            let picked = choice(input, &buttons).and_then(|id| {
                id.strip_prefix("c:").and_then(Classification::parse).or_else(|| {
                    let l = id.to_lowercase();
                    Classification::ALL
                        .iter()
                        .copied()
                        .find(|c| l == c.as_str() || l == classification_label(*c, Lang::En).to_lowercase())
                })
            });
            match picked {
                Some(c) => {
                    draft.classification = Some(c);
                    advance(conv, &step, draft)
                }
                None => again(conv, &step, &draft, None),
            }
        }
        Step::Title | Step::Body => {
            let title = step == Step::Title;
            let (min, max, short, long) = if title {
                (
                    MIN_TITLE,
                    TITLE_MAX,
                    t(lang, "Judul terlalu pendek.", "The title is too short."),
                    t(lang, "Judul terlalu panjang.", "The title is too long."),
                )
            } else {
                (
                    MIN_BODY,
                    BODY_MAX,
                    t(lang, "Ceritakan lebih rinci.", "Please tell us more."),
                    t(lang, "Isi terlalu panjang.", "The text is too long."),
                )
            };
            let Input::Text(s) = input else {
                return again(conv, &step, &draft, None);
            };
            let text = s.trim().to_string();
            let n = text.chars().count();
            if n < min {
                again(conv, &step, &draft, Some(short))
            } else if n > max {
                again(conv, &step, &draft, Some(long))
            } else {
                if title {
                    draft.title = Some(text);
                } else {
                    draft.body = Some(text);
                }
                advance(conv, &step, draft)
            }
        }
        Step::Location | Step::PickRegion { .. } => {
            if let Step::PickRegion { choices } = &step {
                let buttons = ask(&step, &draft, lang).buttons;
                if let Some(id) = choice(input, &buttons) {
                    if id == "skip" {
                        return advance(conv, &step, draft);
                    }
                    if let Some(p) = id
                        .strip_prefix("r:")
                        .and_then(|code| choices.iter().find(|p| p.code == code))
                    {
                        draft.place = Some(p.clone());
                        return advance(conv, &step, draft);
                    }
                }
            }
            match input {
                Input::Location { lat, lon } => {
                    if !(-90.0..=90.0).contains(lat) || !(-180.0..=180.0).contains(lon) {
                        return again(conv, &Step::Location, &draft, None);
                    }
                    draft.lat = Some(*lat);
                    draft.lon = Some(*lon);
                    draft.place = ctx.dir.place_at(*lat, *lon);
                    advance(conv, &step, draft)
                }
                Input::Button(id) if id == "skip" => advance(conv, &step, draft),
                Input::Text(s) if ["lewati", "skip"].contains(&s.trim().to_lowercase().as_str()) => {
                    advance(conv, &step, draft)
                }
                Input::Text(s) => {
                    let found = ctx.dir.find_regions(s.trim());
                    match found.len() {
                        0 => again(
                            conv,
                            &Step::Location,
                            &draft,
                            Some(t(
                                lang,
                                "Nama wilayah itu tidak kami temukan.",
                                "We could not find that place name.",
                            )),
                        ),
                        1 => {
                            draft.place = found.into_iter().next();
                            advance(conv, &step, draft)
                        }
                        n if n <= MAX_CHOICES => {
                            let next = Step::PickRegion { choices: found };
                            let reply = ask(&next, &draft, lang);
                            conv.state = State::Draft { step: next, draft };
                            turn(conv, vec![reply])
                        }
                        _ => again(
                            conv,
                            &Step::Location,
                            &draft,
                            Some(t(
                                lang,
                                "Terlalu banyak wilayah cocok; tulis lebih lengkap (mis. \"Kota Bandung\").",
                                "Too many places match; be more specific (e.g. \"Kota Bandung\").",
                            )),
                        ),
                    }
                }
                _ => again(conv, &step, &draft, None),
            }
        }
        Step::Photo => match input {
            Input::Photo(m) => {
                if m.size.is_some_and(|s| s > ctx.max_photo_bytes) {
                    let why = format!(
                        "{} {} MB.",
                        t(
                            lang,
                            "Foto terlalu besar; batasnya",
                            "The photo is too large; the limit is"
                        ),
                        ctx.max_photo_bytes / (1024 * 1024)
                    );
                    let mut tn = again(conv, &step, &draft, None);
                    tn.replies.insert(0, Reply::text(why));
                    return tn;
                }
                draft.photos.push(m.clone());
                if draft.photos.len() >= MAX_PHOTOS {
                    advance(conv, &step, draft)
                } else {
                    again(conv, &step, &draft, None)
                }
            }
            Input::Button(id) if id == "skip" => advance(conv, &step, draft),
            Input::Text(s)
                if ["lewati", "skip", "lanjut", "continue", "1"].contains(&s.trim().to_lowercase().as_str()) =>
            {
                advance(conv, &step, draft)
            }
            _ => again(conv, &step, &draft, None),
        },
        Step::Anonymous => {
            let buttons = ask(&step, &draft, lang).buttons;
            let yes_words = ["ya", "yes", "y", "anonim", "anonymous"];
            let no_words = ["tidak", "no", "n", "t", "bukan"];
            let picked = match choice(input, &buttons).as_deref() {
                Some("anon:yes") => Some(true),
                Some("anon:no") => Some(false),
                _ => match input {
                    Input::Text(s) if yes_words.contains(&s.trim().to_lowercase().as_str()) => Some(true),
                    Input::Text(s) if no_words.contains(&s.trim().to_lowercase().as_str()) => Some(false),
                    _ => None,
                },
            };
            match picked {
                Some(a) => {
                    draft.anonymous = Some(a);
                    advance(conv, &step, draft)
                }
                None => again(conv, &step, &draft, None),
            }
        }
        Step::Confirm => {
            let buttons = ask(&step, &draft, lang).buttons;
            let send = matches!(choice(input, &buttons).as_deref(), Some("send"))
                || matches!(input, Input::Text(s) if ["kirim", "send", "ya", "yes"].contains(&s.trim().to_lowercase().as_str()));
            if send {
                conv.state = State::Idle;
                Turn {
                    conversation: conv,
                    replies: Vec::new(),
                    action: Some(Action::Submit(draft)),
                    abandoned: None,
                }
            } else {
                again(conv, &step, &draft, None)
            }
        }
    }
}

/// The words that report how an action went.
pub fn outcome(lang: Lang, o: &Outcome) -> Vec<Reply> {
    let mut out = Vec::new();
    match o {
        Outcome::Submitted {
            tracking_id,
            pin,
            photos_dropped,
        } => {
            out.push(Reply {
                text: format!(
                    "{}\n{}: {tracking_id}\nPIN: {pin}\n{}",
                    t(lang, "Laporan Anda sudah kami terima.", "We have received your report."),
                    t(lang, "ID Pelacakan", "Tracking ID"),
                    t(
                        lang,
                        "Simpan keduanya. Kabar tindak lanjut akan kami kirim di sini.",
                        "Keep both. We will send progress here.",
                    ),
                ),
                buttons: vec![b("menu", "Menu")],
            });
            if *photos_dropped > 0 {
                out.push(Reply::text(format!(
                    "{} ({photos_dropped})",
                    t(
                        lang,
                        "Sebagian foto tidak dapat kami ambil atau terlalu besar, dan tidak dilampirkan.",
                        "Some photos could not be fetched or were too large, and were not attached.",
                    )
                )));
            }
        }
        Outcome::Status(s) => {
            let mut text = format!(
                "{} {}\n{}\n{}: {}",
                t(lang, "Laporan", "Report"),
                s.tracking_id,
                s.title,
                t(lang, "Status", "Status"),
                s.status_label
            );
            if let Some(i) = &s.institution {
                text.push_str(&format!("\n{}: {i}", t(lang, "Instansi", "Institution")));
            }
            if let Some(l) = &s.latest {
                text.push_str(&format!(
                    "\n{}: {l}",
                    t(lang, "Tindak lanjut terakhir", "Latest follow-up")
                ));
            }
            let buttons = if s.can_reply {
                vec![
                    b("reply", t(lang, "Balas", "Reply")),
                    b("rate", t(lang, "Beri penilaian", "Rate")),
                    b("menu", "Menu"),
                ]
            } else {
                vec![b("menu", "Menu")]
            };
            out.push(Reply { text, buttons });
        }
        Outcome::NotFound => out.push(Reply {
            text: t(
                lang,
                "Laporan dengan ID itu tidak ditemukan.",
                "No report was found with that ID.",
            )
            .to_string(),
            buttons: vec![b("menu", "Menu")],
        }),
        Outcome::Replied => out.push(Reply {
            text: t(
                lang,
                "Balasan Anda sudah diteruskan ke instansi.",
                "Your reply has been passed to the institution.",
            )
            .to_string(),
            buttons: vec![b("menu", "Menu")],
        }),
        Outcome::Rated { stars } => out.push(Reply {
            text: format!(
                "{} ({stars}/5)",
                t(lang, "Terima kasih atas penilaian Anda.", "Thank you for your rating.")
            ),
            buttons: vec![b("menu", "Menu")],
        }),
        Outcome::Refused(why) => out.push(Reply {
            text: why.clone(),
            buttons: vec![b("menu", "Menu")],
        }),
    }
    out
}

/// Strips the numbered-choice form when a platform has no buttons.
pub fn for_platform(replies: Vec<Reply>, caps: Capabilities) -> Vec<Reply> {
    if caps.buttons {
        return replies;
    }
    replies.into_iter().map(|r| Reply::text(r.flattened())).collect()
}
