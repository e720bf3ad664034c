//! Detection and masking of personal identifiers in free report text.
//!
//! Reports are written by citizens in free Indonesian text and often contain
//! their own (or someone else's) identity number, phone number, e-mail address
//! or a vehicle plate. Public views show [`mask`]ed text; verifiers get the
//! list of [`PiiFinding`]s from [`detect`] so they can judge what was hidden.
//!
//! What is detected:
//!
//! * **NIK** (Nomor Induk Kependudukan): 16 digits, either as one standalone
//!   digit run or as groups joined by spaces, dots or dashes
//!   (`3273 0101 0190 0001`, `3273.0101.0190.0001`), that pass a plausibility
//!   check (province, day of birth, month of birth).
//! * **Phone numbers**: mobile `08…` (10–13 digits), `+62 8…` / `62 8…`, and
//!   landlines with an area code (`(021) 1234567`, `021-1234567`,
//!   `0361 234567`, `+62 21 1234567`), with spaces, dots or dashes between
//!   groups.
//! * **E-mail addresses**: a practical `local@domain.tld` pattern.
//! * **Vehicle plates**: `B 1234 XYZ`, `D 1 A`, `AB1234CD`, `DK 5678 AB`, with a
//!   known uppercase region prefix.
//!
//! All offsets are byte offsets into the input; every finding starts and ends
//! on an ASCII character, so they are always valid `char` boundaries.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// The kind of a personal identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PiiKind {
    Nik,
    Phone,
    Email,
    VehiclePlate,
}

impl PiiKind {
    /// Every kind, in the stable order used by [`kinds`].
    pub const ALL: [PiiKind; 4] = [PiiKind::Nik, PiiKind::Phone, PiiKind::Email, PiiKind::VehiclePlate];

    /// The replacement text [`mask`] puts in place of a finding of this kind.
    pub fn mask_label(self) -> &'static str {
        match self {
            PiiKind::Nik => "[NIK disamarkan]",
            PiiKind::Phone => "[nomor telepon disamarkan]",
            PiiKind::Email => "[email disamarkan]",
            PiiKind::VehiclePlate => "[nomor polisi disamarkan]",
        }
    }

    /// Tie-break between overlapping matches of equal length: lower wins.
    fn priority(self) -> u8 {
        match self {
            PiiKind::Nik => 0,
            PiiKind::Email => 1,
            PiiKind::Phone => 2,
            PiiKind::VehiclePlate => 3,
        }
    }
}

/// One identifier found in a text: `text[start..end]` is the identifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PiiFinding {
    pub kind: PiiKind,
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

/// Finds personal identifiers in `text`.
///
/// The result is sorted by `start` and findings never overlap. When two
/// candidate matches overlap, the longer one wins; on equal length the order
/// is NIK, e-mail, phone, plate.
pub fn detect(text: &str) -> Vec<PiiFinding> {
    let mut candidates = Vec::new();
    numeric_candidates(text, &mut candidates);
    email_candidates(text, &mut candidates);
    plate_candidates(text, &mut candidates);
    resolve(candidates)
}

/// Replaces every identifier in `text` by a bracketed label such as
/// `[NIK disamarkan]`.
///
/// The text is re-scanned after replacing until nothing is found any more:
/// removing one identifier can occasionally expose another (a plate glued to
/// the end of a phone number is only a plate once the digits before it are
/// gone). This makes `mask` idempotent by construction. It always terminates:
/// every finding contains an ASCII digit or an `@`, labels contain neither,
/// so each round strictly reduces their number.
pub fn mask(text: &str) -> String {
    let mut findings = detect(text);
    if findings.is_empty() {
        return text.to_owned();
    }
    let mut current = replace_findings(text, &findings);
    loop {
        findings = detect(&current);
        if findings.is_empty() {
            return current;
        }
        current = replace_findings(&current, &findings);
    }
}

/// The distinct kinds of identifiers found in `text`, in the order of
/// [`PiiKind::ALL`] (NIK, phone, e-mail, plate).
pub fn kinds(text: &str) -> Vec<PiiKind> {
    let findings = detect(text);
    PiiKind::ALL
        .into_iter()
        .filter(|k| findings.iter().any(|f| f.kind == *k))
        .collect()
}

