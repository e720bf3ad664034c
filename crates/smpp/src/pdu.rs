//! SMPP 3.4 PDU codec: pure functions over byte slices, no I/O.
//!
//! Decoding never panics: every read is bounds-checked and malformed input yields a [`DecodeError`].
//! Command ids this crate does not model decode as [`Body::Unknown`] with the raw body kept.
//!
//! C-octet strings are treated as Latin-1 byte strings: decoding maps each byte to the char with the
//! same code point, encoding maps it back. That keeps decode/encode lossless without an error path
//! for non-UTF-8 bytes some SMSCs put in ids.

use std::fmt;

/// Size of the fixed PDU header (command_length, command_id, command_status, sequence_number).
pub const HEADER_LEN: usize = 16;
/// Largest PDU we accept or produce. SMPP has no hard limit; this bounds memory per frame
/// (a message_payload TLV can carry up to 64 KiB, which real SMSCs stay well under).
pub const MAX_PDU_LEN: usize = 64 * 1024;
/// Largest `short_message` the spec allows (sm_length is one octet, 255 is reserved).
pub const MAX_SHORT_MESSAGE: usize = 254;
/// SMPP interface version we announce in bind requests.
pub const INTERFACE_VERSION: u8 = 0x34;

/// Command ids (SMPP 3.4 section 5.1.2.1). Responses have bit 31 set.
pub mod command {
    pub const GENERIC_NACK: u32 = 0x8000_0000;
    pub const BIND_TRANSCEIVER: u32 = 0x0000_0009;
    pub const BIND_TRANSCEIVER_RESP: u32 = 0x8000_0009;
    pub const SUBMIT_SM: u32 = 0x0000_0004;
    pub const SUBMIT_SM_RESP: u32 = 0x8000_0004;
    pub const DELIVER_SM: u32 = 0x0000_0005;
    pub const DELIVER_SM_RESP: u32 = 0x8000_0005;
    pub const UNBIND: u32 = 0x0000_0006;
    pub const UNBIND_RESP: u32 = 0x8000_0006;
    pub const ENQUIRE_LINK: u32 = 0x0000_0015;
    pub const ENQUIRE_LINK_RESP: u32 = 0x8000_0015;
    /// Not modelled, but it is the one request that must never be answered.
    pub const ALERT_NOTIFICATION: u32 = 0x0000_0102;
    /// Bit set on every response command id.
    pub const RESPONSE_BIT: u32 = 0x8000_0000;
}

/// Common command_status values (SMPP 3.4 section 5.1.3).
pub mod status {
    pub const ESME_ROK: u32 = 0x0000_0000;
    pub const ESME_RINVMSGLEN: u32 = 0x0000_0001;
    pub const ESME_RINVCMDLEN: u32 = 0x0000_0002;
    pub const ESME_RINVCMDID: u32 = 0x0000_0003;
    pub const ESME_RINVBNDSTS: u32 = 0x0000_0004;
    pub const ESME_RALYBND: u32 = 0x0000_0005;
    pub const ESME_RSYSERR: u32 = 0x0000_0008;
    pub const ESME_RINVSRCADR: u32 = 0x0000_000A;
    pub const ESME_RINVDSTADR: u32 = 0x0000_000B;
    pub const ESME_RINVMSGID: u32 = 0x0000_000C;
    pub const ESME_RBINDFAIL: u32 = 0x0000_000D;
    pub const ESME_RINVPASWD: u32 = 0x0000_000E;
    pub const ESME_RINVSYSID: u32 = 0x0000_000F;
    pub const ESME_RMSGQFUL: u32 = 0x0000_0014;
    pub const ESME_RINVESMCLASS: u32 = 0x0000_0043;
    pub const ESME_RSUBMITFAIL: u32 = 0x0000_0045;
    pub const ESME_RINVSERTYP: u32 = 0x0000_0053;
    pub const ESME_RTHROTTLED: u32 = 0x0000_0058;
    pub const ESME_RINVSCHED: u32 = 0x0000_0061;
    pub const ESME_RINVEXPIRY: u32 = 0x0000_0062;
    pub const ESME_RX_T_APPN: u32 = 0x0000_0064;
    pub const ESME_RX_P_APPN: u32 = 0x0000_0065;
    pub const ESME_RX_R_APPN: u32 = 0x0000_0066;
    pub const ESME_RINVOPTPARSTREAM: u32 = 0x0000_00C0;
    pub const ESME_RUNKNOWNERR: u32 = 0x0000_00FF;

