//! Everything PNG: panoptic PNGs read row by row into runs of segment ids, whole id maps, and
//! id maps and pictures written.
//!
//! [`chunks`] walks a file's chunks and checks their CRCs; the common layout (8-bit RGB or RGBA,
//! not interlaced) is decoded by panoptiq's own engines — [`dense`] inflates with fdeflate and
//! un-filters rows in place, skipping the zero spans that make up almost all of a panoptic map's
//! filtered bytes; [`sparse`] reads rows from the blocks [`inflate`]'s ring marks, never writing
//! the zeros — chosen per file by [`engine`]. [`filters`] and [`run_filters`] undo the PNG row
//! filters (on bytes, and in the run domain); [`reader`] hands every file to the right decoder
//! (the `png` crate for other layouts) and reads whole maps; [`encode`] writes PNGs, and [`run_encode`] (on [`run_deflate`], [`huffman`] and [`adler`]; [`deflate_codes`] shared with the inflater) writes them from runs, as
//! [`run_map`] holds whole images.

mod adler;
mod buffers;
pub mod chunks;
mod deflate_codes;
pub mod dense;
pub mod encode;
pub mod engine;
mod filters;
mod huffman;
pub mod inflate;
pub mod reader;
mod row;
mod run_deflate;
pub mod run_encode;
mod run_filters;
mod run_map;
pub mod samples;
mod sparse;

pub use buffers::Buffers;
pub use dense::FastRows;
pub use encode::{write_id_map, write_pixels, write_rgb};
pub use engine::{configured_engine, parse_engine, sparse_from, Engine};
pub use reader::{read_id_map, read_id_map_from_bytes, read_id_map_reference, IdMap, IdRows, RunReader};
pub use row::Row;
pub use run_encode::{encode_id_map, RunPng};
pub use run_map::RunMap;

// Test images are small: their sizes fit every integer type.
#[cfg(test)]
#[allow(clippy::cast_possible_truncation)]
mod tests;
