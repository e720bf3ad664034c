//! Inbound e-mail: one RFC 5322 message in, what Lapor acts on out. A new
//! mail becomes a report (subject → title, text → description, attachments
//! kept); a reply to one of our mails (its subject keeps the `[LAPOR ID]`
//! tag every client preserves after "Re:") answers that report.

use crate::inbound::{ParseError, bad, clip};
use chrono::{DateTime, Utc};
use lapor_domain::ids::TrackingId;
use mail_parser::{MessageParser, MimeHeaders};

/// Attachments beyond this count are left out (and the reporter told).
pub const MAX_ATTACHMENTS: usize = 5;

#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    /// Without angle brackets.
    pub message_id: Option<String>,
    /// The sender's address, lowercased.
    pub from: String,
    pub from_name: Option<String>,
    pub subject: String,
    /// What the sender wrote: quoted history and signature removed.
    pub text: String,
    pub attachments: Vec<MailAttachment>,
    /// Auto-replies, bounces and list mail, which must never be answered
    /// (two autoresponders answering each other never stop).
    pub automatic: bool,
    /// The `Authentication-Results` fields (RFC 8601), raw, as the MTAs
    /// on the way added them; see [`verified`].
    pub auth_results: Vec<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MailAttachment {
    pub name: Option<String>,
    /// As declared by the sender; the bytes are sniffed again before use.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

fn plausible_address(a: &str) -> bool {
    let Some((local, domain)) = a.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && a.len() <= 254
        && !a
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
}

pub fn parse(raw: &[u8]) -> Result<Mail, ParseError> {
    let m = MessageParser::default()
        .parse(raw)
        .ok_or_else(|| bad("not an RFC 5322 message"))?;
    let from = m.from().and_then(|a| a.first()).ok_or_else(|| bad("no From address"))?;
    let address = from
        .address()
        .map(|a| a.trim().to_lowercase())
        .filter(|a| plausible_address(a))
        .ok_or_else(|| bad("the From address is not usable"))?;
    let header = |name: &str| m.header_raw(name).map(|v| v.trim().to_ascii_lowercase());
    let automatic = header("auto-submitted").is_some_and(|v| !v.starts_with("no"))
        || header("precedence").is_some_and(|v| matches!(v.as_str(), "bulk" | "junk" | "list"))
        || m.header_raw("list-id").is_some()
        || header("x-autoreply").is_some()
        || address.starts_with("mailer-daemon@")
        || address.starts_with("postmaster@");
    let text = m.body_text(0).map(|t| fresh_text(&t)).unwrap_or_default();
    let auth_results = m
        .headers()
        .iter()
        .filter(|h| h.name().eq_ignore_ascii_case("authentication-results"))
        .filter_map(|h| raw.get(h.offset_start() as usize..h.offset_end() as usize))
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect();
    let mut attachments = Vec::new();
    for part in m.attachments() {
        // A forwarded message is an attachment too; it is not evidence.
        if part.is_message() || attachments.len() == MAX_ATTACHMENTS {
            continue;
        }
        let content_type = part
            .content_type()
            .map(|c| match c.subtype() {
                Some(s) => format!("{}/{}", c.ctype(), s),
                None => c.ctype().to_string(),
            })
            .unwrap_or_else(|| "application/octet-stream".into())
            .to_ascii_lowercase();
        attachments.push(MailAttachment {
            name: part.attachment_name().map(|n| clip(n, 120)),
            content_type,
            bytes: part.contents().to_vec(),
        });
    }
    Ok(Mail {
        // Only a plain id can be echoed in headers and used as a key; an
        // odd one is dropped and the content stands in for it.
        message_id: m
            .message_id()
            .map(str::trim)
            .filter(|i| !i.is_empty() && i.len() <= 190 && i.bytes().all(|b| b.is_ascii_graphic()))
            .map(str::to_string),
        from: address,
        from_name: from.name().map(|n| clip(n.trim(), 120)).filter(|n| !n.is_empty()),
        // Controls (NUL, line breaks) would break the answer's header.
        subject: clip(
            m.subject()
                .unwrap_or_default()
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect::<String>()
                .trim(),
            250,
        ),
        text: clip(&text, lapor_domain::report::BODY_MAX),
        attachments,
        automatic,
        auth_results,
        sent_at: m
            .date()
            .and_then(|d| DateTime::<Utc>::from_timestamp(d.to_timestamp(), 0)),
    })
}

/// Whether the mail's sender was authenticated: an `Authentication-Results`
/// field added by our own MTA (`authserv_id`) says `dmarc=pass`, so the From
/// domain is the one that signed or sent it. RFC 8601 has the MTA remove
/// fields claiming its id that came from outside, so only its own count.
pub fn verified(mail: &Mail, authserv_id: &str) -> bool {
    mail.auth_results.iter().any(|field| {
        let mut parts = field.split(';');
        let id = parts
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .next()
            .unwrap_or_default();
        id.eq_ignore_ascii_case(authserv_id)
            && parts.any(|p| {
                p.split_whitespace()
                    .next()
                    .is_some_and(|r| r.eq_ignore_ascii_case("dmarc=pass"))
            })
    })
}

/// The text the sender wrote in this mail: stops at the quoted history a
/// reply carries ("On … wrote:", "Pada … menulis:", a forwarded header
/// block) and at the signature separator, and drops `>` lines.
pub fn fresh_text(body: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for line in body.lines() {
        let t = line.trim_end();
        let lower = t.trim_start().to_lowercase();
        let history = (lower.starts_with("on ") && lower.ends_with("wrote:"))
            || (lower.starts_with("pada ") && lower.ends_with("menulis:"))
            || lower.starts_with("-----original message-----")
            || lower.starts_with("---------- forwarded message")
            || lower.starts_with("-----pesan asli-----");
        if t == "--" || t == "-- " || line == "-- " || history {
            break;
        }
        if t.trim_start().starts_with('>') {
            continue;
        }
        out.push(t);
    }
    out.join("\n").trim().to_string()
}

/// What a reply to one of our mails asks for besides answering the
/// institution: its first line `NILAI <1-5>` (or `RATE`) rates the answer,
/// `LACAK` (or `CEK`, `TRACK`) asks for the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Rate(u8),
    Track,
}

