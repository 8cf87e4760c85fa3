//! Netstring framing (`<len>:<bytes>,`), the framing of baresip's control socket.
//!
//! The decoder is strict and bounded: a frame longer than `max_len` is refused as soon as its
//! length is read, before any of it is buffered, so a confused or hostile peer cannot make the
//! buffer grow; anything that is not a netstring is an error, never a panic. After an error the
//! stream is out of step and the connection should be dropped.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// Large enough for any baresip event or command reply (they are a few hundred bytes; RTCP
/// statistics and `listcalls` stay well under a kilobyte per call).
pub const DEFAULT_MAX_LEN: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum NetstringError {
    #[error("a frame of {len} bytes is over the limit of {max} bytes")]
    TooLong { len: usize, max: usize },
    #[error("not a netstring: {0}")]
    Malformed(&'static str),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

#[derive(Debug, Clone)]
pub struct NetstringCodec {
    max_len: usize,
    /// Digits of `max_len`: a length header longer than this is refused without waiting for
    /// its colon.
    max_digits: usize,
    /// The length of the frame whose header has been read, while its body is awaited.
    body_len: Option<usize>,
}

impl NetstringCodec {
    pub fn new(max_len: usize) -> NetstringCodec {
        NetstringCodec {
            max_len,
            max_digits: max_len.to_string().len(),
            body_len: None,
        }
    }

    /// Reads `<digits>:` from the front of `src`; `None` while it is incomplete.
    fn header(&self, src: &mut BytesMut) -> Result<Option<usize>, NetstringError> {
        let Some(colon) = src.iter().take(self.max_digits + 1).position(|&b| b == b':') else {
            if src.iter().take(self.max_digits + 1).any(|b| !b.is_ascii_digit()) {
                return Err(NetstringError::Malformed("the length is not a number"));
            }
            if src.len() > self.max_digits {
                return Err(self.too_long_header(src));
            }
            return Ok(None);
        };
        let digits = &src[..colon];
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(NetstringError::Malformed("the length is not a number"));
        }
        if digits.len() > 1 && digits[0] == b'0' {
            return Err(NetstringError::Malformed("the length has a leading zero"));
        }
        // At most `max_digits` ASCII digits: the sum cannot overflow a usize.
        let len = digits.iter().fold(0usize, |n, d| n * 10 + usize::from(d - b'0'));
        if len > self.max_len {
            return Err(NetstringError::TooLong { len, max: self.max_len });
        }
        src.advance(colon + 1);
        Ok(Some(len))
    }

    fn too_long_header(&self, src: &BytesMut) -> NetstringError {
        // Only digits so far, and more of them than any allowed length has.
        let len = src.iter().take(self.max_digits + 1).fold(0usize, |n, d| {
            n.saturating_mul(10).saturating_add(usize::from(d.wrapping_sub(b'0')))
        });
        NetstringError::TooLong { len, max: self.max_len }
    }
}

impl Default for NetstringCodec {
    fn default() -> Self {
        NetstringCodec::new(DEFAULT_MAX_LEN)
    }
}

impl Decoder for NetstringCodec {
    type Item = Bytes;
    type Error = NetstringError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, NetstringError> {
        let len = match self.body_len {
            Some(len) => len,
            None => match self.header(src)? {
                Some(len) => {
                    self.body_len = Some(len);
                    len
                }
                None => return Ok(None),
            },
        };
        if src.len() <= len {
            // Room for the rest of this frame only: the limit above bounds it.
            src.reserve(len + 1 - src.len());
            return Ok(None);
        }
        if src[len] != b',' {
            return Err(NetstringError::Malformed("the frame does not end with a comma"));
        }
        self.body_len = None;
        let body = src.split_to(len).freeze();
        src.advance(1);
        Ok(Some(body))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, NetstringError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() && self.body_len.is_none() => Ok(None),
            None => Err(NetstringError::Malformed("the connection closed inside a frame")),
        }
    }
}

impl Encoder<&[u8]> for NetstringCodec {
    type Error = NetstringError;

