//! Execution segments and sequences (k6 `lib/execution_segment.go`), in exact rational arithmetic.
//! Receives the `executionSegment` / `executionSegmentSequence` option strings; emits an
//! [`ExecutionTuple`]: this instance's place in the striping table, used by executors to scale VU
//! counts, iteration counts and arrival-rate schedules so that N instances together run exactly the
//! whole test, and by [`SegmentedIndex`] to map local (scaled) ids to global (unscaled) ones.

use std::fmt;

/// A segment or sequence that could not be parsed or does not fit together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegmentError {
    /// A number that is not `a/b`, `x%` or a decimal.
    #[error("invalid execution segment value \"{0}\"")]
    InvalidNumber(String),
    /// `from >= to`, or outside `[0, 1]`.
    #[error("invalid execution segment \"{0}\": it must satisfy 0 <= from < to <= 1")]
    InvalidSegment(String),
    /// A sequence with fewer than two points or not strictly increasing.
    #[error("invalid execution segment sequence \"{0}\": {1}")]
    InvalidSequence(String, &'static str),
    /// The segment is not one of the sequence's segments.
    #[error("couldn't find segment {segment} in sequence {sequence}")]
    NotInSequence { segment: String, sequence: String },
    /// The common denominator does not fit in 64 bits.
    #[error("execution segment sequence \"{0}\" needs a too large common denominator")]
    Overflow(String),
}

/// A non-negative reduced fraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rat {
    num: u64,
    den: u64,
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Rat {
    /// Zero.
    pub const ZERO: Rat = Rat { num: 0, den: 1 };
    /// One.
    pub const ONE: Rat = Rat { num: 1, den: 1 };

    /// `num/den`, reduced. `None` when `den == 0`.
    pub fn new(num: u64, den: u64) -> Option<Rat> {
        if den == 0 {
            return None;
        }
        let g = gcd(num as u128, den as u128).max(1) as u64;
        Some(Rat {
            num: num / g,
            den: den / g,
        })
    }

    fn from_u128(num: u128, den: u128) -> Option<Rat> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den).max(1);
        Some(Rat {
            num: u64::try_from(num / g).ok()?,
            den: u64::try_from(den / g).ok()?,
        })
    }

    /// Numerator.
    pub fn num(self) -> u64 {
        self.num
    }

    /// Denominator.
    pub fn den(self) -> u64 {
        self.den
    }

    /// Parses `"1/3"`, `"50%"`, `"0.5"`, `"1"`.
    pub fn parse(s: &str) -> Result<Rat, SegmentError> {
        let t = s.trim();
        let bad = || SegmentError::InvalidNumber(s.to_string());
        if let Some(pct) = t.strip_suffix('%') {
            let r = Self::parse_decimal(pct.trim()).ok_or_else(bad)?;
            return Rat::from_u128(r.num as u128, r.den as u128 * 100).ok_or_else(bad);
        }
        if let Some((a, b)) = t.split_once('/') {
            let a: u64 = a.trim().parse().map_err(|_| bad())?;
            let b: u64 = b.trim().parse().map_err(|_| bad())?;
            return Rat::new(a, b).ok_or_else(bad);
        }
        Self::parse_decimal(t).ok_or_else(bad)
    }

    fn parse_decimal(t: &str) -> Option<Rat> {
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > 18 {
            return None;
        }
        let den = 10u128.pow(frac.len() as u32);
        let int: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let f: u128 = if frac.is_empty() {
            0
        } else {
            frac.parse().ok()?
        };
        Rat::from_u128(int.checked_mul(den)?.checked_add(f)?, den)
    }

    fn sub(self, o: Rat) -> Option<Rat> {
        let l = self.num as u128 * o.den as u128;
        let r = o.num as u128 * self.den as u128;
        Rat::from_u128(l.checked_sub(r)?, self.den as u128 * o.den as u128)
    }

    fn lt(self, o: Rat) -> bool {
        (self.num as u128 * o.den as u128) < (o.num as u128 * self.den as u128)
    }
}

impl fmt::Display for Rat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

/// The half-open segment `(from, to]` of the whole test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecutionSegment {
    pub from: Rat,
    pub to: Rat,
}

impl ExecutionSegment {
    /// The whole test, `(0, 1]`.
    pub const FULL: ExecutionSegment = ExecutionSegment {
        from: Rat::ZERO,
        to: Rat::ONE,
    };

