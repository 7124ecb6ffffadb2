//! A real SMTP server on loopback for the mail tests: RFC 5321's commands as lettre sends them
//! (EHLO, AUTH PLAIN, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT), every message
//! kept whole, and helpers that decode the plain-text part (7bit, quoted-printable or base64)
//! and pull the action link out of it. Also a "dead" server that accepts and never answers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;

#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and body), CRLF line ends, dots unstuffed.
    pub data: String,
    /// `user\0password` of AUTH PLAIN, when the client authenticated.
    pub auth: Option<String>,
}

pub struct SmtpSink {
    pub port: u16,
    mails: Arc<Mutex<Vec<Received>>>,
    arrived: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the SMTP sink");
        let port = listener.local_addr().unwrap().port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Notify::new());
        let (kept, notify) = (mails.clone(), arrived.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (kept, notify) = (kept.clone(), notify.clone());
                tokio::spawn(async move {
                    let _ = session(stream, kept, notify).await;
                });
            }
        });
        SmtpSink { port, mails, arrived, task }
    }

    pub fn count(&self) -> usize {
        self.mails.lock().unwrap().len()
    }

    /// The `n`th mail (from 0), waiting up to `within` for it to arrive.
    pub async fn mail(&self, n: usize, within: Duration) -> Received {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.arrived.notified();
            if let Some(mail) = self.mails.lock().unwrap().get(n) {
                return mail.clone();
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("mail #{n} did not arrive within {within:?}; got {}", self.count());
            }
        }
    }
}

async fn session(stream: tokio::net::TcpStream, kept: Arc<Mutex<Vec<Received>>>, notify: Arc<Notify>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    let (mut from, mut to, mut auth) = (String::new(), Vec::new(), None);
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            write.write_all(b"250-sink.test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n").await?;
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("AUTH PLAIN ") {
            let decoded = base64::engine::general_purpose::STANDARD.decode(command[11..].trim()).unwrap_or_default();
            let text = String::from_utf8_lossy(&decoded).to_string();
            auth = Some(text.trim_start_matches('\0').to_string());
            write.write_all(b"235 2.7.0 Authentication successful\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            from = command[10..].trim().trim_matches(|c| c == '<' || c == '>').to_string();
            to.clear();
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(command[8..].trim().trim_matches(|c| c == '<' || c == '>').to_string());
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "DATA" {
            write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            kept.lock().unwrap().push(Received { from: from.clone(), to: to.clone(), data, auth: auth.clone() });
            notify.notify_waiters();
            write.write_all(b"250 OK queued\r\n").await?;
        } else if upper == "RSET" {
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "QUIT" {
            write.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else {
            write.write_all(b"502 Command not implemented\r\n").await?;
        }
    }
}

/// A server that accepts connections and never says a word (a hung mail server).
pub async fn dead_server() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    (port, task)
}

/// A port nothing listens on.
pub async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

fn decode_qp(body: &str) -> String {
    let joined = body.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

/// The decoded body of the part whose Content-Type starts with `mime` (e.g. `text/plain`).
pub fn part(data: &str, mime: &str) -> String {
    let lower = data.to_ascii_lowercase();
    let at = lower.find(&format!("content-type: {mime}")).unwrap_or_else(|| panic!("no {mime} part in {data}"));
    let rest = &data[at..];
    let header_end = rest.find("\r\n\r\n").expect("part headers end");
    let headers = rest[..header_end].to_ascii_lowercase();
    let body = &rest[header_end + 4..];
    let body = &body[..body.find("\r\n--").unwrap_or(body.len())];
    if headers.contains("content-transfer-encoding: quoted-printable") {
        decode_qp(body)
    } else if headers.contains("content-transfer-encoding: base64") {
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(compact).expect("base64 part")).unwrap()
    } else {
        body.to_string()
    }
}

/// The first `http` URL of the plain-text part.
pub fn link(mail: &Received) -> String {
    let text = part(&mail.data, "text/plain");
    let start = text.find("http").unwrap_or_else(|| panic!("no link in {text}"));
    text[start..].split_whitespace().next().unwrap().to_string()
}

/// The subject header.
pub fn subject(mail: &Received) -> String {
    mail.data
        .lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap_or_else(|| panic!("no subject in {}", mail.data))
        .to_string()
}
