//! Talks raw SMTP to the sink over TCP, the way a relay client would.

use std::time::{Duration, Instant};

use lapor_mailsink::{MailSink, SinkOptions};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(10);

struct Client {
    io: BufReader<TcpStream>,
}

impl Client {
    async fn connect(sink: &MailSink) -> Client {
        let stream = TcpStream::connect(sink.addr()).await.unwrap();
        let mut client = Client {
            io: BufReader::new(stream),
        };
        let (code, lines) = client.reply().await;
        assert_eq!(code, 220);
        assert!(lines[0].ends_with("ESMTP lapor-mailsink"), "{lines:?}");
        client
    }

    async fn ehlo(sink: &MailSink) -> Client {
        let mut client = Client::connect(sink).await;
        assert_eq!(client.cmd("EHLO client.test").await, 250);
        client
    }

    /// Reads one (possibly multi-line) reply: its code and the text of each line.
    async fn reply(&mut self) -> (u16, Vec<String>) {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = self.io.read_line(&mut line).await.unwrap();
            assert!(n > 0, "connection closed while waiting for a reply");
            assert!(line.ends_with("\r\n"), "reply not CRLF-terminated: {line:?}");
            let code = line[..3].parse::<u16>().unwrap();
            let last = line.as_bytes()[3] == b' ';
            lines.push(line[4..].trim_end().to_string());
            if last {
                return (code, lines);
            }
            assert_eq!(line.as_bytes()[3], b'-');
        }
    }

    async fn code(&mut self) -> u16 {
        self.reply().await.0
    }

    async fn write(&mut self, bytes: &[u8]) {
        self.io.get_mut().write_all(bytes).await.unwrap();
    }

    async fn cmd(&mut self, line: &str) -> u16 {
        self.write(format!("{line}\r\n").as_bytes()).await;
        self.code().await
    }

    /// A complete transaction; returns the final reply code.
    async fn send(&mut self, from: &str, to: &[&str], message: &str) -> u16 {
        assert_eq!(self.cmd(&format!("MAIL FROM:<{from}>")).await, 250);
        for rcpt in to {
            assert_eq!(self.cmd(&format!("RCPT TO:<{rcpt}>")).await, 250);
        }
        assert_eq!(self.cmd("DATA").await, 354);
        self.write(message.as_bytes()).await;
        self.write(b".\r\n").await;
        self.code().await
    }

    async fn quit(mut self) {
        assert_eq!(self.cmd("QUIT").await, 221);
        let mut rest = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut self.io, &mut rest)
            .await
            .unwrap();
        assert!(rest.is_empty());
    }
}

async fn sink(opts: SinkOptions) -> MailSink {
    MailSink::start("127.0.0.1:0", opts).await.unwrap()
}

fn simple(key: &str) -> String {
    format!("From: a@lapor.test\r\nTo: b@warga.test\r\nX-Lapor-Key: {key}\r\nSubject: s\r\n\r\nisi\r\n")
}

