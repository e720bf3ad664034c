//! One SMTP connection: command loop, transaction state and DATA reception.
//!
//! Replies are collected in a buffer and written only when the client has no
//! more input waiting, so a pipelined group (RFC 2920) is answered with one
//! write, and a non-pipelining client still gets each reply before we block.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::{Envelope, Mailbox, Rcpt, Refused};

const HOST: &str = "localhost";
/// RFC 5321 allows 512 octets for a command line and 1000 for a text line;
/// accept up to the larger so long SMTPUTF8 addresses with parameters pass.
const MAX_COMMAND_LINE: usize = 1000;
const MAX_RECIPIENTS: usize = 1000;
/// RFC 5321 section 4.5.3.2.7 suggests at least five minutes.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

pub(crate) async fn run(stream: TcpStream, peer: SocketAddr, mailbox: Arc<dyn Mailbox>) {
    let mut conn = Conn {
        ack: EagerAck::new(&stream),
        io: BufReader::with_capacity(16 * 1024, stream),
        out: Vec::with_capacity(512),
    };
    let mut session = Session {
        mailbox,
        peer,
        txn: None,
        accepted: 0,
    };
    match session.serve(&mut conn).await {
        Ok(()) => tracing::debug!(%peer, accepted = session.accepted, "smtp connection closed"),
        Err(e) if e.kind() == io::ErrorKind::TimedOut => {
            conn.out.clear();
            conn.reply("421 4.4.2 idle timeout, closing connection");
            let _ = conn.flush().await;
            tracing::debug!(%peer, "smtp connection timed out");
        }
        Err(e) => tracing::debug!(%peer, error = %e, "smtp connection failed"),
    }
}

enum Line {
    Complete,
    /// The line exceeded the limit; it was consumed up to its LF and discarded.
    TooLong,
    /// The peer closed the connection (any partial line is dropped).
    Eof,
}

struct Conn {
    io: BufReader<TcpStream>,
    out: Vec<u8>,
    ack: EagerAck,
}

impl Conn {
    fn reply(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
        self.out.extend_from_slice(b"\r\n");
    }

    async fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.io.get_mut().write_all(&self.out).await?;
            self.out.clear();
        }
        Ok(())
    }

    /// Reads one line including its terminator (LF or CRLF) into `buf`,
    /// keeping at most `limit` bytes in memory. Pending replies are flushed
    /// before any read that would wait for the network. `in_data` asks for the
    /// ACK of what was read so far to go out before waiting (see [`EagerAck`]).
    async fn read_line(&mut self, buf: &mut Vec<u8>, limit: usize, in_data: bool) -> io::Result<Line> {
        buf.clear();
        let mut too_long = false;
        loop {
            let avail = if self.io.buffer().is_empty() {
                self.flush().await?;
                if in_data {
                    self.ack.send_now();
                }
                match tokio::time::timeout(IDLE_TIMEOUT, self.io.fill_buf()).await {
                    Ok(read) => read?,
                    Err(_) => return Err(io::ErrorKind::TimedOut.into()),
                }
            } else {
                self.io.buffer()
            };
            if avail.is_empty() {
                return Ok(Line::Eof);
            }
            let (take, complete) = match avail.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (avail.len(), false),
            };
            if !too_long {
                if buf.len() + take > limit {
                    too_long = true;
                    buf.clear();
                } else {
                    buf.extend_from_slice(&avail[..take]);
                }
            }
            self.io.consume(take);
            if complete {
                return Ok(if too_long { Line::TooLong } else { Line::Complete });
            }
        }
    }
}

/// Makes the kernel send a pending ACK immediately (TCP_QUICKACK).
///
/// lettre writes the message and the final ".\r\n" in two writes without
/// TCP_NODELAY, so Nagle's algorithm holds the "." until the message is
/// acknowledged, and the server has nothing to send before the "." that the
/// ACK could ride on. Without this every message would wait for the delayed
/// ACK timer (about 40 ms on Linux), capping a connection at ~25 messages/s.
/// std exposes the option only on its own TcpStream, so keep a duplicate of
/// the socket's descriptor for it.
#[cfg(target_os = "linux")]
struct EagerAck(Option<std::net::TcpStream>);

#[cfg(target_os = "linux")]
impl EagerAck {
    fn new(stream: &TcpStream) -> Self {
        use std::os::fd::AsFd;
        EagerAck(stream.as_fd().try_clone_to_owned().ok().map(std::net::TcpStream::from))
    }

    fn send_now(&self) {
        use std::os::linux::net::TcpStreamExt;
        if let Some(socket) = &self.0 {
            let _ = socket.set_quickack(true);
        }
    }
}

#[cfg(not(target_os = "linux"))]
struct EagerAck;

#[cfg(not(target_os = "linux"))]
impl EagerAck {
    fn new(_stream: &TcpStream) -> Self {
        EagerAck
    }

    fn send_now(&self) {}
}

struct Txn {
    from: String,
    rcpts: Vec<String>,
}

enum Next {
    Command,
    Data,
    Quit,
}