fn replace_findings(text: &str, findings: &[PiiFinding]) -> String {
    let mut out = String::with_capacity(text.len() + findings.len() * 16);
    let mut pos = 0;
    for f in findings {
        // Findings are sorted, disjoint and on char boundaries; `get` keeps
        // this panic-free even if that invariant were ever broken.
        if f.start < pos {
            continue;
        }
        let (Some(before), true) = (text.get(pos..f.start), text.is_char_boundary(f.end)) else {
            continue;
        };
        out.push_str(before);
        out.push_str(f.kind.mask_label());
        pos = f.end;
    }
    out.push_str(&text[pos..]);
    out
}

// ---------------------------------------------------------------------------
// Overlap resolution
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct Candidate {
    kind: PiiKind,
    start: usize,
    end: usize,
}

/// Picks a non-overlapping subset: longest first, then by kind priority, then
/// leftmost. Returns it sorted by start.
fn resolve(mut candidates: Vec<Candidate>) -> Vec<PiiFinding> {
    candidates.sort_by_key(|c| (std::cmp::Reverse(c.end - c.start), c.kind.priority(), c.start));
    // start -> (end, kind) of accepted, pairwise disjoint intervals.
    let mut accepted: BTreeMap<usize, (usize, PiiKind)> = BTreeMap::new();
    for c in candidates {
        if c.start >= c.end {
            continue;
        }
        // Accepted intervals are disjoint, so the one with the greatest start
        // below `c.end` also has the greatest end among them.
        let overlaps = accepted
            .range(..c.end)
            .next_back()
            .is_some_and(|(_, &(end, _))| end > c.start);
        if !overlaps {
            accepted.insert(c.start, (c.end, c.kind));
        }
    }
    accepted
        .into_iter()
        .map(|(start, (end, kind))| PiiFinding { kind, start, end })
        .collect()
}

// ---------------------------------------------------------------------------
// Numbers: NIK and phone
// ---------------------------------------------------------------------------
//
// Digits are first cut into *groups* (maximal runs of ASCII digits). Groups
// joined by a dot or a dash (or the `)` after an area code) form an *unit*
// that is never split: `12-12-2026` or `1.500.000` is one unit, and no phone
// or NIK may start or end inside it. Units separated by exactly one space form
// a *cluster*; a NIK or a phone is any run of consecutive units of a cluster
// that validates. Because groups are maximal digit runs, a match can never
// start or end inside a longer digit run.

/// Digits of one NIK or phone number are at most 16; longer runs are not
/// worth considering.
const MAX_DIGITS: usize = 16;

#[derive(Debug)]
struct Unit {
    /// Byte offset of the unit, including a leading `+` or `(`.
    start: usize,
    end: usize,
    /// Byte ranges of the digit groups.
    groups: Vec<(usize, usize)>,
    /// Preceded by `+` (country code).
    plus: bool,
    /// Preceded by `(` (whether it is closed after the first group is `paren`).
    open_paren: bool,
    /// The first group is wrapped in parentheses: `(021) 1234567`.
    paren: bool,
    digits: usize,
}

impl Unit {
    fn new(bytes: &[u8], start: usize, end: usize) -> Unit {
        let lead = start.checked_sub(1).map(|i| bytes[i]);
        let plus = lead == Some(b'+');
        Unit {
            start: if plus { start - 1 } else { start },
            end,
            groups: vec![(start, end)],
            plus,
            open_paren: lead == Some(b'('),
            paren: false,
            digits: end - start,
        }
    }

    fn first_digit(&self) -> usize {
        self.groups[0].0
    }
}

fn digit_groups(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut groups = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            groups.push((start, i));
        } else {
            i += 1;
        }
    }
    groups
}