#[tokio::test]
async fn full_conversation() {
    let sink = sink(SinkOptions::default()).await;
    let mut c = Client::connect(&sink).await;

    c.write(b"EHLO client.test\r\n").await;
    let (code, lines) = c.reply().await;
    assert_eq!(code, 250);
    for ext in ["PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE 10485760"] {
        assert!(lines.iter().any(|l| l == ext), "{ext} missing from {lines:?}");
    }
    assert_eq!(c.cmd("NOOP").await, 250);
    assert_eq!(c.cmd("VRFY someone").await, 252);
    assert_eq!(c.cmd("FROB").await, 500);
    assert_eq!(c.cmd(&format!("NOOP {}", "x".repeat(1200))).await, 500);
    assert_eq!(c.cmd("RCPT TO:<b@warga.test>").await, 503);
    assert_eq!(c.cmd("DATA").await, 503);

    // Lower-case verbs, parameters lettre sends, and one unknown parameter.
    assert_eq!(
        c.cmd("mail from:<pengirim@lapor.test> BODY=8BITMIME SMTPUTF8 SIZE=300 X-FOO=1")
            .await,
        250
    );
    assert_eq!(c.cmd("MAIL FROM:<again@lapor.test>").await, 503);
    assert_eq!(c.cmd("Rcpt To:<warga@contoh.test>").await, 250);
    assert_eq!(c.cmd("DATA").await, 354);
    let message = "Message-ID: <abc.123@lapor.test>\r\n\
        X-Lapor-Key: notif-42\r\n\
        Subject: =?utf-8?b?TGFwb3JhbiBBbmRh?=\r\n =?utf-8?q?_diterima_=E2=9C=93?=\r\n\
        \r\n\
        Baris pertama\r\n\
        ..titik di awal\r\n\
        ..\x20bukan akhir\r\n\
        ...\r\n";
    c.write(message.as_bytes()).await;
    c.write(b".\r\n").await;
    let (code, lines) = c.reply().await;
    assert_eq!(code, 250);
    assert_eq!(lines, ["2.0.0 OK queued as 1"]);
    assert_eq!(c.cmd("RSET").await, 250);
    c.quit().await;

    let got = sink.messages();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.mail_from, "pengirim@lapor.test");
    assert_eq!(m.rcpt_to, ["warga@contoh.test"]);
    assert_eq!(m.message_id.as_deref(), Some("abc.123@lapor.test"));
    assert_eq!(m.key.as_deref(), Some("notif-42"));
    assert_eq!(m.subject.as_deref(), Some("Laporan Anda diterima ✓"));
    let (headers, body) = message.split_once("\r\n\r\n").unwrap();
    assert_eq!(
        String::from_utf8(m.raw.clone()).unwrap(),
        format!("{headers}\r\n\r\nBaris pertama\r\n.titik di awal\r\n. bukan akhir\r\n..\r\n")
    );
    assert!(body.starts_with("Baris pertama\r\n"));
}

#[tokio::test]
async fn bare_lf_and_helo() {
    let sink = sink(SinkOptions::default()).await;
    let mut c = Client::connect(&sink).await;
    assert_eq!(c.cmd("HELO").await, 501);
    c.write(b"HELO client.test\nMAIL FROM:<>\nRCPT TO:<x@warga.test>\nDATA\n")
        .await;
    for expected in [250, 250, 250, 354] {
        assert_eq!(c.code().await, expected);
    }
    c.write(b"Subject: lf\n\n..body\n.\n").await;
    assert_eq!(c.code().await, 250);
    let m = &sink.messages()[0];
    assert_eq!(m.mail_from, "");
    assert_eq!(m.subject.as_deref(), Some("lf"));
    assert_eq!(m.raw, b"Subject: lf\n\n.body\n");
}

#[tokio::test]
async fn pipelined_commands_in_one_write() {
    let sink = sink(SinkOptions::default()).await;
    let mut c = Client::connect(&sink).await;
    c.write(
        b"EHLO client.test\r\nMAIL FROM:<a@lapor.test>\r\nRCPT TO:<b@warga.test>\r\n\
          RCPT TO:<c@warga.test>\r\nDATA\r\n",
    )
    .await;
    for expected in [250, 250, 250, 250, 354] {
        assert_eq!(c.code().await, expected);
    }
    // Message, end marker and the next transaction in one write as well.
    let mut burst = simple("p-1").into_bytes();
    burst.extend_from_slice(b".\r\nMAIL FROM:<a@lapor.test>\r\nRCPT TO:<d@warga.test>\r\nDATA\r\n");
    c.write(&burst).await;
    for expected in [250, 250, 250, 354] {
        assert_eq!(c.code().await, expected);
    }
    c.write(format!("{}.\r\nRSET\r\nNOOP\r\nQUIT\r\n", simple("p-2")).as_bytes())
        .await;
    for expected in [250, 250, 250, 221] {
        assert_eq!(c.code().await, expected);
    }
    let got = sink.messages();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].rcpt_to, ["b@warga.test", "c@warga.test"]);
    assert_eq!(got[1].rcpt_to, ["d@warga.test"]);
    assert_eq!(got[1].key.as_deref(), Some("p-2"));
}

