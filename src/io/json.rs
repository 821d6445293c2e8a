//! JSON files read strictly in Rust and interruptibly: image ids compared as panopticapi compares
//! them, and lists parsed element by element so that Ctrl-C stops a large parse within one.
//!
//! The readers built on these take only the strict form models write and give `None` for
//! anything else; their callers then fall back to Python's reader, which accepts what
//! panopticapi accepts and explains what it refuses.

use serde::Deserialize;

use crate::runtime::parallel::Cancel;

/// An `image_id` as JSON holds it. panopticapi matches records to images by Python equality,
/// under which `1` and `"1"` differ, as they do here.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Hash)]
#[serde(untagged)]
pub enum ImageId {
    Int(i64),
    Text(String),
}

impl ImageId {
    /// The id as Python's `str()` writes it, which is how error messages name the image.
    #[must_use]
    pub fn to_text(&self) -> String {
        match self {
            ImageId::Int(id) => id.to_string(),
            ImageId::Text(id) => id.clone(),
        }
    }
}

thread_local! {
    /// The cancel flag of the parse under way on this thread, looked at between list elements.
    static PARSE_CANCEL: std::cell::RefCell<Option<Cancel>> = const { std::cell::RefCell::new(None) };
}

/// Parses `text` as `T` on this thread, stopping between two elements of a [`List`] once
/// `cancel` is set; `None` when it does not parse (or was stopped).
#[must_use]
pub fn parse_cancellable<'a, T: Deserialize<'a>>(text: &'a [u8], cancel: &Cancel) -> Option<T> {
    PARSE_CANCEL.set(Some(cancel.clone()));
    let parsed = serde_json::from_slice::<T>(text).ok();
    PARSE_CANCEL.set(None);
    parsed
}

/// A JSON array read element by element, so that a cancelled parse of a large file stops within
/// one element.
#[derive(Debug)]
pub struct List<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Elements<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Elements<T> {
            type Value = List<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut elements = Vec::new();
                while let Some(element) = seq.next_element()? {
                    if PARSE_CANCEL.with_borrow(|cancel| cancel.as_ref().is_some_and(Cancel::is_cancelled)) {
                        return Err(serde::de::Error::custom("interrupted"));
                    }
                    elements.push(element);
                }
                Ok(List(elements))
            }
        }
        deserializer.deserialize_seq(Elements(std::marker::PhantomData))
    }
}
