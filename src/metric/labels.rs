//! In-memory label maps — per-pixel (category, instance) pairs, `category × label_divisor +
//! instance` integers, or id maps whose ids `segments_info` explains — turned into the dense id
//! maps and segment lists that the intersection histogram and the matching rules work on.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::Side;
use crate::eval::categories::Categories;
use crate::eval::histogram::{IdMap, PairHistogram};
use crate::runtime::memory::push;
use crate::runtime::parallel::{panic_error, Cancel};
use crate::{PqError, VOID};

/// How one side's labels become segments.
#[derive(Debug, Clone, Copy, Default)]
pub struct LabelPolicy {
    /// A category whose pixels are VOID (an ignore label such as Cityscapes' 255).
    pub void_category: Option<i64>,
    /// Pixels of a category that is neither thing nor stuff become VOID instead of an error.
    pub unknown_is_void: bool,
    /// Stuff instance ids are set to 0, so each stuff category is one segment per image
    /// (torchmetrics); otherwise a non-zero one is an error (panopticapi's data has none).
    pub merge_stuff_instances: bool,
    /// The hint an unknown-category error ends with.
    pub unknown_hint: &'static str,
}

/// A labelled segment: its dense id (segment `i` of a list has id `i + 1`), category and pixel
/// count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub id: u32,
    pub category_id: i64,
    pub area: u64,
}

/// An image pair labelled: the intersection histogram of its dense ids and both segment lists.
#[derive(Debug, Clone, Default)]
pub struct LabelledPair {
    pub histogram: PairHistogram,
    pub gt: Vec<Segment>,
    pub pred: Vec<Segment>,
    /// Each side's runs over the flattened pixels: where each ends and its segment id.
    pub gt_runs: Vec<(usize, u32)>,
    pub pred_runs: Vec<(usize, u32)>,
}

/// What a raw label stands for, before the policy applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Label {
    Void,
    Segment { category_id: i64, instance_id: i64 },
}

/// How one side's raw labels are read: its decoder and policy.
pub struct SideLabels<'a, D> {
    pub decode: D,
    pub policy: &'a LabelPolicy,
}

/// Labels a pair given as `W` raw values per pixel on each side (`gt` and `pred` hold
/// `pixels × W` values), each side's decoder turning a pixel's values into a [`Label`], and
/// counts the intersection histogram.
///
/// Panoptic maps are long runs of one label, so each side is scanned for where its runs end
/// (blocks of pixels compared at once), and a decode and a segment lookup happen once per run,
/// not per pixel; no id map is ever written. The two sides are scanned on two threads when this
/// runs on a panoptiq pool and the image is large; their runs are then paired into the histogram.
pub fn label_pair<T: Copy + PartialEq + Sync, const W: usize, G, P>(
    image_id: &str,
    gt: &[T],
    pred: &[T],
    gt_side: &SideLabels<'_, G>,
    pred_side: &SideLabels<'_, P>,
    kinds: &Categories,
    cancel: &Cancel,
) -> Result<LabelledPair, PqError>
where
    G: Fn([T; W]) -> Result<Label, PqError> + Sync,
    P: Fn([T; W]) -> Result<Label, PqError> + Sync,
{
    if gt.len() != pred.len() || gt.len() % W != 0 {
        return Err(PqError::LengthMismatch {
            what: "predicted pixels",
            expected: gt.len(),
            got: pred.len(),
        });
    }
    cancel.check()?;
    let scan_gt = || scan_side::<T, W, G>(image_id, Side::GroundTruth, gt, gt_side, kinds, cancel);
    let scan_pred = || scan_side::<T, W, P>(image_id, Side::Prediction, pred, pred_side, kinds, cancel);
    let large = gt.len() / W >= PARALLEL_SIDES_FROM;
    let (g, p) = if large && rayon::current_thread_index().is_some() {
        // On a pool of panoptiq's (rayon's global pool is never started: fork safety).
        rayon::join(scan_gt, scan_pred)
    } else if large && two_cores() {
        // A single image on the caller's thread: a short-lived thread scans the prediction
        // meanwhile; that costs tens of microseconds, a wake of a sleeping pool a few hundred.
        std::thread::scope(|scope| {
            let pred = scope.spawn(scan_pred);
            let gt = scan_gt();
            (gt, pred.join().unwrap_or_else(|panic| Err(panic_error(&*panic))))
        })
    } else {
        (scan_gt(), scan_pred())
    };
    let (g, p) = (g?, p?);
    cancel.check()?;
    let mut histogram = PairHistogram::new();
    let (mut gi, mut pi, mut start) = (0, 0, 0);
    while let (Some(&(g_end, g_id)), Some(&(p_end, p_id))) = (g.runs.get(gi), p.runs.get(pi)) {
        let end = g_end.min(p_end);
        histogram.add_run(g_id, p_id, (end - start) as u64);
        gi += usize::from(g_end == end);
        pi += usize::from(p_end == end);
        start = end;
    }
    Ok(LabelledPair { histogram, gt: g.segments, pred: p.segments, gt_runs: g.runs, pred_runs: p.runs })
}

