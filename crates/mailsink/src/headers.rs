//! Just enough RFC 5322 header parsing to pick out the few fields the sink
//! reports (Message-ID, X-Lapor-Key, Subject), plus an RFC 2047 decoder for
//! the encoded words lettre produces for non-ASCII subjects.

/// Header values the sink cares about; the first occurrence of each wins.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Interesting {
    pub message_id: Option<String>,
    pub key: Option<String>,
    pub subject: Option<String>,
}

/// Scans the header section of `raw` (up to the first empty line).
/// Folded lines are unfolded by dropping the line break and keeping the
/// leading whitespace, as RFC 5322 section 2.2.3 prescribes.
pub(crate) fn parse(raw: &[u8]) -> Interesting {
    let mut found = Interesting::default();
    // (name, unfolded value) of the field being assembled.
    let mut current: Option<(&[u8], Vec<u8>)> = None;
    for line in raw.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            if let Some((_, value)) = current.as_mut() {
                value.extend_from_slice(line);
            }
            continue;
        }
        if let Some((name, value)) = current.take() {
            store(&mut found, name, &value);
        }
        if line.is_empty() {
            break; // end of the header section
        }
        // A line without a colon is not a field (e.g. an mbox "From " line); skip it.
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            current = Some((line[..colon].trim_ascii_end(), line[colon + 1..].to_vec()));
        }
    }
    if let Some((name, value)) = current {
        store(&mut found, name, &value);
    }
    found
}

fn store(found: &mut Interesting, name: &[u8], value: &[u8]) {
    let slot = if name.eq_ignore_ascii_case(b"message-id") {
        &mut found.message_id
    } else if name.eq_ignore_ascii_case(b"x-lapor-key") {
        &mut found.key
    } else if name.eq_ignore_ascii_case(b"subject") {
        &mut found.subject
    } else {
        return;
    };
    if slot.is_some() {
        return;
    }
    let text = String::from_utf8_lossy(value);
    let text = text.trim();
    *slot = Some(if name.eq_ignore_ascii_case(b"message-id") {
        let inner = text.strip_prefix('<').unwrap_or(text);
        inner.strip_suffix('>').unwrap_or(inner).trim().to_string()
    } else if name.eq_ignore_ascii_case(b"subject") {
        decode_words(text)
    } else {
        text.to_string()
    });
}

/// Decodes RFC 2047 encoded words (`=?utf-8?B?...?=` / `=?utf-8?Q?...?=`) in
/// `text`, leaving everything else untouched. Whitespace between two adjacent
/// encoded words is dropped (RFC 2047 section 6.2), and the bytes of adjacent
/// words are joined before UTF-8 validation because an encoder may split a
/// multi-byte character across words. Words in other charsets, or that do not
/// decode to valid UTF-8, stay raw.
pub(crate) fn decode_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Run of adjacent encoded words: their decoded bytes and their raw text.
    let mut run_bytes: Vec<u8> = Vec::new();
    let mut run_raw = String::new();
    let mut rest = text;
    loop {
        let Some(start) = rest.find("=?") else {
            flush_run(&mut out, &mut run_bytes, &mut run_raw);
            out.push_str(rest);
            return out;
        };
        let (before, candidate) = rest.split_at(start);
        match decode_one(candidate) {
            Some((bytes, used)) => {
                let joins_run = !run_raw.is_empty() && before.chars().all(char::is_whitespace);
                if joins_run {
                    run_raw.push_str(before);
                } else {
                    flush_run(&mut out, &mut run_bytes, &mut run_raw);
                    out.push_str(before);
                }
                run_bytes.extend_from_slice(&bytes);
                run_raw.push_str(&candidate[..used]);
                rest = &candidate[used..];
            }
            None => {
                flush_run(&mut out, &mut run_bytes, &mut run_raw);
                out.push_str(before);
                out.push_str("=?");
                rest = &candidate[2..];
            }
        }
    }
}

fn flush_run(out: &mut String, bytes: &mut Vec<u8>, raw: &mut String) {
    if raw.is_empty() {
        return;
    }
    match std::str::from_utf8(bytes) {
        Ok(decoded) => out.push_str(decoded),
        Err(_) => out.push_str(raw),
    }
    bytes.clear();
    raw.clear();
}

