//! The in-memory metric: label maps held in memory — (category, instance) pairs, encoded
//! integers, id maps with their segments — turned into segments and pair histograms
//! ([`labels`]) and evaluated under panopticapi's or torchmetrics' rules ([`config`],
//! [`torchmetrics`]); video label maps counted for STQ ([`stq`]).

pub mod config;
pub mod labels;
pub mod stq;
pub mod torchmetrics;

pub use config::{fold_results, ImageMaps, ImageRow, ListedSegment, MetricConfig, Rules};
