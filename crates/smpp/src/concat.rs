//! Concatenated (long) SMS: splitting outgoing text into UDH-tagged parts and reassembling
//! incoming parts.
//!
//! Outgoing parts use the 8-bit reference concatenation IE (IEI 0x00) with esm_class 0x40.
//! Incoming parts may use IEI 0x00, IEI 0x08 (16-bit reference) or the SAR TLVs; a long message
//! carried whole in a message_payload TLV needs no reassembly.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::gsm::{self, Encoding};
use crate::pdu::{ShortMessage, tag};

/// Septets in a GSM message that fits one SMS without a UDH.
pub const GSM_SINGLE: usize = 160;
/// Septets per GSM part when a 6-octet concatenation UDH takes the rest (7 septets of 160).
pub const GSM_PART: usize = 153;
/// UTF-16 code units in a UCS-2 message that fits one SMS.
pub const UCS2_SINGLE: usize = 70;
/// UTF-16 code units per UCS-2 part with a 6-octet UDH (134 of 140 octets).
pub const UCS2_PART: usize = 67;
/// Parts an 8-bit total can count.
pub const MAX_PARTS: usize = 255;

/// esm_class bit saying short_message starts with a User Data Header.
pub const ESM_UDHI: u8 = 0x40;

/// One outgoing SMS: what goes into submit_sm's esm_class, data_coding and short_message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub esm_class: u8,
    pub data_coding: u8,
    /// Encoded text, preceded by the UDH when there is more than one part.
    pub short_message: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("text needs {0} parts, more than the {MAX_PARTS} a concatenated SMS can have")]
    TooManyParts(usize),
    #[error("character {0:?} cannot be encoded in GSM 03.38")]
    NotGsm(char),
}

/// Splits `text` into SMS parts in GSM when it fits, else UCS-2. `reference` tags all parts of
/// one message; the caller varies it between messages to the same recipient.
pub fn split(text: &str, reference: u8) -> Result<Vec<Part>, SplitError> {
    split_as(text, Encoding::for_text(text), reference)
}

/// Like [`split`] with the encoding forced (GSM fails on chars outside the alphabet).
pub fn split_as(text: &str, encoding: Encoding, reference: u8) -> Result<Vec<Part>, SplitError> {
    let chunks = match encoding {
        Encoding::Gsm7 => {
            if let Some(bad) = text.chars().find(|&c| gsm::gsm_char_len(c).is_none()) {
                return Err(SplitError::NotGsm(bad));
            }
            // Counting whole chars keeps an escape and its septet in the same part.
            chunk(text, GSM_SINGLE, GSM_PART, |c| gsm::gsm_char_len(c).unwrap_or(1))
        }
        // Counting whole chars keeps both halves of a surrogate pair in the same part.
        Encoding::Ucs2 => chunk(text, UCS2_SINGLE, UCS2_PART, char::len_utf16),
    };
    if chunks.len() > MAX_PARTS {
        return Err(SplitError::TooManyParts(chunks.len()));
    }
    let total = chunks.len() as u8;
    let data_coding = encoding.data_coding();
    let mut parts = Vec::with_capacity(chunks.len());
    for (i, piece) in chunks.iter().enumerate() {
        let body = gsm::encode(piece, encoding).map_err(SplitError::NotGsm)?;
        let (esm_class, short_message) = if total == 1 {
            (0, body)
        } else {
            let mut sm = vec![0x05, 0x00, 0x03, reference, total, (i + 1) as u8];
            sm.extend_from_slice(&body);
            (ESM_UDHI, sm)
        };
        parts.push(Part {
            esm_class,
            data_coding,
            short_message,
        });
    }
    Ok(parts)
}

/// Cuts `text` at char boundaries into pieces whose `cost` sum is at most `per_part`, or returns
/// it whole when its total cost is at most `single`. Empty text is one empty piece.
fn chunk(text: &str, single: usize, per_part: usize, cost: impl Fn(char) -> usize) -> Vec<&str> {
    let total: usize = text.chars().map(&cost).sum();
    if total <= single {
        return vec![text];
    }
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut used = 0;
    for (at, ch) in text.char_indices() {
        let c = cost(ch);
        if used + c > per_part {
            pieces.push(&text[start..at]);
            start = at;
            used = 0;
        }
        used += c;
    }
    pieces.push(&text[start..]);
    pieces
}