    /// Symbolic name of a status code, for logs and error messages.
    pub fn name(code: u32) -> &'static str {
        match code {
            ESME_ROK => "ESME_ROK",
            ESME_RINVMSGLEN => "ESME_RINVMSGLEN",
            ESME_RINVCMDLEN => "ESME_RINVCMDLEN",
            ESME_RINVCMDID => "ESME_RINVCMDID",
            ESME_RINVBNDSTS => "ESME_RINVBNDSTS",
            ESME_RALYBND => "ESME_RALYBND",
            ESME_RSYSERR => "ESME_RSYSERR",
            ESME_RINVSRCADR => "ESME_RINVSRCADR",
            ESME_RINVDSTADR => "ESME_RINVDSTADR",
            ESME_RINVMSGID => "ESME_RINVMSGID",
            ESME_RBINDFAIL => "ESME_RBINDFAIL",
            ESME_RINVPASWD => "ESME_RINVPASWD",
            ESME_RINVSYSID => "ESME_RINVSYSID",
            ESME_RMSGQFUL => "ESME_RMSGQFUL",
            ESME_RINVESMCLASS => "ESME_RINVESMCLASS",
            ESME_RSUBMITFAIL => "ESME_RSUBMITFAIL",
            ESME_RINVSERTYP => "ESME_RINVSERTYP",
            ESME_RTHROTTLED => "ESME_RTHROTTLED",
            ESME_RINVSCHED => "ESME_RINVSCHED",
            ESME_RINVEXPIRY => "ESME_RINVEXPIRY",
            ESME_RX_T_APPN => "ESME_RX_T_APPN",
            ESME_RX_P_APPN => "ESME_RX_P_APPN",
            ESME_RX_R_APPN => "ESME_RX_R_APPN",
            ESME_RINVOPTPARSTREAM => "ESME_RINVOPTPARSTREAM",
            ESME_RUNKNOWNERR => "ESME_RUNKNOWNERR",
            _ => "unknown status",
        }
    }

    /// Whether a submit rejected with this status is worth retrying later unchanged
    /// (SMSC overloaded or temporarily failing) rather than a permanent rejection.
    pub fn is_transient(code: u32) -> bool {
        matches!(code, ESME_RMSGQFUL | ESME_RTHROTTLED | ESME_RX_T_APPN | ESME_RSYSERR)
    }
}

/// Well-known TLV tags.
pub mod tag {
    pub const RECEIPTED_MESSAGE_ID: u16 = 0x001E;
    pub const SAR_MSG_REF_NUM: u16 = 0x020C;
    pub const SAR_TOTAL_SEGMENTS: u16 = 0x020E;
    pub const SAR_SEGMENT_SEQNUM: u16 = 0x020F;
    pub const SC_INTERFACE_VERSION: u16 = 0x0210;
    pub const MESSAGE_PAYLOAD: u16 = 0x0424;
    pub const MESSAGE_STATE: u16 = 0x0427;
}

/// Max sizes of C-octet string fields, including the terminating NUL (SMPP 3.4 section 4).
pub mod max_len {
    pub const SYSTEM_ID: usize = 16;
    pub const PASSWORD: usize = 9;
    pub const SYSTEM_TYPE: usize = 13;
    pub const ADDRESS_RANGE: usize = 41;
    pub const SERVICE_TYPE: usize = 6;
    pub const ADDR: usize = 21;
    pub const TIME: usize = 17;
    pub const MESSAGE_ID: usize = 65;
}

/// Why bytes could not be decoded as a PDU.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fewer bytes than the header or a field needs.
    #[error("truncated PDU: {what} needs {needed} bytes, {available} available")]
    Truncated {
        what: &'static str,
        needed: usize,
        available: usize,
    },
    /// command_length below the header size or not matching the given frame.
    #[error("bad command_length {command_length} (frame is {frame_len} bytes)")]
    BadLength { command_length: u32, frame_len: usize },
    /// command_length above [`MAX_PDU_LEN`].
    #[error("PDU of {0} bytes exceeds the {MAX_PDU_LEN} byte limit")]
    TooLarge(u32),
    /// A C-octet string ran to the end of the body without its NUL.
    #[error("field {0} is not NUL-terminated")]
    MissingNul(&'static str),
    /// A C-octet string longer than the spec allows.
    #[error("field {field} is longer than {max} bytes")]
    FieldTooLong { field: &'static str, max: usize },
    /// A TLV whose header or value runs past the end of the body.
    #[error("truncated TLV at body offset {0}")]
    BadTlv(usize),
}

impl DecodeError {
    /// Status to send back in the response to a request that failed to decode.
    pub fn status(&self) -> u32 {
        match self {
            DecodeError::FieldTooLong { .. } => status::ESME_RINVMSGLEN,
            DecodeError::BadTlv(_) => status::ESME_RINVOPTPARSTREAM,
            _ => status::ESME_RINVCMDLEN,
        }
    }
}

/// Why a PDU could not be encoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("field {field} is longer than {max} bytes (including NUL)")]
    FieldTooLong { field: &'static str, max: usize },
    #[error("field {0} contains a NUL or a char outside Latin-1")]
    BadChar(&'static str),
    #[error("short_message of {0} bytes exceeds {MAX_SHORT_MESSAGE}")]
    ShortMessageTooLong(usize),
    #[error("TLV 0x{tag:04x} value of {len} bytes exceeds 65535")]
    TlvTooLong { tag: u16, len: usize },
    #[error("PDU of {0} bytes exceeds the {MAX_PDU_LEN} byte limit")]
    TooLarge(usize),
}

/// The fixed 16-byte header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub command_length: u32,
    pub command_id: u32,
    pub command_status: u32,
    pub sequence_number: u32,
}

impl Header {
    /// Parses the first 16 bytes. Validates only what the header itself can tell: the length bounds.
    pub fn parse(buf: &[u8]) -> Result<Header, DecodeError> {
        let mut r = Reader::new(buf);
        let header = Header {
            command_length: r.u32("command_length")?,
            command_id: r.u32("command_id")?,
            command_status: r.u32("command_status")?,
            sequence_number: r.u32("sequence_number")?,
        };
        if (header.command_length as usize) < HEADER_LEN {
            return Err(DecodeError::BadLength {
                command_length: header.command_length,
                frame_len: buf.len(),
            });
        }
        if header.command_length as usize > MAX_PDU_LEN {
            return Err(DecodeError::TooLarge(header.command_length));
        }
        Ok(header)
    }
}

/// Result of looking for a PDU at the start of a receive buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// Not enough bytes yet; `needed` is the total the buffer must hold (a lower bound while the
    /// length itself is still unknown).
    Incomplete { needed: usize },
    /// A whole PDU of `len` bytes is at the start of the buffer.
    Complete { len: usize },
}

