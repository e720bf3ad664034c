//! Tokenizer and Indonesian stemmer behind full-text search.
//!
//! The store keeps an inverted index of [`terms`] per report and looks up
//! [`query_terms`] in it. Both come from this module so the index is identical
//! on every backend. Stemming maps derived forms to their root, so a search for
//! "perbaikan jalan" finds a report "jalan rusak diperbaiki" (both give `baik`).
//!
//! The stemmer is a dictionary-based confix stripper after Nazief & Adriani
//! (1996) with the "Enhanced Confix Stripping" refinements of Arifin, Mahendra
//! & Ciptaningtyas (2009): strip inflectional suffixes, then the derivational
//! suffix, then up to three prefixes (undoing nasal assimilation), looking the
//! result up in a root-word list after every step and backtracking over the
//! alternatives when nothing is found. A word with no root found is kept as is.
//!
//! Data: the root words (`data/lexicon/kata-dasar.txt`) and stopwords
//! (`data/stopwords/sastrawi-stopwords.txt`) come from Sastrawi (MIT).

use std::collections::HashSet;
use std::sync::LazyLock;

/// Version of the [`terms`] output. Bump whenever tokenizing, stopwords, the
/// dictionary or the stemmer change what comes out: the store re-indexes every
/// report whose stored version differs.
pub const VERSION: u32 = 1;

/// Longest term stored, in bytes.
const MAX_TERM_BYTES: usize = 32;
/// Most terms kept for one report.
const MAX_TERMS: usize = 256;
/// Most terms kept for one query.
const MAX_QUERY_TERMS: usize = 8;
/// Longer words are no Indonesian derivations; they are returned unchanged.
const MAX_STEM_BYTES: usize = 40;
/// Shortest root accepted after stripping an affix. Two-letter roots are rare
/// and would turn many words into noise ("dimakan" → "ma").
const MIN_ROOT_BYTES: usize = 3;

/// Stopwords that matter in complaints. The Sastrawi list treats them as
/// filler, but "kasus pungli", "tenaga kerja", "mata air", "tarif naik" and
/// "tempat sampah" are what people search for.
const KEEP_STOPWORDS: [&str; 6] = ["kasus", "kerja", "bekerja", "mata", "naik", "tempat"];

/// Rare roots left out of the dictionary because they shadow a common root
/// when a prefix is cut two ways: "pemadaman" (power cut) must give `padam`,
/// not `madam`; "perawatan", "perusakan", "terasa", "beragam", "berupa",
/// "berumput", "perokok", "perampasan" must keep their initial r.
const SHADOWING_ROOTS: [&str; 9] = ["madam", "awat", "usak", "asa", "agam", "upa", "umput", "okok", "ampas"];

static STOPWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../../data/stopwords/sastrawi-stopwords.txt")
        .lines()
        .map(str::trim)
        .filter(|w| !w.is_empty() && !KEEP_STOPWORDS.contains(w))
        .collect()
});

static ROOTS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../../data/lexicon/kata-dasar.txt")
        .lines()
        .map(str::trim)
        .filter(|w| !w.is_empty() && !SHADOWING_ROOTS.contains(w))
        .collect()
});

/// Index terms of a report text: normalised, stopwords dropped, stemmed,
/// deduplicated in order of first occurrence, at most 256 terms of at most 32
/// bytes each.
pub fn terms(text: &str) -> Vec<String> {
    collect(text, MAX_TERMS)
}

/// Terms of a search query: the same normalisation as [`terms`], keeping the
/// first 8 distinct terms.
pub fn query_terms(q: &str) -> Vec<String> {
    collect(q, MAX_QUERY_TERMS)
}

/// Stem one lowercase word to its root. Words that are not plain `a`–`z`, are
/// shorter than four or longer than 40 bytes, or have no root in the
/// dictionary come back unchanged.
pub fn stem(word: &str) -> String {
    stem_str(word).to_owned()
}

fn stem_str(word: &str) -> &str {
    if word.len() <= MIN_ROOT_BYTES || word.len() > MAX_STEM_BYTES || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return word;
    }
    find_root(word).unwrap_or(word)
}

// ---------------------------------------------------------------------------
// Tokenizer

