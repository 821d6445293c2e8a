//! The `score` and `segmentation` fields of COCO files, read by serde straight into the core's
//! form, strictly: a number Python compares as its float, and an RLE object or polygon list as
//! `masks.segmentation_arg` takes them. Any other form fails the parse, and Python's reader,
//! which explains what it refuses, runs instead.

use std::fmt;

use serde::de::{Deserializer, Error, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::Segmentation;

/// A score as Python compares it: a float, or an integer that a float holds exactly (a larger
/// one would compare differently as a float, so it is not strict).
#[derive(Debug, Clone, Copy)]
pub struct Score(pub f64);

/// 2^53: integers up to this magnitude are exact as `f64`.
const EXACT: u64 = 1 << 53;

impl<'de> Deserialize<'de> for Score {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Number;
        impl Visitor<'_> for Number {
            type Value = Score;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }

            fn visit_f64<E: Error>(self, v: f64) -> Result<Score, E> {
                Ok(Score(v))
            }

            // Both below hold at most 2^53 in magnitude: exact as f64.
            #[allow(clippy::cast_precision_loss)]
            fn visit_u64<E: Error>(self, v: u64) -> Result<Score, E> {
                if v > EXACT {
                    return Err(E::custom("an integer score beyond 2^53"));
                }
                Ok(Score(v as f64))
            }

            #[allow(clippy::cast_precision_loss)]
            fn visit_i64<E: Error>(self, v: i64) -> Result<Score, E> {
                if v.unsigned_abs() > EXACT {
                    return Err(E::custom("an integer score beyond 2^53"));
                }
                Ok(Score(v as f64))
            }
        }
        deserializer.deserialize_any(Number)
    }
}

/// A `segmentation` field, read straight into the core's form (as `masks.segmentation_arg`
/// and the binding build it from Python objects).
#[derive(Debug)]
pub struct Mask(pub Segmentation);

/// The keys of an RLE object that are read; others are skipped.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum Field {
    Size,
    Counts,
    #[serde(other)]
    Other,
}

/// An RLE's `counts`: COCO's string (ASCII, as Python's `encode("ascii")` requires) or a list.
enum Counts {
    Text(Vec<u8>),
    List(Vec<u32>),
}

impl<'de> Deserialize<'de> for Counts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CountsVisitor;
        impl<'de> Visitor<'de> for CountsVisitor {
            type Value = Counts;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RLE string or a list of counts")
            }

            fn visit_str<E: Error>(self, v: &str) -> Result<Counts, E> {
                if !v.is_ascii() {
                    return Err(E::custom("RLE counts outside ASCII"));
                }
                Ok(Counts::Text(v.as_bytes().to_vec()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Counts, A::Error> {
                let mut counts = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(count) = seq.next_element::<u32>()? {
                    counts.push(count);
                }
                Ok(Counts::List(counts))
            }
        }
        deserializer.deserialize_any(CountsVisitor)
    }
}

impl<'de> Deserialize<'de> for Mask {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MaskVisitor;
        impl<'de> Visitor<'de> for MaskVisitor {
            type Value = Mask;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RLE object or a list of polygons")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Mask, A::Error> {
                let (mut size, mut counts) = (None::<[u64; 2]>, None::<Counts>);
                while let Some(key) = map.next_key::<Field>()? {
                    match key {
                        // A key given twice: Python keeps the last, serde's derive refuses; so here.
                        Field::Size if size.is_some() => return Err(A::Error::duplicate_field("size")),
                        Field::Counts if counts.is_some() => return Err(A::Error::duplicate_field("counts")),
                        Field::Size => size = Some(map.next_value()?),
                        Field::Counts => counts = Some(map.next_value()?),
                        Field::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let [height, width] = size.ok_or_else(|| A::Error::missing_field("size"))?;
                let too_large = |_| A::Error::custom("an RLE size beyond the address space");
                let (height, width) =
                    (usize::try_from(height).map_err(too_large)?, usize::try_from(width).map_err(too_large)?);
                Ok(Mask(match counts.ok_or_else(|| A::Error::missing_field("counts"))? {
                    Counts::Text(counts) => Segmentation::Compressed { height, width, counts },
                    Counts::List(counts) => Segmentation::Uncompressed { height, width, counts },
                }))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Mask, A::Error> {
                let mut polygons = Vec::new();
                while let Some(polygon) = seq.next_element::<Vec<f64>>()? {
                    polygons.push(polygon);
                }
                Ok(Mask(Segmentation::Polygons(polygons)))
            }
        }
        deserializer.deserialize_any(MaskVisitor)
    }
}