impl Frame {
    /// Tells whether `buf` starts with a complete PDU. An error means the stream cannot be
    /// resynchronised (the length prefix is nonsense) and the connection should be dropped.
    pub fn check(buf: &[u8]) -> Result<Frame, DecodeError> {
        let Some(len_bytes) = buf.get(..4) else {
            return Ok(Frame::Incomplete { needed: HEADER_LEN });
        };
        let len = u32::from_be_bytes([len_bytes[0], len_bytes[1], len_bytes[2], len_bytes[3]]);
        if (len as usize) < HEADER_LEN {
            return Err(DecodeError::BadLength {
                command_length: len,
                frame_len: buf.len(),
            });
        }
        if len as usize > MAX_PDU_LEN {
            return Err(DecodeError::TooLarge(len));
        }
        let len = len as usize;
        if buf.len() < len {
            Ok(Frame::Incomplete { needed: len })
        } else {
            Ok(Frame::Complete { len })
        }
    }
}

/// A Tag-Length-Value optional parameter, kept raw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tlv {
    pub tag: u16,
    pub value: Vec<u8>,
}

/// bind_transceiver body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bind {
    pub system_id: String,
    pub password: String,
    pub system_type: String,
    pub interface_version: u8,
    pub addr_ton: u8,
    pub addr_npi: u8,
    pub address_range: String,
}

/// bind_transceiver_resp body. An error response may carry no body at all; it decodes as empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BindResp {
    pub system_id: String,
    pub tlvs: Vec<Tlv>,
}

/// The body shared by submit_sm and deliver_sm (they have identical layouts in 3.4).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShortMessage {
    pub service_type: String,
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
    pub source_addr: String,
    pub dest_addr_ton: u8,
    pub dest_addr_npi: u8,
    pub destination_addr: String,
    pub esm_class: u8,
    pub protocol_id: u8,
    pub priority_flag: u8,
    pub schedule_delivery_time: String,
    pub validity_period: String,
    pub registered_delivery: u8,
    pub replace_if_present_flag: u8,
    pub data_coding: u8,
    pub sm_default_msg_id: u8,
    /// sm_length is implied by this field's length.
    pub short_message: Vec<u8>,
    pub tlvs: Vec<Tlv>,
}

impl ShortMessage {
    /// First TLV with this tag.
    pub fn tlv(&self, tag: u16) -> Option<&[u8]> {
        find_tlv(&self.tlvs, tag)
    }

    /// The message_payload TLV (0x0424), which replaces short_message when present.
    pub fn message_payload(&self) -> Option<&[u8]> {
        self.tlv(tag::MESSAGE_PAYLOAD)
    }

    /// The user data: message_payload if present, otherwise short_message.
    pub fn payload(&self) -> &[u8] {
        self.message_payload().unwrap_or(&self.short_message)
    }
}

/// Finds the first TLV with `tag`.
pub fn find_tlv(tlvs: &[Tlv], tag: u16) -> Option<&[u8]> {
    tlvs.iter().find(|t| t.tag == tag).map(|t| t.value.as_slice())
}

/// submit_sm_resp / deliver_sm_resp body. Error responses may omit message_id; it decodes as empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageResp {
    pub message_id: String,
}

/// A PDU body, by command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    BindTransceiver(Bind),
    BindTransceiverResp(BindResp),
    SubmitSm(ShortMessage),
    SubmitSmResp(MessageResp),
    DeliverSm(ShortMessage),
    DeliverSmResp(MessageResp),
    EnquireLink,
    EnquireLinkResp,
    Unbind,
    UnbindResp,
    GenericNack,
    /// Any command this crate does not model, with its body bytes as received.
    Unknown {
        command_id: u32,
        body: Vec<u8>,
    },
}

impl Body {
    pub fn command_id(&self) -> u32 {
        match self {
            Body::BindTransceiver(_) => command::BIND_TRANSCEIVER,
            Body::BindTransceiverResp(_) => command::BIND_TRANSCEIVER_RESP,
            Body::SubmitSm(_) => command::SUBMIT_SM,
            Body::SubmitSmResp(_) => command::SUBMIT_SM_RESP,
            Body::DeliverSm(_) => command::DELIVER_SM,
            Body::DeliverSmResp(_) => command::DELIVER_SM_RESP,
            Body::EnquireLink => command::ENQUIRE_LINK,
            Body::EnquireLinkResp => command::ENQUIRE_LINK_RESP,
            Body::Unbind => command::UNBIND,
            Body::UnbindResp => command::UNBIND_RESP,
            Body::GenericNack => command::GENERIC_NACK,
            Body::Unknown { command_id, .. } => *command_id,
        }
    }

