//! The in-memory metric: label maps held in memory — (category, instance) pairs, encoded
//! integers, id maps with their segments — turned into segments and pair histograms
//! ([`labels`]) and evaluated under panopticapi's or torchmetrics' rules ([`config`],
//! [`torchmetrics`]); video label maps counted for STQ ([`stq`]); LiDAR points counted as semantic-kitti-api's
//! `PanopticEval` ([`lidar`]) and 4D-PLS's LSTQ ([`lstq`]) count them.

pub mod config;
pub mod labels;
pub mod lidar;
pub mod lstq;
pub mod stq;
pub mod torchmetrics;

pub use config::{fold_results, ImageMaps, ImageRow, ListedSegment, MetricConfig, Rules};