/// Whether this process may use two or more CPUs, read once (it costs a few file reads).
///
/// An atomic, not a `OnceLock`: a process forked while another thread was filling a `OnceLock`
/// would wait for it forever. Two threads racing here both store the same answer.
fn two_cores() -> bool {
    static CORES: AtomicUsize = AtomicUsize::new(0);
    let mut cores = CORES.load(Ordering::Relaxed);
    if cores == 0 {
        cores = crate::runtime::parallel::default_threads();
        CORES.store(cores, Ordering::Relaxed);
    }
    cores > 1
}

/// Pixels from which the two sides of one image are scanned on two threads.
const PARALLEL_SIDES_FROM: usize = 1 << 17;

/// How many recent runs' labels a side remembers before asking the segment table.
const RECENT: usize = 4;

/// Runs between looks at the cancel flag: well under a millisecond of work.
const RUNS_PER_CHECK: usize = 1 << 14;

/// One side of an image labelled: where each run ends and its segment id, and the segments.
struct SideRuns {
    runs: Vec<(usize, u32)>,
    segments: Vec<Segment>,
}

fn scan_side<T: Copy + PartialEq, const W: usize, D: Fn([T; W]) -> Result<Label, PqError>>(
    image_id: &str,
    side: Side,
    values: &[T],
    labels: &SideLabels<'_, D>,
    kinds: &Categories,
    cancel: &Cancel,
) -> Result<SideRuns, PqError> {
    let pixels = values.len() / W;
    let mut segmenter = Segmenter::new(image_id, side, kinds, labels.policy);
    // Runs are a few dozen pixels long in real maps: room for that up front, grown if needed.
    let mut runs = Vec::new();
    runs.try_reserve(pixels / 32 + 1).map_err(|_| PqError::OutOfMemory {
        what: "the runs of a label map".to_owned(),
        bytes: (pixels / 32 + 1) as u128 * 16,
    })?;
    // The most recent runs and their ids: runs often return to a label they just left.
    let mut recent: [Option<(usize, u32)>; RECENT] = [None; RECENT];
    let mut start = 0;
    while start < pixels {
        if runs.len() % RUNS_PER_CHECK == RUNS_PER_CHECK - 1 {
            cancel.check()?;
        }
        let key = pixel::<T, W>(values, start);
        let cached = recent.iter().flatten().find(|&&(at, _)| pixel::<T, W>(values, at) == key);
        let id = match cached {
            Some(&(_, id)) => id,
            None => segmenter.assign((labels.decode)(key)?)?,
        };
        recent.rotate_right(1);
        recent[0] = Some((start, id));
        let end = run_end::<T, W>(values, start, key);
        segmenter.count(id, (end - start) as u64);
        push(&mut runs, (end, id), "the runs of a label map")?;
        start = end;
    }
    Ok(SideRuns { runs, segments: segmenter.segments })
}

fn pixel<T: Copy, const W: usize>(values: &[T], at: usize) -> [T; W] {
    std::array::from_fn(|k| values[at * W + k])
}

