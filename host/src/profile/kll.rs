//! A deterministic KLL quantile sketch (Karnin, Lang and Liberty, 2016), laid out as Apache
//! DataSketches lays it out: levels of retained items, an item at level `h` standing for
//! `2^h` values, each level's capacity `k·(2/3)^depth` (at least 8).
//!
//! What it adds over DataSketches' KLL: the coin that picks the odd or the even items of a
//! compaction is a SplitMix64 stream owned by the sketch and seeded the same way every time,
//! so the same values in the same order, merged in the same order, always give the same
//! sketch (DataSketches draws from a per-thread stream seeded at random, so identical data
//! profiled twice reported different quantiles). The error bound is the same: a reported
//! quantile's rank is within [`rank_error`] of the asked rank with 99% confidence.

/// The items a sketch orders: integers and floating-point numbers without NaN.
pub trait Item: Copy + PartialOrd + std::fmt::Debug {
    /// A total order (for floats, `total_cmp`; NaN never enters a sketch).
    fn order(&self, other: &Self) -> std::cmp::Ordering;
    /// The item's 8 bytes, little-endian.
    fn to_le(self) -> [u8; 8];
    /// The item from 8 little-endian bytes.
    fn from_le(bytes: [u8; 8]) -> Self;
}

impl Item for i64 {
    fn order(&self, other: &Self) -> std::cmp::Ordering {
        self.cmp(other)
    }
    fn to_le(self) -> [u8; 8] {
        self.to_le_bytes()
    }
    fn from_le(bytes: [u8; 8]) -> Self {
        i64::from_le_bytes(bytes)
    }
}

impl Item for f64 {
    fn order(&self, other: &Self) -> std::cmp::Ordering {
        self.total_cmp(other)
    }
    fn to_le(self) -> [u8; 8] {
        self.to_le_bytes()
    }
    fn from_le(bytes: [u8; 8]) -> Self {
        f64::from_le_bytes(bytes)
    }
}

/// The accuracy parameter: DataSketches' default, about 1.3% rank error.
pub const K: u16 = 200;
/// The smallest capacity of a level.
const MIN_LEVEL_CAPACITY: usize = 8;
/// Where every sketch's coin starts.
const SEED: u64 = 0x5EED_5EED_5EED_5EED;

/// The normalised rank error of one quantile, 99% confidence (DataSketches' formula).
pub fn rank_error(k: u16) -> f64 {
    2.296 / f64::from(k).powf(0.9723)
}

/// A KLL sketch of `T`s.
#[derive(Debug, Clone, PartialEq)]
pub struct Kll<T> {
    k: u16,
    /// How many values it has seen.
    n: u64,
    /// Level 0 in arrival order; every higher level sorted.
    levels: Vec<Vec<T>>,
    /// The SplitMix64 state of the compaction coin.
    coin: u64,
    /// Items held in all levels.
    retained: usize,
    /// The sum of the levels' capacities: reaching it compacts.
    limit: usize,
}

impl<T: Item> Default for Kll<T> {
    fn default() -> Self {
        Kll::new(K)
    }
}

impl<T: Item> Kll<T> {
    /// An empty sketch with accuracy `k`.
    pub fn new(k: u16) -> Self {
        let mut sketch = Kll {
            k: k.max(MIN_LEVEL_CAPACITY as u16),
            n: 0,
            levels: vec![Vec::new()],
            coin: SEED,
            retained: 0,
            limit: 0,
        };
        sketch.limit = sketch.total_capacity();
        sketch
    }

    /// How many values it has seen.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// Its accuracy parameter.
    pub fn k(&self) -> u16 {
        self.k
    }

    /// Add one value.
    pub fn update(&mut self, value: T) {
        self.levels[0].push(value);
        self.n += 1;
        self.retained += 1;
        if self.retained >= self.limit {
            self.compress();
        }
    }

