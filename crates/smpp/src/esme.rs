//! Async ESME client: one TCP connection bound as transceiver.
//!
//! [`Esme::connect`] binds and spawns two tasks: a writer that owns the socket's write half, and a
//! session task that reads PDUs, answers the SMSC's requests (deliver_sm, enquire_link, unbind),
//! routes responses to waiting callers and sends keep-alive enquire_links. Handles are cheap
//! clones that talk to the session task over a channel.
//!
//! A deliver_sm is acknowledged once its message (or part) is handed to the incoming channel.
//! When that channel is full or dropped the SMSC gets ESME_RX_T_APPN, a temporary error, so it
//! keeps the message and retries instead of us losing it.

use std::collections::HashMap;
use std::future::Future;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, MissedTickBehavior, timeout};

use crate::concat::{self, Reassembler, ReassemblyLimits, SplitError};
use crate::gsm;
use crate::pdu::{
    Bind, Body, DecodeError, EncodeError, Frame, Header, INTERFACE_VERSION, MessageResp, Pdu, ShortMessage, command,
    find_tlv, status, tag,
};

/// Connection and bind settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// SMSC address as `host:port`.
    pub addr: String,
    pub system_id: String,
    pub password: String,
    pub system_type: String,
    /// Address range announced in the bind (which MO addresses this ESME serves), e.g. `1708`.
    pub addr_ton: u8,
    pub addr_npi: u8,
    pub address_range: String,
    /// Sender of submitted messages (the short code).
    pub source_addr: String,
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
    /// Type of number for recipients. The default (1 = international, NPI 1 = E.164) expects
    /// numbers like `6281234567890`; a leading `+` is stripped by [`Esme::submit`].
    pub dest_addr_ton: u8,
    pub dest_addr_npi: u8,
    pub service_type: String,
    /// 1 asks the SMSC for a delivery receipt on final outcome; receipts arrive as
    /// [`Incoming`] with `is_receipt` set.
    pub registered_delivery: u8,
    pub connect_timeout: Duration,
    /// How long to wait for each response (bind, submit_sm, enquire_link, unbind).
    pub response_timeout: Duration,
    /// Idle keep-alive period; the link is declared dead when an enquire_link goes unanswered
    /// for `response_timeout`.
    pub enquire_link_interval: Duration,
    /// Capacity of the incoming message channel.
    pub incoming_capacity: usize,
    pub reassembly: ReassemblyLimits,
}

impl Config {
    /// Settings with defaults suited to an Indonesian operator and the 1708 short code.
    pub fn new(addr: impl Into<String>, system_id: impl Into<String>, password: impl Into<String>) -> Config {
        Config {
            addr: addr.into(),
            system_id: system_id.into(),
            password: password.into(),
            system_type: String::new(),
            addr_ton: 0,
            addr_npi: 0,
            address_range: String::new(),
            source_addr: "1708".into(),
            source_addr_ton: 0,
            source_addr_npi: 0,
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            service_type: String::new(),
            registered_delivery: 1,
            connect_timeout: Duration::from_secs(10),
            response_timeout: Duration::from_secs(10),
            enquire_link_interval: Duration::from_secs(30),
            incoming_capacity: 256,
            reassembly: ReassemblyLimits::default(),
        }
    }
}

/// Errors from connecting or from a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("connecting to {0} timed out")]
    ConnectTimeout(String),
    #[error("bind rejected with {name} (0x{0:08x})", name = status::name(*.0))]
    BindRejected(u32),
    /// The SMSC answered with a non-zero command_status (in the command's response or a
    /// generic_nack).
    #[error("{command} failed with {} (0x{status:08x})", status::name(*.status))]
    Status { command: &'static str, status: u32 },
    #[error("no response to {0} in time")]
    Timeout(&'static str),
    #[error("SMPP session is closed")]
    Disconnected,
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error(transparent)]
    Split(#[from] SplitError),
    #[error("protocol error: {0}")]
    Protocol(String),
    /// A later part of a long message failed; `message_ids` are the parts the SMSC accepted.
    #[error("part {part} of {total} failed: {source}")]
    PartialSubmit {
        part: usize,
        total: usize,
        message_ids: Vec<String>,
        source: Box<Error>,
    },
}

impl Error {
    /// The SMPP command_status behind this error, if any.
    pub fn status(&self) -> Option<u32> {
        match self {
            Error::BindRejected(s) | Error::Status { status: s, .. } => Some(*s),
            Error::PartialSubmit { source, .. } => source.status(),
            _ => None,
        }
    }

    /// Whether retrying the same request later may succeed (throttling, queue full, link down).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Status { status: s, .. } => status::is_transient(*s),
            Error::PartialSubmit { source, .. } => source.is_transient(),
            Error::Io(_) | Error::ConnectTimeout(_) | Error::Timeout(_) | Error::Disconnected => true,
            _ => false,
        }
    }
}

/// Why a session ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Disconnect {
    /// We unbound (via [`Esme::unbind`] or by dropping every handle).
    Unbound,
    /// The SMSC sent unbind.
    PeerUnbind,
    /// The SMSC closed the connection.
    Closed,
    /// An enquire_link went unanswered.
    LinkTimeout,
    Io(String),
    /// The byte stream cannot be parsed any more (e.g. an absurd command_length).
    Protocol(String),
}

