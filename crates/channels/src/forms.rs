//! One-message forms, for channels where a guided chat costs money or makes
//! no sense: SMS to 1708 ("LAPOR <isi>") and tweets ("#LAPOR <isi>
//! @account").

use lapor_domain::ids::TrackingId;

/// What an SMS asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum SmsForm {
    /// `LAPOR <isi>`: a new report.
    Report { body: String },
    /// `LACAK <ID>` / `CEK <ID>` / `STATUS <ID>`.
    Track(TrackingId),
    /// `BALAS <ID> <teks>`.
    Reply { tracking_id: TrackingId, text: String },
    /// `NILAI <ID> <1-5>`.
    Rate { tracking_id: TrackingId, stars: u8 },
    /// `BANTUAN`, `INFO`, or anything not understood.
    Help,
}

/// Shortest report body accepted by SMS (the web form's minimum).
pub const MIN_BODY: usize = 10;

fn split_word(s: &str) -> (String, &str) {
    let s = s.trim_start();
    match s.split_once(char::is_whitespace) {
        Some((w, rest)) => (w.to_uppercase(), rest.trim()),
        None => (s.to_uppercase(), ""),
    }
}

/// Takes a Tracking ID off the front of `s`; IDs may be typed with or
/// without their dash.
fn split_id(s: &str) -> Option<(TrackingId, &str)> {
    let s = s.trim_start();
    let (first, rest) = match s.split_once(char::is_whitespace) {
        Some((a, b)) => (a, b.trim()),
        None => (s, ""),
    };
    if let Ok(id) = TrackingId::parse(first) {
        return Some((id, rest));
    }
    // "7KQ4 M2XJ": the two halves as separate words.
    let (second, rest2) = match rest.split_once(char::is_whitespace) {
        Some((a, b)) => (a, b.trim()),
        None => (rest, ""),
    };
    TrackingId::parse(&format!("{first}{second}"))
        .ok()
        .map(|id| (id, rest2))
}

pub fn sms(text: &str) -> SmsForm {
    let (word, rest) = split_word(text);
    match word.trim_end_matches([':', '#', '.']) {
        "LAPOR" | "REPORT" if rest.chars().count() >= MIN_BODY => SmsForm::Report { body: rest.to_string() },
        "LACAK" | "CEK" | "STATUS" | "TRACK" => match split_id(rest) {
            Some((id, _)) => SmsForm::Track(id),
            None => SmsForm::Help,
        },
        "BALAS" | "REPLY" => match split_id(rest) {
            Some((id, t)) if t.chars().count() >= 2 => SmsForm::Reply {
                tracking_id: id,
                text: t.to_string(),
            },
            _ => SmsForm::Help,
        },
        "NILAI" | "RATE" => match split_id(rest) {
            Some((id, n)) => match n.trim().parse::<u8>() {
                Ok(stars @ 1..=5) => SmsForm::Rate { tracking_id: id, stars },
                _ => SmsForm::Help,
            },
            None => SmsForm::Help,
        },
        _ => SmsForm::Help,
    }
}

/// A title from the first words of a one-message report.
pub fn title_from(body: &str) -> String {
    let first_line = body.lines().next().unwrap_or(body).trim();
    let mut title = String::new();
    for w in first_line.split_whitespace() {
        if title.chars().count() + w.chars().count() + 1 > 80 {
            break;
        }
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(w);
    }
    if title.chars().count() < 5 {
        title = first_line.chars().take(80).collect();
    }
    title
}