fn collect(text: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    // One word being built, lowercased and folded; '-' joins reduplications.
    let mut group = String::new();
    for c in text.chars() {
        if out.len() >= max {
            return out;
        }
        if c.is_alphanumeric() {
            for lc in c.to_lowercase() {
                push_folded(&mut group, lc);
            }
        } else if is_ignorable(c) {
            // Combining accents, soft hyphens and zero-width marks sit inside words.
        } else if matches!(c, '-' | '\u{2010}' | '\u{2011}') {
            if !group.is_empty() && !group.ends_with('-') {
                group.push('-');
            }
        } else {
            flush(&group, &mut out, max);
            group.clear();
        }
    }
    flush(&group, &mut out, max);
    out
}

fn is_ignorable(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{00AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Handle one hyphen-joined group: a stopword as a whole ("kira-kira") is
/// dropped, otherwise each part counts on its own and dedupe turns a
/// reduplication ("jalan-jalan") into one term.
fn flush(group: &str, out: &mut Vec<String>, max: usize) {
    let group = group.trim_end_matches('-');
    if group.is_empty() {
        return;
    }
    if group.contains('-') && STOPWORDS.contains(group) {
        return;
    }
    for part in group.split('-') {
        add_word(part, out, max);
    }
}

fn add_word(word: &str, out: &mut Vec<String>, max: usize) {
    if out.len() >= max || word.chars().nth(1).is_none() || STOPWORDS.contains(word) {
        return;
    }
    // Digits (road numbers, RT/RW) are not plain a–z, so stem_str keeps them.
    let term = truncate(stem_str(word), MAX_TERM_BYTES);
    if term.chars().nth(1).is_some() && !out.iter().any(|t| t == term) {
        out.push(term.to_owned());
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Push a lowercase char, folding common Latin diacritics to ASCII so "élan"
/// and "elan" index alike. Non-alphanumeric output of lowercasing (the
/// combining dot of "İ") is dropped.
fn push_folded(out: &mut String, c: char) {
    let folded = match c {
        'à'..='å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è'..='ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì'..='ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò'..='ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' => "t",
        'þ' => "th",
        'ù'..='ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        c if c.is_alphanumeric() => {
            out.push(c);
            return;
        }
        _ => return,
    };
    out.push_str(folded);
}

// ---------------------------------------------------------------------------
// Stemmer

/// Derivational suffix removed before prefix stripping; decides which
/// prefixes may combine with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Suffix {
    None,
    I,
    An,
    Kan,
}

/// Prefix families; allomorphs (ber-/be-/bel-, meng-/meny-/…, per-/pe-/…)
/// share one, so the same family is never stripped twice in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    Di,
    Ke,
    Se,
    Be,
    Te,
    Me,
    Pe,
}

/// One way to strip a prefix: drop `skip` bytes, then put `add` in front of the
/// rest (the consonant a nasal replaced: "menulis" → "t" + "ulis").
type Cut = (&'static str, usize);

fn root(word: &str) -> Option<&'static str> {
    if word.len() < MIN_ROOT_BYTES {
        return None;
    }
    ROOTS.get(word).copied()
}

fn find_root(word: &str) -> Option<&'static str> {
    if let Some(r) = root(word) {
        return Some(r);
    }
    // ECS precedence adjustment: for these confixes the ending is more often
    // part of the root than a suffix ("menilai" is me- + nilai, not nila + -i),
    // so try the prefixes on the whole word first.
    let prefix_first = precedence_confix(word);
    if prefix_first && let Some(r) = strip_prefixes(word, Suffix::None, 0, None) {
        return Some(r);
    }

    // Inflectional suffixes: particle, then possessive pronoun.
    let no_particle = strip_any(word, &["lah", "kah", "tah", "pun"]);
    let a = no_particle.unwrap_or(word);
    if no_particle.is_some()
        && let Some(r) = root(a)
    {
        return Some(r);
    }
    let no_possessive = strip_any(a, &["nya", "ku", "mu"]);
    let b = no_possessive.unwrap_or(a);
    if no_possessive.is_some()
        && let Some(r) = root(b)
    {
        return Some(r);
    }

    // Derivational suffix, then prefixes on what is left. A final "-kan" is
    // first read as a root ending in k plus "-an": nominalisations
    // ("perbaikan", "peternakan", "tumpukan") are common in complaints, and the
    // verbal prefixes me-/di-/te- cannot take -an, so real -kan verbs
    // ("dilaporkan") still fall through to the second reading.
    let (c, suffix) = strip_derivational(b);
    let mut readings = [(c, suffix); 2];
    let readings = if suffix == Suffix::Kan {
        readings[0] = (&b[..b.len() - 2], Suffix::An);
        &readings[..]
    } else {
        &readings[..1]
    };
    if suffix != Suffix::None
        && let Some(r) = readings.iter().find_map(|&(body, _)| root(body))
    {
        return Some(r);
    }
    for &(body, suffix) in readings {
        // The precedence step already tried the whole word.
        if !(prefix_first && body.len() == word.len())
            && let Some(r) = strip_prefixes(body, suffix, 0, None)
        {
            return Some(r);
        }
    }

    // Nothing found: give the suffixes back one at a time and retry.
    let restored = [
        (suffix != Suffix::None, b),
        (no_possessive.is_some(), a),
        (no_particle.is_some() && !prefix_first, word),
    ];
    restored
        .into_iter()
        .filter(|&(stripped, _)| stripped)
        .find_map(|(_, body)| strip_prefixes(body, Suffix::None, 0, None))
}

