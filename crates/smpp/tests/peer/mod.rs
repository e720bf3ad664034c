//! The SMSC peer of the SMPP tests: `tests/smsc/smsc.mjs` (the npm `smpp`
//! package) run as a child process, driven by JSON lines. Shared by this
//! crate's ESME test and the server's end-to-end SMS test (included there by
//! path).
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::timeout;

pub const WAIT: Duration = Duration::from_secs(15);

/// Minimal JSON value: the SMSC's log lines are the only JSON here and the crate takes no
/// serde dependency for one test.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(BTreeMap<String, Json>),
}

impl Json {
    pub fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(m) => m.get(key).unwrap_or(&Json::Null),
            _ => &Json::Null,
        }
    }

    pub fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            _ => "",
        }
    }

    pub fn num(&self) -> f64 {
        match self {
            Json::Num(n) => *n,
            _ => f64::NAN,
        }
    }

    pub fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(a) => a,
            _ => &[],
        }
    }

    pub fn parse(text: &str) -> Option<Json> {
        let mut p = Parser {
            chars: text.chars().collect(),
            at: 0,
        };
        let v = p.value()?;
        p.ws();
        (p.at == p.chars.len()).then_some(v)
    }
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += 1;
        Some(c)
    }

    fn ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, word: &str) -> Option<()> {
        for c in word.chars() {
            (self.bump()? == c).then_some(())?;
        }
        Some(())
    }

    fn value(&mut self) -> Option<Json> {
        self.ws();
        match self.peek()? {
            '{' => {
                self.at += 1;
                let mut map = BTreeMap::new();
                self.ws();
                if self.peek()? == '}' {
                    self.at += 1;
                    return Some(Json::Obj(map));
                }
                loop {
                    self.ws();
                    let Json::Str(key) = self.value()? else { return None };
                    self.ws();
                    self.eat(":")?;
                    let v = self.value()?;
                    map.insert(key, v);
                    self.ws();
                    match self.bump()? {
                        ',' => continue,
                        '}' => return Some(Json::Obj(map)),
                        _ => return None,
                    }
                }
            }
            '[' => {
                self.at += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek()? == ']' {
                    self.at += 1;
                    return Some(Json::Arr(items));
                }
                loop {
                    items.push(self.value()?);
                    self.ws();
                    match self.bump()? {
                        ',' => continue,
                        ']' => return Some(Json::Arr(items)),
                        _ => return None,
                    }
                }
            }
            '"' => {
                self.at += 1;
                let mut units: Vec<u16> = Vec::new();
                loop {
                    match self.bump()? {
                        '"' => return Some(Json::Str(String::from_utf16_lossy(&units))),
                        '\\' => {
                            let c = match self.bump()? {
                                'n' => '\n',
                                'r' => '\r',
                                't' => '\t',
                                'b' => '\u{8}',
                                'f' => '\u{c}',
                                'u' => {
                                    let hex: String = (0..4).filter_map(|_| self.bump()).collect();
                                    units.push(u16::from_str_radix(&hex, 16).ok()?);
                                    continue;
                                }
                                other => other,
                            };
                            let mut buf = [0u16; 2];
                            units.extend_from_slice(c.encode_utf16(&mut buf));
                        }
                        c => {
                            let mut buf = [0u16; 2];
                            units.extend_from_slice(c.encode_utf16(&mut buf));
                        }
                    }
                }
            }
            't' => self.eat("true").map(|_| Json::Bool(true)),
            'f' => self.eat("false").map(|_| Json::Bool(false)),
            'n' => self.eat("null").map(|_| Json::Null),
            _ => {
                let start = self.at;
                while self.peek().is_some_and(|c| c.is_ascii_digit() || "+-.eE".contains(c)) {
                    self.at += 1;
                }
                let s: String = self.chars[start..self.at].iter().collect();
                s.parse().ok().map(Json::Num)
            }
        }
    }
}

pub fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The Node SMSC process: its stdout events and a way to send it commands.
pub struct Smsc {
    child: Child,
    stdin: ChildStdin,
    events: mpsc::UnboundedReceiver<Json>,
    /// Events read while looking for another one.
    backlog: VecDeque<Json>,
}

impl Smsc {
    pub fn start(dir: &Path) -> Smsc {
        let mut child = Command::new("node")
            .arg("smsc.mjs")
            .args(["--port", "0", "--system-id", "lapor1708", "--password", "rahasia"])
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn node smsc.mjs");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, events) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                eprintln!("smsc> {line}");
                match Json::parse(&line) {
                    Some(v) => {
                        if tx.send(v).is_err() {
                            break;
                        }
                    }
                    None => eprintln!("smsc: unparsable line"),
                }
            }
        });
        Smsc {
            child,
            stdin,
            events,
            backlog: VecDeque::new(),
        }
    }

    pub fn send(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").expect("write to smsc");
        self.stdin.flush().expect("flush");
    }

    /// Waits for the next event named `name`, keeping the others for later waits.
    pub async fn wait(&mut self, name: &str) -> Json {
        if let Some(i) = self.backlog.iter().position(|e| e.get("event").str() == name) {
            return self.backlog.remove(i).expect("index is valid");
        }
        loop {
            let event = timeout(WAIT, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("no {name:?} event from the SMSC within {WAIT:?}"))
                .unwrap_or_else(|| panic!("SMSC exited while waiting for {name:?}"));
            if event.get("event").str() == "error" {
                panic!("SMSC reported an error: {:?}", event.get("message"));
            }
            if event.get("event").str() == name {
                return event;
            }
            self.backlog.push_back(event);
        }
    }

    /// Removes and returns every backlogged or pending event named `name`.
    pub fn take_all(&mut self, name: &str) -> Vec<Json> {
        while let Ok(e) = self.events.try_recv() {
            self.backlog.push_back(e);
        }
        let (hit, rest): (VecDeque<Json>, VecDeque<Json>) =
            self.backlog.drain(..).partition(|e| e.get("event").str() == name);
        self.backlog = rest;
        hit.into()
    }
}

impl Drop for Smsc {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "{{\"cmd\":\"quit\"}}");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Makes sure node and the `smpp` package are there in `dir` (the folder
/// of `smsc.mjs`); `None` (with a printed reason) skips.
pub fn prepare(dir: &Path) -> Option<PathBuf> {
    let dir = dir.to_path_buf();
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("SKIPPED smsc integration test: `node` is not installed");
        return None;
    }
    // Tests of one binary run in parallel: one `npm ci` at a time, and the
    // others find its result (two at once trip over each other's files).
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if !dir.join("node_modules").join("smpp").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("node is installed but `npm` could not be run");
        assert!(status.success(), "npm ci in {} failed", dir.display());
    }
    Some(dir)
}