/// Concatenation info from a UDH IE or the SAR TLVs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConcatInfo {
    pub reference: u16,
    pub total: u8,
    /// 1-based.
    pub seq: u8,
}

/// User data split into its header and the text octets after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserData<'a> {
    /// Concatenation IE, if the UDH has a valid one.
    pub concat: Option<ConcatInfo>,
    pub payload: &'a [u8],
}

/// Parses a UDH at the start of `ud`. Returns `None` when the declared header length runs past
/// the data. IEs other than concatenation are skipped; a concatenation IE with impossible
/// numbers (total 0, seq 0 or seq > total) is ignored, as 23.040 tells receivers to do.
pub fn parse_udh(ud: &[u8]) -> Option<UserData<'_>> {
    let (&udhl, rest) = ud.split_first()?;
    let header = rest.get(..udhl as usize)?;
    let payload = rest.get(udhl as usize..)?;
    let mut concat = None;
    let mut ies = header;
    while let [iei, iel, tail @ ..] = ies {
        let Some(data) = tail.get(..*iel as usize) else { break };
        let info = match (*iei, data) {
            (0x00, &[r, total, seq]) => Some(ConcatInfo {
                reference: r as u16,
                total,
                seq,
            }),
            (0x08, &[r1, r2, total, seq]) => Some(ConcatInfo {
                reference: u16::from_be_bytes([r1, r2]),
                total,
                seq,
            }),
            _ => None,
        };
        if let Some(i) = info.filter(|i| i.total >= 1 && i.seq >= 1 && i.seq <= i.total) {
            concat = Some(i);
        }
        ies = &tail[*iel as usize..];
    }
    Some(UserData { concat, payload })
}

fn sar_info(sm: &ShortMessage) -> Option<ConcatInfo> {
    let reference = match *sm.tlv(tag::SAR_MSG_REF_NUM)? {
        [a, b] => u16::from_be_bytes([a, b]),
        [a] => a as u16,
        _ => return None,
    };
    let &[total] = sm.tlv(tag::SAR_TOTAL_SEGMENTS)? else {
        return None;
    };
    let &[seq] = sm.tlv(tag::SAR_SEGMENT_SEQNUM)? else {
        return None;
    };
    (total >= 1 && seq >= 1 && seq <= total).then_some(ConcatInfo { reference, total, seq })
}

/// Splits a deliver_sm's user data into concatenation info and payload, looking at the UDH
/// (when esm_class says there is one) and then the SAR TLVs.
pub fn user_data(sm: &ShortMessage) -> UserData<'_> {
    let data = sm.payload();
    let mut ud = if sm.esm_class & ESM_UDHI != 0 {
        // A header that claims more than there is: hand over everything rather than drop it.
        parse_udh(data).unwrap_or(UserData {
            concat: None,
            payload: data,
        })
    } else {
        UserData {
            concat: None,
            payload: data,
        }
    };
    if ud.concat.is_none() {
        ud.concat = sar_info(sm);
    }
    ud
}

/// A complete incoming message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assembled {
    pub from: String,
    pub to: String,
    pub data_coding: u8,
    /// Concatenated payload octets (without UDHs).
    pub bytes: Vec<u8>,
    /// `bytes` decoded according to `data_coding`.
    pub text: String,
    /// How many SMS made it up.
    pub parts: usize,
}

/// Bounds on what the reassembler keeps while waiting for missing parts.
#[derive(Clone, Copy, Debug)]
pub struct ReassemblyLimits {
    /// Incomplete messages kept at once; the oldest is dropped to make room.
    pub max_groups: usize,
    /// An incomplete message older than this is dropped.
    pub max_age: Duration,
    /// Payload octets kept across all incomplete messages; oldest groups are dropped past it.
    pub max_bytes: usize,
}