fn precedence_confix(w: &str) -> bool {
    (w.starts_with("be") && (w.ends_with("lah") || w.ends_with("an")))
        || (w.ends_with('i')
            && (w.starts_with("me") || w.starts_with("di") || w.starts_with("pe") || w.starts_with("ter")))
}

/// Remove the first matching ending if enough is left for a root.
fn strip_any<'a>(w: &'a str, endings: &[&str]) -> Option<&'a str> {
    endings
        .iter()
        .find(|e| w.len() >= e.len() + MIN_ROOT_BYTES && w.ends_with(*e))
        .map(|e| &w[..w.len() - e.len()])
}

fn strip_derivational(w: &str) -> (&str, Suffix) {
    for (ending, suffix) in [("kan", Suffix::Kan), ("an", Suffix::An), ("i", Suffix::I)] {
        if w.len() >= ending.len() + MIN_ROOT_BYTES && w.ends_with(ending) {
            return (&w[..w.len() - ending.len()], suffix);
        }
    }
    (w, Suffix::None)
}

/// Prefix–suffix pairs that do not occur together in Indonesian.
fn disallowed(prefix: Prefix, suffix: Suffix) -> bool {
    use Prefix::*;
    matches!(
        (prefix, suffix),
        (Be, Suffix::I)
            | (Di, Suffix::An)
            | (Ke, Suffix::I)
            | (Ke, Suffix::Kan)
            | (Me, Suffix::An)
            | (Se, Suffix::I)
            | (Se, Suffix::Kan)
            | (Te, Suffix::An)
    )
}

/// Strip up to three prefixes, trying every recoding alternative: first each
/// cut against the dictionary, then deeper prefixes under each cut, so a
/// direct root wins over one found further down.
fn strip_prefixes(w: &str, suffix: Suffix, depth: u8, prev: Option<Prefix>) -> Option<&'static str> {
    if depth >= 3 {
        return None;
    }
    let (prefix, cuts) = prefix_cuts(w.as_bytes())?;
    if prev == Some(prefix) || (depth == 0 && disallowed(prefix, suffix)) {
        return None;
    }
    let cuts = || {
        cuts.iter()
            .filter(move |&&(add, skip)| w.len() + add.len() >= skip + MIN_ROOT_BYTES)
    };
    cuts()
        .find_map(|&(add, skip)| with_joined(add, &w[skip..], root))
        .or_else(|| {
            cuts().find_map(|&(add, skip)| {
                with_joined(add, &w[skip..], |next| {
                    strip_prefixes(next, suffix, depth + 1, Some(prefix))
                })
            })
        })
}

/// Call `f` with `add + rest` without allocating (words are at most 40 bytes).
fn with_joined<R>(add: &str, rest: &str, f: impl FnOnce(&str) -> R) -> R {
    if add.is_empty() {
        return f(rest);
    }
    let mut buf = [0u8; MAX_STEM_BYTES + 4];
    let len = add.len() + rest.len();
    buf[..add.len()].copy_from_slice(add.as_bytes());
    buf[add.len()..len].copy_from_slice(rest.as_bytes());
    // Both parts are ASCII, so this never fails.
    f(std::str::from_utf8(&buf[..len]).unwrap_or_default())
}

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'e' | b'i' | b'o' | b'u')
}

fn is_consonant(b: u8) -> bool {
    b.is_ascii_lowercase() && !is_vowel(b)
}