/// The first pixel after `from` whose values differ from `key`, pixel `from`'s (or the pixel
/// count).
fn run_end<T: Copy + PartialEq, const W: usize>(values: &[T], from: usize, key: [T; W]) -> usize {
    // Blocks of a fixed number of values, compared with `key` repeated over a block (measured:
    // faster than array equality or a count of differences, which call or serialise).
    const VALUES: usize = 16;
    let pattern: [T; VALUES] = std::array::from_fn(|i| key[i % W]);
    let pixels = values.len() / W;
    // A block starts on a pixel boundary: VALUES is a multiple of W for W in 1, 2, 4, 8, 16.
    let step = if VALUES % W == 0 { VALUES / W } else { 0 };
    let mut at = from + 1;
    while step > 0 && at + step <= pixels {
        let Ok(block) = <&[T; VALUES]>::try_from(&values[at * W..at * W + VALUES]) else { break };
        #[allow(clippy::needless_bitwise_bool)]
        let differs = block.iter().zip(&pattern).fold(false, |d, (v, p)| d | (v != p));
        if differs {
            break;
        }
        at += step;
    }
    while at < pixels && (0..W).all(|k| values[at * W + k] == key[k]) {
        at += 1;
    }
    at
}

/// Gives each distinct (category, instance) its dense segment id, the policy applied first.
struct Segmenter<'a> {
    image_id: &'a str,
    side: Side,
    kinds: &'a Categories,
    policy: &'a LabelPolicy,
    segments: Vec<Segment>,
    index: IdMap<(i64, i64), u32>,
    /// Every raw label met, with the id it was given.
    seen: IdMap<Label, u32>,
}

impl<'a> Segmenter<'a> {
    fn new(image_id: &'a str, side: Side, kinds: &'a Categories, policy: &'a LabelPolicy) -> Self {
        Self {
            image_id,
            side,
            kinds,
            policy,
            segments: Vec::new(),
            index: IdMap::default(),
            seen: IdMap::default(),
        }
    }

    /// The id of `label`'s segment, VOID included; the policy is applied once per label.
    fn assign(&mut self, label: Label) -> Result<u32, PqError> {
        if let Some(&id) = self.seen.get(&label) {
            return Ok(id);
        }
        let id = self.assign_new(label)?;
        self.seen.insert(label, id);
        Ok(id)
    }

    fn assign_new(&mut self, label: Label) -> Result<u32, PqError> {
        let Label::Segment { category_id, mut instance_id } = label else {
            return Ok(VOID);
        };
        if self.policy.void_category == Some(category_id) {
            return Ok(VOID);
        }
        match self.kinds.kind_of(category_id) {
            None if self.policy.unknown_is_void => return Ok(VOID),
            None => {
                return Err(PqError::UnknownLabel {
                    image_id: self.image_id.to_owned(),
                    side: self.side,
                    category_id,
                    hint: self.policy.unknown_hint,
                })
            }
            Some(false) if instance_id != 0 => {
                if !self.policy.merge_stuff_instances {
                    return Err(PqError::StuffInstance {
                        image_id: self.image_id.to_owned(),
                        side: self.side,
                        category_id,
                        instance_id,
                    });
                }
                instance_id = 0;
            }
            Some(_) => {}
        }
        let next = u32::try_from(self.segments.len() + 1).map_err(|_| PqError::LengthMismatch {
            what: "segments in one image (at most 2^32 - 1)",
            expected: u32::MAX as usize,
            got: self.segments.len() + 1,
        })?;
        let id = *self.index.entry((category_id, instance_id)).or_insert(next);
        if id == next {
            self.segments.push(Segment { id, category_id, area: 0 });
        }
        Ok(id)
    }

    /// Counts `pixels` into the area of segment `id`.
    fn count(&mut self, id: u32, pixels: u64) {
        if id != VOID {
            self.segments[id as usize - 1].area += pixels;
        }
    }
}

/// Decodes `category × label_divisor + instance`; negative values are refused.
pub fn encoded_label(
    image_id: &str,
    side: Side,
    label_divisor: i64,
) -> impl Fn(i64) -> Result<Label, PqError> + '_ {
    move |value| {
        if value < 0 {
            return Err(PqError::NegativeLabel { image_id: image_id.to_owned(), side, value });
        }
        Ok(Label::Segment { category_id: value / label_divisor, instance_id: value % label_divisor })
    }
}