struct Session {
    mailbox: Arc<dyn Mailbox>,
    peer: SocketAddr,
    txn: Option<Txn>,
    accepted: usize,
}

impl Session {
    async fn serve(&mut self, conn: &mut Conn) -> io::Result<()> {
        conn.reply(&format!("220 {HOST} ESMTP {}", self.mailbox.banner()));
        let mut line = Vec::with_capacity(256);
        let mut msg = Vec::new();
        loop {
            match conn.read_line(&mut line, MAX_COMMAND_LINE, false).await? {
                Line::Eof => return Ok(()),
                Line::TooLong => {
                    conn.reply("500 5.5.2 line too long");
                    continue;
                }
                Line::Complete => {}
            }
            let text = String::from_utf8_lossy(trim_eol(&line)).into_owned();
            match self.command(&text, conn) {
                Next::Command => {}
                Next::Quit => return conn.flush().await,
                Next::Data => {
                    let max = self.mailbox.max_size();
                    match receive_data(conn, &mut msg, &mut line, max).await? {
                        // Closed mid-DATA: the transaction is abandoned, nothing is recorded.
                        None => return Ok(()),
                        Some(false) => {
                            self.txn = None;
                            conn.reply("552 5.3.4 message size exceeds fixed maximum message size");
                        }
                        Some(true) => self.deliver(conn, &mut msg).await,
                    }
                }
            }
        }
    }

    fn command(&mut self, text: &str, conn: &mut Conn) -> Next {
        let text = text.trim_end();
        let (verb, arg) = match text.split_once(' ') {
            Some((verb, arg)) => (verb, arg.trim_start()),
            None => (text, ""),
        };
        let verb = verb.to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" | "HELO" if arg.is_empty() => {
                conn.reply(&format!("501 5.5.4 {verb} requires a domain or address literal"));
            }
            "EHLO" => {
                self.txn = None;
                conn.reply(&format!("250-{HOST} greets {arg}"));
                conn.reply("250-PIPELINING");
                conn.reply("250-8BITMIME");
                conn.reply("250-SMTPUTF8");
                conn.reply(&format!("250-SIZE {}", self.mailbox.max_size()));
                conn.reply("250 ENHANCEDSTATUSCODES");
            }
            "HELO" => {
                self.txn = None;
                conn.reply(&format!("250 {HOST}"));
            }
            "MAIL" => self.mail(arg, conn),
            "RCPT" => self.rcpt(arg, conn),
            "DATA" => match &self.txn {
                None => conn.reply("503 5.5.1 MAIL required before DATA"),
                Some(txn) if txn.rcpts.is_empty() => conn.reply("554 5.5.1 no valid recipients"),
                Some(_) => {
                    conn.reply("354 End data with <CR><LF>.<CR><LF>");
                    return Next::Data;
                }
            },
            "RSET" => {
                self.txn = None;
                conn.reply("250 2.0.0 OK");
            }
            "NOOP" => conn.reply("250 2.0.0 OK"),
            "QUIT" => {
                conn.reply("221 2.0.0 Bye");
                return Next::Quit;
            }
            "VRFY" => conn.reply("252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery"),
            "HELP" => conn.reply("214 2.0.0 lapor-mailsink: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY"),
            "EXPN" | "STARTTLS" | "AUTH" | "BDAT" | "TURN" | "ETRN" => {
                conn.reply("502 5.5.1 command not implemented");
            }
            _ => conn.reply("500 5.5.2 command not recognized"),
        }
        Next::Command
    }

    fn mail(&mut self, arg: &str, conn: &mut Conn) {
        if self.txn.is_some() {
            return conn.reply("503 5.5.1 nested MAIL command");
        }
        let Some((from, params)) = strip_prefix_ci(arg, "FROM:").and_then(parse_path) else {
            return conn.reply("501 5.5.4 syntax: MAIL FROM:<address>");
        };
        // BODY=, SMTPUTF8, RET=, ENVID= and unknown parameters are accepted and
        // ignored: the sink stores bytes as received and never relays.
        for param in params.split_ascii_whitespace() {
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            if name.eq_ignore_ascii_case("SIZE") {
                match value.parse::<u64>() {
                    Ok(size) if size > self.mailbox.max_size() as u64 => {
                        return conn.reply("552 5.3.4 message size exceeds fixed maximum message size");
                    }
                    Ok(_) => {}
                    Err(_) => return conn.reply("501 5.5.4 invalid SIZE parameter"),
                }
            }
        }
        self.txn = Some(Txn {
            from: from.to_string(),
            rcpts: Vec::new(),
        });
        conn.reply("250 2.1.0 OK");
    }

    fn rcpt(&mut self, arg: &str, conn: &mut Conn) {
        let Some(txn) = self.txn.as_mut() else {
            return conn.reply("503 5.5.1 MAIL required before RCPT");
        };
        // RCPT parameters (e.g. NOTIFY=) are ignored.
        let Some((to, _params)) = strip_prefix_ci(arg, "TO:").and_then(parse_path) else {
            return conn.reply("501 5.5.4 syntax: RCPT TO:<address>");
        };
        if to.is_empty() {
            return conn.reply("501 5.1.3 empty recipient address");
        }
        if txn.rcpts.len() >= MAX_RECIPIENTS {
            return conn.reply("452 4.5.3 too many recipients");
        }
        match self.mailbox.rcpt(to) {
            Rcpt::Reject => conn.reply("550 5.1.1 mailbox unavailable"),
            Rcpt::TempFail => conn.reply("451 4.3.0 try again later"),
            Rcpt::Accept => {
                txn.rcpts.push(to.to_string());
                conn.reply("250 2.1.5 OK");
            }
        }
    }

    /// Hands a complete message to the mailbox and answers as it says. The
    /// 250 is queued only after the mailbox has kept the message, so a client
    /// that saw it can rely on the message being stored.
    async fn deliver(&mut self, conn: &mut Conn, msg: &mut Vec<u8>) {
        let Some(txn) = self.txn.take() else {
            return; // unreachable: DATA is only entered with a transaction
        };
        let env = Envelope {
            mail_from: txn.from,
            rcpt_to: txn.rcpts,
            peer: self.peer,
        };
        match self.mailbox.deliver(env, std::mem::take(msg)).await {
            Ok(id) => {
                self.accepted += 1;
                conn.reply(&format!("250 2.0.0 OK queued as {id}"));
            }
            Err(Refused::Temporary(why)) => conn.reply(&format!("451 4.3.0 {}", one_line(&why))),
            Err(Refused::Permanent(why)) => conn.reply(&format!("554 5.6.0 {}", one_line(&why))),
        }
    }
}