/// Delivery receipt details, from TLVs when present, else from the conventional receipt text
/// (`id:... sub:... dlvrd:... submit date:... done date:... stat:DELIVRD err:000 text:...`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Receipt {
    /// Id of the submitted message this receipt is about (as returned by submit_sm_resp).
    pub message_id: Option<String>,
    /// Final state word, e.g. `DELIVRD`, `UNDELIV`, `EXPIRED`, `REJECTD`.
    pub stat: Option<String>,
    pub err: Option<String>,
    /// message_state TLV (2 = delivered, 3 = expired, 5 = undeliverable, 8 = rejected, ...).
    pub message_state: Option<u8>,
}

/// A message from the SMSC: a citizen's SMS (reassembled if it came in parts) or, when
/// `is_receipt` is set, a delivery receipt that must not be treated as a citizen message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incoming {
    pub from: String,
    pub to: String,
    pub text: String,
    pub data_coding: u8,
    pub esm_class: u8,
    /// SMS parts the message arrived in.
    pub parts: usize,
    pub is_receipt: bool,
    pub receipt: Option<Receipt>,
    pub service_type: String,
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
}

/// esm_class message-type bits (2..5). Anything non-zero there is a receipt or an
/// acknowledgement (SMSC delivery receipt 0x04, SME ack 0x08/0x10, intermediate notice 0x20).
const ESM_TYPE_MASK: u8 = 0x3C;

enum Command {
    Request {
        body: Body,
        reply: oneshot::Sender<Result<Pdu, Error>>,
    },
    Unbind,
}

/// Handle to a bound session. Clone it freely. The session unbinds once every clone and the
/// incoming receiver are dropped; while either is alive it stays up.
#[derive(Clone)]
pub struct Esme {
    cmds: mpsc::Sender<Command>,
    state: watch::Receiver<Option<Disconnect>>,
    config: Arc<Config>,
    next_ref: Arc<AtomicU8>,
}

impl std::fmt::Debug for Esme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Esme")
            .field("addr", &self.config.addr)
            .field("system_id", &self.config.system_id)
            .finish()
    }
}

impl Esme {
    /// Connects, binds as transceiver and starts the session. Incoming messages and receipts
    /// arrive on the returned receiver, which closes when the session ends.
    pub async fn connect(config: Config) -> Result<(Esme, mpsc::Receiver<Incoming>), Error> {
        let stream = timeout(config.connect_timeout, TcpStream::connect(&config.addr))
            .await
            .map_err(|_| Error::ConnectTimeout(config.addr.clone()))??;
        stream.set_nodelay(true)?;
        let (mut reader, mut writer) = stream.into_split();

        let bind = Pdu::new(
            1,
            Body::BindTransceiver(Bind {
                system_id: config.system_id.clone(),
                password: config.password.clone(),
                system_type: config.system_type.clone(),
                interface_version: INTERFACE_VERSION,
                addr_ton: config.addr_ton,
                addr_npi: config.addr_npi,
                address_range: config.address_range.clone(),
            }),
        );
        writer.write_all(&bind.encode()?).await?;
        let mut buf = Vec::with_capacity(4096);
        timeout(config.response_timeout, await_bind_resp(&mut reader, &mut buf))
            .await
            .map_err(|_| Error::Timeout("bind_transceiver"))??;
        tracing::info!(addr = %config.addr, system_id = %config.system_id, "SMPP bound as transceiver");

        let config = Arc::new(config);
        let (cmd_tx, cmd_rx) = mpsc::channel(64);
        let (in_tx, in_rx) = mpsc::channel(config.incoming_capacity.max(1));
        let (state_tx, state_rx) = watch::channel(None);
        let (out_tx, out_rx) = mpsc::channel(64);
        let writer_task = tokio::spawn(write_loop(writer, out_rx));
        let session = Session {
            reassembler: Reassembler::new(config.reassembly),
            config: config.clone(),
            out: out_tx,
            incoming: in_tx,
            pending: HashMap::new(),
            seq: 1,
            keepalive: None,
            last_rx: Instant::now(),
            unbinding: None,
            handles_gone: false,
        };
        tokio::spawn(session.run(reader, buf, cmd_rx, state_tx, writer_task));

        // Start references somewhere arbitrary so a quick reconnect does not reuse the ones the
        // handset may still be assembling.
        let start = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let esme = Esme {
            cmds: cmd_tx,
            state: state_rx,
            config,
            next_ref: Arc::new(AtomicU8::new(start as u8)),
        };
        Ok((esme, in_rx))
    }

    /// Sends `text` to `to`, split into as many parts as needed (GSM when it fits, else UCS-2).
    /// Parts are submitted one after another, each waiting for its submit_sm_resp. Returns the
    /// SMSC's message id for each part.
    pub async fn submit(&self, to: &str, text: &str) -> Result<Vec<String>, Error> {
        let reference = self.next_ref.fetch_add(1, Ordering::Relaxed);
        let parts = concat::split(text, reference)?;
        let total = parts.len();
        let mut ids = Vec::with_capacity(total);
        for (i, part) in parts.into_iter().enumerate() {
            let c = &self.config;
            let sm = ShortMessage {
                service_type: c.service_type.clone(),
                source_addr_ton: c.source_addr_ton,
                source_addr_npi: c.source_addr_npi,
                source_addr: c.source_addr.clone(),
                dest_addr_ton: c.dest_addr_ton,
                dest_addr_npi: c.dest_addr_npi,
                destination_addr: to.trim_start_matches('+').to_string(),
                esm_class: part.esm_class,
                registered_delivery: c.registered_delivery,
                data_coding: part.data_coding,
                short_message: part.short_message,
                ..ShortMessage::default()
            };
            match self.submit_sm(sm).await {
                Ok(id) => ids.push(id),
                Err(e) if ids.is_empty() => return Err(e),
                Err(e) => {
                    return Err(Error::PartialSubmit {
                        part: i + 1,
                        total,
                        message_ids: ids,
                        source: Box::new(e),
                    });
                }
            }
        }
        Ok(ids)
    }