fn numeric_clusters(text: &str) -> Vec<Vec<Unit>> {
    let bytes = text.as_bytes();
    let mut clusters: Vec<Vec<Unit>> = Vec::new();
    let mut prev_end: Option<usize> = None;
    for (start, end) in digit_groups(text) {
        // Both offsets sit next to ASCII digits, so slicing is safe.
        let gap = prev_end.map(|p| &text[p..start]);
        let current = clusters.last_mut().and_then(|c| c.last_mut());
        match (gap, current) {
            (Some("." | "-"), Some(unit)) => {
                unit.groups.push((start, end));
                unit.end = end;
                unit.digits += end - start;
            }
            (Some(")" | ") " | ")-"), Some(unit)) if unit.open_paren && !unit.plus && unit.groups.len() == 1 => {
                unit.paren = true;
                unit.start = unit.first_digit() - 1;
                unit.groups.push((start, end));
                unit.end = end;
                unit.digits += end - start;
            }
            (Some(" "), Some(_)) => {
                let unit = Unit::new(bytes, start, end);
                if let Some(cluster) = clusters.last_mut() {
                    cluster.push(unit);
                }
            }
            _ => clusters.push(vec![Unit::new(bytes, start, end)]),
        }
        prev_end = Some(end);
    }
    clusters
}

fn numeric_candidates(text: &str, out: &mut Vec<Candidate>) {
    for cluster in numeric_clusters(text) {
        for i in 0..cluster.len() {
            let mut digits = String::new();
            let mut groups: Vec<&str> = Vec::new();
            for j in i..cluster.len() {
                let unit = &cluster[j];
                if digits.len() + unit.digits > MAX_DIGITS {
                    break;
                }
                for &(s, e) in &unit.groups {
                    digits.push_str(&text[s..e]);
                    groups.push(&text[s..e]);
                }
                let units = &cluster[i..=j];
                if is_nik(units, &digits) {
                    out.push(Candidate {
                        kind: PiiKind::Nik,
                        start: units[0].first_digit(),
                        end: unit.end,
                    });
                }
                if is_phone(units, &groups) {
                    out.push(Candidate {
                        kind: PiiKind::Phone,
                        start: units[0].start,
                        end: unit.end,
                    });
                }
            }
        }
    }
}

/// NIK layout: `PP KK CC DDMMYY SSSS` (province, regency, district, birth date
/// with 40 added to the day for women, serial).
///
/// Only plausible numbers count. A 16-digit run that fails the check is most
/// likely something else (bank account or card number, transaction or
/// invoice ID); masking those would hide information verifiers and the public
/// need, so we deliberately ignore them and accept missing a mistyped NIK.
fn is_nik(units: &[Unit], digits: &str) -> bool {
    if digits.len() != 16 || units[0].paren {
        return false;
    }
    // When written in space-separated parts, each part is a real block
    // (`3273 0101 0190 0001`, `327301 010190 0001`), not stray small numbers.
    if units.len() > 1 && units.iter().any(|u| u.digits < 4) {
        return false;
    }
    nik_plausible(digits.as_bytes())
}

fn nik_plausible(d: &[u8]) -> bool {
    let two = |i: usize| u32::from(d[i] - b'0') * 10 + u32::from(d[i + 1] - b'0');
    let province = two(0);
    let day = two(6);
    let month = two(8);
    (11..=96).contains(&province) && ((1..=31).contains(&day) || (41..=71).contains(&day)) && (1..=12).contains(&month)
}

