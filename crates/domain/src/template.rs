//! Reply templates that institutions keep for follow-ups, such as
//! "Terima kasih {{reporter_name}}, laporan {{tracking_id}} telah kami terima."
//!
//! Placeholders are `{{name}}` (inner spaces allowed) from the fixed list
//! [`PLACEHOLDERS`]; single braces are ordinary text. Templates are checked
//! when saved ([`check`]) so a typo surfaces to the author, not as a blank in
//! a reply. Rendering is one pass: a value containing `{{…}}` (a report title,
//! say) is inserted literally, never expanded. Output is plain text; escaping
//! belongs to whatever page shows it.

use crate::Error;
use std::collections::HashMap;

/// The placeholders a template may use, with a bilingual description for the
/// editor's help text.
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    (
        "institution_from",
        "Nama instansi yang menjawab / answering institution",
    ),
    ("institution_to", "Nama instansi tujuan / receiving institution"),
    ("tracking_id", "Nomor pelacakan laporan / report tracking number"),
    ("title", "Judul laporan / report title"),
    (
        "reporter_name",
        "Nama pelapor, \"Pelapor\" bila anonim / reporter's name, \"Pelapor\" when anonymous",
    ),
    (
        "submitted_date",
        "Tanggal laporan dikirim / date the report was submitted",
    ),
    ("today", "Tanggal hari ini / today's date"),
    ("officer", "Nama petugas yang menjawab / answering officer"),
];

/// Longest template, in characters (the same bound as a comment).
pub const MAX_CHARS: usize = 5_000;

/// What `{{reporter_name}}` becomes without a name. Anonymous reports must
/// never reveal who sent them, so the caller leaves the name out and the
/// template still reads naturally.
pub const ANONYMOUS_REPORTER: &str = "Pelapor";

/// Longest piece of a bad placeholder quoted back in an error.
const MAX_QUOTED_CHARS: usize = 40;

/// Values for the placeholders. Names not in [`PLACEHOLDERS`] are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values<'a> {
    map: HashMap<&'a str, &'a str>,
}

impl<'a> Values<'a> {
    /// From `(name, value)` pairs; a later pair wins over an earlier one.
    pub fn new(pairs: &[(&'a str, &'a str)]) -> Self {
        Values {
            map: pairs.iter().copied().collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.map.get(name).copied()
    }
}

/// Checks a template: at most [`MAX_CHARS`] characters, every `{{` closed by
/// `}}` and every placeholder known.
pub fn check(template: &str) -> Result<(), Error> {
    parse(template).map(|_| ())
}

/// Fills in the placeholders. A known placeholder without a value becomes
/// empty text, except `reporter_name`, which becomes [`ANONYMOUS_REPORTER`]
/// (also when blank). Fails like [`check`] on a bad template.
pub fn render(template: &str, values: &Values) -> Result<String, Error> {
    let pieces = parse(template)?;
    let mut out = String::with_capacity(template.len());
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Field("reporter_name") => match values.get("reporter_name") {
                Some(name) if !name.trim().is_empty() => out.push_str(name),
                _ => out.push_str(ANONYMOUS_REPORTER),
            },
            Piece::Field(name) => out.push_str(values.get(name).unwrap_or_default()),
        }
    }
    Ok(out)
}