    /// Sends one prepared submit_sm and returns its message id.
    pub async fn submit_sm(&self, sm: ShortMessage) -> Result<String, Error> {
        let resp = self.request(Body::SubmitSm(sm)).await?;
        match resp.body {
            Body::SubmitSmResp(MessageResp { message_id }) => Ok(message_id),
            other => Err(Error::Protocol(format!(
                "expected submit_sm_resp, got {}",
                other.name()
            ))),
        }
    }

    /// Sends an enquire_link and returns the round-trip time.
    pub async fn enquire_link(&self) -> Result<Duration, Error> {
        let started = Instant::now();
        let resp = self.request(Body::EnquireLink).await?;
        match resp.body {
            Body::EnquireLinkResp => Ok(started.elapsed()),
            other => Err(Error::Protocol(format!(
                "expected enquire_link_resp, got {}",
                other.name()
            ))),
        }
    }

    /// Unbinds and waits (up to the response timeout) for the session to end.
    pub async fn unbind(&self) -> Disconnect {
        // A failed send means the session is already gone; closed() reports why.
        let _ = self.cmds.send(Command::Unbind).await;
        self.closed().await
    }

    /// Waits until the session has ended and tells why.
    pub async fn closed(&self) -> Disconnect {
        let mut state = self.state.clone();
        match state.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone().unwrap_or(Disconnect::Closed),
            // The session task is gone without saying why (it cannot panic by design, but be safe).
            Err(_) => Disconnect::Closed,
        }
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        self.state.borrow().is_some()
    }

    /// The settings this session was opened with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Sends a request and waits for its response; a non-zero status becomes [`Error::Status`].
    async fn request(&self, body: Body) -> Result<Pdu, Error> {
        let name = body.name();
        let (reply, rx) = oneshot::channel();
        let deadline = Instant::now() + self.config.response_timeout;
        tokio::time::timeout_at(deadline, self.cmds.send(Command::Request { body, reply }))
            .await
            .map_err(|_| Error::Timeout(name))?
            .map_err(|_| Error::Disconnected)?;
        let pdu = match tokio::time::timeout_at(deadline, rx).await {
            Err(_) => return Err(Error::Timeout(name)),
            Ok(Err(_)) => return Err(Error::Disconnected),
            Ok(Ok(result)) => result?,
        };
        if pdu.command_status != status::ESME_ROK {
            return Err(Error::Status {
                command: name,
                status: pdu.command_status,
            });
        }
        if let Body::GenericNack = pdu.body {
            return Err(Error::Protocol(format!("{name} got generic_nack with status 0")));
        }
        Ok(pdu)
    }
}

