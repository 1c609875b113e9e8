//! The short texts a record keeps beside its JSON.

use super::time::Rfc3339Millis;

/// A short text a [`Record`](super::Record) keeps beside its JSON (its event name, distinct id
/// and timestamp), without an allocation of its own when it fits: read as a `&str` (it
/// dereferences to one) and compared with strings.
///
/// So that building a record allocates only its JSON (three `String` copies cost ~60 ns a
/// record, as much as the rest of the envelope): an event name is the program's own
/// `&'static str`; a distinct id (a uuid, 36 bytes, or `p_` and 32 hex digits) and a timestamp
/// (24 bytes) are copied inline; only longer text (a record read back from a queue written by
/// hand) is boxed.
#[derive(Clone)]
pub struct RecordText(Repr);

#[derive(Clone)]
enum Repr {
    Static(&'static str),
    Inline(u8, [u8; INLINE]),
    Boxed(Box<str>),
}

/// Room for a uuid (36 bytes), the longest distinct id the runtime makes, in a 40-byte value.
const INLINE: usize = 38;

impl RecordText {
    /// Empty, inline.
    pub(super) const EMPTY: Self = Self(Repr::Inline(0, [0; INLINE]));

    pub(super) fn from_static(text: &'static str) -> Self {
        Self(Repr::Static(text))
    }

    /// `text`, copied (inline when it fits).
    pub(super) fn new(text: &str) -> Self {
        let mut new = Self::EMPTY;
        new.set(text);
        new
    }

    /// Makes this `text`, copied in place.
    pub(super) fn set(&mut self, text: &str) {
        let len = text.len();
        match u8::try_from(len) {
            Ok(short) if len <= INLINE => {
                if !matches!(self.0, Repr::Inline(..)) {
                    *self = Self::EMPTY;
                }
                if let Repr::Inline(at, bytes) = &mut self.0
                    && let Some(to) = bytes.get_mut(..len)
                {
                    to.copy_from_slice(text.as_bytes());
                    *at = short;
                }
            }
            _ => self.0 = Repr::Boxed(text.into()),
        }
    }

    /// Makes this a timestamp's 24 bytes, copied in place (a copy of fixed length: a few
    /// moves, no call to `memcpy`).
    pub(super) fn set_timestamp(&mut self, timestamp: &Rfc3339Millis) {
        *self = Self::EMPTY;
        if let Repr::Inline(len, bytes) = &mut self.0
            && let Some(to) = bytes.first_chunk_mut::<24>()
        {
            *to = *timestamp.bytes();
            *len = 24;
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(text) => text,
            // a whole `&str` was copied in: the bytes are UTF-8
            Repr::Inline(len, bytes) => {
                std::str::from_utf8(bytes.get(..usize::from(*len)).unwrap_or_default())
                    .unwrap_or_default()
            }
            Repr::Boxed(text) => text,
        }
    }
}

impl From<String> for RecordText {
    fn from(text: String) -> Self {
        if text.len() <= INLINE {
            Self::new(&text)
        } else {
            Self(Repr::Boxed(text.into_boxed_str()))
        }
    }
}

impl From<RecordText> for String {
    fn from(text: RecordText) -> Self {
        match text.0 {
            Repr::Boxed(text) => text.into_string(),
            _ => text.as_str().to_owned(),
        }
    }
}

impl std::ops::Deref for RecordText {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for RecordText {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for RecordText {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for RecordText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for RecordText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::hash::Hash for RecordText {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq for RecordText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RecordText {}

impl PartialOrd for RecordText {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RecordText {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// Comparisons with `str`, `&str` and `String`, both ways round.
macro_rules! eq_with {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for RecordText {
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }

        impl PartialEq<RecordText> for $other {
            fn eq(&self, other: &RecordText) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}

eq_with!(str, &str, String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_texts_read_and_compare_as_strings() {
        let uuid = "0190a3c2-7b1e-7c3a-9f4e-2d8b6a1c5e70";
        let long = "x".repeat(INLINE + 1);
        let texts = [
            RecordText::from_static("test.ping"),
            RecordText::new(uuid),
            RecordText::new(""),
            RecordText::new(&long),
            RecordText::from(uuid.to_owned()),
            RecordText::from(long.clone()),
        ];
        let expected = ["test.ping", uuid, "", &long, uuid, &long];
        for (text, expected) in texts.iter().zip(expected) {
            assert_eq!(text.as_str(), expected);
            assert_eq!(*text, expected);
            assert_eq!(expected, *text);
            assert_eq!(*text, expected.to_owned());
            assert_eq!(expected.to_owned(), *text);
            assert_eq!(text.to_string(), expected);
            assert_eq!(format!("{text:?}"), format!("{expected:?}"));
            assert_eq!(String::from(text.clone()), expected);
            assert_eq!(text.len(), expected.len());
        }
        assert_eq!(texts[1], texts[4]);
        assert_eq!(texts[3], texts[5]);
        assert_ne!(texts[0], texts[1]);
        assert!(matches!(texts[1].0, Repr::Inline(..)));
        assert!(matches!(texts[3].0, Repr::Boxed(_)));
        assert_eq!(std::mem::size_of::<RecordText>(), 40);
    }
}
