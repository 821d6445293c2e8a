//! The single error type of the core; the Python binding maps each variant to an exception.

use std::path::PathBuf;

/// Everything that can go wrong while evaluating panoptic segmentation.
///
/// Messages of the variants panopticapi also raises are worded exactly as panopticapi words them,
/// so code that matches on those messages keeps working.
#[derive(Debug, thiserror::Error)]
pub enum PqError {
    #[error(
        "In the image with ID {image_id} segment with ID {segment_id} is presented in PNG and not presented in JSON."
    )]
    SegmentNotInJson { image_id: String, segment_id: u32 },

    #[error(
        "In the image with ID {image_id} the following segment IDs {segment_ids:?} are presented in JSON and not presented in PNG."
    )]
    SegmentsNotInPng { image_id: String, segment_ids: Vec<u32> },

    #[error(
        "In the image with ID {image_id} segment with ID {segment_id} has unknown category_id {category_id}."
    )]
    UnknownCategory { image_id: String, segment_id: u32, category_id: i64 },

    #[error(
        "In the image with ID {image_id} the ground truth is {gt_height}x{gt_width} pixels but the prediction is {pred_height}x{pred_width} (height x width)."
    )]
    SizeMismatch {
        image_id: String,
        gt_height: usize,
        gt_width: usize,
        pred_height: usize,
        pred_width: usize,
    },

    #[error(
        "In the image with ID {image_id} the {side} segments_info lists segment with ID {segment_id} more than once."
    )]
    DuplicateSegment { image_id: String, side: Side, segment_id: u32 },

    #[error(
        "In the image with ID {image_id} the {side} segments_info lists segment ID 0, which is VOID (unlabeled pixels) and cannot be a segment."
    )]
    VoidSegment { image_id: String, side: Side },

    #[error(
        "In the image with ID {image_id} ground-truth segment with ID {gt_id} (area {gt_area} in JSON) and predicted segment with ID {pred_id} have an intersection of {intersection} and a union of {union} pixels; the JSON area must be at least the segment's pixel count."
    )]
    EmptyUnion { image_id: String, gt_id: u32, gt_area: i64, pred_id: u32, intersection: u64, union: i64 },

    #[error(
        "In the image with ID {image_id} the {side} has pixels of category {category_id}, which is neither a thing nor a stuff category{hint}."
    )]
    UnknownLabel { image_id: String, side: Side, category_id: i64, hint: &'static str },

    #[error(
        "In the image with ID {image_id} the {side} gives instance id {instance_id} to stuff category {category_id}; stuff has one segment per category (instance 0) under panopticapi's rules (rules=\"torchmetrics\" ignores stuff instance ids)."
    )]
    StuffInstance { image_id: String, side: Side, category_id: i64, instance_id: i64 },

    #[error(
        "In the image with ID {image_id} the {side} holds the label {value}; labels must be non-negative."
    )]
    NegativeLabel { image_id: String, side: Side, value: i64 },

    /// A video whose frames do not fit together, or whose labels break a video metric's rules.
    #[error("In the video {video_id}, frame {frame} (image {image_id}): {message}")]
    BadVideo { video_id: String, frame: usize, image_id: String, message: String },

    /// An error met in one video: its id and the frames (0-based, within the video) concerned.
    #[error("{source} (video {video_id}, frames {first}..={last})")]
    InVideo { video_id: String, first: usize, last: usize, source: Box<PqError> },

    /// An error in one item of a batch passed to the in-memory metric.
    #[error("{source} (batch index {batch_index})")]
    InBatch { batch_index: usize, source: Box<PqError> },

    /// A COCO mask (RLE string, counts or polygon) that cannot be read, or masks that break a
    /// converter's rules (overlap, unknown labels, colours exhausted).
    #[error("{message}")]
    BadMask { message: String },

    /// An error met in one image of a conversion: the image, and the file or segment concerned.
    #[error("In the image with ID {image_id} ({what}): {source}")]
    InConversion { image_id: String, what: String, source: Box<PqError> },

    /// Columns of image pairs that do not fit together.
    #[error("{message}")]
    InvalidPairs { message: String },

    /// Evaluation rules (class groups, a subset, an IoU threshold) that cannot be applied,
    /// naming the argument that set them.
    #[error("{argument}: {message}")]
    BadRules { argument: &'static str, message: String },

    #[error("{what}: expected {expected} values, got {got}")]
    LengthMismatch { what: &'static str, expected: usize, got: usize },

    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },

    #[error("cannot read the archive {}: {message}", path.display())]
    BadArchive { path: PathBuf, message: String },

    #[error("{} is not a valid PNG file: {message}", path.display())]
    Decode { path: PathBuf, message: String },

    #[error("{} is a {detail} PNG; panoptic PNGs must be 8-bit RGB, RGBA or palette images", path.display())]
    UnsupportedPng { path: PathBuf, detail: String },

    #[error("cannot write {}: {message}", path.display())]
    Encode { path: PathBuf, message: String },

    #[error("cannot start {threads} threads: {message}")]
    ThreadPool { threads: usize, message: String },

    /// The caller asked the work to stop (Ctrl-C).
    #[error("interrupted")]
    Interrupted,

    /// A bug: a panic caught before it could take the process down.
    #[error("internal error in panoptiq (please report it): {message}")]
    Panic { message: String },

    /// A buffer of the size the input asks for cannot be allocated.
    #[error("cannot allocate {bytes} bytes for {what}")]
    OutOfMemory { what: String, bytes: u128 },

    /// An error met while evaluating one image pair of a dataset, with the files it came from:
    /// the PNGs and, where known, the JSON files that listed their segments.
    #[error("{}", in_image_message(image_id, gt_path, pred_path, json.as_deref(), source))]
    InImage {
        image_id: String,
        gt_path: PathBuf,
        pred_path: PathBuf,
        json: Option<Box<JsonFiles>>,
        source: Box<PqError>,
    },
}