/// The report text of a tweet in the `#LAPOR <isi> @account` form, or None
/// when the tweet is not one (no tag, or the tag without content).
pub fn tweet(text: &str, account: &str) -> Option<String> {
    // Byte offsets come from the text itself: lowercasing can change
    // lengths ("İ"), so they must not come from a lowercased copy.
    let tag_at = text
        .as_bytes()
        .windows(6)
        .position(|w| w.eq_ignore_ascii_case(b"#lapor"))?;
    // "#LAPORAN" is another hashtag.
    let after_tag = tag_at + "#lapor".len();
    if text[after_tag..]
        .chars()
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
    {
        return None;
    }
    let handle = format!("@{}", account.trim_start_matches('@').to_lowercase());
    let mut body = String::new();
    for w in text[after_tag..].split_whitespace() {
        let lw = w.to_lowercase();
        // The account mention and other leading/trailing mentions are address,
        // not content.
        if lw.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_') == handle || lw == "#lapor" {
            continue;
        }
        if !body.is_empty() {
            body.push(' ');
        }
        body.push_str(w);
    }
    let before = text[..tag_at]
        .split_whitespace()
        .filter(|w| !w.starts_with('@'))
        .collect::<Vec<_>>()
        .join(" ");
    let body = if before.is_empty() {
        body
    } else {
        format!("{before} {body}")
    };
    (body.chars().count() >= MIN_BODY).then_some(body)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tweet_offsets_survive_letters_that_grow_when_lowercased() {
        // "İ" is 2 bytes but lowercases to 3; the tag must still be found.
        let t = "İİİİ jalan rusak parah #LAPOR depan pasar @LAPOR1708";
        assert_eq!(
            tweet(t, "LAPOR1708").as_deref(),
            Some("İİİİ jalan rusak parah depan pasar")
        );
    }

    use super::*;

    fn id() -> TrackingId {
        TrackingId::from_random(12345)
    }

    #[test]
    fn sms_forms() {
        assert_eq!(
            sms("LAPOR Jalan rusak di depan SDN 3 Cimahi"),
            SmsForm::Report {
                body: "Jalan rusak di depan SDN 3 Cimahi".into()
            }
        );
        assert_eq!(
            sms("lapor: jalan berlubang parah sekali"),
            SmsForm::Report {
                body: "jalan berlubang parah sekali".into()
            }
        );
        assert_eq!(sms("LAPOR rusak"), SmsForm::Help);
        let tid = id();
        assert_eq!(sms(&format!("lacak {tid}")), SmsForm::Track(tid.clone()));
        let spaced = tid.as_str().replace('-', " ");
        assert_eq!(sms(&format!("CEK {spaced}")), SmsForm::Track(tid.clone()));
        assert_eq!(
            sms(&format!("BALAS {tid} sudah diperbaiki sebagian")),
            SmsForm::Reply {
                tracking_id: tid.clone(),
                text: "sudah diperbaiki sebagian".into()
            }
        );
        assert_eq!(
            sms(&format!("NILAI {tid} 4")),
            SmsForm::Rate {
                tracking_id: tid.clone(),
                stars: 4
            }
        );
        assert_eq!(sms(&format!("NILAI {tid} 9")), SmsForm::Help);
        assert_eq!(sms("LACAK XXXX-XXXX"), SmsForm::Help);
        assert_eq!(sms(""), SmsForm::Help);
        assert_eq!(sms("halo"), SmsForm::Help);
    }

    #[test]
    fn tweets() {
        assert_eq!(
            tweet(
                "#LAPOR Lampu jalan mati di Jl. Merdeka, Bandung @LAPOR1708",
                "LAPOR1708"
            )
            .as_deref(),
            Some("Lampu jalan mati di Jl. Merdeka, Bandung")
        );
        assert_eq!(
            tweet("@LAPOR1708 #lapor pungli di kantor kelurahan X", "@lapor1708").as_deref(),
            Some("pungli di kantor kelurahan X")
        );
        assert_eq!(tweet("Lampu jalan mati @LAPOR1708", "LAPOR1708"), None);
        assert_eq!(tweet("#LAPORAN tahunan sudah terbit @LAPOR1708", "LAPOR1708"), None);
        assert_eq!(tweet("#LAPOR @LAPOR1708", "LAPOR1708"), None);
    }

    #[test]
    fn titles() {
        assert_eq!(
            title_from("Jalan rusak di depan sekolah"),
            "Jalan rusak di depan sekolah"
        );
        let long = "kata ".repeat(40);
        assert!(title_from(&long).chars().count() <= 80);
    }
}