    /// Add the values another sketch of the same data's type has seen.
    pub fn merge(&mut self, other: &Kll<T>) {
        if other.n == 0 {
            return;
        }
        while self.levels.len() < other.levels.len() {
            self.levels.push(Vec::new());
        }
        self.limit = self.total_capacity();
        self.retained += other.retained;
        self.levels[0].extend_from_slice(&other.levels[0]);
        for (h, theirs) in other.levels.iter().enumerate().skip(1) {
            let mine = std::mem::take(&mut self.levels[h]);
            self.levels[h] = merge_sorted(&mine, theirs);
        }
        self.n += other.n;
        self.compress();
    }

    /// The smallest retained item whose inclusive rank reaches `rank` (0 to 1); `None` when
    /// empty.
    pub fn quantile(&self, rank: f64) -> Option<T> {
        let view = self.sorted_view();
        let total: u64 = view.last()?.1;
        let wanted = ((rank.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let at = view.partition_point(|(_, cumulative)| *cumulative < wanted);
        view.get(at.min(view.len() - 1)).map(|(item, _)| *item)
    }

    /// Every retained item with the total weight up to and including it, in order.
    fn sorted_view(&self) -> Vec<(T, u64)> {
        let mut weighted: Vec<(T, u64)> = (self.levels.iter().enumerate())
            .flat_map(|(h, level)| level.iter().map(move |item| (*item, 1u64 << h)))
            .collect();
        weighted.sort_by(|a, b| a.0.order(&b.0));
        let mut total = 0;
        for entry in &mut weighted {
            total += entry.1;
            entry.1 = total;
        }
        weighted
    }

    /// The capacity of level `height` while the sketch has its current number of levels.
    fn capacity(&self, height: usize) -> usize {
        let depth = (self.levels.len() - 1 - height) as i32;
        let capacity = (f64::from(self.k) * (2.0f64 / 3.0).powi(depth)).round() as usize;
        capacity.max(MIN_LEVEL_CAPACITY)
    }

    fn total_capacity(&self) -> usize {
        (0..self.levels.len()).map(|h| self.capacity(h)).sum()
    }

    /// Compact the lowest full level until the sketch fits its capacity.
    fn compress(&mut self) {
        while self.retained >= self.limit {
            let Some(height) =
                (0..self.levels.len()).find(|&h| self.levels[h].len() >= self.capacity(h))
            else {
                return;
            };
            self.compact(height);
        }
    }

    /// Halve level `height` into the one above: sort it, keep the first item back when
    /// their number is odd, and promote the odd or the even positions as the coin says.
    fn compact(&mut self, height: usize) {
        if height + 1 == self.levels.len() {
            self.levels.push(Vec::new());
            self.limit = self.total_capacity();
        }
        let mut level = std::mem::take(&mut self.levels[height]);
        if height == 0 {
            level.sort_by(|a, b| a.order(b));
        }
        let kept = (level.len() % 2 == 1).then(|| level[0]);
        let pairs = &level[usize::from(kept.is_some())..];
        let offset = usize::from(self.flip());
        let promoted: Vec<T> = pairs.iter().skip(offset).step_by(2).copied().collect();
        let above = std::mem::take(&mut self.levels[height + 1]);
        self.levels[height + 1] = merge_sorted(&above, &promoted);
        self.retained -= level.len() - promoted.len() - usize::from(kept.is_some());
        level.clear();
        level.extend(kept);
        self.levels[height] = level;
    }

    /// The next bit of the sketch's own SplitMix64 stream.
    fn flip(&mut self) -> bool {
        self.coin = self.coin.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.coin;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) & 1 == 1
    }

    /// Its bytes: k (u16), n (u64), coin (u64), the number of levels (u8), then each level's
    /// length (u32) and items (8 bytes each), all little-endian.
    pub fn to_bytes(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.k.to_le_bytes());
        out.extend_from_slice(&self.n.to_le_bytes());
        out.extend_from_slice(&self.coin.to_le_bytes());
        out.push(self.levels.len() as u8);
        for level in &self.levels {
            out.extend_from_slice(&(level.len() as u32).to_le_bytes());
            for item in level {
                out.extend_from_slice(&item.to_le());
            }
        }
    }