impl Default for ReassemblyLimits {
    fn default() -> Self {
        ReassemblyLimits {
            max_groups: 1024,
            max_age: Duration::from_secs(10 * 60),
            max_bytes: 4 * 1024 * 1024,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    from: String,
    reference: u16,
    total: u8,
}

struct Group {
    started: Instant,
    to: String,
    /// Index seq-1: (data_coding, payload).
    parts: Vec<Option<(u8, Vec<u8>)>>,
    received: usize,
    bytes: usize,
}

/// Collects parts of concatenated messages until each is complete.
///
/// Parts are grouped by (source address, reference, total), may arrive in any order, and
/// duplicates are ignored (the first copy wins). Payload octets are joined before decoding, so a
/// sender that split a surrogate pair or an escape sequence across parts still decodes right.
pub struct Reassembler {
    limits: ReassemblyLimits,
    groups: HashMap<Key, Group>,
    bytes: usize,
}

impl Reassembler {
    pub fn new(limits: ReassemblyLimits) -> Self {
        Reassembler {
            limits,
            groups: HashMap::new(),
            bytes: 0,
        }
    }

    /// Incomplete messages currently held.
    pub fn pending(&self) -> usize {
        self.groups.len()
    }

    /// Feeds one deliver_sm (or submit_sm) body. Returns the message once all its parts are in;
    /// a message that is not concatenated is returned at once.
    pub fn push(&mut self, sm: &ShortMessage, now: Instant) -> Option<Assembled> {
        self.evict_expired(now);
        let ud = user_data(sm);
        let Some(info) = ud.concat.filter(|i| i.total > 1) else {
            return Some(Assembled {
                from: sm.source_addr.clone(),
                to: sm.destination_addr.clone(),
                data_coding: sm.data_coding,
                bytes: ud.payload.to_vec(),
                text: gsm::decode_text(sm.data_coding, ud.payload),
                parts: 1,
            });
        };
        let key = Key {
            from: sm.source_addr.clone(),
            reference: info.reference,
            total: info.total,
        };
        if !self.groups.contains_key(&key) {
            while self.groups.len() >= self.limits.max_groups.max(1) {
                if !self.evict_oldest() {
                    break;
                }
            }
        }
        let group = self.groups.entry(key.clone()).or_insert_with(|| Group {
            started: now,
            to: sm.destination_addr.clone(),
            parts: vec![None; info.total as usize],
            received: 0,
            bytes: 0,
        });
        let slot = &mut group.parts[info.seq as usize - 1];
        if slot.is_some() {
            tracing::debug!(from = %key.from, reference = key.reference, seq = info.seq, "duplicate SMS part ignored");
            return None;
        }
        *slot = Some((sm.data_coding, ud.payload.to_vec()));
        group.received += 1;
        group.bytes += ud.payload.len();
        self.bytes += ud.payload.len();

        if group.received < group.parts.len() {
            // May drop the group just added to; a single message larger than the budget cannot be kept.
            while self.bytes > self.limits.max_bytes {
                if !self.evict_oldest() {
                    break;
                }
            }
            return None;
        }
        let group = self.groups.remove(&key)?;
        self.bytes -= group.bytes;
        let parts = group.parts.len();
        let mut data_coding = sm.data_coding;
        let mut bytes = Vec::with_capacity(group.bytes);
        for (i, (dc, payload)) in group.parts.into_iter().flatten().enumerate() {
            if i == 0 {
                data_coding = dc;
            }
            bytes.extend_from_slice(&payload);
        }
        let text = gsm::decode_text(data_coding, &bytes);
        Some(Assembled {
            from: key.from,
            to: group.to,
            data_coding,
            bytes,
            text,
            parts,
        })
    }

    /// Drops incomplete messages older than `max_age`; returns how many.
    pub fn evict_expired(&mut self, now: Instant) -> usize {
        let max_age = self.limits.max_age;
        let before = self.groups.len();
        let mut freed = 0;
        self.groups.retain(|key, g| {
            let keep = now.saturating_duration_since(g.started) <= max_age;
            if !keep {
                tracing::warn!(from = %key.from, reference = key.reference, got = g.received, of = g.parts.len(),
                    "incomplete concatenated SMS expired");
                freed += g.bytes;
            }
            keep
        });
        self.bytes -= freed;
        before - self.groups.len()
    }

    fn evict_oldest(&mut self) -> bool {
        let Some(key) = self
            .groups
            .iter()
            .min_by_key(|(_, g)| g.started)
            .map(|(k, _)| k.clone())
        else {
            return false;
        };
        if let Some(g) = self.groups.remove(&key) {
            tracing::warn!(from = %key.from, reference = key.reference, got = g.received, of = g.parts.len(),
                "incomplete concatenated SMS dropped to stay within limits");
            self.bytes -= g.bytes;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdu::Tlv;

    fn texts(parts: &[Part]) -> String {
        parts
            .iter()
            .map(|p| {
                let payload = if p.esm_class & ESM_UDHI != 0 {
                    &p.short_message[6..]
                } else {
                    &p.short_message[..]
                };
                gsm::decode_text(p.data_coding, payload)
            })
            .collect()
    }

    #[test]
    fn gsm_boundaries() {
        let t160 = "a".repeat(160);
        let parts = split(&t160, 1).expect("split");
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].esm_class, 0);
        assert_eq!(parts[0].data_coding, 0);
        assert_eq!(parts[0].short_message.len(), 160);

        let t161 = "a".repeat(161);
        let parts = split(&t161, 9).expect("split");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].esm_class, ESM_UDHI);
        assert_eq!(&parts[0].short_message[..6], &[5, 0, 3, 9, 2, 1]);
        assert_eq!(&parts[1].short_message[..6], &[5, 0, 3, 9, 2, 2]);
        assert_eq!(parts[0].short_message.len(), 6 + 153);
        assert_eq!(parts[1].short_message.len(), 6 + 8);
        assert_eq!(texts(&parts), t161);

        assert_eq!(split(&"a".repeat(306), 1).expect("split").len(), 2);
        assert_eq!(split(&"a".repeat(307), 1).expect("split").len(), 3);
    }