    /// Short name for logs.
    pub fn name(&self) -> &'static str {
        command_name(self.command_id())
    }
}

/// Short name of a command id, for logs.
pub fn command_name(command_id: u32) -> &'static str {
    match command_id {
        command::GENERIC_NACK => "generic_nack",
        command::BIND_TRANSCEIVER => "bind_transceiver",
        command::BIND_TRANSCEIVER_RESP => "bind_transceiver_resp",
        command::SUBMIT_SM => "submit_sm",
        command::SUBMIT_SM_RESP => "submit_sm_resp",
        command::DELIVER_SM => "deliver_sm",
        command::DELIVER_SM_RESP => "deliver_sm_resp",
        command::UNBIND => "unbind",
        command::UNBIND_RESP => "unbind_resp",
        command::ENQUIRE_LINK => "enquire_link",
        command::ENQUIRE_LINK_RESP => "enquire_link_resp",
        command::ALERT_NOTIFICATION => "alert_notification",
        _ => "unknown",
    }
}

/// A whole PDU. command_id and command_length are derived from the body when encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pdu {
    pub command_status: u32,
    pub sequence_number: u32,
    pub body: Body,
}

impl Pdu {
    /// A request or a successful response.
    pub fn new(sequence_number: u32, body: Body) -> Pdu {
        Pdu {
            command_status: status::ESME_ROK,
            sequence_number,
            body,
        }
    }

    pub fn command_id(&self) -> u32 {
        self.body.command_id()
    }

    pub fn is_response(&self) -> bool {
        self.command_id() & command::RESPONSE_BIT != 0
    }

    /// Serialises the PDU, validating field sizes.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&[0; 4]); // command_length, patched below
        out.extend_from_slice(&self.command_id().to_be_bytes());
        out.extend_from_slice(&self.command_status.to_be_bytes());
        out.extend_from_slice(&self.sequence_number.to_be_bytes());
        match &self.body {
            Body::BindTransceiver(b) => {
                put_cstr(&mut out, "system_id", &b.system_id, max_len::SYSTEM_ID)?;
                put_cstr(&mut out, "password", &b.password, max_len::PASSWORD)?;
                put_cstr(&mut out, "system_type", &b.system_type, max_len::SYSTEM_TYPE)?;
                out.extend_from_slice(&[b.interface_version, b.addr_ton, b.addr_npi]);
                put_cstr(&mut out, "address_range", &b.address_range, max_len::ADDRESS_RANGE)?;
            }
            Body::BindTransceiverResp(b) => {
                put_cstr(&mut out, "system_id", &b.system_id, max_len::SYSTEM_ID)?;
                put_tlvs(&mut out, &b.tlvs)?;
            }
            Body::SubmitSm(sm) | Body::DeliverSm(sm) => put_short_message(&mut out, sm)?,
            Body::SubmitSmResp(r) | Body::DeliverSmResp(r) => {
                put_cstr(&mut out, "message_id", &r.message_id, max_len::MESSAGE_ID)?;
            }
            Body::EnquireLink | Body::EnquireLinkResp | Body::Unbind | Body::UnbindResp | Body::GenericNack => {}
            Body::Unknown { body, .. } => out.extend_from_slice(body),
        }
        if out.len() > MAX_PDU_LEN {
            return Err(EncodeError::TooLarge(out.len()));
        }
        let len = (out.len() as u32).to_be_bytes();
        out[..4].copy_from_slice(&len);
        Ok(out)
    }

    /// Decodes exactly one PDU; `frame` must be as long as its command_length says
    /// (use [`Frame::check`] to cut it from a stream).
    pub fn decode(frame: &[u8]) -> Result<Pdu, DecodeError> {
        let header = Header::parse(frame)?;
        if header.command_length as usize != frame.len() {
            return Err(DecodeError::BadLength {
                command_length: header.command_length,
                frame_len: frame.len(),
            });
        }
        let raw = &frame[HEADER_LEN..];
        let mut r = Reader::new(raw);
        let body = match header.command_id {
            command::BIND_TRANSCEIVER => Body::BindTransceiver(Bind {
                system_id: r.cstr("system_id", max_len::SYSTEM_ID)?,
                password: r.cstr("password", max_len::PASSWORD)?,
                system_type: r.cstr("system_type", max_len::SYSTEM_TYPE)?,
                interface_version: r.u8("interface_version")?,
                addr_ton: r.u8("addr_ton")?,
                addr_npi: r.u8("addr_npi")?,
                address_range: r.cstr("address_range", max_len::ADDRESS_RANGE)?,
            }),
            command::BIND_TRANSCEIVER_RESP => {
                // Error responses usually carry no body (spec 4.1.6 allows omitting it).
                if r.is_empty() {
                    Body::BindTransceiverResp(BindResp::default())
                } else {
                    Body::BindTransceiverResp(BindResp {
                        system_id: r.cstr("system_id", max_len::SYSTEM_ID)?,
                        tlvs: r.tlvs()?,
                    })
                }
            }
            command::SUBMIT_SM => Body::SubmitSm(read_short_message(&mut r)?),
            command::DELIVER_SM => Body::DeliverSm(read_short_message(&mut r)?),
            command::SUBMIT_SM_RESP | command::DELIVER_SM_RESP => {
                let message_id = if r.is_empty() {
                    String::new()
                } else {
                    r.cstr("message_id", max_len::MESSAGE_ID)?
                };
                let resp = MessageResp { message_id };
                if header.command_id == command::SUBMIT_SM_RESP {
                    Body::SubmitSmResp(resp)
                } else {
                    Body::DeliverSmResp(resp)
                }
            }
            // Bodiless commands: trailing bytes are ignored rather than rejected, to be lenient
            // with peers that pad.
            command::ENQUIRE_LINK => Body::EnquireLink,
            command::ENQUIRE_LINK_RESP => Body::EnquireLinkResp,
            command::UNBIND => Body::Unbind,
            command::UNBIND_RESP => Body::UnbindResp,
            command::GENERIC_NACK => Body::GenericNack,
            other => Body::Unknown {
                command_id: other,
                body: raw.to_vec(),
            },
        };
        Ok(Pdu {
            command_status: header.command_status,
            sequence_number: header.sequence_number,
            body,
        })
    }
}