/// The prefix at the start of `w` and the ways to cut it, most likely first.
/// Rule numbers follow the confix-stripping rule table (CS/ECS).
fn prefix_cuts(w: &[u8]) -> Option<(Prefix, &'static [Cut])> {
    let at = |i: usize| w.get(i).copied().unwrap_or(0);
    let vowel = |i: usize| is_vowel(at(i));
    let consonant = |i: usize| is_consonant(at(i));
    let er = |i: usize| at(i) == b'e' && at(i + 1) == b'r';
    let cuts: &'static [Cut] = match (at(0), at(1)) {
        (b'd', b'i') => return Some((Prefix::Di, &[("", 2)])),
        (b'k', b'e') => return Some((Prefix::Ke, &[("", 2)])),
        (b's', b'e') => return Some((Prefix::Se, &[("", 2)])),
        (b'b', b'e') => {
            let cuts: &'static [Cut] = if w.starts_with(b"belajar") {
                &[("", 3)] // rule 4: bel- + ajar
            } else if at(2) == b'r' && vowel(3) {
                &[("", 3), ("", 2)] // rule 1: ber-V | be-rV
            } else if at(2) == b'r' && consonant(3) && at(3) != b'r' {
                &[("", 3)] // rules 2, 3: ber-C…
            } else if consonant(2) && !matches!(at(2), b'r' | b'l') && er(3) && consonant(5) {
                &[("", 2)] // rule 5: be-CerC ("bekerja")
            } else {
                return None;
            };
            return Some((Prefix::Be, cuts));
        }
        (b't', b'e') => {
            let cuts: &'static [Cut] = if at(2) == b'r' && vowel(3) {
                &[("", 3), ("", 2)] // rule 6: ter-V | te-rV
            } else if at(2) == b'r' && consonant(3) && at(3) != b'r' {
                &[("", 3)] // rules 7, 8, 35: ter-C…
            } else if consonant(2) && at(2) != b'r' && er(3) && consonant(5) {
                &[("", 2)] // rule 9: te-CerC
            } else {
                return None;
            };
            return Some((Prefix::Te, cuts));
        }
        (b'm', b'e') => match at(2) {
            b'l' | b'r' | b'w' | b'y' if vowel(3) => &[("", 2)], // rule 10
            b'm' => match at(3) {
                b'b' | b'f' | b'v' => &[("", 3)],    // rule 11
                b'p' if at(4) == b'e' => &[("", 3)], // rule 12: mem-pe…
                b'p' if vowel(4) => &[("", 3)],      // rule 19: mem-pV
                b'r' if vowel(4) => &[("", 2), ("p", 3)],
                _ if vowel(3) => &[("", 2), ("p", 3)], // rule 13: me-mV | me-pV
                _ => return None,
            },
            b'n' => match at(3) {
                b'g' => match at(4) {
                    b'g' | b'h' | b'q' | b'k' => &[("", 4)], // rule 16
                    // rule 17 + ECS: meng-V | meng-kV | menge- before a one-syllable root
                    b'e' if consonant(5) => &[("", 4), ("k", 4), ("", 5)],
                    _ if vowel(4) => &[("", 4), ("k", 4)],
                    _ => return None,
                },
                b'y' if vowel(4) => &[("s", 4), ("", 2)], // rule 18: meny-sV | me-nyV
                b'c' | b'd' | b'j' | b's' | b't' | b'z' => &[("", 3)], // rule 14
                _ if vowel(3) => &[("", 2), ("t", 3)],    // rule 15: me-nV | me-tV
                _ => return None,
            },
            _ => return None,
        },
        (b'p', b'e') => match at(2) {
            b'w' | b'y' if vowel(3) => &[("", 2)],               // rule 20
            b'r' if vowel(3) => &[("", 3), ("", 2)],             // rule 21: per-V | pe-rV
            b'r' if consonant(3) && at(3) != b'r' => &[("", 3)], // rules 23, 24
            b'm' => match at(3) {
                b'b' | b'f' | b'v' => &[("", 3)], // rule 25
                b'r' if vowel(4) => &[("", 2), ("p", 3)],
                _ if vowel(3) => &[("", 2), ("p", 3)], // rule 26: pe-mV | pe-pV
                _ => return None,
            },
            b'n' => match at(3) {
                b'g' => match at(4) {
                    b'e' if consonant(5) => &[("", 4), ("k", 4), ("", 5)], // rule 30 + ECS penge-
                    _ if vowel(4) => &[("", 4), ("k", 4)],                 // rule 30
                    _ if consonant(4) => &[("", 4)],                       // rule 29
                    _ => return None,
                },
                b'y' if vowel(4) => &[("s", 4), ("", 2)], // rule 31: peny-sV | pe-nyV
                b'c' | b'd' | b'j' | b's' | b't' | b'z' => &[("", 3)], // rule 27
                _ if vowel(3) => &[("", 2), ("t", 3)],    // rule 28: pe-nV | pe-tV
                _ => return None,
            },
            b'l' if w.starts_with(b"pelajar") => &[("", 3)], // rule 32 exception
            b'l' if vowel(3) => &[("", 2)],                  // rule 32
            // rules 33, 34, 36: pe-C… for other consonants ("petani", "pekerja")
            c if is_consonant(c) && !matches!(c, b'r' | b'w' | b'y' | b'l' | b'm' | b'n') => &[("", 2)],
            _ => return None,
        },
        _ => return None,
    };
    let prefix = if at(0) == b'm' { Prefix::Me } else { Prefix::Pe };
    Some((prefix, cuts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_common_derivations() {
        let pairs = [
            ("perbaikan", "baik"),
            ("diperbaiki", "baik"),
            ("memperbaiki", "baik"),
            ("perbaiki", "baik"),
            ("menulis", "tulis"),
            ("menilai", "nilai"),
            ("pengaduan", "adu"),
            ("pelayanan", "layan"),
            ("kesehatan", "sehat"),
            ("bersekolah", "sekolah"),
            ("rumahnya", "rumah"),
            ("kerusakan", "rusak"),
            ("pemadaman", "padam"),
            ("penerangan", "terang"),
            ("pembangunan", "bangun"),
            ("dibersihkan", "bersih"),
            ("berlubang", "lubang"),
            ("kemacetan", "macet"),
            ("tergenang", "genang"),
            ("dilaporkan", "lapor"),
            ("laporan", "lapor"),
            ("kenaikan", "naik"),
            ("menaikkan", "naik"),
            ("tumpukan", "tumpuk"),
            ("peternakan", "ternak"),
            ("perawatan", "rawat"),
            ("perubahan", "ubah"),
            ("mengecat", "cat"),
            ("menyapu", "sapu"),
            ("menyanyi", "nyanyi"),
            ("mempengaruhi", "pengaruh"),
            ("keberhasilan", "hasil"),
            ("pelajaran", "ajar"),
            ("bekerja", "kerja"),
            ("petani", "tani"),
            ("diketahui", "tahu"),
            ("pencemaran", "cemar"),
            ("bukunya", "buku"),
            ("tahunlah", "tahun"),
        ];
        for (word, root) in pairs {
            assert_eq!(stem(word), root, "stem({word})");
        }
    }

    #[test]
    fn backtracks_over_disallowed_affix_pairs() {
        // di-…-an and me-…-an are not Indonesian confixes: the -an is root.
        assert_eq!(stem("dimakan"), "makan");
        assert_eq!(stem("memakan"), "makan");
        // ke-…-kan is not either: read -an after a root ending in k.
        assert_eq!(stem("kerusakan"), "rusak");
    }

    #[test]
    fn jalan_and_jalanan_agree() {
        assert_eq!(stem("jalan"), "jalan");
        assert_eq!(stem("jalanan"), stem("jalan"));
        assert_eq!(terms("jalanan jalan-jalan Jalan"), ["jalan"]);
    }

    #[test]
    fn leaves_other_words_unchanged() {
        assert_eq!(stem("xyzzyqux"), "xyzzyqux");
        assert_eq!(stem("ditindaklanjuti"), "ditindaklanjuti");
        assert_eq!(stem("Menulis"), "Menulis");
        assert_eq!(stem("2024"), "2024");
        assert_eq!(stem("km12"), "km12");
        assert_eq!(stem("ini"), "ini");
        assert_eq!(stem(""), "");
        let long = format!("menulis{}", "a".repeat(40));
        assert_eq!(stem(&long), long);
    }

    #[test]
    fn every_root_stems_to_itself() {
        for &root in ROOTS.iter() {
            assert_eq!(stem(root), root);
        }
        assert!(ROOTS.len() > 29_000, "dictionary has {} roots", ROOTS.len());
    }

    #[test]
    fn query_for_perbaikan_jalan_finds_jalan_rusak_diperbaiki() {
        let doc = terms("Jalan rusak diperbaiki");
        let query = query_terms("perbaikan jalan");
        assert_eq!(query, ["baik", "jalan"]);
        assert!(query.iter().all(|q| doc.contains(q)), "{query:?} not all in {doc:?}");
    }

    #[test]
    fn drops_stopwords_but_keeps_complaint_words() {
        assert_eq!(terms("yang dan di dengan untuk"), Vec::<String>::new());
        assert_eq!(
            terms("Air dan lampu di jalan yang rusak"),
            ["air", "lampu", "jalan", "rusak"]
        );
        assert_eq!(
            terms("tempat sampah, mata air, kasus pungli"),
            ["tempat", "sampah", "mata", "air", "kasus", "pungli"]
        );
        // A hyphenated stopword is dropped as a whole.
        assert_eq!(terms("kira-kira sekitar jembatan"), ["jembatan"]);
        for w in ["jalan", "rusak", "air", "lampu", "sampah", "banjir", "listrik"] {
            assert!(!STOPWORDS.contains(w), "{w} is a stopword");
        }
        // The exceptions are still in the list (otherwise the exclusion is stale).
        let list = include_str!("../../../data/stopwords/sastrawi-stopwords.txt");
        for w in KEEP_STOPWORDS {
            assert!(
                list.lines().any(|l| l.trim() == w),
                "{w} no longer in the stopword list"
            );
        }
    }

    #[test]
    fn keeps_digits_unstemmed() {
        assert_eq!(
            terms("Jalan Nasional 12 km 345, RT 7"),
            ["jalan", "nasional", "12", "km", "345", "rt"]
        );
        assert_eq!(terms("Rp1.000.000"), ["rp1", "000"]);
    }

    #[test]
    fn normalises_unicode_without_panicking() {
        assert_eq!(terms("ÉLAN"), ["elan"]);
        assert_eq!(terms("e\u{301}lan"), ["elan"]);
        assert_eq!(terms("Jalan🚧rusak😡!!"), ["jalan", "rusak"]);
        assert_eq!(terms("İNDONESIA"), ["indonesia"]);
        assert_eq!(terms("Straße"), ["strasse"]);
        for s in [
            "Rp1.000",
            "🚧🚧🚧",
            "جالن رسق",
            "道路が壊れた",
            "\u{0}\u{FEFF}x\u{200D}y",
            "-",
            "---a-b-",
            "ǅ",
            "\u{10FFFF}",
        ] {
            let t = terms(s);
            let q = query_terms(s);
            assert!(t.iter().chain(&q).all(|x| x.chars().count() >= 2 && x.len() <= 32));
        }
    }

    #[test]
    fn dedupes_in_first_occurrence_order() {
        assert_eq!(terms("sampah menumpuk, tumpukan sampah, Sampah!"), ["sampah", "tumpuk"]);
        assert_eq!(query_terms("lampu jalan lampu padam"), ["lampu", "jalan", "padam"]);
    }

    #[test]
    fn caps_term_length_and_count() {
        // 20 three-byte chars: cut at 30 bytes, on a char boundary.
        let long = "道".repeat(20);
        assert_eq!(terms(&long), ["道".repeat(10)]);
        assert_eq!(terms(&"x".repeat(100)), ["x".repeat(32)]);

        let many: String = (0..400).map(|i| format!("k{i} ")).collect();
        let t = terms(&many);
        assert_eq!(t.len(), MAX_TERMS);
        assert_eq!(t[0], "k0");
        assert_eq!(t[255], "k255");

        let q = query_terms("satu jalan rusak parah sekali lampu padam air mati sampah banjir macet");
        assert_eq!(
            q,
            ["jalan", "rusak", "parah", "lampu", "padam", "air", "mati", "sampah"]
        );
        assert_eq!(query_terms(""), Vec::<String>::new());
    }

    #[test]
    fn query_terms_are_the_first_terms() {
        let text = "Lampu jalan padam sejak seminggu, kabel listrik putus dan tiang miring di Jl. Merdeka 17, warga \
                    khawatir tersengat listrik; mohon perbaikan segera oleh PLN dan dinas perhubungan.";
        let t = terms(text);
        let q = query_terms(text);
        assert_eq!(q.len(), MAX_QUERY_TERMS);
        assert!(t.starts_with(&q));
        for (i, term) in t.iter().enumerate() {
            assert!(!t[..i].contains(term));
        }
    }
}
