//! Fuzzing of the Rust reader of COCO panoptic JSON whose segments carry masks: any two files
//! either give consistent pairs whose masks paint or fail with an error, or `None` (left to the
//! Python reader) — never a panic or an unbounded allocation.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use panoptiq::convert::heuristic::CombineRule;
use panoptiq::convert::paint::OverlapRule;
use panoptiq::dataset::masked::{parse_masked, SideFolders};
use panoptiq::error::JsonFiles;
use panoptiq::io::{Origin, DISK};
use panoptiq::runtime::parallel::Cancel;

/// Images larger than this are not painted: a size from the input is the user's to pay for.
const MAX_PIXELS: usize = 1 << 16;

fuzz_target!(|data: &[u8]| {
    // The ground truth, a NUL byte, then the prediction; the first byte picks the overlap rule.
    let Some((&rule_byte, data)) = data.split_first() else { return };
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (gt, pred) = (&data[..split], data.get(split + 1..).unwrap_or_default());
    let rule = if rule_byte % 2 == 0 {
        OverlapRule::Error
    } else {
        let rule = CombineRule { overlap_thr: 0.5, stuff_area_limit: f64::from(rule_byte) };
        OverlapRule::Combine { confidence_thr: 0.5, rule }
    };
    let files = JsonFiles { gt: "gt.json".into(), pred: "pred.json".into() };
    let folders = [
        SideFolders { pngs: Path::new("gt"), masks: Some(Path::new("<gt masks>")) },
        SideFolders { pngs: Path::new("pred"), masks: Some(Path::new("<pred masks>")) },
    ];
    let read = parse_masked(gt, pred, files, folders, rule, &Cancel::new())
        .expect("an uncancelled parse never fails");
    let Some(read) = read else { return };
    let pairs = &read.pairs;
    let masked = pairs.masked();
    let jobs = pairs.jobs(0..pairs.len(), Origin::Folder(&DISK), Origin::Folder(&DISK));
    for job in &jobs {
        for (masks, is_masked) in [(job.gt_masks, masked[0]), (job.pred_masks, masked[1])] {
            assert_eq!(masks.is_some(), is_masked);
            let Some(masks) = masks else { continue };
            let Ok((height, width)) = masks.size_or(Some((5, 7))) else { continue };
            if height.saturating_mul(width) > MAX_PIXELS {
                continue;
            }
            if let Ok((map, kept)) = masks.paint_runs(height, width) {
                assert_eq!((map.height, map.width), (height, width));
                assert!(kept.iter().all(|id| masks.segments.iter().any(|s| s.id == *id)));
            }
        }
    }
    assert_eq!(pairs.slice(0..pairs.len()), *pairs);
});
