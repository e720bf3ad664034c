//! Text encodings used over SMPP: the GSM 03.38 default alphabet (data_coding 0x00) in unpacked
//! form, one septet per octet, as SMSCs take it over SMPP (the SMSC packs it for the air
//! interface), and UCS-2 (data_coding 0x08) as UTF-16BE, surrogate pairs included.

/// data_coding for the SMSC default alphabet, which we treat as GSM 03.38.
pub const DC_GSM: u8 = 0x00;
/// data_coding for IA5 (ASCII).
pub const DC_ASCII: u8 = 0x01;
/// data_coding for Latin-1.
pub const DC_LATIN1: u8 = 0x03;
/// data_coding for UCS-2.
pub const DC_UCS2: u8 = 0x08;

/// Escape septet that selects the extension table for the next septet.
pub const ESC: u8 = 0x1B;

/// Which of the two encodings a text is sent in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// GSM 03.38 default alphabet, unpacked.
    Gsm7,
    /// UTF-16BE.
    Ucs2,
}

impl Encoding {
    /// Picks GSM when every char fits, else UCS-2.
    pub fn for_text(text: &str) -> Encoding {
        if fits_gsm(text) { Encoding::Gsm7 } else { Encoding::Ucs2 }
    }

    pub fn data_coding(self) -> u8 {
        match self {
            Encoding::Gsm7 => DC_GSM,
            Encoding::Ucs2 => DC_UCS2,
        }
    }
}

