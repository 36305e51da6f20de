//! The stdio link between an MCP client and rmcp, with a guard in between.
//!
//! rmcp silently drops input lines that are not JSON-RPC messages; a client
//! that sent one would wait forever. The guard reads stdin itself and
//! answers such lines with the JSON-RPC error the specification asks for
//! (-32700 parse error, -32600 invalid request), refuses lines over a size
//! cap, forwards the rest to rmcp through an in-memory pipe, and writes
//! every outgoing message to stdout whole, one line at a time. When stdin
//! ends (the client went away) it cancels `input_closed`, so the server can
//! stop in-flight work instead of outliving its client; the answers to
//! everything read before still go out (rmcp drains its handlers, and the
//! server waits for `output` before it exits).

use serde_json::{json, Value};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Largest accepted message line.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// rmcp's side of the guarded link, and the guard's two tasks.
pub struct GuardedStdio {
    /// What rmcp reads: the valid input lines.
    pub reader: DuplexStream,
    /// What rmcp writes: forwarded to stdout.
    pub writer: DuplexStream,
    /// Reads stdin; abort it to stop listening (a blocking stdin read
    /// cannot be cancelled otherwise).
    pub input: tokio::task::JoinHandle<()>,
    /// Writes stdout; it ends once rmcp's writer is closed, the input task
    /// has ended, and every line queued before has been written and flushed.
    pub output: tokio::task::JoinHandle<()>,
}

enum Line {
    Eof,
    Complete,
    TooLong,
}

/// Reads one line into `out` (without keeping more than `cap` bytes).
async fn read_line_capped<R: AsyncBufRead + Unpin>(
    r: &mut R,
    out: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<Line> {
    let mut too_long = false;
    let mut any = false;
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return Ok(match (any, too_long) {
                (false, _) => Line::Eof,
                (true, true) => Line::TooLong,
                (true, false) => Line::Complete,
            });
        }
        any = true;
        let (len, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if !too_long {
            if out.len() + len > cap {
                too_long = true;
                out.clear();
            } else {
                out.extend_from_slice(&buf[..len]);
            }
        }
        r.consume(len);
        if done {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Complete
            });
        }
    }
}

fn error_line(id: Value, code: i64, message: String) -> Vec<u8> {
    let mut line = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
        .to_string()
        .into_bytes();
    line.push(b'\n');
    line
}

/// `None` when `line` is a JSON-RPC 2.0 message rmcp should see; otherwise
/// the error response to send back.
pub fn check_message(line: &[u8]) -> Option<Vec<u8>> {
    let value: Value = match serde_json::from_slice(line) {
        Ok(v) => v,
        Err(e) => return Some(error_line(Value::Null, -32700, format!("parse error: {e}"))),
    };
    let id = match value.get("id") {
        Some(id @ (Value::String(_) | Value::Number(_))) => id.clone(),
        _ => Value::Null,
    };
    let is_message = value.get("jsonrpc") == Some(&json!("2.0"))
        && (value.get("method").is_some_and(Value::is_string)
            || (value.get("id").is_some()
                && (value.get("result").is_some() || value.get("error").is_some())));
    if is_message {
        None
    } else {
        Some(error_line(
            id,
            -32600,
            "invalid request: expected one JSON-RPC 2.0 message object per line (batches are not supported)".into(),
        ))
    }
}

/// Starts the guard on the process's stdin/stdout.
pub fn guard(input_closed: CancellationToken) -> GuardedStdio {
    let (reader, mut feed) = tokio::io::duplex(1 << 16);
    let (writer, rmcp_output) = tokio::io::duplex(1 << 16);
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Vec<u8>>();

    let output = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(line) = out_rx.recv().await {
            if stdout.write_all(&line).await.is_err() || stdout.flush().await.is_err() {
                break;
            }
        }
    });

    let rmcp_lines = out_tx.clone();
    tokio::spawn(async move {
        let mut output = BufReader::new(rmcp_output);
        loop {
            let mut line = Vec::new();
            match output.read_until(b'\n', &mut line).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if rmcp_lines.send(line).is_err() {
                        break;
                    }
                }
            }
        }
    });

    let input = tokio::spawn(async move {
        let mut input = BufReader::with_capacity(1 << 16, tokio::io::stdin());
        let mut line = Vec::new();
        loop {
            line.clear();
            match read_line_capped(&mut input, &mut line, MAX_LINE_BYTES).await {
                Err(_) | Ok(Line::Eof) => break,
                Ok(Line::TooLong) => {
                    let _ = out_tx.send(error_line(
                        Value::Null,
                        -32600,
                        format!("message larger than {MAX_LINE_BYTES} bytes: refused"),
                    ));
                }
                Ok(Line::Complete) => {
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    match check_message(&line) {
                        Some(error) => {
                            let _ = out_tx.send(error);
                        }
                        None => {
                            if line.last() != Some(&b'\n') {
                                line.push(b'\n');
                            }
                            if feed.write_all(&line).await.is_err() {
                                break;
                            }
                        }
                    }
                }
            }
        }
        input_closed.cancel();
        drop(feed); // rmcp sees end of input too
    });

    GuardedStdio {
        reader,
        writer,
        input,
        output,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_lines() {
        assert!(check_message(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#).is_none());
        assert!(
            check_message(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).is_none()
        );
        assert!(check_message(br#"{"jsonrpc":"2.0","id":"x","result":{}}"#).is_none());
        let parse = String::from_utf8(check_message(b"{not json").unwrap()).unwrap();
        assert!(
            parse.contains("-32700") && parse.contains("\"id\":null"),
            "{parse}"
        );
        let invalid =
            String::from_utf8(check_message(br#"{"id":7,"method":"x"}"#).unwrap()).unwrap();
        assert!(
            invalid.contains("-32600") && invalid.contains("\"id\":7"),
            "{invalid}"
        );
        assert!(check_message(b"[1,2]").is_some());
    }

    #[tokio::test]
    async fn long_lines_are_cut_and_reported() {
        let data = format!("{}\nshort\n", "x".repeat(100));
        let mut r = BufReader::with_capacity(8, data.as_bytes());
        let mut line = Vec::new();
        assert!(matches!(
            read_line_capped(&mut r, &mut line, 50).await.unwrap(),
            Line::TooLong
        ));
        line.clear();
        assert!(matches!(
            read_line_capped(&mut r, &mut line, 50).await.unwrap(),
            Line::Complete
        ));
        assert_eq!(line, b"short\n");
        line.clear();
        assert!(matches!(
            read_line_capped(&mut r, &mut line, 50).await.unwrap(),
            Line::Eof
        ));
    }
}
