//! Fuzzing of the Rust COCO panoptic JSON reader: any two files either give consistent image
//! pairs or `None` (left to the Python reader), never a panic or an unbounded allocation.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use panoptiq::dataset::annotations::parse_annotations;
use panoptiq::error::JsonFiles;
use panoptiq::io::{Origin, DISK};
use panoptiq::runtime::parallel::Cancel;

fuzz_target!(|data: &[u8]| {
    // The input is the ground truth, a NUL byte, then the prediction.
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (gt, pred) = (&data[..split], data.get(split + 1..).unwrap_or_default());
    let files = JsonFiles { gt: "gt.json".into(), pred: "pred.json".into() };
    let read = parse_annotations(gt, pred, files, Path::new("gt"), Path::new("pred"), &Cancel::new())
        .expect("an uncancelled parse never fails");
    let Some(read) = read else { return };
    let pairs = &read.pairs;
    let jobs = pairs.jobs(0..pairs.len(), Origin::Folder(&DISK), Origin::Folder(&DISK));
    assert_eq!(jobs.len(), pairs.len());
    for job in &jobs {
        assert!(job.gt_path.starts_with("gt") && job.pred_path.starts_with("pred"));
    }
    assert!(read.categories_json.starts_with('['));
    assert_eq!(pairs.slice(0..pairs.len()), *pairs);
});
