//! LEB128 integers: seven bits a byte, low bits first, the high bit set on every byte but the
//! last. Signed integers are zig-zag encoded first, so small magnitudes of either sign take
//! few bytes. The compact snapshot encoding and the packed attribute records both use them;
//! the hand-written layouts of snapshot profile slots and change-log batches write them and
//! length-prefixed byte strings through [`Writer`] and read them back through [`Reader`].

/// Why an integer could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// The bytes end inside the integer.
    Short,
    /// The integer has more than 64 bits.
    TooLong,
}

/// Writes `value`, one byte at a time through `push`.
pub(crate) fn write_unsigned(mut value: u64, mut push: impl FnMut(u8)) {
    while value >= 0x80 {
        push(value.to_le_bytes()[0] | 0x80);
        value >>= 7;
    }
    push(value.to_le_bytes()[0]);
}

/// `value` zig-zag encoded: 0, -1, 1, -2, … become 0, 1, 2, 3, ….
pub(crate) fn zigzag(value: i64) -> u64 {
    u64::from_ne_bytes(((value << 1) ^ (value >> 63)).to_ne_bytes())
}

/// The signed integer `raw` zig-zag encodes.
pub(crate) fn unzigzag(raw: u64) -> i64 {
    let magnitude = i64::from_ne_bytes((raw >> 1).to_ne_bytes());
    magnitude ^ -i64::from(raw & 1 == 1)
}

/// Reads an integer from the front of `bytes` and advances past it.
#[inline(always)]
pub(crate) fn read_unsigned(bytes: &mut &[u8]) -> Result<u64, ReadError> {
    // Most numbers (lengths, counts, references) fit in one byte: read where they are used.
    if let [byte @ 0..=0x7f, rest @ ..] = *bytes {
        *bytes = rest;
        return Ok(u64::from(*byte));
    }
    read_unsigned_long(bytes)
}

/// [`read_unsigned`] of a number of two bytes or more.
#[inline(never)]
fn read_unsigned_long(bytes: &mut &[u8]) -> Result<u64, ReadError> {
    // Numbers of up to eight bytes (timestamps take eight) from one word: find the last
    // byte, drop the continuation bits and close the gaps they leave.
    if let Some(word) = bytes.first_chunk::<8>() {
        let word = u64::from_le_bytes(*word);
        let last = !word & 0x8080_8080_8080_8080;
        if last != 0 {
            let len = last.trailing_zeros() / 8 + 1;
            *bytes = bytes.get(len as usize..).unwrap_or_default();
            let x = word & (u64::MAX >> (64 - 8 * len)) & 0x7f7f_7f7f_7f7f_7f7f;
            let x = (x & 0x007f_007f_007f_007f) | ((x & 0x7f00_7f00_7f00_7f00) >> 1);
            let x = (x & 0x0000_3fff_0000_3fff) | ((x & 0x3fff_0000_3fff_0000) >> 2);
            return Ok((x & 0x0000_0000_0fff_ffff) | ((x & 0x0fff_ffff_0000_0000) >> 4));
        }
    }
    read_unsigned_bytewise(bytes)
}

/// [`read_unsigned`] a byte at a time: near the end of the bytes, and for numbers of nine or
/// ten bytes.
fn read_unsigned_bytewise(bytes: &mut &[u8]) -> Result<u64, ReadError> {
    let mut value = 0u64;
    let mut shift = 0;
    while shift < 64 {
        let (byte, rest) = bytes.split_first().ok_or(ReadError::Short)?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
        shift += 7;
    }
    Err(ReadError::TooLong)
}

/// Appends integers and length-prefixed byte strings to a vector.
#[derive(Default)]
pub(crate) struct Writer {
    pub(crate) bytes: Vec<u8>,
}

impl Writer {
    pub(crate) fn unsigned(&mut self, value: u64) {
        write_unsigned(value, |byte| self.bytes.push(byte));
    }

    pub(crate) fn signed(&mut self, value: i64) {
        self.unsigned(zigzag(value));
    }

    /// `bytes` after their length.
    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        self.unsigned(bytes.len() as u64);
        self.bytes.extend_from_slice(bytes);
    }
}

/// Reads what a [`Writer`] wrote, from the front of `rest`; every read is bounds checked, so
/// damaged bytes are an error message, never a panic.
pub(crate) struct Reader<'a> {
    pub(crate) rest: &'a [u8],
}

