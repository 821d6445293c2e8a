//! panopticapi's converters (`panoptiq.converters`): each call converts a list of images on the
//! pool, reading and writing their files in parallel, every output written whole or not at all.
//! Python reads the JSON (combine's results files: [`super::combine`]), builds the jobs and
//! assembles the records from what comes back.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use pyo3::prelude::*;

use super::masks::MaskArg;
use super::run::run;
use crate::convert::color_id;
use crate::convert::from_ids::{masks_of_runs, Slots};
use crate::convert::images;
use crate::convert::output::write_atomically;
use crate::convert::{CategoryColor, IdGenerator, Rle, Segmentation};
use crate::png::samples::{read_samples, Samples};
use crate::png::{encode_id_map, Buffers, RunMap, RunReader};
use crate::runtime::parallel::try_map_ordered;
use crate::PqError;

/// Categories as Python passes them: `(id, isthing, (r, g, b))`.
pub(super) type Palette = Vec<(i64, bool, [u8; 3])>;

pub(super) fn palette(categories: &Palette) -> Vec<CategoryColor> {
    categories.iter().map(|&(id, isthing, color)| CategoryColor { id, isthing, color }).collect()
}

pub(super) fn in_image<'a>(image_id: &'a str, what: &Path) -> impl FnOnce(PqError) -> PqError + 'a {
    let what = what.display().to_string();
    move |source| match source {
        // These name their file already.
        PqError::Io { .. }
        | PqError::Decode { .. }
        | PqError::UnsupportedPng { .. }
        | PqError::Encode { .. } => PqError::InConversion {
            image_id: image_id.to_owned(),
            what: "reading or writing".into(),
            source: Box::new(source),
        },
        PqError::Interrupted => PqError::Interrupted,
        other => PqError::InConversion { image_id: image_id.to_owned(), what, source: Box::new(other) },
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, PqError> {
    std::fs::read(path).map_err(|source| PqError::Io { path: path.to_owned(), source })
}

fn samples_of(path: &Path) -> Result<Samples, PqError> {
    read_samples(path, &read_file(path)?)
}

/// A panoptic PNG as runs.
fn read_runs(png: &Path) -> Result<RunMap, PqError> {
    let cancel = crate::runtime::parallel::Cancel::new();
    RunMap::read(png, RunReader::open(png, Buffers::default())?, &cancel)
}

/// Writes a whole file, atomically.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), PqError> {
    write_atomically(path, |part| {
        std::fs::write(part, bytes).map_err(|source| PqError::Io { path: part.to_owned(), source })
    })
}

/// Writes an id map as an RGB panoptic PNG (from its runs), atomically.
fn write_map(path: &Path, ids: &[u32], height: usize, width: usize) -> Result<(), PqError> {
    write_file(path, &encode_id_map(ids, height, width, 3)?)
}

/// Writes a map held as runs as an RGB panoptic PNG, atomically.
pub(super) fn write_runs(path: &Path, map: &RunMap) -> Result<(), PqError> {
    write_file(path, &map.encode(3)?)
}

/// Runs `convert` on every job in parallel, keeping their order; the first error (in job order)
/// stops the jobs after it.
pub(super) fn each<J: Sync, R: Send>(
    py: Python<'_>,
    threads: Option<usize>,
    jobs: &[J],
    convert: impl Fn(usize, &J) -> Result<R, PqError> + Sync,
) -> PyResult<Vec<R>> {
    run(py, threads, |cancel| {
        try_map_ordered(jobs, |i, job| {
            cancel.check()?;
            convert(i, job)
        })
    })
}