    /// `(from, to]`, checking `0 <= from < to <= 1`.
    pub fn new(from: Rat, to: Rat) -> Result<Self, SegmentError> {
        if !from.lt(to) || Rat::ONE.lt(to) {
            return Err(SegmentError::InvalidSegment(format!("{from}:{to}")));
        }
        Ok(ExecutionSegment { from, to })
    }

    /// Parses `"a:b"`, `"b"` (= `0:b`) or `""` (the full segment).
    pub fn parse(s: &str) -> Result<Self, SegmentError> {
        let t = s.trim();
        if t.is_empty() {
            return Ok(Self::FULL);
        }
        let (from, to) = match t.split_once(':') {
            Some((a, b)) => (Rat::parse(a)?, Rat::parse(b)?),
            None => (Rat::ZERO, Rat::parse(t)?),
        };
        Self::new(from, to).map_err(|_| SegmentError::InvalidSegment(s.to_string()))
    }

    /// `to - from`.
    pub fn length(&self) -> Rat {
        self.to.sub(self.from).unwrap_or(Rat::ZERO)
    }
}

impl fmt::Display for ExecutionSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.from, self.to)
    }
}

/// Parses a sequence `"r0,r1,...,rn"` into consecutive segments. Empty means none.
pub fn parse_sequence(s: &str) -> Result<Vec<ExecutionSegment>, SegmentError> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(Vec::new());
    }
    let points = t
        .split(',')
        .map(Rat::parse)
        .collect::<Result<Vec<_>, _>>()?;
    if points.len() < 2 {
        return Err(SegmentError::InvalidSequence(
            s.to_string(),
            "it needs at least two points",
        ));
    }
    points
        .windows(2)
        .map(|w| {
            ExecutionSegment::new(w[0], w[1]).map_err(|_| {
                SegmentError::InvalidSequence(
                    s.to_string(),
                    "each point must be greater than the previous and at most 1",
                )
            })
        })
        .collect()
}

/// The striping table of a filled sequence (§6.2): who owns which index in each period of `D`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Striping {
    /// The filled sequence.
    pub segments: Vec<ExecutionSegment>,
    /// LCM of the segment lengths' denominators.
    pub lcd: u64,
    /// Per segment, the sorted indices in `0..lcd` it owns.
    pub owned: Vec<Vec<u64>>,
}

impl Striping {
    /// Builds the table for a sequence of segments covering `(0, 1]`.
    fn new(segments: Vec<ExecutionSegment>) -> Option<Striping> {
        let lengths: Vec<Rat> = segments.iter().map(|s| s.length()).collect();
        let mut lcd: u128 = 1;
        for l in &lengths {
            lcd = lcd / gcd(lcd, l.den as u128) * l.den as u128;
            if lcd > u64::MAX as u128 {
                return None;
            }
        }
        let norm: Vec<u128> = lengths
            .iter()
            .map(|l| l.num as u128 * (lcd / l.den as u128))
            .collect();
        let mut order: Vec<usize> = (0..segments.len()).collect();
        order.sort_by(|&a, &b| norm[b].cmp(&norm[a])); // stable: ties keep sequence order
        let mut owned: Vec<Vec<u64>> = norm
            .iter()
            .map(|&n| Vec::with_capacity(n as usize))
            .collect();
        for i in 0..lcd {
            let mut chosen = None;
            for &j in &order {
                if norm[j] == 0 {
                    continue;
                }
                let num = owned[j].len() as u128 * lcd;
                let q = num / norm[j];
                if i > q || (i == q && num.is_multiple_of(norm[j])) {
                    chosen = Some(j);
                    break;
                }
            }
            let j = chosen.or_else(|| order.first().copied())?;
            owned[j].push(i as u64);
        }
        Some(Striping {
            segments,
            lcd: lcd as u64,
            owned,
        })
    }

    /// `scale_j(v)`: how many of the global indices `0..v` segment `j` owns.
    pub fn scale(&self, j: usize, v: u64) -> u64 {
        let s = &self.owned[j];
        (v / self.lcd) * s.len() as u64 + s.partition_point(|&x| x < v % self.lcd) as u64
    }
}

/// This instance's segment within its (filled) sequence, with the striping table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutionTuple {
    pub striping: std::sync::Arc<Striping>,
    /// Index of this instance's segment in the sequence.
    pub index: usize,
}