/// Reads until the bind response (sequence 1). Bytes after it stay in `buf` for the session.
async fn await_bind_resp(reader: &mut OwnedReadHalf, buf: &mut Vec<u8>) -> Result<(), Error> {
    loop {
        while let Frame::Complete { len } = Frame::check(buf)? {
            let frame: Vec<u8> = buf.drain(..len).collect();
            let pdu = Pdu::decode(&frame)?;
            match pdu.body {
                Body::BindTransceiverResp(_) | Body::GenericNack if pdu.command_status != status::ESME_ROK => {
                    return Err(Error::BindRejected(pdu.command_status));
                }
                Body::BindTransceiverResp(_) => return Ok(()),
                Body::GenericNack => return Err(Error::Protocol("bind got generic_nack with status 0".into())),
                // Nothing else is legal before the bind completes; skip rather than fail.
                other => tracing::debug!(pdu = other.name(), "ignoring PDU before bind response"),
            }
        }
        let mut chunk = [0u8; 4096];
        let n = reader.read(&mut chunk).await?;
        if n == 0 {
            return Err(Error::Disconnected);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn write_loop(mut writer: OwnedWriteHalf, mut frames: mpsc::Receiver<Vec<u8>>) -> std::io::Result<()> {
    while let Some(frame) = frames.recv().await {
        writer.write_all(&frame).await?;
    }
    writer.shutdown().await
}

struct Session {
    config: Arc<Config>,
    out: mpsc::Sender<Vec<u8>>,
    incoming: mpsc::Sender<Incoming>,
    pending: HashMap<u32, oneshot::Sender<Result<Pdu, Error>>>,
    seq: u32,
    reassembler: Reassembler,
    /// Outstanding keep-alive enquire_link: (sequence, answer-by).
    keepalive: Option<(u32, Instant)>,
    /// When the last PDU arrived; keep-alives go out only after `enquire_link_interval` of quiet.
    last_rx: Instant,
    /// Our unbind in flight: (sequence, give-up time).
    unbinding: Option<(u32, Instant)>,
    /// Every [`Esme`] handle is dropped; unbind as soon as the incoming receiver is gone too.
    handles_gone: bool,
}

impl Session {
    async fn run(
        mut self,
        mut reader: OwnedReadHalf,
        mut buf: Vec<u8>,
        mut cmds: mpsc::Receiver<Command>,
        state: watch::Sender<Option<Disconnect>>,
        writer: tokio::task::JoinHandle<std::io::Result<()>>,
    ) {
        // Check often enough to notice deadlines promptly relative to the configured periods.
        let period = (self.config.enquire_link_interval.min(self.config.response_timeout) / 4)
            .clamp(Duration::from_millis(10), Duration::from_secs(1));
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut chunk = vec![0u8; 16 * 1024];

        // The SMSC may have sent PDUs right behind the bind response.
        let mut reason = self.drain(&mut buf).await;
        while reason.is_none() {
            reason = tokio::select! {
                read = reader.read(&mut chunk) => match read {
                    Ok(0) => Some(Disconnect::Closed),
                    Ok(n) => {
                        buf.extend_from_slice(&chunk[..n]);
                        self.drain(&mut buf).await
                    }
                    Err(e) => Some(Disconnect::Io(e.to_string())),
                },
                cmd = cmds.recv(), if !self.handles_gone && self.unbinding.is_none() => match cmd {
                    Some(Command::Request { body, reply }) => self.send_request(body, reply).await,
                    Some(Command::Unbind) => self.start_unbind().await,
                    None => {
                        self.handles_gone = true;
                        self.housekeeping().await
                    }
                },
                _ = tick.tick() => self.housekeeping().await,
            };
        }
        let reason = reason.unwrap_or(Disconnect::Closed);
        tracing::info!(?reason, "SMPP session ended");
        // Refuse new requests, fail pending ones (their senders drop with self) and close the
        // incoming channel; then let the writer flush what is queued (e.g. an unbind_resp).
        drop(cmds);
        drop(reader);
        drop(self);
        let _ = timeout(Duration::from_secs(2), writer).await;
        let _ = state.send(Some(reason));
    }

    fn next_seq(&mut self) -> u32 {
        loop {
            self.seq = if self.seq >= 0x7FFF_FFFF { 1 } else { self.seq + 1 };
            if !self.pending.contains_key(&self.seq) {
                return self.seq;
            }
        }
    }

    async fn write(&mut self, pdu: &Pdu) -> Result<(), Disconnect> {
        let bytes = pdu
            .encode()
            .map_err(|e| Disconnect::Protocol(format!("cannot encode {pdu}: {e}")))?;
        self.out
            .send(bytes)
            .await
            .map_err(|_| Disconnect::Io("connection writer stopped".into()))
    }

    async fn send_request(&mut self, body: Body, reply: oneshot::Sender<Result<Pdu, Error>>) -> Option<Disconnect> {
        let pdu = Pdu::new(self.next_seq(), body);
        // Encode here so a bad request fails only its caller, not the session.
        let bytes = match pdu.encode() {
            Ok(b) => b,
            Err(e) => {
                let _ = reply.send(Err(Error::Encode(e)));
                return None;
            }
        };
        self.pending.insert(pdu.sequence_number, reply);
        if self.out.send(bytes).await.is_err() {
            return Some(Disconnect::Io("connection writer stopped".into()));
        }
        None
    }

    async fn start_unbind(&mut self) -> Option<Disconnect> {
        let seq = self.next_seq();
        self.unbinding = Some((seq, Instant::now() + self.config.response_timeout));
        self.write(&Pdu::new(seq, Body::Unbind)).await.err()
    }

    async fn housekeeping(&mut self) -> Option<Disconnect> {
        let now = Instant::now();
        if let Some((_, deadline)) = self.unbinding {
            if now >= deadline {
                tracing::warn!("no unbind_resp; closing anyway");
                return Some(Disconnect::Unbound);
            }
            return None;
        }
        if self.handles_gone && self.incoming.is_closed() {
            tracing::info!("no handles or receiver left; unbinding");
            return self.start_unbind().await;
        }
        match self.keepalive {
            Some((_, deadline)) if now >= deadline => return Some(Disconnect::LinkTimeout),
            Some(_) => {}
            None if now.duration_since(self.last_rx) >= self.config.enquire_link_interval => {
                let seq = self.next_seq();
                self.keepalive = Some((seq, now + self.config.response_timeout));
                if let Err(d) = self.write(&Pdu::new(seq, Body::EnquireLink)).await {
                    return Some(d);
                }
            }
            None => {}
        }
        // Callers that timed out dropped their receivers; forget them.
        self.pending.retain(|_, tx| !tx.is_closed());
        self.reassembler.evict_expired(now.into_std());
        None
    }

    /// Handles every complete PDU at the front of `buf` and removes them.
    async fn drain(&mut self, buf: &mut Vec<u8>) -> Option<Disconnect> {
        let mut at = 0;
        let mut result = None;
        while result.is_none() {
            let rest = buf.get(at..).unwrap_or(&[]);
            match Frame::check(rest) {
                Ok(Frame::Incomplete { .. }) => break,
                Ok(Frame::Complete { len }) => {
                    let frame = rest[..len].to_vec();
                    at += len;
                    self.last_rx = Instant::now();
                    result = self.handle_frame(&frame).await;
                }
                Err(e) => result = Some(Disconnect::Protocol(e.to_string())),
            }
        }
        buf.drain(..at.min(buf.len()));
        result
    }

    async fn handle_frame(&mut self, frame: &[u8]) -> Option<Disconnect> {
        match Pdu::decode(frame) {
            Ok(pdu) => self.handle_pdu(pdu).await,
            Err(e) => {
                // Frame::check passed, so the header itself is sound.
                let header = match Header::parse(frame) {
                    Ok(h) => h,
                    Err(e) => return Some(Disconnect::Protocol(e.to_string())),
                };
                tracing::warn!(command = crate::pdu::command_name(header.command_id), seq = header.sequence_number,
                    error = %e, "undecodable PDU");
                if header.command_id & command::RESPONSE_BIT != 0 {
                    if let Some(reply) = self.pending.remove(&header.sequence_number) {
                        let _ = reply.send(Err(Error::Decode(e)));
                    }
                    return None;
                }
                let body = match header.command_id {
                    command::DELIVER_SM => Body::DeliverSmResp(MessageResp::default()),
                    _ => Body::GenericNack,
                };
                let resp = Pdu {
                    command_status: e.status(),
                    sequence_number: header.sequence_number,
                    body,
                };
                self.write(&resp).await.err()
            }
        }
    }

    async fn handle_pdu(&mut self, pdu: Pdu) -> Option<Disconnect> {
        let seq = pdu.sequence_number;
        tracing::trace!(%pdu, "received");
        if pdu.is_response() {
            if self.keepalive.is_some_and(|(s, _)| s == seq) {
                self.keepalive = None;
            } else if self.unbinding.is_some_and(|(s, _)| s == seq) {
                return Some(Disconnect::Unbound);
            } else if let Some(reply) = self.pending.remove(&seq) {
                let _ = reply.send(Ok(pdu));
            } else {
                tracing::debug!(%pdu, "response nobody waits for");
            }
            return None;
        }
        let (status, body) = match pdu.body {
            Body::DeliverSm(sm) => (self.on_deliver(sm), Body::DeliverSmResp(MessageResp::default())),
            Body::EnquireLink => (status::ESME_ROK, Body::EnquireLinkResp),
            Body::Unbind => {
                let resp = Pdu::new(seq, Body::UnbindResp);
                let _ = self.write(&resp).await;
                return Some(Disconnect::PeerUnbind);
            }
            // alert_notification has no response by definition.
            Body::Unknown {
                command_id: command::ALERT_NOTIFICATION,
                ..
            } => return None,
            other => {
                tracing::debug!(command = other.name(), "unsupported request");
                (status::ESME_RINVCMDID, Body::GenericNack)
            }
        };
        self.write(&Pdu {
            command_status: status,
            sequence_number: seq,
            body,
        })
        .await
        .err()
    }

    /// Hands a deliver_sm to the application; returns the status for the deliver_sm_resp.
    fn on_deliver(&mut self, sm: ShortMessage) -> u32 {
        // Reserve first, so a full channel leaves the reassembler untouched and the SMSC's
        // retry of this very part is processed cleanly.
        let permit = match self.incoming.try_reserve() {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, from = %sm.source_addr, "incoming channel unavailable; asking SMSC to retry");
                return status::ESME_RX_T_APPN;
            }
        };
        if sm.esm_class & ESM_TYPE_MASK != 0 {
            let text = gsm::decode_text(sm.data_coding, concat::user_data(&sm).payload);
            let receipt = parse_receipt(&sm, &text);
            permit.send(Incoming {
                from: sm.source_addr,
                to: sm.destination_addr,
                text,
                data_coding: sm.data_coding,
                esm_class: sm.esm_class,
                parts: 1,
                is_receipt: true,
                receipt: Some(receipt),
                service_type: sm.service_type,
                source_addr_ton: sm.source_addr_ton,
                source_addr_npi: sm.source_addr_npi,
            });
            return status::ESME_ROK;
        }
        if let Some(msg) = self.reassembler.push(&sm, Instant::now().into_std()) {
            permit.send(Incoming {
                from: msg.from,
                to: msg.to,
                text: msg.text,
                data_coding: msg.data_coding,
                esm_class: sm.esm_class,
                parts: msg.parts,
                is_receipt: false,
                receipt: None,
                service_type: sm.service_type,
                source_addr_ton: sm.source_addr_ton,
                source_addr_npi: sm.source_addr_npi,
            });
        }
        status::ESME_ROK
    }
}

/// Extracts receipt fields from TLVs, falling back to the `key:value` receipt text.
fn parse_receipt(sm: &ShortMessage, text: &str) -> Receipt {
    let field = |key: &str| -> Option<String> {
        let mut search = text;
        while let Some(pos) = search.find(key) {
            let at_word_start = pos == 0 || search[..pos].ends_with(' ');
            let after = &search[pos + key.len()..];
            if at_word_start {
                let value = after.split(' ').next().unwrap_or("");
                return Some(value.to_string());
            }
            search = after;
        }
        None
    };
    let tlv_id = find_tlv(&sm.tlvs, tag::RECEIPTED_MESSAGE_ID).map(|v| {
        v.iter()
            .take_while(|&&b| b != 0)
            .map(|&b| char::from(b))
            .collect::<String>()
    });
    Receipt {
        message_id: tlv_id.or_else(|| field("id:")),
        stat: field("stat:"),
        err: field("err:"),
        message_state: find_tlv(&sm.tlvs, tag::MESSAGE_STATE).and_then(|v| v.first().copied()),
    }
}

/// Reconnect back-off: the delay doubles after each failed attempt up to `max`, and resets
/// after a successful bind.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }
}

