//! One image pair evaluated, from id runs to per-category sums: [`ids`] packs RGB into segment
//! ids, [`runs`] turns rows into runs of ids and pairs the two images' rows, [`histogram`] counts
//! (ground truth, prediction) pixels run by run ([`compact`]: point by point, for point clouds, whose labels come in no long runs), [`segments`] checks and indexes `segments_info` and [`categories`] holds what is known of
//! each category,
//! [`boundary`] finds Boundary PQ's bands and their histogram, [`matching`] applies panopticapi's
//! per-image rules, [`stats`] adds images up and averages them (with [`exact`] IoU sums), and
//! [`records`] tells each image's scores and each segment's fate, [`breakdown`] each error's cause
//! and what fixing each kind would give; [`tubes`] slides VPQ's windows over a video's frames. Every metric is a reducer over
//! the same histogram.

pub mod boundary;
pub mod breakdown;
pub mod categories;
pub mod compact;
pub mod exact;
pub mod histogram;
pub mod ids;
pub mod matching;
pub mod records;
pub mod runs;
pub mod segments;
pub mod stats;
pub mod tubes;