// The readers are inlined into the loops that read snapshots and batches, and written with
// `match` rather than `map_err`/`ok_or_else`: at the size-first optimization level those
// combinators stay calls, several of them a number read. The errors are built out of line.
impl<'a> Reader<'a> {
    #[inline(always)]
    pub(crate) fn unsigned(&mut self) -> Result<u64, String> {
        match read_unsigned(&mut self.rest) {
            Ok(value) => Ok(value),
            Err(_) => Err(failure("a number that does not read")),
        }
    }

    #[inline(always)]
    pub(crate) fn signed(&mut self) -> Result<i64, String> {
        self.unsigned().map(unzigzag)
    }

    /// A count of items, each at least a byte, so a damaged count cannot ask for more room
    /// than the bytes left could fill.
    #[inline(always)]
    pub(crate) fn count(&mut self) -> Result<usize, String> {
        let count = self.unsigned()?;
        match usize::try_from(count) {
            Ok(fits) if fits <= self.rest.len() => Ok(fits),
            _ => Err(past_the_end(count)),
        }
    }

    #[inline(always)]
    pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        match self.rest.split_at_checked(len) {
            Some((taken, rest)) => {
                self.rest = rest;
                Ok(taken)
            }
            None => Err(failure("the record ends early")),
        }
    }

    #[inline(always)]
    pub(crate) fn byte(&mut self) -> Result<u8, String> {
        match self.rest.split_first() {
            Some((first, rest)) => {
                self.rest = rest;
                Ok(*first)
            }
            None => Err(failure("the record ends early")),
        }
    }

    /// Bytes written after their length.
    #[inline(always)]
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], String> {
        let len = self.count()?;
        self.take(len)
    }

    /// A text written as its UTF-8 bytes.
    #[inline(always)]
    pub(crate) fn text(&mut self) -> Result<&'a str, String> {
        match std::str::from_utf8(self.bytes()?) {
            Ok(text) => Ok(text),
            Err(_) => Err(failure("a text that is not UTF-8")),
        }
    }
}

#[cold]
#[inline(never)]
fn failure(message: &str) -> String {
    message.to_owned()
}

#[cold]
#[inline(never)]
fn past_the_end(count: u64) -> String {
    format!("a count of {count} past the end of the record")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_read_back_as_written_and_damage_is_an_error() {
        for value in [0, 1, -1, 63, -64, 64, 300, -300, i64::MAX, i64::MIN] {
            let mut bytes = Vec::new();
            write_unsigned(zigzag(value), |byte| bytes.push(byte));
            let mut rest = bytes.as_slice();
            assert_eq!(read_unsigned(&mut rest).map(unzigzag), Ok(value));
            assert!(rest.is_empty());
            let mut short = &bytes[..bytes.len() - 1];
            assert_eq!(read_unsigned(&mut short), Err(ReadError::Short));
        }
        let mut small = Vec::new();
        write_unsigned(127, |byte| small.push(byte));
        assert_eq!(small, [127]);
        let mut too_long: &[u8] = &[0xff; 11];
        assert_eq!(read_unsigned(&mut too_long), Err(ReadError::TooLong));
    }

    proptest::proptest! {
        /// The word-at-a-time reading agrees with the bytewise one on any bytes: the value,
        /// the error and what is left.
        #[test]
        fn word_reading_agrees_with_bytewise(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![0x80_u8..=0xff, 0_u8..0x80, proptest::num::u8::ANY],
                0..24,
            ),
        ) {
            let (mut word, mut bytewise) = (bytes.as_slice(), bytes.as_slice());
            proptest::prop_assert_eq!(read_unsigned(&mut word), read_unsigned_bytewise(&mut bytewise));
            proptest::prop_assert_eq!(word, bytewise);
        }

        /// Every value reads back, whatever follows it.
        #[test]
        fn values_read_back_before_any_bytes(value: u64, tail in proptest::collection::vec(proptest::num::u8::ANY, 0..9)) {
            let mut bytes = Vec::new();
            write_unsigned(value, |byte| bytes.push(byte));
            let len = bytes.len();
            bytes.extend_from_slice(&tail);
            let mut rest = bytes.as_slice();
            proptest::prop_assert_eq!(read_unsigned(&mut rest), Ok(value));
            proptest::prop_assert_eq!(rest, &bytes[len..]);
        }
    }
}
