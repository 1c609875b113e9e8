//! A deliberately small HTTP/1.1 server side: enough of the protocol for
//! PostHog clients (Content-Length and chunked bodies, keep-alive,
//! `Expect: 100-continue`), with full control over when (and whether) a
//! response is written.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long a blocking read waits before the connection re-checks the
/// shutdown flag.
pub(crate) const POLL: Duration = Duration::from_millis(50);
/// How long a writer may block on a client that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// An idle keep-alive connection is closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// A started request must be complete within this long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest request head (request line and headers) accepted.
const MAX_HEAD: usize = 64 * 1024;

/// A parsed request (the default one is empty: the record of a request whose
/// head could not be read).
#[derive(Default)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) version: String,
    /// Lower-case names, values trimmed.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Whether the client asked to keep the connection open afterwards.
    pub(crate) fn keep_alive(&self) -> bool {
        let connection = self
            .header("connection")
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if self.version == "HTTP/1.0" {
            connection.contains("keep-alive")
        } else {
            !connection.contains("close")
        }
    }
}

/// Why no request could be read.
pub(crate) enum ReadError {
    /// The peer closed the connection (cleanly, between requests, or midway).
    Closed,
    /// The server is shutting down.
    Shutdown,
    /// Idle or request timeout, or an I/O error: close without answering.
    Gone,
    /// Malformed request: answer 400 and close.
    Malformed(String),
    /// Head too large: answer 431 and close.
    HeadTooLarge,
    /// Body larger than the limit (declared or as read): answer 413 and close.
    BodyTooLarge {
        /// The request head, for the record.
        head: Box<Request>,
    },
}

/// One accepted connection.
pub(crate) struct Conn<'a> {
    stream: TcpStream,
    buf: Vec<u8>,
    shutdown: &'a AtomicBool,
}

impl<'a> Conn<'a> {
    pub(crate) fn new(stream: TcpStream, shutdown: &'a AtomicBool) -> io::Result<Self> {
        // Accepted sockets do not reliably inherit the listener's mode.
        stream.set_nonblocking(false)?;
        stream.set_read_timeout(Some(POLL))?;
        stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
        let _ = stream.set_nodelay(true);
        Ok(Self {
            stream,
            buf: Vec::new(),
            shutdown,
        })
    }