enum Piece<'t> {
    Text(&'t str),
    /// A name from [`PLACEHOLDERS`].
    Field(&'static str),
}

fn parse(template: &str) -> Result<Vec<Piece<'_>>, Error> {
    if template.chars().count() > MAX_CHARS {
        return Err(Error::validation(format!(
            "template: maksimal {MAX_CHARS} karakter / at most {MAX_CHARS} characters"
        )));
    }
    let mut pieces = Vec::new();
    let mut rest = template;
    loop {
        let open = rest.find("{{");
        // A `}}` before the next `{{` (or with none left) closes nothing.
        if let Some(close) = rest.find("}}")
            && open.is_none_or(|open| close < open)
        {
            return Err(Error::validation(
                "template: '}}' tanpa '{{' pembuka / '}}' without an opening '{{'",
            ));
        }
        let Some(open) = open else { break };
        pieces.push(Piece::Text(&rest[..open]));
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err(Error::validation(
                "template: '{{' tanpa '}}' penutup / '{{' without a closing '}}'",
            ));
        };
        let inner = &after[..close];
        if inner.contains('{') {
            return Err(Error::validation(
                "template: '{{' bersarang atau tanpa penutup / nested or unclosed '{{'",
            ));
        }
        let name = inner.trim();
        let Some(&(known, _)) = PLACEHOLDERS.iter().find(|(p, _)| *p == name) else {
            let quoted: String = name.chars().take(MAX_QUOTED_CHARS).collect();
            return Err(Error::validation(format!(
                "template: placeholder tidak dikenal {{{{{quoted}}}}} / unknown placeholder {{{{{quoted}}}}}"
            )));
        };
        pieces.push(Piece::Field(known));
        rest = &after[close + 2..];
    }
    pieces.push(Piece::Text(rest));
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn values() -> Values<'static> {
        Values::new(&[
            ("institution_from", "Pemerintah Kota Bandung"),
            ("institution_to", "Dinas Pekerjaan Umum"),
            ("tracking_id", "LPR-2024-000123"),
            ("title", "Jalan berlubang di Jl. Dago"),
            ("reporter_name", "Siti Aminah"),
            ("submitted_date", "3 Juni 2024"),
            ("today", "10 Juni 2024"),
            ("officer", "Budi Santoso"),
        ])
    }

    fn detail(result: Result<impl std::fmt::Debug, Error>) -> String {
        let err = result.expect_err("should fail");
        assert_eq!(err.code, ErrorCode::ValidationFailed);
        let detail = err.detail.unwrap_or_default();
        assert!(detail.starts_with("template: ") && detail.contains(" / "), "{detail}");
        detail
    }

    #[test]
    fn renders_every_placeholder() {
        let t = "Yth. {{reporter_name}}, laporan {{tracking_id}} \"{{title}}\" ({{submitted_date}}) \
                 diteruskan oleh {{institution_from}} ke {{institution_to}} pada {{today}}. — {{officer}}";
        assert_eq!(
            render(t, &values()).unwrap(),
            "Yth. Siti Aminah, laporan LPR-2024-000123 \"Jalan berlubang di Jl. Dago\" (3 Juni 2024) \
             diteruskan oleh Pemerintah Kota Bandung ke Dinas Pekerjaan Umum pada 10 Juni 2024. — Budi Santoso"
        );
        for (name, _) in PLACEHOLDERS {
            assert!(check(&format!("{{{{{name}}}}}")).is_ok(), "{name}");
        }
    }

    #[test]
    fn inner_spaces_are_allowed() {
        let v = values();
        assert_eq!(
            render("{{ title }}|{{title  }}|{{\ttitle}}", &v).unwrap(),
            [v.get("title").unwrap(); 3].join("|")
        );
    }

    #[test]
    fn missing_values_render_empty_but_reporter_falls_back() {
        let v = Values::new(&[("tracking_id", "LPR-1")]);
        assert_eq!(render("[{{officer}}] {{tracking_id}}", &v).unwrap(), "[] LPR-1");
        assert_eq!(render("Yth. {{reporter_name}},", &v).unwrap(), "Yth. Pelapor,");
        let blank = Values::new(&[("reporter_name", "  ")]);
        assert_eq!(render("Yth. {{ reporter_name }},", &blank).unwrap(), "Yth. Pelapor,");
        assert_eq!(
            render("{{reporter_name}}", &Values::default()).unwrap(),
            ANONYMOUS_REPORTER
        );
    }

    #[test]
    fn single_braces_pass_through() {
        let t = "Biaya {nol} rupiah; kode {x}, set {a, b} dan {{title}} }{";
        assert!(check(t).is_ok());
        assert_eq!(
            render(t, &values()).unwrap(),
            "Biaya {nol} rupiah; kode {x}, set {a, b} dan Jalan berlubang di Jl. Dago }{"
        );
        assert_eq!(render("", &values()).unwrap(), "");
        assert_eq!(render("tanpa placeholder", &values()).unwrap(), "tanpa placeholder");
    }

    #[test]
    fn values_are_not_expanded_again() {
        let v = Values::new(&[("title", "{{reporter_name}} }} {{"), ("reporter_name", "Siti")]);
        assert_eq!(render("{{title}}", &v).unwrap(), "{{reporter_name}} }} {{");
    }

    #[test]
    fn unknown_placeholder_is_an_error() {
        for t in [
            "Halo {{nama}}",
            "{{ Title }}",
            "{{}}",
            "{{reporter name}}",
            "{{ti}tle}}",
        ] {
            let d = detail(check(t));
            assert!(d.contains("unknown placeholder"), "{t}: {d}");
            assert!(render(t, &values()).is_err(), "{t}");
        }
        assert!(detail(check("{{nama}}")).contains("{{nama}}"));
        // A long bad name is not quoted in full.
        let long = format!("{{{{{}}}}}", "x".repeat(500));
        assert!(detail(check(&long)).len() < 200);
    }

    #[test]
    fn unbalanced_braces_are_an_error() {
        for t in [
            "Halo {{title",
            "{{title}} lalu {{",
            "{{ {{title}}",
            "{{{title}}}",
            "title}}",
            "a }} b {{title}}",
        ] {
            let d = detail(check(t));
            assert!(!d.contains("unknown placeholder"), "{t}: {d}");
            assert!(render(t, &values()).is_err(), "{t}");
        }
    }

    #[test]
    fn length_is_limited_in_characters() {
        assert!(check(&"é".repeat(MAX_CHARS)).is_ok());
        let d = detail(check(&"a".repeat(MAX_CHARS + 1)));
        assert!(d.contains("5000"), "{d}");
        assert!(render(&"a".repeat(MAX_CHARS + 1), &values()).is_err());
    }
}