fn read_short_message(r: &mut Reader<'_>) -> Result<ShortMessage, DecodeError> {
    let service_type = r.cstr("service_type", max_len::SERVICE_TYPE)?;
    let source_addr_ton = r.u8("source_addr_ton")?;
    let source_addr_npi = r.u8("source_addr_npi")?;
    let source_addr = r.cstr("source_addr", max_len::ADDR)?;
    let dest_addr_ton = r.u8("dest_addr_ton")?;
    let dest_addr_npi = r.u8("dest_addr_npi")?;
    let destination_addr = r.cstr("destination_addr", max_len::ADDR)?;
    let esm_class = r.u8("esm_class")?;
    let protocol_id = r.u8("protocol_id")?;
    let priority_flag = r.u8("priority_flag")?;
    let schedule_delivery_time = r.cstr("schedule_delivery_time", max_len::TIME)?;
    let validity_period = r.cstr("validity_period", max_len::TIME)?;
    let registered_delivery = r.u8("registered_delivery")?;
    let replace_if_present_flag = r.u8("replace_if_present_flag")?;
    let data_coding = r.u8("data_coding")?;
    let sm_default_msg_id = r.u8("sm_default_msg_id")?;
    let sm_length = r.u8("sm_length")? as usize;
    let short_message = r.bytes("short_message", sm_length)?.to_vec();
    let tlvs = r.tlvs()?;
    Ok(ShortMessage {
        service_type,
        source_addr_ton,
        source_addr_npi,
        source_addr,
        dest_addr_ton,
        dest_addr_npi,
        destination_addr,
        esm_class,
        protocol_id,
        priority_flag,
        schedule_delivery_time,
        validity_period,
        registered_delivery,
        replace_if_present_flag,
        data_coding,
        sm_default_msg_id,
        short_message,
        tlvs,
    })
}

fn put_short_message(out: &mut Vec<u8>, sm: &ShortMessage) -> Result<(), EncodeError> {
    if sm.short_message.len() > MAX_SHORT_MESSAGE {
        return Err(EncodeError::ShortMessageTooLong(sm.short_message.len()));
    }
    put_cstr(out, "service_type", &sm.service_type, max_len::SERVICE_TYPE)?;
    out.extend_from_slice(&[sm.source_addr_ton, sm.source_addr_npi]);
    put_cstr(out, "source_addr", &sm.source_addr, max_len::ADDR)?;
    out.extend_from_slice(&[sm.dest_addr_ton, sm.dest_addr_npi]);
    put_cstr(out, "destination_addr", &sm.destination_addr, max_len::ADDR)?;
    out.extend_from_slice(&[sm.esm_class, sm.protocol_id, sm.priority_flag]);
    put_cstr(out, "schedule_delivery_time", &sm.schedule_delivery_time, max_len::TIME)?;
    put_cstr(out, "validity_period", &sm.validity_period, max_len::TIME)?;
    out.extend_from_slice(&[
        sm.registered_delivery,
        sm.replace_if_present_flag,
        sm.data_coding,
        sm.sm_default_msg_id,
        sm.short_message.len() as u8,
    ]);
    out.extend_from_slice(&sm.short_message);
    put_tlvs(out, &sm.tlvs)
}

/// Writes a C-octet string; `max` includes the NUL.
fn put_cstr(out: &mut Vec<u8>, field: &'static str, s: &str, max: usize) -> Result<(), EncodeError> {
    let start = out.len();
    for ch in s.chars() {
        let code = ch as u32;
        if code == 0 || code > 0xFF {
            out.truncate(start);
            return Err(EncodeError::BadChar(field));
        }
        out.push(code as u8);
    }
    if out.len() - start + 1 > max {
        out.truncate(start);
        return Err(EncodeError::FieldTooLong { field, max });
    }
    out.push(0);
    Ok(())
}

fn put_tlvs(out: &mut Vec<u8>, tlvs: &[Tlv]) -> Result<(), EncodeError> {
    for t in tlvs {
        let len = u16::try_from(t.value.len()).map_err(|_| EncodeError::TlvTooLong {
            tag: t.tag,
            len: t.value.len(),
        })?;
        out.extend_from_slice(&t.tag.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&t.value);
    }
    Ok(())
}

