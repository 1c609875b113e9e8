//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use telemetry_devserver::{DevServer, DevServerOptions};

/// Generous bound for anything that should happen "soon" on a loaded machine.
pub const SOON: Duration = Duration::from_secs(10);

/// A server with the default options.
pub fn server() -> DevServer {
    DevServer::start(DevServerOptions::default()).expect("server starts")
}

/// A response as read by [`exchange`].
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }
}

pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(SOON)).unwrap();
    stream.set_write_timeout(Some(SOON)).unwrap();
    stream
}

/// A POST with `Connection: close`; `extra` holds more header lines, each
/// ending in CRLF.
pub fn post_bytes(path: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n{extra}\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// Sends raw bytes on a new connection and reads one response to the end of
/// the connection (send `Connection: close`). `None` when the server closed
/// the connection without answering.
pub fn exchange(addr: SocketAddr, request: &[u8]) -> Option<RawResponse> {
    let mut stream = connect(addr);
    stream.write_all(request).expect("write request");
    read_to_end(&mut stream)
}

pub fn read_to_end(stream: &mut TcpStream) -> Option<RawResponse> {
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse_response(&raw)
}

pub fn parse_response(raw: &[u8]) -> Option<RawResponse> {
    if raw.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("response head");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.trim().to_string(), value.trim().to_string())
        })
        .collect();
    Some(RawResponse {
        status,
        headers,
        body: body.to_string(),
    })
}

pub fn post_json(addr: SocketAddr, path: &str, body: &serde_json::Value) -> RawResponse {
    exchange(addr, &post_bytes(path, "", body.to_string().as_bytes())).expect("a response")
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}
