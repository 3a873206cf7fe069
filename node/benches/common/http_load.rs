//! A lean HTTP/1.1 load client for the verification benchmarks: one keep-alive connection per
//! client thread, the request's bytes built once, the response read by its `Content-Length`
//! and checked by its status line and a marker in its body.
//!
//! Written here rather than taken from `lichen_client` (ureq, and a `serde_json::Value` parse
//! of every ~2 KB report) because the load shares this machine's two cores with the server:
//! a heavy client measures itself. Like wrk, it does the least a client must.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// The bytes of `POST path` to `url` (`http://host:port`) with `body` as
/// `application/octet-stream`.
pub fn post_request(url: &str, path: &str, body: &[u8]) -> Vec<u8> {
    let host = host(url);
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// The bytes of `GET path` to `url` (`http://host:port`).
pub fn get_request(url: &str, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", host(url)).into_bytes()
}

fn host(url: &str) -> &str {
    url.trim_start_matches("http://").trim_end_matches('/')
}

/// One keep-alive connection.
pub struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    body: Vec<u8>,
    line: String,
}

impl Connection {
    /// A connection to `url` (`http://host:port`).
    pub fn open(url: &str) -> std::io::Result<Self> {
        let stream = TcpStream::connect(host(url))?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            reader: BufReader::with_capacity(64 * 1024, stream.try_clone()?),
            writer: stream,
            body: Vec::new(),
            line: String::new(),
        })
    }

    /// Sends `request` (whole, as [`post_request`] makes it) and reads the whole response: its
    /// status and body.
    pub fn send(&mut self, request: &[u8]) -> std::io::Result<(u16, &[u8])> {
        self.writer.write_all(request)?;
        self.line.clear();
        self.reader.read_line(&mut self.line)?;
        let status = self
            .line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(format!("bad status line {:?}", self.line)))?;
        let mut length = None;
        loop {
            self.line.clear();
            if self.reader.read_line(&mut self.line)? == 0 {
                return Err(bad("connection closed in the headers".into()));
            }
            let header = self.line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let length = length.ok_or_else(|| bad("no Content-Length".into()))?;
        self.body.resize(length, 0);
        self.reader.read_exact(&mut self.body)?;
        Ok((status, &self.body))
    }
}

fn bad(reason: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, reason)
}

/// Whether `haystack` contains `needle`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
