//! Segment colours under panopticapi's `IdGenerator` rule, drawn from a seeded generator so a
//! conversion gives the same PNGs on every run, thread count and machine.
//!
//! The rule: a stuff segment takes its category's colour; a thing segment takes its category's
//! colour the first time it is free in the image, else a colour within 30 of it in each channel
//! (clamped to 0..=255) that no segment of the image has yet. Stuff colours are reserved from
//! the start. Unlike panopticapi, black (id 0, VOID) is reserved too — panopticapi's
//! `set([0, 0, 0])` reserves the number 0, not the colour, so it can hand out id 0 — and a
//! category whose neighbourhood is full is an error instead of an endless loop.

use std::collections::HashSet;

use crate::PqError;

/// How far a thing colour may move from its category's colour, per channel.
pub const MAX_DISTANCE: i32 = 30;

/// One category as the generator needs it.
#[derive(Debug, Clone, Copy)]
pub struct CategoryColor {
    pub id: i64,
    pub isthing: bool,
    pub color: [u8; 3],
}

/// SplitMix64: small, fast and well mixed; one stream per image, so images can be converted in
/// any order on any number of threads and still draw the same colours.
#[derive(Debug, Clone)]
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), by rejection so no value is favoured.
    fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let r = self.next();
            if r < zone {
                return r % n;
            }
        }
    }
}

/// The colours of one image's segments.
#[derive(Debug, Clone)]
pub struct IdGenerator<'a> {
    categories: &'a [CategoryColor],
    taken: HashSet<[u8; 3]>,
    random: SplitMix,
    distance: i32,
}

/// The id of a colour: `R + 256 G + 256² B`.
#[must_use]
pub fn color_id(color: [u8; 3]) -> u32 {
    u32::from(color[0]) | u32::from(color[1]) << 8 | u32::from(color[2]) << 16
}

impl<'a> IdGenerator<'a> {
    /// A generator for the image at `index` of a conversion seeded with `seed`.
    #[must_use]
    pub fn new(categories: &'a [CategoryColor], seed: u64, index: u64) -> Self {
        let mut taken: HashSet<[u8; 3]> = categories.iter().filter(|c| !c.isthing).map(|c| c.color).collect();
        taken.insert([0, 0, 0]);
        let mut mix = SplitMix(seed ^ 0x5851_F42D_4C95_7F2D);
        let stream = mix.next() ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03);
        Self { categories, taken, random: SplitMix(stream), distance: MAX_DISTANCE }
    }

    /// The same generator with things moving at most `distance` per channel (30 by default,
    /// panopticapi's `max_dist`).
    #[must_use]
    pub fn with_distance(mut self, distance: u8) -> Self {
        self.distance = i32::from(distance);
        self
    }

    fn category(&self, category_id: i64) -> Result<CategoryColor, PqError> {
        self.categories.iter().find(|c| c.id == category_id).copied().ok_or_else(|| PqError::BadMask {
            message: format!("category_id {category_id} is not in the categories"),
        })
    }

    /// The next segment's colour for `category_id`.
    pub fn color(&mut self, category_id: i64) -> Result<[u8; 3], PqError> {
        let category = self.category(category_id)?;
        if !category.isthing {
            return Ok(category.color);
        }
        if self.taken.insert(category.color) {
            return Ok(category.color);
        }
        // Draw as panopticapi does (each channel uniform in ±30, clamped) a few times; a crowded
        // neighbourhood then falls back to a uniform choice among its free colours.
        for _ in 0..64 {
            let color = self.perturbed(category.color);
            if self.taken.insert(color) {
                return Ok(color);
            }
        }
        let free: Vec<[u8; 3]> =
            neighbourhood(category.color, self.distance).filter(|c| !self.taken.contains(c)).collect();
        if free.is_empty() {
            return Err(PqError::BadMask {
                message: format!(
                    "every colour within {} of category {category_id}'s colour {:?} is taken: the image has too many segments of it",
                    self.distance, category.color
                ),
            });
        }
        let color = free[usize::try_from(self.random.below(free.len() as u64)).unwrap_or(0)];
        self.taken.insert(color);
        Ok(color)
    }

    fn perturbed(&mut self, base: [u8; 3]) -> [u8; 3] {
        let span = u64::try_from(2 * self.distance + 1).unwrap_or(1);
        let distance = self.distance;
        base.map(|channel| {
            let offset = i32::try_from(self.random.below(span)).unwrap_or(0) - distance;
            clamp_channel(i32::from(channel) + offset)
        })
    }
}

fn clamp_channel(value: i32) -> u8 {
    u8::try_from(value.clamp(0, 255)).unwrap_or(0)
}

/// Every colour a thing of `base` may take.
fn neighbourhood(base: [u8; 3], distance: i32) -> impl Iterator<Item = [u8; 3]> {
    let range = |c: u8| {
        let c = i32::from(c);
        (c - distance).max(0)..=(c + distance).min(255)
    };
    let (r, g, b) = (range(base[0]), range(base[1]), range(base[2]));
    r.flat_map(move |r| {
        let b = b.clone();
        g.clone()
            .flat_map(move |g| b.clone().map(move |b| [clamp_channel(r), clamp_channel(g), clamp_channel(b)]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATEGORIES: [CategoryColor; 2] = [
        CategoryColor { id: 1, isthing: true, color: [0, 0, 0] },
        CategoryColor { id: 2, isthing: false, color: [10, 20, 30] },
    ];

    #[test]
    fn stuff_keeps_its_colour_and_things_are_unique_and_never_black() {
        let mut ids = IdGenerator::new(&CATEGORIES, 7, 0);
        assert_eq!(ids.color(2).unwrap(), [10, 20, 30]);
        assert_eq!(ids.color(2).unwrap(), [10, 20, 30]);
        let mut seen = HashSet::new();
        for _ in 0..2000 {
            let c = ids.color(1).unwrap();
            assert_ne!(c, [0, 0, 0]);
            assert_ne!(c, [10, 20, 30]);
            assert!(c.iter().all(|&v| v <= 30));
            assert!(seen.insert(c));
        }
    }

    #[test]
    fn the_same_seed_and_image_give_the_same_colours() {
        let draw = |seed, index| {
            let mut ids = IdGenerator::new(&CATEGORIES, seed, index);
            (0..5).map(|_| ids.color(1).unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(draw(1, 3), draw(1, 3));
        assert_ne!(draw(1, 3), draw(1, 4));
    }

    #[test]
    fn an_exhausted_neighbourhood_is_an_error() {
        // Within 2 of black there are 3^3 - 1 colours (black itself is reserved).
        let mut ids = IdGenerator::new(&CATEGORIES[..1], 0, 0).with_distance(2);
        for _ in 0..(3 * 3 * 3 - 1) {
            ids.color(1).unwrap();
        }
        assert!(ids.color(1).is_err());
    }
}