/// `groups` are the digit groups of `units`, in order.
fn is_phone(units: &[Unit], groups: &[&str]) -> bool {
    let first = &units[0];
    // Every group after the first is at least 3 digits in how people write
    // phone numbers; this rejects dates (`08-12-2026`), times (`08.00`) and
    // trailing stray numbers (`0812 3456 7890 2 kali`).
    if groups.len() > 1 && groups[1..].iter().any(|g| g.len() < 3) && groups[0] != "62" {
        return false;
    }

    // Reduce to the national form (leading `0`), remembering the groups.
    let (national_groups, country): (Vec<&str>, bool) = if let Some(rest) = groups[0].strip_prefix("62") {
        if first.paren {
            return false;
        }
        let mut g = Vec::with_capacity(groups.len());
        if !rest.is_empty() {
            g.push(rest);
        }
        g.extend_from_slice(&groups[1..]);
        if g.is_empty() {
            return false;
        }
        (g, true)
    } else if groups[0].starts_with('0') {
        (groups.to_vec(), false)
    } else {
        return false;
    };
    if country && national_groups.len() > 1 && national_groups[1..].iter().any(|g| g.len() < 3) {
        return false;
    }
    let lead = usize::from(country); // the implicit `0` after `62`
    let mut national = String::with_capacity(16);
    if country {
        national.push('0');
    }
    for g in &national_groups {
        national.push_str(g);
    }
    let n = national.len();
    let split = national_groups.len() > 1;
    if split && national_groups[0].len() + lead < 3 {
        return false;
    }

    // Mobile: 08 followed by 8–11 digits.
    if national.starts_with("08") {
        return (10..=13).contains(&n);
    }

    // Landline: area code 0 + 2–3 digits (never 01 or 08), 5–8 digit
    // subscriber number. Without `+`, a leading 62 is too ambiguous here.
    if !matches!(national.as_bytes().get(1), Some(b'2'..=b'7' | b'9')) {
        return false;
    }
    if country && !first.plus {
        return false;
    }
    if split {
        let area = national_groups[0].len() + lead;
        if (3..=4).contains(&area) {
            return (5..=8).contains(&(n - area));
        }
        if first.paren {
            return false;
        }
    }
    // Written without an area-code separator: only accept realistic lengths.
    (9..=12).contains(&n)
}

// ---------------------------------------------------------------------------
// E-mail
// ---------------------------------------------------------------------------

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"[A-Za-z0-9_%+\-]+(?:\.[A-Za-z0-9_%+\-]+)*",
        r"@",
        r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+",
        r"[A-Za-z]{2,24}",
    ))
    .expect("valid e-mail regex")
});

fn email_candidates(text: &str, out: &mut Vec<Candidate>) {
    out.extend(EMAIL.find_iter(text).map(|m| Candidate {
        kind: PiiKind::Email,
        start: m.start(),
        end: m.end(),
    }));
}

// ---------------------------------------------------------------------------
// Vehicle plates
// ---------------------------------------------------------------------------

/// Region prefixes (kode wilayah) of Indonesian plates.
#[rustfmt::skip]
const PLATE_PREFIXES: &[&str] = &[
    // Java and Madura
    "A", "B", "D", "E", "F", "G", "H", "K", "L", "M", "N", "P", "R", "S", "T", "W", "Z",
    "AA", "AB", "AD", "AE", "AG",
    // Sumatra
    "BA", "BB", "BD", "BE", "BG", "BH", "BK", "BL", "BM", "BN", "BP",
    // Bali, Nusa Tenggara, Kalimantan Selatan, Sulawesi, Maluku, Papua
    "DA", "DB", "DC", "DD", "DE", "DG", "DH", "DK", "DL", "DM", "DN", "DP", "DR", "DS", "DT", "DW",
    "EA", "EB", "ED", "PA", "PB",
    // Kalimantan
    "KB", "KH", "KT", "KU",
];

/// Prefix letters, optional space, number. The suffix is parsed by hand so a
/// failed suffix can fall back to "no suffix".
static PLATE_CORE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([A-Z]{1,2})( ?)([1-9][0-9]{0,3})").expect("valid plate regex"));

/// Words after which a letter-number pair is an address or a room, not a plate.
const PLATE_STOP_WORDS: &[&str] = &["blok", "kav", "kavling", "kelas", "ruang", "lantai", "gedung"];

fn plate_candidates(text: &str, out: &mut Vec<Candidate>) {
    let mut pos = 0;
    while let Some(caps) = PLATE_CORE.captures_at(text, pos) {
        let (Some(whole), Some(prefix), Some(space), Some(number)) =
            (caps.get(0), caps.get(1), caps.get(2), caps.get(3))
        else {
            break;
        };
        // The match starts with an ASCII letter, so +1 stays on a boundary.
        pos = whole.start() + 1;
        if let Some(end) = plate_end(text, prefix, !space.is_empty(), number) {
            out.push(Candidate {
                kind: PiiKind::VehiclePlate,
                start: whole.start(),
                end,
            });
        }
    }
}