    /// A sketch from [`Kll::to_bytes`]; every length is checked against what is there.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let mut input = Reader(bytes);
        let k = u16::from_le_bytes(input.take()?);
        let n = u64::from_le_bytes(input.take()?);
        let coin = u64::from_le_bytes(input.take()?);
        let [count] = input.take::<1>()?;
        if count == 0 || count > 64 || k < MIN_LEVEL_CAPACITY as u16 {
            return Err("a quantile sketch is corrupt: impossible levels or k".into());
        }
        let mut levels = Vec::with_capacity(usize::from(count));
        let mut weight = 0u128;
        for h in 0..u32::from(count) {
            let len = u32::from_le_bytes(input.take()?) as usize;
            if len > input.0.len() / 8 {
                return Err(
                    "a quantile sketch is corrupt: a level is longer than its bytes".into(),
                );
            }
            let mut level = Vec::with_capacity(len);
            for _ in 0..len {
                level.push(T::from_le(input.take()?));
            }
            weight += (len as u128) << h;
            levels.push(level);
        }
        if !input.0.is_empty() || weight != u128::from(n) {
            return Err("a quantile sketch is corrupt: its weights do not add up".into());
        }
        let mut sketch = Kll {
            k,
            n,
            retained: levels.iter().map(Vec::len).sum(),
            levels,
            coin,
            limit: 0,
        };
        sketch.limit = sketch.total_capacity();
        Ok(sketch)
    }
}

/// Reads fixed-size fields off the front of a byte slice.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or("a quantile sketch is corrupt: it ends early")?;
        self.0 = rest;
        Ok(*head)
    }
}

/// Two sorted runs as one.
fn merge_sorted<T: Item>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if b[j].order(&a[i]).is_lt() {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(values: impl Iterator<Item = i64>) -> Kll<i64> {
        let mut sketch = Kll::default();
        values.for_each(|v| sketch.update(v));
        sketch
    }

    #[test]
    fn the_same_values_give_the_same_sketch_on_any_thread() {
        let values = || (0..300_000i64).map(|i| (i * 7919) % 100_003);
        let here = filled(values());
        let there = std::thread::spawn(move || filled(values())).join().unwrap();
        assert_eq!(here, there);
        assert!(
            here.n() == 300_000 && here.retained < 1_000,
            "{}",
            here.retained
        );
    }

    #[test]
    fn quantiles_stay_within_the_rank_error_after_merges() {
        let values: Vec<i64> = (0..500_000i64).map(|i| (i * 104_729) % 1_000_003).collect();
        let mut merged = Kll::default();
        for part in values.chunks(70_000) {
            merged.merge(&filled(part.iter().copied()));
        }
        let mut sorted = values.clone();
        sorted.sort_unstable();
        let n = sorted.len() as f64;
        let epsilon = rank_error(K);
        for rank in [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] {
            let q = merged.quantile(rank).unwrap();
            let below = sorted.partition_point(|v| *v < q) as f64 / n;
            let at_or_below = sorted.partition_point(|v| *v <= q) as f64 / n;
            assert!(
                below <= rank + epsilon && at_or_below >= rank - epsilon,
                "q({rank}) = {q}: ranks [{below}, {at_or_below}] ± {epsilon}"
            );
        }
    }

    #[test]
    fn bytes_round_trip_and_corrupt_ones_are_refused() {
        let sketch = filled((0..10_000).map(|i| i % 997));
        let mut bytes = Vec::new();
        sketch.to_bytes(&mut bytes);
        assert_eq!(Kll::<i64>::from_bytes(&bytes), Ok(sketch));
        assert!(Kll::<i64>::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let mut lying = bytes.clone();
        lying[19..23].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Kll::<i64>::from_bytes(&lying).is_err());
        assert!(Kll::<f64>::from_bytes(&[]).is_err());
    }
}