pub fn command(text: &str) -> Option<Command> {
    let line = text.lines().find(|l| !l.trim().is_empty())?;
    let mut words = line.split_whitespace();
    let verb = words.next()?.to_uppercase();
    let rest: Vec<&str> = words.collect();
    match (verb.as_str(), rest.as_slice()) {
        ("NILAI" | "RATE", [n]) => match n.trim_end_matches(['.', '!']).parse::<u8>() {
            Ok(stars @ 1..=5) => Some(Command::Rate(stars)),
            _ => None,
        },
        ("LACAK" | "CEK" | "TRACK", []) => Some(Command::Track),
        _ => None,
    }
}

/// The Tracking ID of a `[LAPOR XXXX-XXXX]` tag in a subject.
pub fn tagged_report(subject: &str) -> Option<TrackingId> {
    let upper = subject.to_ascii_uppercase();
    let at = upper.find("[LAPOR ")? + "[LAPOR ".len();
    let end = upper[at..].find(']')? + at;
    TrackingId::parse(&subject[at..end]).ok()
}

/// The subject of our answer: the sender's subject as a reply, tagged with
/// the report so their answer finds it again.
pub fn answer_subject(subject: &str, tracking_id: &str) -> String {
    let base = if subject.is_empty() { "Laporan" } else { subject };
    // `get`: the first three bytes may end inside a letter ("RÁ…").
    let re = if base.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("re:")) {
        String::new()
    } else {
        "Re: ".into()
    };
    let tag = format!("[LAPOR {tracking_id}]");
    if base.to_ascii_uppercase().contains(&tag.to_ascii_uppercase()) {
        format!("{re}{base}")
    } else {
        format!("{re}{base} {tag}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_and_signature_are_not_the_message() {
        let body = "Sudah diperbaiki, terima kasih.\n\n-- \nBudi\n";
        assert_eq!(fresh_text(body), "Sudah diperbaiki, terima kasih.");
        let reply = "Belum, masih bocor.\n\nPada Sen, 23 Nov 2026 10.00, LAPOR! <lapor@lapor.go.id> menulis:\n> Laporan Anda ditanggapi";
        assert_eq!(fresh_text(reply), "Belum, masih bocor.");
        assert_eq!(fresh_text("> only quoted\n> text"), "");
    }

    #[test]
    fn only_our_mta_can_vouch_for_a_sender() {
        let raw = |ar: &str| {
            format!("From: a@b.example\r\nAuthentication-Results: {ar}\r\nSubject: x\r\n\r\nisi\r\n").into_bytes()
        };
        let ok = parse(&raw(
            "mx.lapor.go.id;\r\n dkim=pass header.d=b.example;\r\n dmarc=pass header.from=b.example",
        ))
        .unwrap();
        assert!(verified(&ok, "mx.lapor.go.id"));
        assert!(
            !verified(&ok, "mx.other.example"),
            "another server's verdict does not count"
        );
        let failed = parse(&raw("mx.lapor.go.id; dmarc=fail header.from=b.example")).unwrap();
        assert!(!verified(&failed, "mx.lapor.go.id"));
        let none = parse(b"From: a@b.example\r\n\r\nisi").unwrap();
        assert!(!verified(&none, "mx.lapor.go.id"));
        let odd_id = parse(b"From: a@b.example\r\nMessage-ID: <a b\r\n c@d>\r\n\r\nisi").unwrap();
        assert!(
            odd_id
                .message_id
                .as_deref()
                .is_none_or(|i| i.bytes().all(|b| b.is_ascii_graphic()))
        );
    }

    #[test]
    fn commands_in_replies() {
        assert_eq!(command("NILAI 4"), Some(Command::Rate(4)));
        assert_eq!(command("\n  nilai 5.\n\nterima kasih"), Some(Command::Rate(5)));
        assert_eq!(command("Nilai 9"), None);
        assert_eq!(
            command("nilai pelayanan ini buruk sekali"),
            None,
            "a sentence is a reply"
        );
        assert_eq!(command("lacak"), Some(Command::Track));
        assert_eq!(command(""), None);
    }

    #[test]
    fn subjects_carry_the_report() {
        let s = answer_subject("Jalan rusak", "ABCD-EFGH");
        assert_eq!(s, "Re: Jalan rusak [LAPOR ABCD-EFGH]");
        assert_eq!(answer_subject(&s, "ABCD-EFGH"), s, "not tagged or prefixed twice");
        assert_eq!(answer_subject("", "ABCD-EFGH"), "Re: Laporan [LAPOR ABCD-EFGH]");
        assert!(tagged_report("Re: Jalan [LAPOR not-an-id]").is_none());
        assert!(tagged_report("Re: Jalan [lapor").is_none());
        assert!(tagged_report("ÄÖ [LAPOR ÄÖ]").is_none());
        // Found by the fuzzer: a multibyte letter across byte 3.
        assert_eq!(answer_subject("RÁÁ", "ABCD-EFGH"), "Re: RÁÁ [LAPOR ABCD-EFGH]");
    }
}