#[tokio::test]
async fn rejected_domain_and_remaining_recipient() {
    let sink = sink(SinkOptions {
        reject_domains: vec!["invalid".into(), "bounce.test".into()],
        ..SinkOptions::default()
    })
    .await;
    let mut c = Client::ehlo(&sink).await;
    assert_eq!(c.cmd("MAIL FROM:<a@lapor.test>").await, 250);
    c.write(b"RCPT TO:<nobody@example.INVALID>\r\n").await;
    let (code, lines) = c.reply().await;
    assert_eq!((code, lines[0].as_str()), (550, "5.1.1 mailbox unavailable"));
    assert_eq!(c.cmd("RCPT TO:<x@bounce.test>").await, 550);
    assert_eq!(c.cmd("RCPT TO:<ok@warga.test>").await, 250);
    assert_eq!(c.cmd("DATA").await, 354);
    c.write(simple("r-1").as_bytes()).await;
    c.write(b".\r\n").await;
    assert_eq!(c.code().await, 250);

    // Every recipient rejected: DATA is refused.
    assert_eq!(c.cmd("MAIL FROM:<a@lapor.test>").await, 250);
    assert_eq!(c.cmd("RCPT TO:<x@bounce.test>").await, 550);
    c.write(b"DATA\r\n").await;
    let (code, lines) = c.reply().await;
    assert_eq!(code, 554);
    assert!(lines[0].contains("no valid recipients"));
    assert_eq!(c.cmd("RSET").await, 250);
    c.quit().await;

    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].rcpt_to, ["ok@warga.test"]);
}

#[tokio::test]
async fn tempfail_domain() {
    let sink = sink(SinkOptions {
        tempfail_domains: vec!["later.test".into()],
        ..SinkOptions::default()
    })
    .await;
    let mut c = Client::ehlo(&sink).await;
    assert_eq!(c.cmd("MAIL FROM:<a@lapor.test>").await, 250);
    c.write(b"RCPT TO:<x@later.test>\r\n").await;
    let (code, lines) = c.reply().await;
    assert_eq!((code, lines[0].as_str()), (451, "4.3.0 try again later"));
    assert_eq!(c.cmd("DATA").await, 554);
    c.quit().await;
    assert_eq!(sink.count(), 0);
}

#[tokio::test]
async fn oversize_messages_get_552() {
    let sink = sink(SinkOptions {
        max_size: 100,
        ..SinkOptions::default()
    })
    .await;
    let mut c = Client::connect(&sink).await;
    c.write(b"EHLO client.test\r\n").await;
    let (_, lines) = c.reply().await;
    assert!(lines.iter().any(|l| l == "SIZE 100"), "{lines:?}");

    // Declared size too big.
    assert_eq!(c.cmd("MAIL FROM:<a@lapor.test> SIZE=101").await, 552);
    assert_eq!(c.cmd("MAIL FROM:<a@lapor.test> SIZE=abc").await, 501);

    // Actual size too big, both as many lines and as one long line.
    for body in ["0123456789\r\n".repeat(20), format!("{}\r\n", "x".repeat(5000))] {
        assert_eq!(c.cmd("MAIL FROM:<a@lapor.test> SIZE=50").await, 250);
        assert_eq!(c.cmd("RCPT TO:<b@warga.test>").await, 250);
        assert_eq!(c.cmd("DATA").await, 354);
        c.write(body.as_bytes()).await;
        c.write(b".\r\n").await;
        assert_eq!(c.code().await, 552);
    }

    // The session is still in sync and a small message goes through.
    assert_eq!(
        c.send("a@lapor.test", &["b@warga.test"], "Subject: kecil\r\n\r\nok\r\n")
            .await,
        250
    );
    c.quit().await;
    assert_eq!(sink.count(), 1);
}