/// A reply text must stay on its line.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect()
}

/// Reads message content up to the lone "." line, undoing dot-stuffing.
/// Returns `None` if the connection closed first, `Some(false)` if the
/// message exceeded `max` (the rest is read and discarded so the session stays
/// in sync), `Some(true)` with the message in `msg` otherwise.
async fn receive_data(conn: &mut Conn, msg: &mut Vec<u8>, line: &mut Vec<u8>, max: usize) -> io::Result<Option<bool>> {
    msg.clear();
    let mut fits = true;
    // A single line longer than the whole size budget cannot fit anyway.
    let line_limit = max.saturating_add(3);
    loop {
        match conn.read_line(line, line_limit, true).await? {
            Line::Eof => return Ok(None),
            Line::TooLong => {
                fits = false;
                msg.clear();
                continue;
            }
            Line::Complete => {}
        }
        if trim_eol(line) == b"." {
            return Ok(Some(fits));
        }
        let content = line.strip_prefix(b".").unwrap_or(line);
        if fits {
            if msg.len() + content.len() > max {
                fits = false;
                msg.clear();
            } else {
                msg.extend_from_slice(content);
            }
        }
    }
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// Splits `<path> params` into the address and the parameter string. Accepts a
/// bare address without brackets (some clients send it) and drops an obsolete
/// source route ("<@relay:user@host>").
fn parse_path(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    let (path, params) = if let Some(inner) = s.strip_prefix('<') {
        let end = inner.find('>')?;
        (&inner[..end], &inner[end + 1..])
    } else {
        let end = s.find(|c: char| c.is_ascii_whitespace()).unwrap_or(s.len());
        if end == 0 {
            return None;
        }
        s.split_at(end)
    };
    let addr = if path.starts_with('@') {
        path.split_once(':')?.1
    } else {
        path
    };
    Some((addr, params.trim()))
}

/// True if `domain` is a listed domain or a subdomain of one.
pub(crate) fn domain_listed(list: &[String], domain: &str) -> bool {
    list.iter().any(|d| {
        !d.is_empty() && (domain == d || domain.strip_suffix(d.as_str()).is_some_and(|head| head.ends_with('.')))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            parse_path("<a@b.c> SIZE=10 BODY=8BITMIME"),
            Some(("a@b.c", "SIZE=10 BODY=8BITMIME"))
        );
        assert_eq!(parse_path(" <>"), Some(("", "")));
        assert_eq!(parse_path("a@b.c"), Some(("a@b.c", "")));
        assert_eq!(parse_path("<@r1,@r2:a@b.c>"), Some(("a@b.c", "")));
        assert_eq!(parse_path("<a@b.c"), None);
        assert_eq!(parse_path(""), None);
    }

    #[test]
    fn domains() {
        let list = vec!["invalid".to_string(), "bounce.test".to_string()];
        assert!(domain_listed(&list, "invalid"));
        assert!(domain_listed(&list, "example.invalid"));
        assert!(domain_listed(&list, "bounce.test"));
        assert!(!domain_listed(&list, "notinvalid"));
        assert!(!domain_listed(&list, "test"));
        assert!(!domain_listed(&list, ""));
    }

    #[test]
    fn prefixes() {
        assert_eq!(strip_prefix_ci("from:<x>", "FROM:"), Some("<x>"));
        assert_eq!(strip_prefix_ci("FRO", "FROM:"), None);
        assert_eq!(strip_prefix_ci("TO:<é>", "FROM:"), None);
    }
}