/// The basic table, indexed by septet. 0x1B (ESC) has no char of its own; it is listed as NBSP
/// only to keep the table complete and is never matched when encoding.
const BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{a0}', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// The basic extension table: (septet after ESC, char).
const EXTENSION: [(u8, char); 10] = [
    (0x0A, '\u{c}'), // form feed
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

/// Septets for one char: `[s]` for the basic table, `[ESC, s]` for the extension table.
fn septets_of(ch: char) -> Option<(u8, Option<u8>)> {
    // ASCII letters and digits sit at their ASCII positions; check them first as the common case.
    if ch.is_ascii_alphanumeric() {
        return Some((ch as u8, None));
    }
    if let Some(&(code, _)) = EXTENSION.iter().find(|&&(_, c)| c == ch) {
        return Some((ESC, Some(code)));
    }
    BASIC
        .iter()
        .position(|&c| c == ch)
        .filter(|&i| i != ESC as usize)
        .map(|i| (i as u8, None))
}

/// Number of septets `ch` takes in GSM (1 or 2), or `None` if it is not representable.
pub fn gsm_char_len(ch: char) -> Option<usize> {
    septets_of(ch).map(|(_, ext)| if ext.is_some() { 2 } else { 1 })
}

/// Whether every char of `text` is in the GSM default alphabet or its extension table.
pub fn fits_gsm(text: &str) -> bool {
    text.chars().all(|c| septets_of(c).is_some())
}

/// Septets `text` needs in GSM (extension chars count two), or `None` if it does not fit.
pub fn gsm_len(text: &str) -> Option<usize> {
    text.chars().try_fold(0usize, |n, c| gsm_char_len(c).map(|l| n + l))
}

/// Encodes to unpacked GSM septets, one per octet. Fails with the first char that has no GSM form.
pub fn encode_gsm(text: &str) -> Result<Vec<u8>, char> {
    let mut out = Vec::with_capacity(text.len());
    for ch in text.chars() {
        let (first, ext) = septets_of(ch).ok_or(ch)?;
        out.push(first);
        if let Some(e) = ext {
            out.push(e);
        }
    }
    Ok(out)
}

/// Decodes unpacked GSM septets. Never fails: an escape followed by a septet with no extension
/// meaning decodes as that septet's basic char (as 03.38 asks receivers to do), a trailing lone
/// escape is dropped, and octets with the high bit set become U+FFFD.
pub fn decode_gsm(septets: &[u8]) -> String {
    let mut out = String::with_capacity(septets.len());
    let mut iter = septets.iter().copied();
    while let Some(b) = iter.next() {
        if b == ESC {
            let Some(next) = iter.next() else { break };
            match EXTENSION.iter().find(|&&(code, _)| code == next) {
                Some(&(_, ch)) => out.push(ch),
                None => out.push(basic_char(next)),
            }
        } else {
            out.push(basic_char(b));
        }
    }
    out
}

fn basic_char(septet: u8) -> char {
    match BASIC.get(septet as usize) {
        // ESC ESC is reserved; show something harmless rather than the placeholder.
        Some(_) if septet == ESC => ' ',
        Some(&c) => c,
        None => char::REPLACEMENT_CHARACTER,
    }
}

/// Encodes as UTF-16BE (UCS-2 with surrogate pairs for chars beyond the BMP, e.g. emoji).
pub fn encode_ucs2(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

/// Number of UTF-16 code units in `text` (what the 70/67 limits count).
pub fn ucs2_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Decodes UTF-16BE. Never fails: unpaired surrogates and an odd trailing octet become U+FFFD.
pub fn decode_ucs2(bytes: &[u8]) -> String {
    let units = bytes.chunks_exact(2).map(|p| u16::from_be_bytes([p[0], p[1]]));
    let mut out: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    if bytes.len() % 2 == 1 {
        out.push(char::REPLACEMENT_CHARACTER);
    }
    out
}

/// Encodes `text` in `encoding`. No silent fallback: a char GSM cannot represent is an error
/// (use [`Encoding::for_text`] to choose).
pub fn encode(text: &str, encoding: Encoding) -> Result<Vec<u8>, char> {
    match encoding {
        Encoding::Gsm7 => encode_gsm(text),
        Encoding::Ucs2 => Ok(encode_ucs2(text)),
    }
}

/// Best-effort decode of message bytes by SMPP data_coding. Never fails.
///
/// 0x00 is taken as GSM 03.38 (what Indonesian operators use for the SMSC default alphabet);
/// 0x08 as UCS-2; the GSM message-class range 0xF0..=0xFF by its alphabet bit; everything else
/// (ASCII, Latin-1, binary, unknown) byte-for-byte as Latin-1 so nothing is lost.
pub fn decode_text(data_coding: u8, bytes: &[u8]) -> String {
    match data_coding {
        DC_GSM => decode_gsm(bytes),
        DC_UCS2 => decode_ucs2(bytes),
        0xF0..=0xFF if data_coding & 0x04 == 0 => decode_gsm(bytes),
        _ => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        // Every basic char except ESC round-trips to its own position.
        for (i, &c) in BASIC.iter().enumerate() {
            if i == ESC as usize {
                continue;
            }
            assert_eq!(encode_gsm(&c.to_string()), Ok(vec![i as u8]), "char {c:?}");
        }
        for &(code, c) in &EXTENSION {
            assert_eq!(encode_gsm(&c.to_string()), Ok(vec![ESC, code]), "char {c:?}");
        }
    }

    #[test]
    fn indonesian_text_is_gsm() {
        let text = "Jalan rusak di Jl. Sudirman No. 12, mohon segera diperbaiki! (RT 03/RW 05) @pemkot";
        assert!(fits_gsm(text));
        let enc = encode_gsm(text).expect("gsm");
        assert_eq!(enc.len(), text.len());
        assert_eq!(decode_gsm(&enc), text);
    }

    #[test]
    fn specific_septets() {
        assert_eq!(encode_gsm("@£$"), Ok(vec![0x00, 0x01, 0x02]));
        assert_eq!(encode_gsm("Aa0 "), Ok(vec![0x41, 0x61, 0x30, 0x20]));
        assert_eq!(encode_gsm("¡¿§à"), Ok(vec![0x40, 0x60, 0x5F, 0x7F]));
        assert_eq!(encode_gsm("_"), Ok(vec![0x11]));
        assert_eq!(encode_gsm("\r\n"), Ok(vec![0x0D, 0x0A]));
    }

    #[test]
    fn extension_chars() {
        let text = "€ [ ] { } ~ ^ \\ |";
        assert!(fits_gsm(text));
        let enc = encode_gsm(text).expect("gsm");
        assert_eq!(
            enc,
            vec![
                ESC, 0x65, 0x20, ESC, 0x3C, 0x20, ESC, 0x3E, 0x20, ESC, 0x28, 0x20, ESC, 0x29, 0x20, ESC, 0x3D, 0x20,
                ESC, 0x14, 0x20, ESC, 0x2F, 0x20, ESC, 0x40
            ]
        );
        assert_eq!(gsm_len(text), Some(17 + 9));
        assert_eq!(decode_gsm(&enc), text);
        assert_eq!(decode_gsm(&[ESC, 0x0A]), "\u{c}");
    }

    #[test]
    fn not_gsm() {
        for s in ["ç", "`", "é😀", "\t", "ā", "中文", "\u{a0}"] {
            assert!(!fits_gsm(s), "{s:?}");
            assert!(encode_gsm(s).is_err());
            assert_eq!(gsm_len(s), None);
        }
        assert_eq!(encode_gsm("ok ç"), Err('ç'));
        assert_eq!(Encoding::for_text("Terima kasih 🙏"), Encoding::Ucs2);
        assert_eq!(Encoding::for_text("Terima kasih €5"), Encoding::Gsm7);
    }

    #[test]
    fn lenient_gsm_decode() {
        // Unknown escape: the basic char. Lone trailing escape: dropped. High bit: replacement.
        assert_eq!(decode_gsm(&[ESC, 0x41]), "A");
        assert_eq!(decode_gsm(&[0x41, ESC]), "A");
        assert_eq!(decode_gsm(&[ESC, ESC]), " ");
        assert_eq!(decode_gsm(&[0x80, 0x41]), "\u{fffd}A");
        assert_eq!(decode_gsm(&[]), "");
    }

    #[test]
    fn ucs2_round_trip_with_surrogates() {
        let text = "Laporan 👍🏽 diterima — terima kasih 🇮🇩";
        let enc = encode_ucs2(text);
        assert_eq!(enc.len(), ucs2_len(text) * 2);
        assert_eq!(decode_ucs2(&enc), text);
        assert_eq!(encode_ucs2("😀"), vec![0xD8, 0x3D, 0xDE, 0x00]);
        assert_eq!(ucs2_len("😀"), 2);
        assert_eq!(encode_ucs2("Aé"), vec![0x00, 0x41, 0x00, 0xE9]);
    }

    #[test]
    fn lenient_ucs2_decode() {
        assert_eq!(decode_ucs2(&[0xD8, 0x3D]), "\u{fffd}");
        assert_eq!(decode_ucs2(&[0xDE, 0x00, 0x00, 0x41]), "\u{fffd}A");
        assert_eq!(decode_ucs2(&[0x00, 0x41, 0x00]), "A\u{fffd}");
    }

    #[test]
    fn decode_by_data_coding() {
        assert_eq!(decode_text(DC_GSM, &[0x00, 0x41]), "@A");
        assert_eq!(decode_text(DC_UCS2, &[0x00, 0x40]), "@");
        assert_eq!(decode_text(DC_ASCII, b"@A"), "@A");
        assert_eq!(decode_text(DC_LATIN1, &[0xE9]), "é");
        assert_eq!(decode_text(0xF0, &[0x00]), "@");
        assert_eq!(decode_text(0xF4, &[0x00]), "\0");
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = crate::test_rng::XorShift(0xDEAD_BEEF_1234_5678);
        for _ in 0..5_000 {
            let len = (rng.next() % 64) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            for dc in [0x00, 0x01, 0x03, 0x04, 0x08, 0xF0, 0xF6, 0x42] {
                let _ = decode_text(dc, &bytes);
            }
            // Whatever GSM decodes to (minus replacement chars) must encode again.
            let s = decode_gsm(&bytes.iter().map(|b| b & 0x7F).collect::<Vec<_>>());
            assert!(encode_gsm(&s).is_ok(), "{s:?}");
        }
    }
}