/// Bounds-checked cursor over a body.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn remaining(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    fn bytes(&mut self, what: &'static str, n: usize) -> Result<&'a [u8], DecodeError> {
        let rest = self.remaining();
        let out = rest.get(..n).ok_or(DecodeError::Truncated {
            what,
            needed: n,
            available: rest.len(),
        })?;
        self.pos += n;
        Ok(out)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.bytes(what, 1)?[0])
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        let b = self.bytes(what, 2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let b = self.bytes(what, 4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a C-octet string whose size including the NUL is at most `max`.
    fn cstr(&mut self, field: &'static str, max: usize) -> Result<String, DecodeError> {
        let rest = self.remaining();
        if rest.is_empty() {
            return Err(DecodeError::Truncated {
                what: field,
                needed: 1,
                available: 0,
            });
        }
        let Some(nul) = rest.iter().position(|&b| b == 0) else {
            return Err(if rest.len() >= max {
                DecodeError::FieldTooLong { field, max }
            } else {
                DecodeError::MissingNul(field)
            });
        };
        if nul + 1 > max {
            return Err(DecodeError::FieldTooLong { field, max });
        }
        self.pos += nul + 1;
        Ok(rest[..nul].iter().map(|&b| char::from(b)).collect())
    }

    fn tlvs(&mut self) -> Result<Vec<Tlv>, DecodeError> {
        let mut tlvs = Vec::new();
        while !self.is_empty() {
            let at = self.pos;
            let tag = self.u16("tlv tag").map_err(|_| DecodeError::BadTlv(at))?;
            let len = self.u16("tlv length").map_err(|_| DecodeError::BadTlv(at))?;
            let value = self
                .bytes("tlv value", len as usize)
                .map_err(|_| DecodeError::BadTlv(at))?;
            tlvs.push(Tlv {
                tag,
                value: value.to_vec(),
            });
        }
        Ok(tlvs)
    }
}

impl fmt::Display for Pdu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} seq={} status=0x{:08x}",
            self.body.name(),
            self.sequence_number,
            self.command_status
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_sm() -> ShortMessage {
        ShortMessage {
            service_type: "CMT".into(),
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: "6281234567890".into(),
            dest_addr_ton: 3,
            dest_addr_npi: 0,
            destination_addr: "1708".into(),
            esm_class: 0x40,
            protocol_id: 0,
            priority_flag: 1,
            schedule_delivery_time: String::new(),
            validity_period: "000001000000000R".into(),
            registered_delivery: 1,
            replace_if_present_flag: 0,
            data_coding: 8,
            sm_default_msg_id: 0,
            short_message: vec![5, 0, 3, 7, 2, 1, 0, b'H', 0, b'i'],
            tlvs: vec![
                Tlv {
                    tag: 0x1403,
                    value: vec![1, 2, 3],
                },
                Tlv {
                    tag: tag::MESSAGE_PAYLOAD,
                    value: vec![],
                },
            ],
        }
    }

    fn samples() -> Vec<Pdu> {
        vec![
            Pdu::new(
                1,
                Body::BindTransceiver(Bind {
                    system_id: "lapor".into(),
                    password: "secret".into(),
                    system_type: "VMA".into(),
                    interface_version: INTERFACE_VERSION,
                    addr_ton: 3,
                    addr_npi: 0,
                    address_range: "^1708".into(),
                }),
            ),
            Pdu::new(
                1,
                Body::BindTransceiverResp(BindResp {
                    system_id: "SMSC".into(),
                    tlvs: vec![Tlv {
                        tag: tag::SC_INTERFACE_VERSION,
                        value: vec![0x34],
                    }],
                }),
            ),
            Pdu::new(2, Body::SubmitSm(sample_sm())),
            Pdu::new(
                2,
                Body::SubmitSmResp(MessageResp {
                    message_id: "abc-123".into(),
                }),
            ),
            Pdu::new(0x7fff_ffff, Body::DeliverSm(sample_sm())),
            Pdu::new(3, Body::DeliverSmResp(MessageResp::default())),
            Pdu::new(4, Body::EnquireLink),
            Pdu::new(4, Body::EnquireLinkResp),
            Pdu::new(5, Body::Unbind),
            Pdu::new(5, Body::UnbindResp),
            Pdu {
                command_status: status::ESME_RINVCMDID,
                sequence_number: 9,
                body: Body::GenericNack,
            },
            Pdu::new(
                6,
                Body::Unknown {
                    command_id: 0x0000_0103,
                    body: vec![1, 2, 3, 0],
                },
            ),
        ]
    }

    #[test]
    fn round_trips() {
        for pdu in samples() {
            let bytes = pdu.encode().expect("encode");
            assert_eq!(Frame::check(&bytes), Ok(Frame::Complete { len: bytes.len() }));
            let back = Pdu::decode(&bytes).expect("decode");
            assert_eq!(back, pdu);
        }
    }

    #[test]
    fn enquire_link_wire_format() {
        let bytes = Pdu::new(7, Body::EnquireLink).encode().expect("encode");
        assert_eq!(bytes, [0, 0, 0, 16, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 7]);
    }

    #[test]
    fn submit_sm_wire_layout() {
        let sm = ShortMessage {
            source_addr: "1708".into(),
            destination_addr: "62812".into(),
            short_message: b"hi".to_vec(),
            ..ShortMessage::default()
        };
        let bytes = Pdu::new(1, Body::SubmitSm(sm)).encode().expect("encode");
        let body = &bytes[HEADER_LEN..];
        #[rustfmt::skip]
        let expected: &[u8] = &[
            0,                          // service_type
            0, 0, b'1', b'7', b'0', b'8', 0,
            0, 0, b'6', b'2', b'8', b'1', b'2', 0,
            0, 0, 0,                    // esm_class, protocol_id, priority_flag
            0, 0,                       // schedule_delivery_time, validity_period
            0, 0, 0, 0,                 // registered_delivery, replace_if_present, data_coding, default_msg_id
            2, b'h', b'i',
        ];
        assert_eq!(body, expected);
    }

    #[test]
    fn error_responses_without_body() {
        let mut bytes = vec![0, 0, 0, 16];
        bytes.extend_from_slice(&command::SUBMIT_SM_RESP.to_be_bytes());
        bytes.extend_from_slice(&status::ESME_RTHROTTLED.to_be_bytes());
        bytes.extend_from_slice(&3u32.to_be_bytes());
        let pdu = Pdu::decode(&bytes).expect("decode");
        assert_eq!(pdu.command_status, status::ESME_RTHROTTLED);
        assert_eq!(pdu.body, Body::SubmitSmResp(MessageResp::default()));

        bytes[4..8].copy_from_slice(&command::BIND_TRANSCEIVER_RESP.to_be_bytes());
        let pdu = Pdu::decode(&bytes).expect("decode");
        assert_eq!(pdu.body, Body::BindTransceiverResp(BindResp::default()));
    }

    #[test]
    fn latin1_cstrings_round_trip() {
        let pdu = Pdu::new(
            1,
            Body::SubmitSmResp(MessageResp {
                message_id: "id\u{e9}\u{ff}".into(),
            }),
        );
        let bytes = pdu.encode().expect("encode");
        assert_eq!(&bytes[HEADER_LEN..], &[b'i', b'd', 0xE9, 0xFF, 0]);
        assert_eq!(Pdu::decode(&bytes).expect("decode"), pdu);
    }

    #[test]
    fn encode_enforces_limits() {
        let mut sm = ShortMessage {
            source_addr: "1".repeat(20),
            ..ShortMessage::default()
        };
        assert!(Pdu::new(1, Body::SubmitSm(sm.clone())).encode().is_ok());
        sm.source_addr.push('1');
        assert_eq!(
            Pdu::new(1, Body::SubmitSm(sm)).encode(),
            Err(EncodeError::FieldTooLong {
                field: "source_addr",
                max: max_len::ADDR
            })
        );

        let sm = ShortMessage {
            short_message: vec![0; 255],
            ..ShortMessage::default()
        };
        assert_eq!(
            Pdu::new(1, Body::SubmitSm(sm)).encode(),
            Err(EncodeError::ShortMessageTooLong(255))
        );

        let bind = Bind {
            password: "123456789".into(),
            ..Bind::default()
        };
        assert!(matches!(
            Pdu::new(1, Body::BindTransceiver(bind)).encode(),
            Err(EncodeError::FieldTooLong { field: "password", .. })
        ));

        let bind = Bind {
            system_id: "a\0b".into(),
            ..Bind::default()
        };
        assert_eq!(
            Pdu::new(1, Body::BindTransceiver(bind)).encode(),
            Err(EncodeError::BadChar("system_id"))
        );
        let bind = Bind {
            system_id: "\u{20ac}".into(),
            ..Bind::default()
        };
        assert_eq!(
            Pdu::new(1, Body::BindTransceiver(bind)).encode(),
            Err(EncodeError::BadChar("system_id"))
        );

        let sm = ShortMessage {
            tlvs: vec![Tlv {
                tag: tag::MESSAGE_PAYLOAD,
                value: vec![0; 70_000],
            }],
            ..ShortMessage::default()
        };
        assert!(matches!(
            Pdu::new(1, Body::SubmitSm(sm)).encode(),
            Err(EncodeError::TlvTooLong { .. })
        ));

        let sm = ShortMessage {
            tlvs: vec![Tlv {
                tag: tag::MESSAGE_PAYLOAD,
                value: vec![0; 65_530],
            }],
            ..ShortMessage::default()
        };
        assert!(matches!(
            Pdu::new(1, Body::SubmitSm(sm)).encode(),
            Err(EncodeError::TooLarge(_))
        ));
    }

    #[test]
    fn message_payload_accessor() {
        let sm = ShortMessage {
            short_message: b"ignored".to_vec(),
            tlvs: vec![Tlv {
                tag: tag::MESSAGE_PAYLOAD,
                value: b"long text".to_vec(),
            }],
            ..ShortMessage::default()
        };
        assert_eq!(sm.message_payload(), Some(&b"long text"[..]));
        assert_eq!(sm.payload(), b"long text");
        let sm = ShortMessage {
            short_message: b"short".to_vec(),
            ..ShortMessage::default()
        };
        assert_eq!(sm.payload(), b"short");
    }

    #[test]
    fn frame_check() {
        assert_eq!(Frame::check(&[]), Ok(Frame::Incomplete { needed: HEADER_LEN }));
        assert_eq!(Frame::check(&[0, 0, 0]), Ok(Frame::Incomplete { needed: HEADER_LEN }));
        assert_eq!(Frame::check(&[0, 0, 0, 20, 0, 0]), Ok(Frame::Incomplete { needed: 20 }));
        let mut two = Pdu::new(1, Body::EnquireLink).encode().expect("encode");
        two.extend(Pdu::new(2, Body::Unbind).encode().expect("encode"));
        assert_eq!(Frame::check(&two), Ok(Frame::Complete { len: 16 }));
        assert!(matches!(
            Frame::check(&[0, 0, 0, 15]),
            Err(DecodeError::BadLength { .. })
        ));
        assert_eq!(Frame::check(&[0, 1, 0, 1]), Err(DecodeError::TooLarge(0x0001_0001)));
        assert_eq!(
            Frame::check(&[0, 1, 0, 0]),
            Ok(Frame::Incomplete { needed: MAX_PDU_LEN })
        );
    }

    #[test]
    fn decode_typed_errors() {
        let good = Pdu::new(2, Body::SubmitSm(sample_sm())).encode().expect("encode");
        // Frame shorter than its command_length.
        assert!(matches!(
            Pdu::decode(&good[..good.len() - 1]),
            Err(DecodeError::BadLength { .. })
        ));
        assert!(matches!(Pdu::decode(&good[..10]), Err(DecodeError::Truncated { .. })));

        // Body cut inside the first C-string: patch the length so the frame is self-consistent.
        let mut cut = good[..HEADER_LEN + 2].to_vec();
        cut[..4].copy_from_slice(&((HEADER_LEN + 2) as u32).to_be_bytes());
        assert_eq!(Pdu::decode(&cut), Err(DecodeError::MissingNul("service_type")));

        // service_type longer than 6 with a NUL later on.
        let mut long = good.clone();
        long[HEADER_LEN..HEADER_LEN + 8].copy_from_slice(b"ABCDEFG\0");
        assert!(matches!(
            Pdu::decode(&long),
            Err(DecodeError::FieldTooLong {
                field: "service_type",
                ..
            })
        ));

        // A dangling byte after the TLVs is a broken TLV.
        let mut tlv = good.clone();
        tlv.push(0x04);
        let len = tlv.len() as u32;
        tlv[..4].copy_from_slice(&len.to_be_bytes());
        assert!(matches!(Pdu::decode(&tlv), Err(DecodeError::BadTlv(_))));

        // sm_length pointing past the end.
        let sm = ShortMessage {
            short_message: b"abc".to_vec(),
            ..ShortMessage::default()
        };
        let mut bad = Pdu::new(1, Body::DeliverSm(sm)).encode().expect("encode");
        let sm_len_at = bad.len() - 4;
        bad[sm_len_at] = 200;
        assert!(matches!(
            Pdu::decode(&bad),
            Err(DecodeError::Truncated {
                what: "short_message",
                ..
            })
        ));
    }

    #[test]
    fn unknown_command_keeps_body() {
        let mut bytes = vec![0, 0, 0, 19];
        bytes.extend_from_slice(&0x0000_0103u32.to_be_bytes()); // data_sm
        bytes.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 42, 9, 8, 7]);
        let pdu = Pdu::decode(&bytes).expect("decode");
        assert_eq!(pdu.sequence_number, 42);
        assert_eq!(
            pdu.body,
            Body::Unknown {
                command_id: 0x103,
                body: vec![9, 8, 7]
            }
        );
        assert_eq!(pdu.encode().expect("encode"), bytes);
    }

    #[test]
    fn malformed_input_never_panics() {
        for pdu in samples() {
            let bytes = pdu.encode().expect("encode");
            for cut in 0..bytes.len() {
                let prefix = &bytes[..cut];
                let _ = Frame::check(prefix);
                let _ = Pdu::decode(prefix);
                // Also with command_length patched to the prefix length, so the body parser runs.
                if cut >= HEADER_LEN {
                    let mut patched = prefix.to_vec();
                    patched[..4].copy_from_slice(&(cut as u32).to_be_bytes());
                    let _ = Pdu::decode(&patched);
                }
            }
        }
        let mut rng = crate::test_rng::XorShift(0x9E37_79B9_7F4A_7C15);
        let ids = [
            command::BIND_TRANSCEIVER,
            command::BIND_TRANSCEIVER_RESP,
            command::SUBMIT_SM,
            command::SUBMIT_SM_RESP,
            command::DELIVER_SM,
            command::DELIVER_SM_RESP,
            command::GENERIC_NACK,
            command::ENQUIRE_LINK,
        ];
        for i in 0..20_000 {
            let len = (rng.next() % 300) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            // Half the time make the header plausible so the body decoders get exercised.
            if i % 2 == 0 && len >= HEADER_LEN {
                bytes[..4].copy_from_slice(&(len as u32).to_be_bytes());
                let id = ids[(rng.next() % ids.len() as u64) as usize];
                bytes[4..8].copy_from_slice(&id.to_be_bytes());
                // Sprinkle NULs so C-strings terminate sometimes.
                for b in bytes[HEADER_LEN..].iter_mut() {
                    if rng.next().is_multiple_of(5) {
                        *b = 0;
                    }
                }
            }
            let _ = Frame::check(&bytes);
            if let Ok(pdu) = Pdu::decode(&bytes) {
                // Anything we accept must re-encode without panicking.
                let _ = pdu.encode();
            }
        }
    }
}
