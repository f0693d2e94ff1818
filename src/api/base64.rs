//! Standard base64, for HTTP Basic credentials and opaque pagination cursors.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes `bytes` as standard base64 with padding.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let [a, b, c] = [0, 1, 2].map(|at| chunk.get(at).copied().unwrap_or(0));
        let group = u32::from(a) << 16 | u32::from(b) << 8 | u32::from(c);
        for position in 0..4 {
            if position <= chunk.len() {
                let digit = (group >> (18 - 6 * position)) & 0x3f;
                let symbol = usize::try_from(digit)
                    .ok()
                    .and_then(|digit| ALPHABET.get(digit));
                text.push(symbol.map_or('=', |symbol| char::from(*symbol)));
            } else {
                text.push('=');
            }
        }
    }
    text
}

/// Decodes standard base64 with or without padding; `None` for anything else.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    let digits = text.trim_end_matches('=');
    let mut bytes = Vec::with_capacity(digits.len() * 3 / 4);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for character in digits.bytes() {
        let value = match character {
            b'A'..=b'Z' => character - b'A',
            b'a'..=b'z' => character - b'a' + 26,
            b'0'..=b'9' => character - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        buffer = (buffer << 6 | u32::from(value)) & 0xff_ffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(bytes)
}

/// An opaque pagination cursor for a position in a list.
pub(crate) fn cursor(position: usize) -> String {
    encode(format!("position:{position}").as_bytes())
}

/// The position a cursor made by [`cursor`] stands for.
pub(crate) fn position(cursor: &str) -> Option<usize> {
    let text = String::from_utf8(decode(cursor.trim())?).ok()?;
    text.strip_prefix("position:")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_with_padding() {
        for text in ["", "f", "fo", "foo", "foob", "fooba", "foobar", "t1:s1"] {
            let encoded = encode(text.as_bytes());
            assert_eq!(decode(&encoded).unwrap(), text.as_bytes(), "{encoded}");
        }
        assert_eq!(encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(encode(b"fo"), "Zm8=");
        assert_eq!(decode("Zm8"), Some(b"fo".to_vec()));
        assert_eq!(decode("Z!"), None);
    }

    #[test]
    fn cursors_are_opaque_positions() {
        assert_eq!(position(&cursor(250)), Some(250));
        assert_eq!(position("garbage"), None);
        assert_eq!(position(&encode(b"position:x")), None);
    }
}