/// 2-channel PNGs to panoptic ones: per image, its `(id, category_id)` segments.
#[pyfunction]
#[pyo3(signature = (jobs, categories, void, seed, first, threads=None))]
fn convert_two_channels(
    py: Python<'_>,
    jobs: Vec<(String, PathBuf, PathBuf)>,
    categories: Palette,
    void: i64,
    seed: u64,
    first: u64,
    threads: Option<usize>,
) -> PyResult<Vec<Vec<(u32, i64)>>> {
    let colors = palette(&categories);
    each(py, threads, &jobs, |i, (image_id, source, out)| {
        let mut generator = IdGenerator::new(&colors, seed, first + i as u64);
        let known = |c: i64| colors.iter().any(|k| k.id == c);
        let file = read_file(source).map_err(in_image(image_id, source))?;
        // 8-bit RGB(A) and palette PNGs as runs (class = R, instance = G), written back as runs;
        // other layouts (gray + alpha, 16-bit) pixel by pixel through the png crate's decoder.
        let cancel = crate::runtime::parallel::Cancel::new();
        let converted = match RunReader::from_bytes(source, file.clone()) {
            Ok(reader) => RunMap::read(source, reader, &cancel).and_then(|mut map| {
                let segments = images::two_channel_runs(&mut map, void, known, &mut generator)?;
                Ok((map.encode(3)?, segments))
            }),
            Err(PqError::UnsupportedPng { .. }) => read_samples(source, &file).and_then(|samples| {
                if samples.channels < 2 {
                    return Err(PqError::BadMask {
                        message: format!(
                            "a 2-channel PNG needs at least two channels (semantic, instance); this one has {}",
                            samples.channels
                        ),
                    });
                }
                let pixel = |p: usize| (samples.at(p, 0), samples.at(p, 1));
                let (map, segments) =
                    images::two_channels(samples.height, samples.width, pixel, void, known, &mut generator)?;
                Ok((encode_id_map(&map, samples.height, samples.width, 3)?, segments))
            }),
            Err(other) => Err(other),
        };
        let (png, segments) = converted.map_err(in_image(image_id, source))?;
        write_file(out, &png).map_err(in_image(image_id, out))?;
        Ok(segments.iter().map(|s| (s.id, s.category_id)).collect())
    })
}

/// One image of masks: `(image_id, output PNG, height, width, [(category_id, mask)], names)`.
type MaskJob = (String, PathBuf, usize, usize, Vec<(i64, MaskArg)>, Vec<String>);

fn masks_of(items: Vec<(i64, MaskArg)>) -> Vec<(i64, Segmentation)> {
    items.into_iter().map(|(c, m)| (c, m.into_segmentation())).collect()
}

pub(super) fn rles<'a>(
    items: impl IntoIterator<Item = (i64, &'a Segmentation)>,
    name: impl Fn(usize) -> String,
    height: usize,
    width: usize,
) -> Result<Vec<(i64, Rle)>, PqError> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, (c, s))| {
            s.to_rle(height, width)
                .map(|r| (c, r))
                .map_err(|e| PqError::BadMask { message: format!("segment {}: {e}", name(i)) })
        })
        .collect()
}

/// Detection masks to panoptic PNGs: per image, the id of each annotation.
#[pyfunction]
#[pyo3(signature = (jobs, categories, seed, first, threads=None))]
fn convert_detections(
    py: Python<'_>,
    jobs: Vec<MaskJob>,
    categories: Palette,
    seed: u64,
    first: u64,
    threads: Option<usize>,
) -> PyResult<Vec<Vec<u32>>> {
    let colors = palette(&categories);
    let jobs: Vec<_> = jobs
        .into_iter()
        .map(|(id, out, h, w, items, names)| (id, out, h, w, masks_of(items), names))
        .collect();
    each(py, threads, &jobs, |i, (image_id, out, height, width, items, names)| {
        let mut generator = IdGenerator::new(&colors, seed, first + i as u64);
        let named = |i: usize| names.get(i).cloned().unwrap_or_else(|| format!("#{i}"));
        let (map, ids) = rles(items.iter().map(|(c, s)| (*c, s)), named, *height, *width)
            .and_then(|masks| images::paint_detections(*height, *width, &masks, names, &mut generator))
            .map_err(in_image(image_id, out))?;
        write_runs(out, &map).map_err(in_image(image_id, out))?;
        Ok(ids)
    })
}

/// Panoptic PNGs to detection masks: per image, its size and each wanted segment's RLE string.
#[pyfunction]
#[pyo3(signature = (jobs, threads=None))]
fn convert_to_detection(
    py: Python<'_>,
    jobs: Vec<(String, PathBuf, Vec<u32>)>,
    threads: Option<usize>,
) -> PyResult<Vec<(usize, usize, Vec<String>)>> {
    each(py, threads, &jobs, |_, (image_id, png, wanted)| {
        let map = read_runs(png).map_err(in_image(image_id, png))?;
        let masks = masks_of_runs(&map, wanted).map_err(in_image(image_id, png))?;
        Ok((map.height, map.width, masks.iter().map(Rle::to_compressed).collect()))
    })
}

/// One semantic job: `(image_id, panoptic PNG, [(segment id, class)], output PNG or None,
/// classes to encode)`.
type SemanticJob = (String, PathBuf, Vec<(u32, u32)>, Option<PathBuf>, Vec<u32>);

/// Per class of a semantic JSON: `(RLE string, area, [x, y, w, h])`.
type ClassMask = (String, u64, [u64; 4]);