impl PqError {
    /// The error beneath any [`PqError::InImage`] context: it decides the Python exception type.
    #[must_use]
    pub fn root(&self) -> &PqError {
        match self {
            PqError::InImage { source, .. }
            | PqError::InBatch { source, .. }
            | PqError::InVideo { source, .. }
            | PqError::InConversion { source, .. } => source.root(),
            other => other,
        }
    }
}

/// The ground-truth and prediction JSON files a dataset's `segments_info` came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonFiles {
    pub gt: PathBuf,
    pub pred: PathBuf,
}

fn in_image_message(
    image_id: &str,
    gt_path: &std::path::Path,
    pred_path: &std::path::Path,
    json: Option<&JsonFiles>,
    source: &PqError,
) -> String {
    match (source.root(), json) {
        // These already name their file; add the image.
        (
            PqError::Io { .. }
            | PqError::BadArchive { .. }
            | PqError::Decode { .. }
            | PqError::UnsupportedPng { .. },
            _,
        ) => {
            format!("In the image with ID {image_id}: {source}")
        }
        // Masks and converters' messages name the segment, not the image.
        (PqError::BadMask { .. }, None) => format!(
            "In the image with ID {image_id}: {source} (ground truth: {}, prediction: {})",
            gt_path.display(),
            pred_path.display()
        ),
        (PqError::BadMask { .. }, Some(json)) => format!(
            "In the image with ID {image_id}: {source} (ground truth: {}, segments in {}; prediction: {}, segments in {})",
            gt_path.display(),
            json.gt.display(),
            pred_path.display(),
            json.pred.display()
        ),
        // These already name the image (panopticapi's wording); add its files.
        (_, None) => {
            format!("{source} (ground truth: {}, prediction: {})", gt_path.display(), pred_path.display())
        }
        (_, Some(json)) => format!(
            "{source} (ground truth: {}, segments in {}; prediction: {}, segments in {})",
            gt_path.display(),
            json.gt.display(),
            pred_path.display(),
            json.pred.display()
        ),
    }
}

/// Which side of an image pair a segment belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    GroundTruth,
    Prediction,
}

impl Side {
    /// The side's short name in records and argument names: `"gt"` or `"pred"`.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Side::GroundTruth => "gt",
            Side::Prediction => "pred",
        }
    }

    /// The adjective of the side's PNGs and segments in messages: "ground-truth" or "predicted".
    #[must_use]
    pub fn adjective(self) -> &'static str {
        match self {
            Side::GroundTruth => "ground-truth",
            Side::Prediction => "predicted",
        }
    }
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::GroundTruth => "ground-truth",
            Side::Prediction => "prediction",
        })
    }
}