#[tokio::test]
async fn out_dir_receives_eml_files() {
    let dir = std::env::temp_dir().join(format!(
        "lapor-mailsink-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let sink = sink(SinkOptions {
        out_dir: Some(dir.join("nested")),
        keep_raw: false,
        ..SinkOptions::default()
    })
    .await;
    let mut c = Client::ehlo(&sink).await;
    let first = "Subject: satu\r\n\r\n..dot\r\n";
    assert_eq!(c.send("a@lapor.test", &["b@warga.test"], first).await, 250);
    assert_eq!(c.send("a@lapor.test", &["b@warga.test"], &simple("o-2")).await, 250);
    c.quit().await;

    assert_eq!(
        std::fs::read(dir.join("nested/1.eml")).unwrap(),
        b"Subject: satu\r\n\r\n.dot\r\n"
    );
    assert_eq!(
        std::fs::read(dir.join("nested/2.eml")).unwrap(),
        simple("o-2").as_bytes()
    );
    // keep_raw = false: headers are still extracted, the bytes are not kept.
    let got = sink.messages();
    assert!(got.iter().all(|m| m.raw.is_empty()));
    assert_eq!(got[0].subject.as_deref(), Some("satu"));
    assert_eq!(got[1].key.as_deref(), Some("o-2"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn duplicate_keys_are_counted() {
    let sink = sink(SinkOptions::default()).await;
    let mut c = Client::ehlo(&sink).await;
    assert_eq!(c.send("a@lapor.test", &["b@warga.test"], &simple("same")).await, 250);
    assert_eq!(c.send("a@lapor.test", &["b@warga.test"], &simple("same")).await, 250);
    assert_eq!((sink.count(), sink.distinct_keys(), sink.duplicates()), (2, 1, 1));

    // Message-ID is the fallback key; a message with neither is not counted.
    let with_id = "Message-ID: <m1@lapor.test>\r\n\r\nx\r\n";
    assert_eq!(c.send("a@lapor.test", &["b@warga.test"], with_id).await, 250);
    assert_eq!(c.send("a@lapor.test", &["b@warga.test"], with_id).await, 250);
    assert_eq!(
        c.send("a@lapor.test", &["b@warga.test"], "Subject: none\r\n\r\nx\r\n")
            .await,
        250
    );
    c.quit().await;
    assert_eq!((sink.count(), sink.distinct_keys(), sink.duplicates()), (5, 2, 2));
}

#[tokio::test]
async fn a_bounded_sink_forgets_the_oldest() {
    let sink = sink(SinkOptions {
        remember: Some(3),
        ..SinkOptions::default()
    })
    .await;
    let mut c = Client::ehlo(&sink).await;
    for i in 0..7 {
        assert_eq!(
            c.send("a@lapor.test", &["b@warga.test"], &simple(&format!("k{i}")))
                .await,
            250
        );
    }
    c.quit().await;
    // Trimmed in batches: between `remember` and twice that stay.
    let kept: Vec<String> = sink.messages().into_iter().filter_map(|m| m.key).collect();
    assert_eq!(kept, ["k3", "k4", "k5", "k6"]);
    assert_eq!((sink.count(), sink.distinct_keys()), (7, 4));
}

#[tokio::test]
async fn connection_dropped_mid_data_records_nothing() {
    let sink = sink(SinkOptions::default()).await;
    let mut c = Client::ehlo(&sink).await;
    assert_eq!(c.cmd("MAIL FROM:<a@lapor.test>").await, 250);
    assert_eq!(c.cmd("RCPT TO:<b@warga.test>").await, 250);
    assert_eq!(c.cmd("DATA").await, 354);
    // Everything but the final line break of the end marker.
    c.write(format!("{}.", simple("lost")).as_bytes()).await;
    drop(c);

    // A later message on another connection proves the sink kept serving.
    let mut c = Client::ehlo(&sink).await;
    assert_eq!(c.send("a@lapor.test", &["b@warga.test"], &simple("kept")).await, 250);
    c.quit().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].key.as_deref(), Some("kept"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_connections_twenty_messages_each() {
    let sink = sink(SinkOptions::default()).await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for conn in 0..50 {
        let addr = sink.addr();
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            let mut c = Client {
                io: BufReader::new(stream),
            };
            assert_eq!(c.code().await, 220);
            assert_eq!(c.cmd("EHLO client.test").await, 250);
            for i in 0..20 {
                let msg = simple(&format!("c{conn}-m{i}"));
                assert_eq!(c.send("a@lapor.test", &["b@warga.test"], &msg).await, 250);
            }
            c.quit().await;
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(sink.wait_for(1000, WAIT).await, 1000);
    let elapsed = started.elapsed();
    eprintln!("1000 messages over 50 connections in {elapsed:?}");
    assert_eq!((sink.distinct_keys(), sink.duplicates()), (1000, 0));
}

#[tokio::test]
async fn wait_for_wakes_on_arrival_and_times_out() {
    let sink = sink(SinkOptions::default()).await;
    let started = Instant::now();
    assert_eq!(sink.wait_for(1, Duration::from_millis(50)).await, 0);
    assert!(started.elapsed() >= Duration::from_millis(50));

    let addr = sink.addr();
    let sender = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let stream = TcpStream::connect(addr).await.unwrap();
        let mut c = Client {
            io: BufReader::new(stream),
        };
        assert_eq!(c.code().await, 220);
        assert_eq!(c.cmd("HELO client.test").await, 250);
        for i in 0..3 {
            assert_eq!(
                c.send("a@lapor.test", &["b@warga.test"], &simple(&format!("w{i}")))
                    .await,
                250
            );
        }
        c.quit().await;
    });
    assert_eq!(sink.wait_for(3, WAIT).await, 3);
    sender.await.unwrap();
    assert_eq!(sink.wait_for(2, Duration::ZERO).await, 3);
}

#[tokio::test]
async fn shutdown_closes_listener_and_connections() {
    let sink = sink(SinkOptions::default()).await;
    let addr = sink.addr();
    let mut c = Client::ehlo(&sink).await;
    sink.shutdown();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut rest = Vec::new();
    let read = tokio::time::timeout(WAIT, tokio::io::AsyncReadExt::read_to_end(&mut c.io, &mut rest)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
    assert!(TcpStream::connect(addr).await.is_err());
}

/// lettre writes the message and the final "." separately and leaves Nagle on;
/// unless the sink acknowledges the message at once, each one waits for the
/// delayed-ACK timer (~40 ms on Linux), i.e. 100 messages take over 4 s.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn split_writes_without_nodelay_do_not_stall() {
    let sink = sink(SinkOptions::default()).await;
    let mut c = Client::ehlo(&sink).await;
    assert!(!c.io.get_ref().nodelay().unwrap());
    let started = Instant::now();
    for i in 0..100 {
        assert_eq!(c.cmd("MAIL FROM:<a@lapor.test> BODY=8BITMIME").await, 250);
        assert_eq!(c.cmd("RCPT TO:<b@warga.test>").await, 250);
        assert_eq!(c.cmd("DATA").await, 354);
        c.write(simple(&format!("n-{i}")).trim_end().as_bytes()).await;
        c.write(b"\r\n.\r\n").await;
        assert_eq!(c.code().await, 250);
    }
    let elapsed = started.elapsed();
    c.quit().await;
    assert_eq!(sink.count(), 100);
    assert!(elapsed < Duration::from_secs(2), "100 messages took {elapsed:?}");
}