/// Panoptic PNGs to semantic segmentation: written as PNGs (one class value a pixel, or the
/// class's colour), or returned as one RLE per class.
#[pyfunction]
#[pyo3(signature = (jobs, colormap=None, threads=None))]
fn convert_semantic(
    py: Python<'_>,
    jobs: Vec<SemanticJob>,
    colormap: Option<Vec<(u32, [u8; 3])>>,
    threads: Option<usize>,
) -> PyResult<Vec<(usize, usize, Vec<ClassMask>)>> {
    let colormap: Option<HashMap<u32, [u8; 3]>> = colormap.map(|c| c.into_iter().collect());
    each(py, threads, &jobs, |_, (image_id, png, segments, out, wanted)| {
        let mut map = read_runs(png).map_err(in_image(image_id, png))?;
        let (height, width) = (map.height, map.width);
        let slots = Slots::new(&segments.iter().map(|&(id, _)| id).collect::<Vec<_>>());
        let class = |id| slots.get(id).map_or(0, |s| segments[s].1);
        let Some(out) = out else {
            map.relabel(|id| Ok::<_, PqError>(class(id)))?;
            let masks = masks_of_runs(&map, wanted).map_err(in_image(image_id, png))?;
            return Ok((
                height,
                width,
                masks.iter().map(|m| (m.to_compressed(), m.area(), m.bbox())).collect(),
            ));
        };
        let channels = if let Some(colors) = &colormap {
            let of_segment = semantic_colors(segments, colors).map_err(in_image(image_id, png))?;
            map.relabel(|id| Ok::<_, PqError>(slots.get(id).map_or(0, |s| of_segment[s])))?;
            3
        } else {
            map.relabel(|id| semantic_gray(class(id))).map_err(in_image(image_id, png))?;
            1
        };
        let file = map.encode(channels).map_err(in_image(image_id, png))?;
        write_file(out, &file).map_err(in_image(image_id, out))?;
        Ok((height, width, Vec::new()))
    })
}

/// Each listed segment's colour (as an id) in a colour semantic PNG: its class's (every listed class needs
/// one, present in the PNG or not, as in panopticapi); the rest are black.
fn semantic_colors(segments: &[(u32, u32)], colors: &HashMap<u32, [u8; 3]>) -> Result<Vec<u32>, PqError> {
    segments
        .iter()
        .map(|&(id, class)| {
            colors.get(&class).map(|&c| color_id(c)).ok_or_else(|| PqError::BadMask {
                message: format!("category {class} (segment {id}) has no colour in the categories"),
            })
        })
        .collect()
}

/// A class value in a gray semantic PNG, which must fit in 8 bits.
fn semantic_gray(class: u32) -> Result<u32, PqError> {
    if class > 255 {
        return Err(PqError::BadMask {
            message: format!("category {class} does not fit in an 8-bit semantic PNG (0..=255)"),
        });
    }
    Ok(class)
}

/// A Cityscapes segment: `(id, category_id, area, [x, y, w, h], iscrowd)`.
type CityscapesRow = (u32, i64, u64, [u64; 4], bool);

/// Cityscapes `instanceIds` PNGs to panoptic ones: per image, its size and segments.
#[pyfunction]
#[pyo3(signature = (jobs, categories, seed, first, threads=None))]
fn convert_cityscapes(
    py: Python<'_>,
    jobs: Vec<(String, PathBuf, PathBuf)>,
    categories: Palette,
    seed: u64,
    first: u64,
    threads: Option<usize>,
) -> PyResult<Vec<(usize, usize, Vec<CityscapesRow>)>> {
    let colors = palette(&categories);
    each(py, threads, &jobs, |i, (image_id, source, out)| {
        let samples = samples_of(source).map_err(in_image(image_id, source))?;
        let mut generator = IdGenerator::new(&colors, seed, first + i as u64);
        let is_thing = |c: i64| colors.iter().find(|k| k.id == c).map(|k| k.isthing);
        let (height, width) = (samples.height, samples.width);
        let (map, segments) =
            images::cityscapes(samples, is_thing, &mut generator).map_err(in_image(image_id, source))?;
        write_map(out, &map, height, width).map_err(in_image(image_id, out))?;
        Ok((
            height,
            width,
            segments.iter().map(|s| (s.id, s.category_id, s.area, s.bbox, s.iscrowd)).collect(),
        ))
    })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(convert_two_channels, m)?)?;
    m.add_function(wrap_pyfunction!(convert_detections, m)?)?;
    m.add_function(wrap_pyfunction!(convert_to_detection, m)?)?;
    m.add_function(wrap_pyfunction!(convert_semantic, m)?)?;
    m.add_function(wrap_pyfunction!(convert_cityscapes, m)?)?;
    Ok(())
}