fn plate_end(text: &str, prefix: regex::Match<'_>, spaced: bool, number: regex::Match<'_>) -> Option<usize> {
    let bytes = text.as_bytes();
    let standalone_before = !text[..prefix.start()]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric);
    if !standalone_before || !PLATE_PREFIXES.contains(&prefix.as_str()) {
        return None;
    }
    // The number must be the whole digit run.
    if bytes.get(number.end()).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    // `D3`, `S1`, `P3K`, `H2O`, `G30S`: degrees and acronyms, not plates.
    if prefix.len() == 1 && !spaced && number.len() <= 2 {
        return None;
    }
    if preceded_by_stop_word(&text[..prefix.start()]) {
        return None;
    }
    let ends_word = |i: usize| !text[i..].chars().next().is_some_and(char::is_alphanumeric);

    // With a suffix: optional space, 1–3 uppercase letters, end of word.
    let mut i = number.end();
    if bytes.get(i) == Some(&b' ') {
        i += 1;
    }
    let letters = bytes[i..].iter().take(4).take_while(|b| b.is_ascii_uppercase()).count();
    if (1..=3).contains(&letters) && ends_word(i + letters) {
        return Some(i + letters);
    }
    // Without a suffix: only for two-letter prefixes and at least 3 digits,
    // so `BB 50 kg` (berat badan) or `KB 2` stay untouched.
    if prefix.len() == 2 && number.len() >= 3 && ends_word(number.end()) {
        return Some(number.end());
    }
    None
}