    #[test]
    fn gsm_extension_chars_count_double_and_stay_whole() {
        // 80 euro signs = 160 septets: still one SMS.
        let t = "€".repeat(80);
        assert_eq!(split(&t, 1).expect("split").len(), 1);
        // 159 plain + one euro = 161 septets: two parts.
        let t = format!("{}€", "a".repeat(159));
        assert_eq!(split(&t, 1).expect("split").len(), 2);
        // 152 plain then a euro: the escape would straddle 153, so it moves to part 2.
        let t = format!("{}€{}", "a".repeat(152), "b".repeat(20));
        let parts = split(&t, 1).expect("split");
        assert_eq!(parts[0].short_message.len(), 6 + 152);
        assert_eq!(&parts[1].short_message[6..8], &[gsm::ESC, 0x65]);
        assert_eq!(texts(&parts), t);
        for p in &parts {
            assert_ne!(p.short_message.last(), Some(&gsm::ESC));
        }
    }

    #[test]
    fn ucs2_boundaries() {
        let t70 = "é".repeat(69) + "😀"; // 69 + 2 = 71 units
        assert_eq!(split(&t70, 1).expect("split").len(), 2);
        let t70 = "ā".repeat(70);
        let parts = split(&t70, 1).expect("split");
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].data_coding, 8);
        assert_eq!(parts[0].short_message.len(), 140);

        let t71 = "ā".repeat(71);
        let parts = split(&t71, 3).expect("split");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].short_message.len(), 6 + 134);
        assert_eq!(parts[1].short_message.len(), 6 + 8);
        assert_eq!(texts(&parts), t71);
    }

    #[test]
    fn surrogate_pairs_are_not_split() {
        // 66 units then an emoji (2 units): the pair would straddle 67, so it moves on.
        let t = format!("{}😀{}", "ā".repeat(66), "ā".repeat(10));
        let parts = split(&t, 1).expect("split");
        assert_eq!(parts[0].short_message.len(), 6 + 132);
        assert_eq!(&parts[1].short_message[6..10], &[0xD8, 0x3D, 0xDE, 0x00]);
        assert_eq!(texts(&parts), t);
        let emoji = "😀".repeat(200);
        assert_eq!(texts(&split(&emoji, 1).expect("split")), emoji);
    }

    #[test]
    fn empty_and_too_long() {
        let parts = split("", 1).expect("split");
        assert_eq!(
            parts,
            vec![Part {
                esm_class: 0,
                data_coding: 0,
                short_message: vec![]
            }]
        );
        assert!(matches!(
            split(&"a".repeat(153 * 256), 1),
            Err(SplitError::TooManyParts(256))
        ));
        assert!(split(&"a".repeat(153 * 255), 1).is_ok());
        assert_eq!(split_as("ç", Encoding::Gsm7, 1), Err(SplitError::NotGsm('ç')));
    }

    fn sm_from(part: &Part, from: &str) -> ShortMessage {
        ShortMessage {
            source_addr: from.into(),
            destination_addr: "1708".into(),
            esm_class: part.esm_class,
            data_coding: part.data_coding,
            short_message: part.short_message.clone(),
            ..ShortMessage::default()
        }
    }

    #[test]
    fn reassembles_out_of_order_with_duplicates() {
        let text = "Lampu jalan mati sejak 3 hari 🙏 ".repeat(8);
        let parts = split(&text, 42).expect("split");
        assert!(parts.len() >= 3);
        let mut r = Reassembler::new(ReassemblyLimits::default());
        let now = Instant::now();
        let mut order: Vec<usize> = (0..parts.len()).rev().collect();
        order.insert(1, order[0]); // duplicate of the last part
        let mut done = None;
        for (n, &i) in order.iter().enumerate() {
            let out = r.push(&sm_from(&parts[i], "62811"), now);
            if n + 1 < order.len() {
                assert!(out.is_none());
            } else {
                done = out;
            }
        }
        let msg = done.expect("complete");
        assert_eq!(msg.text, text);
        assert_eq!(msg.parts, parts.len());
        assert_eq!(msg.from, "62811");
        assert_eq!(msg.to, "1708");
        assert_eq!(r.pending(), 0);
    }

    #[test]
    fn interleaved_senders_and_references_stay_apart() {
        let a = split(&"A".repeat(200), 7).expect("split");
        let b = split(&"B".repeat(200), 7).expect("split");
        let c = split(&"C".repeat(200), 8).expect("split");
        let mut r = Reassembler::new(ReassemblyLimits::default());
        let now = Instant::now();
        assert!(r.push(&sm_from(&a[0], "1"), now).is_none());
        assert!(r.push(&sm_from(&b[0], "2"), now).is_none());
        assert!(r.push(&sm_from(&c[1], "1"), now).is_none());
        assert_eq!(r.pending(), 3);
        assert_eq!(r.push(&sm_from(&b[1], "2"), now).expect("b").text, "B".repeat(200));
        assert_eq!(r.push(&sm_from(&c[0], "1"), now).expect("c").text, "C".repeat(200));
        assert_eq!(r.push(&sm_from(&a[1], "1"), now).expect("a").text, "A".repeat(200));
    }

    #[test]
    fn sixteen_bit_reference_and_split_surrogates() {
        // A sender that cut a surrogate pair across parts: joined octets still decode.
        let bytes = gsm::encode_ucs2("ok 😀 ok");
        let (p1, p2) = bytes.split_at(8); // "ok " + high surrogate | low surrogate + " ok"
        let mk = |seq: u8, data: &[u8]| {
            let mut sm = vec![6, 0x08, 4, 0x12, 0x34, 2, seq];
            sm.extend_from_slice(data);
            ShortMessage {
                source_addr: "62812".into(),
                esm_class: ESM_UDHI,
                data_coding: 8,
                short_message: sm,
                ..ShortMessage::default()
            }
        };
        let mut r = Reassembler::new(ReassemblyLimits::default());
        let now = Instant::now();
        assert!(r.push(&mk(2, p2), now).is_none());
        assert_eq!(r.push(&mk(1, p1), now).expect("done").text, "ok 😀 ok");
    }

    #[test]
    fn sar_tlvs_and_message_payload() {
        let mk = |seq: u8, text: &str| ShortMessage {
            source_addr: "62813".into(),
            short_message: text.as_bytes().to_vec(),
            data_coding: 1,
            tlvs: vec![
                Tlv {
                    tag: tag::SAR_MSG_REF_NUM,
                    value: vec![0, 5],
                },
                Tlv {
                    tag: tag::SAR_TOTAL_SEGMENTS,
                    value: vec![2],
                },
                Tlv {
                    tag: tag::SAR_SEGMENT_SEQNUM,
                    value: vec![seq],
                },
            ],
            ..ShortMessage::default()
        };
        let mut r = Reassembler::new(ReassemblyLimits::default());
        let now = Instant::now();
        assert!(r.push(&mk(1, "hello "), now).is_none());
        assert_eq!(r.push(&mk(2, "world"), now).expect("done").text, "hello world");

        let long = "x".repeat(500);
        let sm = ShortMessage {
            tlvs: vec![Tlv {
                tag: tag::MESSAGE_PAYLOAD,
                value: gsm::encode_gsm(&long).expect("gsm"),
            }],
            ..ShortMessage::default()
        };
        assert_eq!(r.push(&sm, now).expect("payload").text, long);
    }

    #[test]
    fn bad_udh_is_tolerated() {
        let now = Instant::now();
        let mut r = Reassembler::new(ReassemblyLimits::default());
        // UDH length past the end: everything is handed over.
        let sm = ShortMessage {
            esm_class: ESM_UDHI,
            short_message: vec![9, 0, 3],
            ..ShortMessage::default()
        };
        assert_eq!(r.push(&sm, now).expect("msg").bytes, vec![9, 0, 3]);
        // seq 0 and seq > total: concat IE ignored, text after the UDH delivered.
        for ie in [[0u8, 3, 1, 2, 0], [0, 3, 1, 2, 3]] {
            let mut data = vec![5];
            data.extend_from_slice(&ie);
            data.push(0x41);
            let sm = ShortMessage {
                esm_class: ESM_UDHI,
                short_message: data,
                ..ShortMessage::default()
            };
            assert_eq!(r.push(&sm, now).expect("msg").text, "A");
        }
        // Other IEs are skipped (port addressing IE 0x05, then concat).
        let sm = ShortMessage {
            esm_class: ESM_UDHI,
            short_message: vec![11, 0x05, 4, 0, 1, 0, 2, 0x00, 3, 1, 2, 1, 0x42],
            ..ShortMessage::default()
        };
        assert!(r.push(&sm, now).is_none());
        assert_eq!(r.pending(), 1);
        // Random user data never panics.
        let mut rng = crate::test_rng::XorShift(77);
        for _ in 0..5_000 {
            let len = (rng.next() % 40) as usize;
            let data: Vec<u8> = (0..len).map(|_| rng.next() as u8 % 12).collect();
            let sm = ShortMessage {
                esm_class: ESM_UDHI,
                short_message: data,
                ..ShortMessage::default()
            };
            let _ = r.push(&sm, now);
        }
    }

    #[test]
    fn eviction_bounds() {
        let limits = ReassemblyLimits {
            max_groups: 3,
            max_age: Duration::from_secs(60),
            max_bytes: 1 << 20,
        };
        let mut r = Reassembler::new(limits);
        let t0 = Instant::now();
        let first = split(&"z".repeat(200), 0).expect("split");
        for i in 0..10u8 {
            let parts = split(&"z".repeat(200), i).expect("split");
            assert!(
                r.push(&sm_from(&parts[0], "1"), t0 + Duration::from_secs(i as u64))
                    .is_none()
            );
            assert!(r.pending() <= 3);
        }
        // Group 0 was evicted as the oldest: its second part now starts a fresh group.
        assert!(r.push(&sm_from(&first[1], "1"), t0 + Duration::from_secs(10)).is_none());
        // Everything expires after max_age.
        assert_eq!(r.evict_expired(t0 + Duration::from_secs(200)), 3);
        assert_eq!(r.pending(), 0);
        assert_eq!(r.bytes, 0);

        let limits = ReassemblyLimits {
            max_groups: 100,
            max_age: Duration::from_secs(60),
            max_bytes: 400,
        };
        let mut r = Reassembler::new(limits);
        for i in 0..10u8 {
            let parts = split(&"z".repeat(400), i).expect("split");
            let _ = r.push(&sm_from(&parts[0], "1"), t0 + Duration::from_secs(i as u64));
            assert!(r.bytes <= 400, "{}", r.bytes);
        }
    }
}