/// Keeps a session up: connects, hands each bound session to `on_session` and, when that
/// returns `Continue` (typically because the incoming receiver closed as the link dropped),
/// reconnects after the back-off delay. Returns when `on_session` returns `Break`.
/// Callers that submit from elsewhere should publish each new [`Esme`] handle from `on_session`.
pub async fn run_with_reconnect<F, Fut>(config: Config, backoff: Backoff, mut on_session: F)
where
    F: FnMut(Esme, mpsc::Receiver<Incoming>) -> Fut,
    Fut: Future<Output = ControlFlow<()>>,
{
    let mut delay = backoff.initial;
    loop {
        match Esme::connect(config.clone()).await {
            Ok((esme, incoming)) => {
                delay = backoff.initial;
                if on_session(esme, incoming).await.is_break() {
                    return;
                }
            }
            Err(e) => tracing::warn!(error = %e, retry_in = ?delay, addr = %config.addr, "SMPP connect/bind failed"),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(backoff.max.max(backoff.initial));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concat::ESM_UDHI;
    use crate::pdu::{BindResp, Tlv};
    use tokio::net::TcpListener;

    /// Minimal in-process SMSC peer built on our own codec, for behaviours the Node test
    /// SMSC cannot easily produce (bad PDUs, throttling, silence).
    struct Peer {
        stream: TcpStream,
        buf: Vec<u8>,
        seq: u32,
    }

    impl Peer {
        async fn read(&mut self) -> Option<Pdu> {
            loop {
                if let Ok(Frame::Complete { len }) = Frame::check(&self.buf) {
                    let frame: Vec<u8> = self.buf.drain(..len).collect();
                    return Some(Pdu::decode(&frame).expect("valid PDU from ESME"));
                }
                let mut chunk = [0u8; 4096];
                let n = self.stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                self.buf.extend_from_slice(&chunk[..n]);
            }
        }

        async fn send(&mut self, pdu: &Pdu) {
            self.stream
                .write_all(&pdu.encode().expect("encode"))
                .await
                .expect("write");
        }

        async fn request(&mut self, body: Body) -> u32 {
            self.seq += 1;
            let pdu = Pdu::new(self.seq, body);
            self.send(&pdu).await;
            self.seq
        }

        /// Reads until a PDU that is not a keep-alive (which it answers).
        async fn next(&mut self) -> Option<Pdu> {
            loop {
                let pdu = self.read().await?;
                if pdu.body == Body::EnquireLink {
                    self.send(&Pdu::new(pdu.sequence_number, Body::EnquireLinkResp)).await;
                    continue;
                }
                return Some(pdu);
            }
        }
    }

    async fn listen() -> (TcpListener, Config) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut config = Config::new(addr.to_string(), "lapor", "secret");
        config.response_timeout = Duration::from_secs(2);
        config.enquire_link_interval = Duration::from_secs(60);
        (listener, config)
    }

    /// Accepts one connection and answers the bind with `bind_status`.
    async fn accept(listener: &TcpListener, bind_status: u32) -> Peer {
        let (stream, _) = listener.accept().await.expect("accept");
        let mut peer = Peer {
            stream,
            buf: Vec::new(),
            seq: 100,
        };
        let bind = peer.read().await.expect("bind");
        let Body::BindTransceiver(b) = &bind.body else {
            panic!("expected bind, got {bind}")
        };
        assert_eq!((b.system_id.as_str(), b.password.as_str()), ("lapor", "secret"));
        assert_eq!(b.interface_version, 0x34);
        let resp = Pdu {
            command_status: bind_status,
            sequence_number: bind.sequence_number,
            body: Body::BindTransceiverResp(BindResp {
                system_id: "fake".into(),
                tlvs: vec![],
            }),
        };
        peer.send(&resp).await;
        peer
    }

    fn deliver(from: &str, esm_class: u8, data_coding: u8, short_message: Vec<u8>) -> Body {
        Body::DeliverSm(ShortMessage {
            source_addr: from.into(),
            destination_addr: "1708".into(),
            esm_class,
            data_coding,
            short_message,
            ..ShortMessage::default()
        })
    }

    #[tokio::test]
    async fn bind_rejected() {
        let (listener, config) = listen().await;
        let server = tokio::spawn(async move { accept(&listener, status::ESME_RINVPASWD).await });
        let err = Esme::connect(config).await.expect_err("must fail");
        assert!(matches!(err, Error::BindRejected(status::ESME_RINVPASWD)), "{err}");
        assert_eq!(err.status(), Some(0x0E));
        server.await.expect("server");
    }

    #[tokio::test]
    async fn submit_long_message_and_statuses() {
        let (listener, config) = listen().await;
        let server = tokio::spawn(async move {
            let mut peer = accept(&listener, 0).await;
            let mut seen = Vec::new();
            while let Some(pdu) = peer.next().await {
                match pdu.body {
                    Body::SubmitSm(sm) => {
                        let throttle = sm.destination_addr == "6200";
                        seen.push(sm);
                        let status = if throttle { status::ESME_RTHROTTLED } else { 0 };
                        let id = format!("m{}", seen.len());
                        let body = Body::SubmitSmResp(MessageResp { message_id: id });
                        peer.send(&Pdu {
                            command_status: status,
                            sequence_number: pdu.sequence_number,
                            body,
                        })
                        .await;
                    }
                    Body::Unbind => {
                        peer.send(&Pdu::new(pdu.sequence_number, Body::UnbindResp)).await;
                        break;
                    }
                    other => panic!("unexpected {}", other.name()),
                }
            }
            seen
        });
        let (esme, _incoming) = Esme::connect(config).await.expect("connect");
        let text = "Laporan Anda sudah kami terima dan diteruskan ke dinas terkait. ".repeat(3);
        let ids = esme.submit("+6281234567890", &text).await.expect("submit");
        assert_eq!(ids, vec!["m1", "m2"]);
        let err = esme.submit("6200", "hai").await.expect_err("throttled");
        assert!(
            matches!(
                err,
                Error::Status {
                    command: "submit_sm",
                    status: status::ESME_RTHROTTLED
                }
            ),
            "{err}"
        );
        assert!(err.is_transient());
        assert_eq!(esme.unbind().await, Disconnect::Unbound);
        assert!(esme.is_closed());
        assert!(matches!(esme.submit("62", "x").await, Err(Error::Disconnected)));

        let seen = server.await.expect("server");
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0].destination_addr, "6281234567890");
        assert_eq!((seen[0].dest_addr_ton, seen[0].dest_addr_npi), (1, 1));
        assert_eq!(seen[0].source_addr, "1708");
        assert_eq!(seen[0].esm_class, ESM_UDHI);
        assert_eq!(seen[0].registered_delivery, 1);
        let mut r = Reassembler::new(ReassemblyLimits::default());
        let now = std::time::Instant::now();
        assert!(r.push(&seen[1], now).is_none());
        assert_eq!(r.push(&seen[0], now).expect("whole").text, text);
    }

    #[tokio::test]
    async fn submit_timeout() {
        let (listener, config) = listen().await;
        let server = tokio::spawn(async move {
            let mut peer = accept(&listener, 0).await;
            // Read and ignore everything.
            while peer.read().await.is_some() {}
        });
        let (esme, incoming) = Esme::connect(config).await.expect("connect");
        let err = esme.submit("62811", "halo").await.expect_err("timeout");
        assert!(matches!(err, Error::Timeout("submit_sm")), "{err}");
        // Dropping both ends unbinds; the silent peer never answers, so we close after the timeout.
        drop((esme, incoming));
        server.await.expect("server");
    }

    #[tokio::test]
    async fn incoming_messages_receipts_and_bad_pdus() {
        let (listener, config) = listen().await;
        let (esme, mut incoming) = {
            let connect = Esme::connect(config);
            let accept = accept(&listener, 0);
            let (esme, peer) = tokio::join!(connect, accept);
            let (esme, incoming) = esme.expect("connect");
            let mut peer = peer;

            // A two-part UCS-2 message, last part first.
            let text = "Sampah menumpuk di depan pasar 🗑️ sudah seminggu, tolong ditindaklanjuti segera ya";
            let parts = concat::split(text, 200).expect("split");
            assert_eq!(parts.len(), 2);
            for p in parts.iter().rev() {
                let seq = peer
                    .request(deliver("62811", p.esm_class, p.data_coding, p.short_message.clone()))
                    .await;
                let resp = peer.next().await.expect("resp");
                assert_eq!((resp.sequence_number, resp.command_status), (seq, 0));
                assert_eq!(resp.body, Body::DeliverSmResp(MessageResp::default()));
            }
            // A delivery receipt.
            let receipt_text =
                "id:m1 sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD err:000 text:Laporan";
            let mut receipt = deliver("6281234567890", 0x04, 0, receipt_text.as_bytes().to_vec());
            if let Body::DeliverSm(sm) = &mut receipt {
                sm.tlvs.push(Tlv {
                    tag: tag::MESSAGE_STATE,
                    value: vec![2],
                });
            }
            peer.request(receipt).await;
            assert_eq!(peer.next().await.expect("resp").command_status, 0);

            // A deliver_sm whose body is cut short: error status, session stays up.
            let mut bad = Pdu::new(77, deliver("1", 0, 0, b"abc".to_vec()))
                .encode()
                .expect("encode");
            bad.truncate(bad.len() - 2);
            let len = bad.len() as u32;
            bad[..4].copy_from_slice(&len.to_be_bytes());
            peer.stream.write_all(&bad).await.expect("write");
            let resp = peer.next().await.expect("resp");
            assert_eq!(resp.sequence_number, 77);
            assert_eq!(resp.body, Body::DeliverSmResp(MessageResp::default()));
            assert_ne!(resp.command_status, 0);

            // An unsupported request (data_sm) gets generic_nack.
            let seq = peer
                .request(Body::Unknown {
                    command_id: 0x103,
                    body: vec![0],
                })
                .await;
            let resp = peer.next().await.expect("resp");
            assert_eq!(
                (resp.sequence_number, resp.command_status),
                (seq, status::ESME_RINVCMDID)
            );
            assert_eq!(resp.body, Body::GenericNack);

            // The SMSC's own enquire_link is answered.
            let seq = peer.request(Body::EnquireLink).await;
            let resp = peer.read().await.expect("resp");
            assert_eq!((resp.sequence_number, resp.body), (seq, Body::EnquireLinkResp));

            // Peer unbinds.
            let seq = peer.request(Body::Unbind).await;
            let resp = peer.read().await.expect("resp");
            assert_eq!((resp.sequence_number, resp.body), (seq, Body::UnbindResp));
            (esme, incoming)
        };
        let msg = incoming.recv().await.expect("message");
        assert!(!msg.is_receipt);
        assert_eq!(msg.from, "62811");
        assert_eq!(msg.to, "1708");
        assert_eq!(msg.parts, 2);
        assert_eq!(
            msg.text,
            "Sampah menumpuk di depan pasar 🗑️ sudah seminggu, tolong ditindaklanjuti segera ya"
        );
        let r = incoming.recv().await.expect("receipt");
        assert!(r.is_receipt);
        let receipt = r.receipt.expect("parsed");
        assert_eq!(receipt.message_id.as_deref(), Some("m1"));
        assert_eq!(receipt.stat.as_deref(), Some("DELIVRD"));
        assert_eq!(receipt.err.as_deref(), Some("000"));
        assert_eq!(receipt.message_state, Some(2));
        assert!(incoming.recv().await.is_none(), "channel closes when the session ends");
        assert_eq!(esme.closed().await, Disconnect::PeerUnbind);
    }

    #[tokio::test]
    async fn full_incoming_channel_asks_for_retry() {
        let (listener, mut config) = listen().await;
        config.incoming_capacity = 1;
        let (esme, peer) = tokio::join!(Esme::connect(config), accept(&listener, 0));
        let (_esme, mut incoming) = esme.expect("connect");
        let mut peer = peer;
        peer.request(deliver("1", 0, 0, b"one".to_vec())).await;
        assert_eq!(peer.next().await.expect("resp").command_status, 0);
        peer.request(deliver("1", 0, 0, b"two".to_vec())).await;
        assert_eq!(peer.next().await.expect("resp").command_status, status::ESME_RX_T_APPN);
        assert_eq!(incoming.recv().await.expect("one").text, "one");
        peer.request(deliver("1", 0, 0, b"two".to_vec())).await;
        assert_eq!(peer.next().await.expect("resp").command_status, 0);
        assert_eq!(incoming.recv().await.expect("two").text, "two");
    }

    #[tokio::test]
    async fn keepalive_and_link_timeout() {
        let (listener, mut config) = listen().await;
        config.enquire_link_interval = Duration::from_millis(100);
        config.response_timeout = Duration::from_millis(1000);
        let (esme, peer) = tokio::join!(Esme::connect(config), accept(&listener, 0));
        let (esme, _incoming) = esme.expect("connect");
        let mut peer = peer;
        // Answer three keep-alives, then go silent.
        for _ in 0..3 {
            let pdu = peer.read().await.expect("enquire_link");
            assert_eq!(pdu.body, Body::EnquireLink);
            peer.send(&Pdu::new(pdu.sequence_number, Body::EnquireLinkResp)).await;
        }
        assert!(!esme.is_closed());
        let rtt = esme.enquire_link();
        let (rtt, pdu) = tokio::join!(rtt, peer.read());
        assert!(rtt.is_err(), "nobody answers the explicit enquire_link");
        assert_eq!(pdu.expect("pdu").body, Body::EnquireLink);
        assert_eq!(esme.closed().await, Disconnect::LinkTimeout);
    }

    #[tokio::test]
    async fn dropping_handles_and_receiver_unbinds() {
        let (listener, config) = listen().await;
        let (esme, peer) = tokio::join!(Esme::connect(config), accept(&listener, 0));
        let (esme, mut incoming) = esme.expect("connect");
        let mut peer = peer;
        drop(esme);
        // The receiver alone keeps the session up: messages still flow.
        peer.request(deliver("1", 0, 0, b"still here".to_vec())).await;
        assert_eq!(peer.next().await.expect("resp").command_status, 0);
        assert_eq!(incoming.recv().await.expect("message").text, "still here");
        drop(incoming);
        let pdu = peer.next().await.expect("unbind");
        assert_eq!(pdu.body, Body::Unbind);
        peer.send(&Pdu::new(pdu.sequence_number, Body::UnbindResp)).await;
        assert!(peer.read().await.is_none(), "socket closed after unbind");
    }

    #[tokio::test]
    async fn reconnect_helper_retries() {
        let (listener, config) = listen().await;
        let server = tokio::spawn(async move {
            // First attempt: rejected. Second: bound, then the SMSC drops the link.
            drop(accept(&listener, status::ESME_RBINDFAIL).await);
            drop(accept(&listener, 0).await);
            let mut peer = accept(&listener, 0).await;
            peer.request(deliver("9", 0, 0, b"after reconnect".to_vec())).await;
            peer.next().await
        });
        let backoff = Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(40),
        };
        let mut sessions = 0;
        let (got_tx, mut got_rx) = mpsc::unbounded_channel();
        run_with_reconnect(config, backoff, |esme, mut incoming| {
            sessions += 1;
            let got_tx = got_tx.clone();
            async move {
                let _esme = esme; // a real caller would submit replies with it
                match incoming.recv().await {
                    Some(msg) => {
                        let _ = got_tx.send(msg.text);
                        ControlFlow::Break(())
                    }
                    None => ControlFlow::Continue(()),
                }
            }
        })
        .await;
        assert_eq!(sessions, 2);
        assert_eq!(got_rx.recv().await.as_deref(), Some("after reconnect"));
        assert_eq!(server.await.expect("server").expect("resp").command_status, 0);
    }

    #[test]
    fn receipt_text_parsing() {
        let sm = ShortMessage::default();
        let r = parse_receipt(
            &sm,
            "id:0A1B2C sub:001 dlvrd:000 submit date:2501011200 done date:2501011300 stat:UNDELIV err:001 text:",
        );
        assert_eq!(r.message_id.as_deref(), Some("0A1B2C"));
        assert_eq!(r.stat.as_deref(), Some("UNDELIV"));
        assert_eq!(r.err.as_deref(), Some("001"));
        let sm = ShortMessage {
            tlvs: vec![Tlv {
                tag: tag::RECEIPTED_MESSAGE_ID,
                value: b"xyz\0".to_vec(),
            }],
            ..ShortMessage::default()
        };
        let r = parse_receipt(&sm, "garbage");
        assert_eq!(r.message_id.as_deref(), Some("xyz"));
        assert_eq!(r.stat, None);
    }
}
