//! The JSON that travels over baresip's control socket (one netstring frame each).
//!
//! Commands: `{"command":"dial","params":"sip:…","token":"…"}`. Replies:
//! `{"response":true,"ok":true,"data":"…","token":"…"}`. Events:
//! `{"event":true,"type":"CALL_RINGING","class":"call","direction":"outgoing","peeruri":"…",
//! "id":"…","param":"…"}`. Fields are read one by one from a generic JSON value, so a field
//! added or retyped by another baresip version is skipped instead of failing the whole frame.

use serde_json::Value;

/// Longest text kept from the softphone (a reason, a reply): it ends up on one screen line.
const TEXT_MAX: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Event(Event),
    Response(Response),
    /// Valid JSON that is neither: skipped.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// e.g. `CALL_RINGING`, `CALL_ESTABLISHED`, `CALL_CLOSED`.
    pub kind: String,
    /// baresip's id of the call the event is about, when it is about a call.
    pub call_id: Option<String>,
    /// `Some(true)` for a call we placed, `Some(false)` for one coming in.
    pub outgoing: Option<bool>,
    pub peer_uri: Option<String>,
    /// For `CALL_CLOSED`, the reason ("486 Busy Here", "Connection reset by peer").
    pub param: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub ok: bool,
    /// What the command printed, or its error, made printable.
    pub data: String,
    pub token: Option<String>,
}

/// Reads one frame. An error means the frame is not JSON at all.
pub fn parse(frame: &[u8]) -> Result<Message, String> {
    let value: Value = serde_json::from_slice(frame).map_err(|e| format!("not JSON: {e}"))?;
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(clean);
    if value.get("event").and_then(Value::as_bool) == Some(true) {
        let Some(kind) = text("type") else {
            return Ok(Message::Other);
        };
        return Ok(Message::Event(Event {
            kind,
            call_id: text("id"),
            outgoing: value.get("direction").and_then(Value::as_str).and_then(|d| match d {
                "outgoing" => Some(true),
                "incoming" => Some(false),
                _ => None,
            }),
            peer_uri: text("peeruri"),
            param: text("param"),
        }));
    }
    if value.get("response").and_then(Value::as_bool) == Some(true) {
        return Ok(Message::Response(Response {
            ok: value.get("ok").and_then(Value::as_bool).unwrap_or(false),
            data: text("data").unwrap_or_default(),
            token: text("token"),
        }));
    }
    Ok(Message::Other)
}

/// One command as a frame body. `params` is passed as one string: baresip appends it to the
/// command name after a space.
pub fn command(name: &str, params: Option<&str>, token: &str) -> Vec<u8> {
    let mut body = serde_json::Map::new();
    body.insert("command".into(), name.into());
    if let Some(params) = params {
        body.insert("params".into(), params.into());
    }
    body.insert("token".into(), token.into());
    Value::Object(body).to_string().into_bytes()
}

/// Terminal colours and control characters removed, trimmed, bounded.
fn clean(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // An ANSI sequence: ESC [ parameters, ended by a letter.
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    let trimmed = out.trim();
    trimmed.chars().take(TEXT_MAX).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_and_replies_are_read() {
        let frame = br#"{"event":true,"type":"CALL_CLOSED","class":"call","accountaor":"sip:alice@127.0.0.1:5070","direction":"outgoing","peeruri":"sip:bob@127.0.0.1:5080","id":"f87a05ee52811256","param":"486 Busy Here"}"#;
        assert_eq!(
            parse(frame).unwrap(),
            Message::Event(Event {
                kind: "CALL_CLOSED".into(),
                call_id: Some("f87a05ee52811256".into()),
                outgoing: Some(true),
                peer_uri: Some("sip:bob@127.0.0.1:5080".into()),
                param: Some("486 Busy Here".into()),
            })
        );
        let frame = br#"{"response":true,"ok":false,"data":"\u001b[31mInvalid argument\u001b[;m\n","token":"t1"}"#;
        assert_eq!(
            parse(frame).unwrap(),
            Message::Response(Response {
                ok: false,
                data: "Invalid argument".into(),
                token: Some("t1".into()),
            })
        );
    }

    #[test]
    fn unknown_shapes_are_skipped_and_garbage_refused() {
        assert_eq!(parse(br#"{"event":"yes","type":"X"}"#).unwrap(), Message::Other);
        assert_eq!(parse(br#"{"event":true,"type":7}"#).unwrap(), Message::Other);
        assert_eq!(parse(b"[1,2]").unwrap(), Message::Other);
        assert!(parse(b"{\"event\":tru").is_err());
        assert!(parse(&[0xff, 0xfe]).is_err());
        let deep = "[".repeat(100_000);
        assert!(
            parse(deep.as_bytes()).is_err(),
            "deep nesting is refused, not a stack overflow"
        );
    }

    #[test]
    fn commands_are_json() {
        let body = command("dial", Some("sip:+1@g \"x\""), "d1");
        let value: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value["command"], "dial");
        assert_eq!(value["params"], "sip:+1@g \"x\"");
        assert_eq!(value["token"], "d1");
        assert!(serde_json::from_slice::<Value>(&command("hangup", None, "h1"))
            .unwrap()
            .get("params")
            .is_none());
    }
}