fn preceded_by_stop_word(before: &str) -> bool {
    let trimmed = before.trim_end_matches([' ', '.', ':']);
    if trimmed.len() == before.len() {
        return false;
    }
    let word_start = trimmed
        .char_indices()
        .rev()
        .find(|(_, c)| !c.is_alphabetic())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &trimmed[word_start..];
    PLATE_STOP_WORDS.iter().any(|w| word.eq_ignore_ascii_case(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use PiiKind::{Email, Nik, Phone, VehiclePlate as Plate};

    fn found(text: &str) -> Vec<(PiiKind, &str)> {
        detect(text)
            .into_iter()
            .map(|f| (f.kind, &text[f.start..f.end]))
            .collect()
    }

    fn assert_found(text: &str, expected: &[(PiiKind, &str)]) {
        assert_eq!(found(text), expected, "input: {text:?}");
    }

    fn assert_none(text: &str) {
        assert_eq!(found(text), vec![], "input: {text:?}");
    }

    #[test]
    fn full_sentence_has_four_findings() {
        let text =
            "Nama saya Budi, NIK 3273010101900001, hp 0812-3456-7890, email budi@contoh.id, motor D 1234 ABC ditabrak";
        assert_found(
            text,
            &[
                (Nik, "3273010101900001"),
                (Phone, "0812-3456-7890"),
                (Email, "budi@contoh.id"),
                (Plate, "D 1234 ABC"),
            ],
        );
        assert_eq!(
            mask(text),
            "Nama saya Budi, NIK [NIK disamarkan], hp [nomor telepon disamarkan], \
             email [email disamarkan], motor [nomor polisi disamarkan] ditabrak"
        );
        assert_eq!(kinds(text), vec![Nik, Phone, Email, Plate]);
    }

    #[test]
    fn nik_contiguous_and_grouped() {
        assert_found("NIK: 3273010101900001.", &[(Nik, "3273010101900001")]);
        assert_found("nik3273010101900001", &[(Nik, "3273010101900001")]);
        assert_found("NIK 3273 0101 0190 0001 ya", &[(Nik, "3273 0101 0190 0001")]);
        assert_found("NIK 3273.0101.0190.0001", &[(Nik, "3273.0101.0190.0001")]);
        assert_found("NIK 3273-0101-0190-0001", &[(Nik, "3273-0101-0190-0001")]);
        assert_found("KTP 327301 010190 0001", &[(Nik, "327301 010190 0001")]);
        // Women: day + 40.
        assert_found("istri saya 3273015501900002", &[(Nik, "3273015501900002")]);
        // Two NIKs in a row.
        assert_found(
            "3273010101900001 3273010101900002",
            &[(Nik, "3273010101900001"), (Nik, "3273010101900002")],
        );
        // Province 62 (Kalimantan Tengah) is a NIK, not a +62 phone.
        assert_found("6271011203850003", &[(Nik, "6271011203850003")]);
    }

    #[test]
    fn nik_rejections() {
        // Longer or shorter digit runs.
        assert_none("rekening 32730101019000011");
        assert_none("nomor 327301010190000");
        assert_none("3273-0101-0190-0001-5");
        // Implausible: province 05, day 35, month 13.
        assert_none("0573010101900001");
        assert_none("3273013501900001");
        assert_none("3273010113900001");
        // Card-like numbers (day 00). Note that the check is weak: a card
        // number such as 4111 1111 1111 1111 happens to look plausible.
        assert_none("kartu 5500 0000 0000 0004");
        // Grouped parts must be real blocks.
        assert_none("32 73 01 01 01 90 00 01");
    }

    #[test]
    fn mobile_numbers() {
        assert_found("hp 081234567890", &[(Phone, "081234567890")]);
        assert_found("hp 0812345678", &[(Phone, "0812345678")]);
        assert_found("hp 0812-3456-7890!", &[(Phone, "0812-3456-7890")]);
        assert_found("hp 0812 3456 7890.", &[(Phone, "0812 3456 7890")]);
        assert_found("hp 0812.3456.789", &[(Phone, "0812.3456.789")]);
        assert_found("wa +6281234567890", &[(Phone, "+6281234567890")]);
        assert_found("wa +62 812-3456-7890", &[(Phone, "+62 812-3456-7890")]);
        assert_found("wa +62 812 3456 7890", &[(Phone, "+62 812 3456 7890")]);
        assert_found("wa 62 812 3456 7890", &[(Phone, "62 812 3456 7890")]);
        assert_found("wa 6281234567890", &[(Phone, "6281234567890")]);
        assert_found("(0812) 3456 7890", &[(Phone, "(0812) 3456 7890")]);
        assert_found("(hp 0812-3456-7890)", &[(Phone, "0812-3456-7890")]);
        assert_found("hubungi 0812 3456 7890 2 kali", &[(Phone, "0812 3456 7890")]);
        assert_found("0812345678/0813456789", &[(Phone, "0812345678"), (Phone, "0813456789")]);
    }

    #[test]
    fn landlines() {
        assert_found("telp (021) 1234567", &[(Phone, "(021) 1234567")]);
        assert_found("telp (021)1234567", &[(Phone, "(021)1234567")]);
        assert_found("telp (0361) 234567", &[(Phone, "(0361) 234567")]);
        assert_found("telp 021-1234567", &[(Phone, "021-1234567")]);
        assert_found("telp 022 250 1234", &[(Phone, "022 250 1234")]);
        assert_found("telp 02112345678", &[(Phone, "02112345678")]);
        assert_found("telp +62 21 1234567", &[(Phone, "+62 21 1234567")]);
        assert_found("telp +62215551234", &[(Phone, "+62215551234")]);
        // Area codes never start with 01; 62 + landline needs the `+`.
        assert_none("kode 011-1234567");
        assert_none("nomor 62 21 1234567");
        // Subscriber part too short or too long.
        assert_none("021-1234");
        assert_none("021-123456789");
    }

    #[test]
    fn phone_not_inside_longer_numbers() {
        assert_none("0812345678901234");
        assert_none("transaksi 10812345678901");
        assert_none("0812-3456-7890-1234");
        assert_found("NIK 3273010101900001", &[(Nik, "3273010101900001")]);
        assert_none("08123456");
        assert_none("08123456789012");
    }

    #[test]
    fn dates_times_money_codes_are_not_phones() {
        for text in [
            "tanggal 12-12-2026",
            "tanggal 01-12-2026",
            "tanggal 08-12-2026 jam 10.30",
            "tanggal 02.12.2026",
            "tanggal 2026-12-08",
            "tanggal 08122026",
            "12/12/2026",
            "jam 08.00-16.00 WIB",
            "jam 08.00 - 16.00",
            "biaya Rp 1.500.000",
            "biaya Rp1.500.000,00",
            "denda 250.000 dan 1.500.000",
            "kode pos 40111",
            "kodepos 40111, Bandung",
            "NPWP 09.254.294.3-407.000",
            "tahun 2024 dan 2025",
            "nomor laporan 123456",
        ] {
            assert_none(text);
        }
    }

    #[test]
    fn emails() {
        assert_found("email budi@contoh.id.", &[(Email, "budi@contoh.id")]);
        assert_found("Budi.Santoso@Mail.Co.ID", &[(Email, "Budi.Santoso@Mail.Co.ID")]);
        assert_found(
            "ke <siti_rahma+lapor@dinas-pu.jabarprov.go.id>",
            &[(Email, "siti_rahma+lapor@dinas-pu.jabarprov.go.id")],
        );
        // The longer e-mail wins over the phone number in it.
        assert_found("budi081234567890@gmail.com", &[(Email, "budi081234567890@gmail.com")]);
        assert_none("kirim ke @budi di twitter");
        assert_none("budi@localhost");
        assert_none("harga @ Rp 5.000");
    }

    #[test]
    fn plates() {
        assert_found("motor B 1234 XYZ ditabrak", &[(Plate, "B 1234 XYZ")]);
        assert_found("mobil D 1 A", &[(Plate, "D 1 A")]);
        assert_found("mobil AB1234CD.", &[(Plate, "AB1234CD")]);
        assert_found("bus DK 5678 AB", &[(Plate, "DK 5678 AB")]);
        assert_found("truk BK 9012 ZZ, kabur", &[(Plate, "BK 9012 ZZ")]);
        assert_found("(KT 1 A)", &[(Plate, "KT 1 A")]);
        assert_found("nopol B1234XYZ", &[(Plate, "B1234XYZ")]);
        // Two-letter prefix without suffix.
        assert_found("plat AB 1234 Jalan Malioboro", &[(Plate, "AB 1234")]);
        assert_found(
            "mobil B 1234 XYZ dan motor F 5678 KL",
            &[(Plate, "B 1234 XYZ"), (Plate, "F 5678 KL")],
        );
    }

    #[test]
    fn plate_rejections() {
        for text in [
            "RT 05 RW 03",
            "rt 05 / rw 03",
            "No 12",
            "NO 12 A",
            "B 12",
            "B 1234",
            "B 1234 xyz",
            "b 1234 XYZ",
            "B 1234 ABCD",
            "XB 1234 YZ",
            "ABC 1234 DE",
            "D3 TKJ",
            "lulusan S1 SI",
            "S2 MM",
            "kotak P3K",
            "air H2O",
            "G30S",
            "berat BB 50 kg",
            "peserta KB 2 anak",
            "Blok B 12 A",
            "kelas A 1 B",
            "KM 12",
            "UU 14 Tahun 2008",
            "B 0123 XY",
            "Budi",
            "NIK",
        ] {
            assert_none(text);
        }
    }

    #[test]
    fn overlaps_prefer_longer_then_kind() {
        // Phone glued inside a NIK-sized grouping: the NIK wins.
        assert_found("0812 3273 0101 0190 0001", &[(Nik, "3273 0101 0190 0001")]);
        // NIK followed by a phone, space separated.
        assert_found(
            "3273 0101 0190 0001 0812 3456 7890",
            &[(Nik, "3273 0101 0190 0001"), (Phone, "0812 3456 7890")],
        );
        // Plate inside an e-mail.
        assert_found("AB1234CD@mail.com", &[(Email, "AB1234CD@mail.com")]);
    }

    #[test]
    fn masking_is_idempotent() {
        let samples = [
            "Nama saya Budi, NIK 3273010101900001, hp 0812-3456-7890, email budi@contoh.id, motor D 1234 ABC ditabrak",
            "0812345678B 1234 XYZ",
            "telp (021) 1234567 / +62 812 3456 7890",
            "tanpa data pribadi",
            "",
        ];
        for s in samples {
            let once = mask(s);
            assert_eq!(mask(&once), once, "input: {s:?}");
            assert!(detect(&once).is_empty(), "input: {s:?}");
        }
        assert_eq!(
            mask("0812345678B 1234 XYZ"),
            "[nomor telepon disamarkan][nomor polisi disamarkan]"
        );
    }

    #[test]
    fn no_pii_means_unchanged() {
        let text =
            "Jalan rusak di RT 05 RW 03, Kel. Sukajadi, kode pos 40162, sejak 12-12-2025. Kerugian Rp 1.500.000.";
        assert_eq!(mask(text), text);
        assert!(kinds(text).is_empty());
    }

    #[test]
    fn unicode_does_not_panic() {
        let text =
            "Lapor 😀🚗 ꦧꦸꦢꦶ ꦱꦤ꧀ꦠꦺꦴꦱ NIK 3273010101900001 é hp ０８１２ 0812 3456 7890 ꦲ B 1234 XYZ ꦏ budi@contoh.id🙂";
        let findings = detect(text);
        assert_eq!(
            findings.iter().map(|f| f.kind).collect::<Vec<_>>(),
            vec![Nik, Phone, Plate, Email]
        );
        let masked = mask(text);
        assert!(masked.contains("ꦧꦸꦢꦶ"));
        assert!(masked.contains("０８１２"), "full-width digits are left alone");
        assert_eq!(mask(&masked), masked);
        // Letters adjacent to non-ASCII letters are not standalone.
        assert_none("éB 1234 XYZ");
        assert_found("😀B 1234 XYZ", &[(Plate, "B 1234 XYZ")]);
    }

    #[test]
    fn serde_names() {
        assert_eq!(
            serde_json::to_string(&PiiKind::VehiclePlate).unwrap(),
            "\"vehicle_plate\""
        );
        let f = PiiFinding {
            kind: Nik,
            start: 1,
            end: 17,
        };
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(json, r#"{"kind":"nik","start":1,"end":17}"#);
        assert_eq!(serde_json::from_str::<PiiFinding>(&json).unwrap(), f);
    }

    /// Tiny deterministic xorshift64 generator for the property test.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const FRAGMENTS: &[&str] = &[
        "0",
        "1",
        "2",
        "3",
        "4",
        "5",
        "8",
        "9",
        "08",
        "0812",
        "3456",
        "7890",
        "62",
        "+62",
        "021",
        "3273",
        "0101",
        "0190",
        "0001",
        "3273010101900001",
        "081234567890",
        "+",
        "(",
        ")",
        " ",
        " ",
        " ",
        ".",
        "-",
        "/",
        ",",
        "@",
        "a",
        "b",
        "Z",
        "B",
        "D",
        "AB",
        "DK",
        "XYZ",
        "RT",
        "x",
        ".id",
        ".com",
        "budi",
        "_",
        "😀",
        "ꦧꦸꦢꦶ",
        "꧀",
        "é",
        "\n",
        "\t",
        "Rp",
        "\u{200b}",
        "０",
        "[",
        "]",
        "disamarkan",
        "B 1234 XYZ",
        "budi@contoh.id",
        "(021) ",
    ];

    fn random_text(rng: &mut XorShift) -> String {
        let len = rng.below(30);
        let mut s = String::new();
        for _ in 0..len {
            if rng.below(8) == 0 {
                // Any Unicode scalar value.
                let c = char::from_u32((rng.next() % 0x11_0000) as u32).unwrap_or('\u{fffd}');
                s.push(c);
            } else {
                s.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
            }
        }
        s
    }

    #[test]
    fn property_random_texts() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let text = random_text(&mut rng);
            let findings = detect(&text);
            let mut prev_end = 0;
            for f in &findings {
                assert!(f.start < f.end, "{text:?}: {f:?}");
                assert!(f.start >= prev_end, "{text:?}: unsorted or overlapping");
                assert!(f.end <= text.len());
                assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
                prev_end = f.end;
            }
            let once = mask(&text);
            assert_eq!(mask(&once), once, "not idempotent for {text:?}");
            assert!(detect(&once).is_empty(), "residue in {once:?}");
            let k = kinds(&text);
            assert!(k.iter().all(|k| findings.iter().any(|f| f.kind == *k)));
        }
    }
}