/// Decodes one encoded word at the start of `s` (which starts with "=?").
/// Returns the decoded bytes and how many bytes of `s` the word spans.
fn decode_one(s: &str) -> Option<(Vec<u8>, usize)> {
    let body = s.strip_prefix("=?")?;
    let (charset, after) = body.split_once('?')?;
    let (encoding, after) = after.split_once('?')?;
    let end = after.find("?=")?;
    let payload = &after[..end];
    if payload.contains(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    // RFC 2231 allows a language suffix: "utf-8*id".
    let charset = charset.split('*').next().unwrap_or(charset);
    if !charset.eq_ignore_ascii_case("utf-8") && !charset.eq_ignore_ascii_case("us-ascii") {
        return None;
    }
    let bytes = if encoding.eq_ignore_ascii_case("b") {
        base64(payload.as_bytes())?
    } else if encoding.eq_ignore_ascii_case("q") {
        q_decode(payload.as_bytes())?
    } else {
        return None;
    };
    // Everything of `s` except what follows the closing "?=".
    let used = s.len() - (after.len() - end - 2);
    Some((bytes, used))
}

fn base64(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &c in input {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break, // padding: nothing meaningful follows
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn q_decode(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = input.get(i + 1..i + 3)?;
                let hi = (hex[0] as char).to_digit(16)?;
                let lo = (hex[1] as char).to_digit(16)?;
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_b_and_q_words() {
        assert_eq!(decode_words("=?utf-8?b?TGFwb3JhbiBBbmRh?="), "Laporan Anda");
        assert_eq!(
            decode_words("=?UTF-8?Q?Laporan_=C3=A0_diterima?="),
            "Laporan à diterima"
        );
        assert_eq!(decode_words("Re: =?utf-8?B?TGFwb3Jhbg==?= baru"), "Re: Laporan baru");
    }

    #[test]
    fn whitespace_between_words_is_dropped_and_split_characters_rejoin() {
        // "é" (C3 A9) split across two words.
        assert_eq!(decode_words("=?utf-8?q?caf=C3?=  =?utf-8?q?=A9?="), "café");
        assert_eq!(
            decode_words("=?utf-8?b?TGFwb3Jhbg==?= \t=?utf-8?q?_Anda?="),
            "Laporan Anda"
        );
    }

    #[test]
    fn leaves_unsupported_or_broken_words_raw() {
        assert_eq!(decode_words("=?iso-8859-1?q?caf=E9?="), "=?iso-8859-1?q?caf=E9?=");
        assert_eq!(decode_words("=?utf-8?q?bad=FF?="), "=?utf-8?q?bad=FF?=");
        assert_eq!(decode_words("=?utf-8?x?abc?="), "=?utf-8?x?abc?=");
        assert_eq!(decode_words("1 + 1 =? 2"), "1 + 1 =? 2");
        assert_eq!(decode_words("plain"), "plain");
    }

    #[test]
    fn parses_folded_case_insensitive_headers() {
        let raw = b"SUBJECT: =?utf-8?b?TGFwb3JhbiBBbmRh?=\r\n =?utf-8?q?_diterima?=\r\n\
            message-id:  <abc@lapor.test> \r\nX-LAPOR-KEY: k-1\r\nX-Lapor-Key: second\r\n\r\n\
            Subject: body is not a header\r\n";
        let h = parse(raw);
        assert_eq!(h.subject.as_deref(), Some("Laporan Anda diterima"));
        assert_eq!(h.message_id.as_deref(), Some("abc@lapor.test"));
        assert_eq!(h.key.as_deref(), Some("k-1"));
    }

    #[test]
    fn bare_lf_and_missing_headers() {
        let h = parse(b"Subject: hi\n\tthere\n\nbody\n");
        assert_eq!(h.subject.as_deref(), Some("hi\tthere"));
        assert_eq!(h.key, None);
        assert_eq!(parse(b"\r\nSubject: no\r\n"), Interesting::default());
    }
}