impl ExecutionTuple {
    /// The whole test on one instance.
    pub fn full() -> Self {
        Self::new(None, &[]).unwrap_or_else(|_| unreachable!("the full segment is always valid"))
    }

    /// From the options: the segment (None = full) and sequence (empty = none). Fills the sequence
    /// with the missing head/tail segments and checks the segment is one of its elements.
    pub fn new(
        segment: Option<ExecutionSegment>,
        sequence: &[ExecutionSegment],
    ) -> Result<Self, SegmentError> {
        let seg = segment.unwrap_or(ExecutionSegment::FULL);
        let mut filled: Vec<ExecutionSegment> = if sequence.is_empty() {
            vec![seg]
        } else {
            sequence.to_vec()
        };
        if let Some(first) = filled.first().copied()
            && first.from != Rat::ZERO
        {
            filled.insert(
                0,
                ExecutionSegment {
                    from: Rat::ZERO,
                    to: first.from,
                },
            );
        }
        if let Some(last) = filled.last().copied()
            && last.to != Rat::ONE
        {
            filled.push(ExecutionSegment {
                from: last.to,
                to: Rat::ONE,
            });
        }
        let seq_text = || {
            filled
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let index =
            filled
                .iter()
                .position(|s| *s == seg)
                .ok_or_else(|| SegmentError::NotInSequence {
                    segment: seg.to_string(),
                    sequence: seq_text(),
                })?;
        let text = seq_text();
        let striping = Striping::new(filled).ok_or(SegmentError::Overflow(text))?;
        Ok(ExecutionTuple {
            striping: std::sync::Arc::new(striping),
            index,
        })
    }

    /// This instance's segment.
    pub fn segment(&self) -> ExecutionSegment {
        self.striping.segments[self.index]
    }

    /// Period of the striping table.
    pub fn lcd(&self) -> u64 {
        self.striping.lcd
    }

    /// Sorted owned indices in one period.
    pub fn owned(&self) -> &[u64] {
        &self.striping.owned[self.index]
    }

    /// This instance's share of `v` (`ExecutionTuple.ScaleInt64`).
    pub fn scale(&self, v: u64) -> u64 {
        self.striping.scale(self.index, v)
    }

    /// True when 0-based global index `g` belongs to this instance.
    pub fn owns(&self, g: u64) -> bool {
        self.owned().binary_search(&(g % self.lcd())).is_ok()
    }

    /// Re-segments by a value (`GetNewExecutionTupleFromValue`, §6.4): a tuple whose segments are
    /// where the `v` units actually landed. `None` when this instance got none (no work).
    pub fn resegment(&self, v: u64) -> Option<ExecutionTuple> {
        if v.is_multiple_of(self.lcd()) {
            return Some(self.clone());
        }
        let mut segs = Vec::new();
        let mut prev = 0u64;
        let mut index = None;
        for j in 0..self.striping.segments.len() {
            let n = self.striping.scale(j, v);
            if n == 0 {
                continue;
            }
            if j == self.index {
                index = Some(segs.len());
            }
            segs.push(ExecutionSegment {
                from: Rat::new(prev, v)?,
                to: Rat::new(prev + n, v)?,
            });
            prev += n;
        }
        let index = index?;
        Some(ExecutionTuple {
            striping: std::sync::Arc::new(Striping::new(segs)?),
            index,
        })
    }

    /// The 1-based global (unscaled) position of the 1-based local (scaled) element `scaled`.
    pub fn unscaled(&self, scaled: u64) -> u64 {
        let owned = self.owned();
        let n = owned.len() as u64;
        if scaled == 0 || n == 0 {
            return 0;
        }
        let k = scaled - 1;
        (k / n) * self.lcd() + owned[(k % n) as usize] + 1
    }
}

/// Hands out (scaled, unscaled) pairs in order: local count and global position, both 1-based.
/// Lock-free: one atomic counter.
#[derive(Debug)]
pub struct SegmentedIndex {
    tuple: ExecutionTuple,
    next: std::sync::atomic::AtomicU64,
}

impl SegmentedIndex {
    /// Starts before the first element.
    pub fn new(tuple: ExecutionTuple) -> Self {
        SegmentedIndex {
            tuple,
            next: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The next (scaled, unscaled) pair, 1-based.
    pub fn next(&self) -> (u64, u64) {
        let scaled = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        (scaled, self.tuple.unscaled(scaled))
    }
}

#[cfg(test)]
#[path = "segment_tests.rs"]
mod tests;