    fn encode(&mut self, item: &[u8], dst: &mut BytesMut) -> Result<(), NetstringError> {
        if item.len() > self.max_len {
            return Err(NetstringError::TooLong {
                len: item.len(),
                max: self.max_len,
            });
        }
        let header = item.len().to_string();
        dst.reserve(header.len() + item.len() + 2);
        dst.put_slice(header.as_bytes());
        dst.put_u8(b':');
        dst.put_slice(item);
        dst.put_u8(b',');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode_all(frames: &[Vec<u8>]) -> Vec<u8> {
        let mut codec = NetstringCodec::default();
        let mut out = BytesMut::new();
        for f in frames {
            codec.encode(f.as_slice(), &mut out).unwrap();
        }
        out.to_vec()
    }

    /// Feeds `bytes` in the given chunk sizes, as reads from a socket would deliver them.
    fn decode_chunked(
        codec: &mut NetstringCodec,
        bytes: &[u8],
        chunks: &[usize],
    ) -> Result<Vec<Bytes>, NetstringError> {
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        let mut rest = bytes;
        let mut sizes = chunks.iter().cycle();
        while !rest.is_empty() {
            let n = (*sizes.next().unwrap_or(&1)).clamp(1, rest.len());
            buf.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            while let Some(frame) = codec.decode(&mut buf)? {
                frames.push(frame);
            }
            assert!(
                buf.len() <= codec.max_len + codec.max_digits + 2 + n,
                "the buffer stays bounded: {} bytes",
                buf.len()
            );
        }
        if let Some(frame) = codec.decode_eof(&mut buf)? {
            frames.push(frame);
        }
        Ok(frames)
    }

    #[test]
    fn a_baresip_event_is_one_frame() {
        let mut codec = NetstringCodec::default();
        let mut buf = BytesMut::from(&b"11:{\"event\":1},"[..]);
        assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b"{\"event\":1}"[..]);
        assert!(buf.is_empty());
        assert_eq!(encode_all(&[b"{}".to_vec()]), b"2:{},");
    }

    #[test]
    fn partial_frames_wait_for_the_rest() {
        let mut codec = NetstringCodec::default();
        let mut buf = BytesMut::from(&b"1"[..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        buf.extend_from_slice(b"1:hello");
        assert!(codec.decode(&mut buf).unwrap().is_none());
        buf.extend_from_slice(b" world");
        assert!(codec.decode(&mut buf).unwrap().is_none(), "the comma is still missing");
        buf.extend_from_slice(b",");
        assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b"hello world"[..]);
    }

    #[test]
    fn several_frames_in_one_read() {
        let mut codec = NetstringCodec::default();
        let mut buf = BytesMut::from(&b"1:a,0:,3:bcd,2:e"[..]);
        assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b"a"[..]);
        assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b""[..]);
        assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b"bcd"[..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        assert!(
            codec.decode_eof(&mut buf).is_err(),
            "a frame cut off by the end is an error"
        );
    }

    #[test]
    fn oversize_frames_are_refused_before_buffering() {
        let mut codec = NetstringCodec::new(100);
        let mut buf = BytesMut::from(&b"101:"[..]);
        assert!(matches!(
            codec.decode(&mut buf),
            Err(NetstringError::TooLong { len: 101, max: 100 })
        ));
        // A length with more digits than the limit is refused before its colon arrives.
        let mut buf = BytesMut::from(&b"9999"[..]);
        assert!(matches!(codec.decode(&mut buf), Err(NetstringError::TooLong { .. })));
        let mut buf = BytesMut::from(&b"999999999999999999999999999999"[..]);
        assert!(matches!(codec.decode(&mut buf), Err(NetstringError::TooLong { .. })));
        assert!(codec.encode(&[0u8; 101][..], &mut BytesMut::new()).is_err());
    }

    #[test]
    fn garbage_is_refused() {
        for garbage in [
            &b"hello"[..],
            b":",
            b"-1:x,",
            b"01:x,",
            b"1:xy",
            b"3:abc;",
            b"{\"event\":true}",
            b"1 :x,",
        ] {
            let mut codec = NetstringCodec::default();
            let result = decode_chunked(&mut codec, garbage, &[64]);
            assert!(result.is_err(), "{:?} is refused", String::from_utf8_lossy(garbage));
        }
    }

    proptest! {
        #[test]
        fn frames_survive_any_split(
            frames in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..8),
            chunks in prop::collection::vec(1usize..64, 1..8),
        ) {
            let bytes = encode_all(&frames);
            let decoded = decode_chunked(&mut NetstringCodec::default(), &bytes, &chunks).unwrap();
            prop_assert_eq!(decoded.iter().map(|b| b.to_vec()).collect::<Vec<_>>(), frames);
        }

        #[test]
        fn garbage_never_panics_and_stays_bounded(
            bytes in prop::collection::vec(any::<u8>(), 0..2000),
            chunks in prop::collection::vec(1usize..300, 1..8),
        ) {
            // Errors are fine; panics and unbounded buffers (checked inside) are not.
            let _ = decode_chunked(&mut NetstringCodec::new(256), &bytes, &chunks);
        }

        #[test]
        fn digit_garbage_never_panics(
            bytes in "[0-9:,]{0,40}",
        ) {
            let _ = decode_chunked(&mut NetstringCodec::new(256), bytes.as_bytes(), &[3]);
        }
    }
}