    /// Reads more bytes into the buffer. Returns the number read (never 0).
    fn fill(&mut self, deadline: Instant) -> Result<usize, ReadError> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if self.shutdown.load(Ordering::Acquire) {
                return Err(ReadError::Shutdown);
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(ReadError::Closed),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if Instant::now() >= deadline {
                        return Err(ReadError::Gone);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(ReadError::Gone),
            }
        }
    }

    /// Reads the next request. `max_body` bounds the body (after chunked
    /// decoding, before any content decoding).
    pub(crate) fn read_request(&mut self, max_body: usize) -> Result<Request, ReadError> {
        // Wait for the first byte of a request with the idle timeout, then for
        // the rest with the request timeout.
        if self.buf.is_empty() {
            self.fill(Instant::now() + IDLE_TIMEOUT)?;
        }
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        let mut searched = 0;
        let head_end = loop {
            if let Some(pos) = find(&self.buf[searched..], b"\r\n\r\n") {
                break searched + pos + 4;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadError::HeadTooLarge);
            }
            searched = self.buf.len().saturating_sub(3);
            self.fill(deadline)?;
        };
        if head_end > MAX_HEAD {
            return Err(ReadError::HeadTooLarge);
        }
        let head_bytes: Vec<u8> = self.buf.drain(..head_end).collect();
        let mut request = parse_head(&head_bytes)?;

        let chunked = request
            .header("transfer-encoding")
            .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
        if chunked {
            self.continue_if_expected(&request);
            request.body = match self.read_chunked(max_body, deadline) {
                Err(ReadError::BodyTooLarge { .. }) => {
                    return Err(ReadError::BodyTooLarge {
                        head: Box::new(request),
                    });
                }
                body => body?,
            };
            return Ok(request);
        }
        let length = match request.header("content-length") {
            None => 0,
            Some(value) => value
                .parse::<usize>()
                .map_err(|_| ReadError::Malformed(format!("invalid Content-Length {value:?}")))?,
        };
        if length > max_body {
            return Err(ReadError::BodyTooLarge {
                head: Box::new(request),
            });
        }
        self.continue_if_expected(&request);
        while self.buf.len() < length {
            self.fill(deadline)?;
        }
        request.body = self.buf.drain(..length).collect();
        Ok(request)
    }

    fn continue_if_expected(&mut self, request: &Request) {
        let expects = request
            .header("expect")
            .is_some_and(|value| value.eq_ignore_ascii_case("100-continue"));
        if expects && request.version != "HTTP/1.0" {
            let _ = self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
    }

    /// Reads a chunked body. Too large a body is [`ReadError::BodyTooLarge`]
    /// with an empty head, for the caller to fill in.
    fn read_chunked(&mut self, max_body: usize, deadline: Instant) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line(deadline)?;
            let size_text = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| ReadError::Malformed(format!("invalid chunk size {size_text:?}")))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.read_line(deadline)?.is_empty() {}
                return Ok(body);
            }
            if body.len().saturating_add(size) > max_body {
                return Err(ReadError::BodyTooLarge {
                    head: Box::default(),
                });
            }
            while self.buf.len() < size + 2 {
                self.fill(deadline)?;
            }
            body.extend_from_slice(&self.buf[..size]);
            if &self.buf[size..size + 2] != b"\r\n" {
                return Err(ReadError::Malformed("chunk not followed by CRLF".into()));
            }
            self.buf.drain(..size + 2);
        }
    }

    fn read_line(&mut self, deadline: Instant) -> Result<String, ReadError> {
        loop {
            if let Some(pos) = find(&self.buf, b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..pos + 2).collect();
                return Ok(String::from_utf8_lossy(&line[..pos]).into_owned());
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadError::Malformed("line too long".into()));
            }
            self.fill(deadline)?;
        }
    }

    /// Writes a complete response, then closes the connection if `close`.
    /// Errors are ignored: the client may be gone.
    pub(crate) fn respond(&mut self, response: &Response, close: bool) {
        self.write_response(response, close);
        if close {
            self.close();
        }
    }

    /// Reads and drops up to `bytes` more bytes of a request that will not be
    /// served (for at most `max_time`), so that the client, still sending, is
    /// not reset before it reads the answer.
    pub(crate) fn discard(&mut self, bytes: usize, max_time: Duration) {
        let deadline = Instant::now() + max_time;
        let mut left = bytes.saturating_sub(self.buf.len());
        self.buf.clear();
        while left > 0 {
            match self.fill(deadline) {
                Ok(n) => {
                    left = left.saturating_sub(n);
                    self.buf.clear();
                }
                Err(_) => return,
            }
        }
    }

    /// Writes a complete response; with `close`, tells the client that the
    /// connection ends after it.
    pub(crate) fn write_response(&mut self, response: &Response, close: bool) {
        let mut out = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
            response.status,
            reason(response.status),
            response.content_type,
            response.body.len()
        );
        for (name, value) in &response.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        if close {
            out.push_str("Connection: close\r\n");
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&response.body);
        let _ = self.stream.write_all(&bytes);
        let _ = self.stream.flush();
    }

    /// Closes the connection without writing anything more.
    pub(crate) fn close(&mut self) {
        // Drain what the client already sent so that closing sends FIN, not RST.
        let _ = self.stream.set_nonblocking(true);
        let mut sink = [0u8; 4096];
        while matches!(self.stream.read(&mut sink), Ok(n) if n > 0) {}
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// Whether the peer has closed its side (a pending read sees end of file).
    /// Blocks for at most [`POLL`].
    pub(crate) fn peer_closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        match self.stream.peek(&mut byte) {
            Ok(0) => true,
            Ok(_) => {
                // The client sent more (a pipelined request); keep waiting, but
                // do not spin on data that stays in the buffer.
                std::thread::sleep(POLL);
                false
            }
            Err(e) => !matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
            ),
        }
    }
}

/// A response to write.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    pub(crate) fn json(status: u16, body: &serde_json::Value) -> Self {
        Self {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: body.to_string().into_bytes(),
        }
    }

    pub(crate) fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn parse_head(head: &[u8]) -> Result<Request, ReadError> {
    let text = std::str::from_utf8(head)
        .map_err(|_| ReadError::Malformed("request head is not UTF-8".into()))?;
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Malformed(format!(
            "invalid request line {request_line:?}"
        )));
    };
    if method.is_empty() || !target.starts_with('/') || !version.starts_with("HTTP/1.") {
        return Err(ReadError::Malformed(format!(
            "invalid request line {request_line:?}"
        )));
    }
    let mut headers = Vec::new();
    for line in lines.filter(|line| !line.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(ReadError::Malformed(format!(
                "invalid header line {line:?}"
            )));
        };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    Ok(Request {
        method: method.to_string(),
        target: target.to_string(),
        version: version.to_string(),
        headers,
        body: Vec::new(),
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