/// An id map's ids as labels: VOID stays VOID, a listed id is its segment; an unlisted id is
/// VOID in the ground truth (as panopticapi ignores it) and an error in a prediction.
pub fn listed_label<'a, S: BuildHasher + Sync>(
    image_id: &'a str,
    side: Side,
    listed: &'a HashMap<u32, (i64, bool), S>,
) -> impl Fn(u32) -> Result<Label, PqError> + Sync + 'a {
    move |id| {
        if id == VOID {
            return Ok(Label::Void);
        }
        match (listed.get(&id), side) {
            // Crowd regions are ignored regions: VOID under rules that have no crowd.
            (Some(&(_, true)), _) | (None, Side::GroundTruth) => Ok(Label::Void),
            (Some(&(category_id, false)), _) => {
                Ok(Label::Segment { category_id, instance_id: i64::from(id) })
            }
            (None, Side::Prediction) => {
                Err(PqError::SegmentNotInJson { image_id: image_id.to_owned(), segment_id: id })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds() -> Categories {
        Categories::with_kinds([(1, true), (7, false)])
    }

    #[allow(clippy::unnecessary_wraps)] // the decoder signature label_pair takes
    fn decode([category_id, instance_id]: [i64; 2]) -> Result<Label, PqError> {
        Ok(Label::Segment { category_id, instance_id })
    }

    fn pair(gt: &[(i64, i64)], pred: &[(i64, i64)], policy: &LabelPolicy) -> Result<LabelledPair, PqError> {
        let side = || SideLabels { decode, policy };
        let flat = |v: &[(i64, i64)]| v.iter().flat_map(|&(c, i)| [c, i]).collect::<Vec<i64>>();
        label_pair::<i64, 2, _, _>("9", &flat(gt), &flat(pred), &side(), &side(), &kinds(), &Cancel::new())
    }

    fn sorted(h: &PairHistogram) -> Vec<(u32, u32, u64)> {
        let mut v: Vec<_> = h.iter().collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn pairs_become_dense_segments_and_a_histogram() {
        let gt = [(1, 4), (1, 4), (7, 0), (1, 2), (1, 4)];
        let pred = [(1, 9), (1, 9), (1, 9), (7, 0), (7, 0)];
        let l = pair(&gt, &pred, &LabelPolicy::default()).unwrap();
        assert_eq!(l.gt[0], Segment { id: 1, category_id: 1, area: 3 });
        assert_eq!((l.gt[1].area, l.gt[2].area, l.pred[0].area, l.pred[1].area), (1, 1, 3, 2));
        assert_eq!(sorted(&l.histogram), vec![(1, 1, 2), (1, 2, 1), (2, 1, 1), (3, 2, 1)]);
    }

    #[test]
    fn void_unknown_and_stuff_instances_follow_the_policy() {
        let strict = LabelPolicy { void_category: Some(255), ..LabelPolicy::default() };
        let l = pair(&[(255, 3), (7, 0)], &[(7, 0), (7, 0)], &strict).unwrap();
        assert_eq!(sorted(&l.histogram), vec![(0, 1, 1), (1, 1, 1)]);
        assert!(matches!(
            pair(&[(5, 0)], &[(7, 0)], &strict),
            Err(PqError::UnknownLabel { category_id: 5, .. })
        ));
        let e = pair(&[(7, 0)], &[(7, 2)], &strict).unwrap_err();
        assert!(matches!(e, PqError::StuffInstance { instance_id: 2, side: Side::Prediction, .. }));
        let lenient = LabelPolicy { unknown_is_void: true, merge_stuff_instances: true, ..strict };
        let l = pair(&[(5, 0), (7, 2), (7, 3)], &[(7, 0); 3], &lenient).unwrap();
        assert_eq!(l.gt.len(), 1);
        assert_eq!(sorted(&l.histogram), vec![(0, 1, 1), (1, 1, 2)]);
    }

    #[test]
    fn long_runs_cross_block_borders() {
        let mut gt = vec![(1, 1); 40];
        gt[17] = (7, 0);
        let pred = vec![(1, 2); 40];
        let l = pair(&gt, &pred, &LabelPolicy::default()).unwrap();
        assert_eq!(sorted(&l.histogram), vec![(1, 1, 39), (2, 1, 1)]);
        assert_eq!((l.gt[0].area, l.gt[1].area, l.pred[0].area), (39, 1, 40));
    }

    #[test]
    fn encoded_labels_decode_and_refuse_negatives() {
        let decode = encoded_label("3", Side::Prediction, 1000);
        assert_eq!(decode(7002).unwrap(), Label::Segment { category_id: 7, instance_id: 2 });
        assert!(matches!(decode(-1), Err(PqError::NegativeLabel { value: -1, .. })));
    }
}
