//! The arithmetic of the indicators in docs/indicators.md: rates that say
//! "–" when there is nothing to divide, working-day histograms whose
//! percentiles are exact to the day (stored ones to their bucket, decision
//! 0018) and merge by addition, and the
//! Baik / Sedang / Kurang rating of regional governments.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Days a histogram tells apart; longer times share the last bucket.
pub const HISTOGRAM_DAYS: u16 = 120;

/// The working-day buckets the rollups keep (decision 0018), by first day:
/// every day up to 10, then ranges that end on the deadlines (14 and 60
/// working days), and "more than 120". A stored percentile is the first
/// day of its bucket; `days_label` says which range it stands for.
pub const BUCKETS: [u16; 19] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 21, 31, 46, 61, 91, 121];

/// The first day of the bucket holding `days`.
pub fn bucket_start(days: u32) -> u16 {
    let d = u16::try_from(days).unwrap_or(u16::MAX);
    BUCKETS.iter().rev().copied().find(|b| *b <= d).unwrap_or(0)
}

/// How a bucketed day count reads: "7", "11–14", "> 120".
pub fn days_label(first: u16) -> String {
    if first > HISTOGRAM_DAYS {
        return format!("> {HISTOGRAM_DAYS}");
    }
    let next = BUCKETS.iter().copied().find(|b| *b > first);
    match next {
        Some(n) if n > first + 1 => format!("{first}–{}", n - 1),
        _ => first.to_string(),
    }
}

/// Figures resting on fewer reports than this are marked as such.
pub const SMALL_SAMPLE: i64 = 5;

/// A share: shown with its numerator and denominator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    pub num: i64,
    pub den: i64,
}

impl Rate {
    pub fn new(num: i64, den: i64) -> Rate {
        Rate { num, den }
    }

    /// Percent, or None when the denominator is 0 (shown as "–", never as 0 %
    /// or 100 %).
    pub fn percent(self) -> Option<f64> {
        (self.den > 0).then(|| 100.0 * self.num as f64 / self.den as f64)
    }
}

impl std::ops::Add for Rate {
    type Output = Rate;
    /// The rate of the union (numerators and denominators add).
    fn add(self, o: Rate) -> Rate {
        Rate {
            num: self.num + o.num,
            den: self.den + o.den,
        }
    }
}

/// Counts of working days (0..=120, then "more than 120").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Histogram(BTreeMap<u16, i64>);

impl Histogram {
    pub fn add(&mut self, days: u32) {
        self.add_n(days, 1);
    }

    /// Adds `n` (which may be negative, to take a contribution back).
    pub fn add_n(&mut self, days: u32, n: i64) {
        let bucket = u16::try_from(days).unwrap_or(u16::MAX).min(HISTOGRAM_DAYS + 1);
        let e = self.0.entry(bucket).or_insert(0);
        *e += n;
        if *e == 0 {
            self.0.remove(&bucket);
        }
    }

    /// Adds another histogram: the union of their samples.
    pub fn merge(&mut self, o: &Histogram) {
        for (d, n) in &o.0 {
            self.add_n(u32::from(*d), *n);
        }
    }

    pub fn count(&self) -> i64 {
        self.0.values().sum()
    }

    /// The `p`-th percentile (0 < p ≤ 1) by nearest rank, in working days;
    /// `HISTOGRAM_DAYS + 1` means "more than 120". None when empty.
    pub fn percentile(&self, p: f64) -> Option<u16> {
        let n = self.count();
        if n <= 0 {
            return None;
        }
        let rank = ((p.clamp(0.0, 1.0) * n as f64).ceil() as i64).max(1);
        let mut seen = 0;
        for (d, c) in &self.0 {
            seen += c;
            if seen >= rank {
                return Some(*d);
            }
        }
        self.0.keys().next_back().copied()
    }

    pub fn median(&self) -> Option<u16> {
        self.percentile(0.5)
    }

    pub fn p90(&self) -> Option<u16> {
        self.percentile(0.9)
    }

    /// Buckets and counts, for storage.
    pub fn buckets(&self) -> impl Iterator<Item = (u16, i64)> + '_ {
        self.0.iter().map(|(d, n)| (*d, *n))
    }
}

/// Kemendagri's three grades for a regional government.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Grade {
    Baik,
    Sedang,
    Kurang,
}

impl Grade {
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Baik => "baik",
            Grade::Sedang => "sedang",
            Grade::Kurang => "kurang",
        }
    }
}

/// The rating's thresholds, in percent (configurable: the public material
/// names the grades, not the formula).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GradeRule {
    pub baik_followed_up: f64,
    pub baik_on_time: f64,
    pub sedang_followed_up: f64,
}

impl Default for GradeRule {
    fn default() -> Self {
        GradeRule {
            baik_followed_up: 80.0,
            baik_on_time: 60.0,
            sedang_followed_up: 50.0,
        }
    }
}

impl GradeRule {
    /// The grade for a period: connected (an active admin or a live
    /// integration), followed up (%), followed up on time (%). A government
    /// that received nothing is graded by connectivity alone: it cannot be
    /// better than Sedang without answers to count.
    pub fn grade(&self, connected: bool, followed_up: Rate, on_time: Rate) -> Grade {
        if !connected {
            return Grade::Kurang;
        }
        match (followed_up.percent(), on_time.percent()) {
            (Some(f), Some(t)) if f >= self.baik_followed_up && t >= self.baik_on_time => Grade::Baik,
            (Some(f), _) if f >= self.sedang_followed_up => Grade::Sedang,
            (None, _) => Grade::Sedang,
            _ => Grade::Kurang,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_say_nothing_when_there_is_nothing_to_divide() {
        assert_eq!(Rate::new(0, 0).percent(), None);
        assert_eq!(Rate::new(3, 4).percent(), Some(75.0));
        assert_eq!(Rate::new(1, 2) + Rate::new(1, 2), Rate::new(2, 4));
    }

    #[test]
    fn buckets_are_exact_to_ten_days_and_end_on_the_deadlines() {
        assert_eq!(bucket_start(0), 0);
        assert_eq!(bucket_start(10), 10);
        assert_eq!(bucket_start(11), 11);
        assert_eq!(bucket_start(14), 11);
        assert_eq!(bucket_start(15), 15);
        assert_eq!(bucket_start(60), 46);
        assert_eq!(bucket_start(61), 61);
        assert_eq!(bucket_start(120), 91);
        assert_eq!(bucket_start(121), 121);
        assert_eq!(bucket_start(u32::MAX), 121);
        assert_eq!(days_label(7), "7");
        assert_eq!(days_label(11), "11–14");
        assert_eq!(days_label(46), "46–60");
        assert_eq!(days_label(91), "91–120");
        assert_eq!(days_label(121), "> 120");
        // Every day lands in a bucket whose label covers it.
        for d in 0..=200u32 {
            let b = bucket_start(d);
            assert!(u32::from(b) <= d);
            assert_eq!(bucket_start(u32::from(b)), b);
        }
    }

    #[test]
    fn percentiles_are_exact_to_the_day_and_merge() {
        let mut a = Histogram::default();
        for d in [1, 2, 2, 3, 10] {
            a.add(d);
        }
        assert_eq!((a.median(), a.p90(), a.count()), (Some(2), Some(10), 5));
        let mut b = Histogram::default();
        for d in [4, 5, 6, 7, 8] {
            b.add(d);
        }
        a.merge(&b);
        // 1 2 2 3 4 5 6 7 8 10: rank 5 is 4, rank 9 is 8.
        assert_eq!((a.median(), a.p90()), (Some(4), Some(8)));
        assert_eq!(Histogram::default().median(), None);
        // Long times share the overflow bucket.
        let mut c = Histogram::default();
        c.add(500);
        c.add(121);
        assert_eq!(c.buckets().collect::<Vec<_>>(), vec![(HISTOGRAM_DAYS + 1, 2)]);
        // A contribution taken back leaves nothing behind.
        c.add_n(700, -2);
        assert_eq!(c, Histogram::default());
    }

    #[test]
    fn a_percentile_equals_sorting_the_samples() {
        // Against the definition, over many pseudo-random samples.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for round in 0..200 {
            let mut h = Histogram::default();
            let mut v = Vec::new();
            for _ in 0..(1 + round % 37) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let d = (x % 140) as u32;
                h.add(d);
                v.push(d.min(u32::from(HISTOGRAM_DAYS) + 1) as u16);
            }
            v.sort_unstable();
            for p in [0.5, 0.9, 1.0] {
                let rank = ((p * v.len() as f64).ceil() as usize).max(1);
                assert_eq!(h.percentile(p), Some(v[rank - 1]), "round {round} p {p}");
            }
        }
    }

    #[test]
    fn regional_governments_are_graded() {
        let rule = GradeRule::default();
        assert_eq!(rule.grade(true, Rate::new(9, 10), Rate::new(7, 10)), Grade::Baik);
        assert_eq!(rule.grade(true, Rate::new(9, 10), Rate::new(5, 10)), Grade::Sedang);
        assert_eq!(rule.grade(true, Rate::new(5, 10), Rate::new(5, 5)), Grade::Sedang);
        assert_eq!(rule.grade(true, Rate::new(4, 10), Rate::new(4, 4)), Grade::Kurang);
        assert_eq!(rule.grade(false, Rate::new(10, 10), Rate::new(10, 10)), Grade::Kurang);
        assert_eq!(rule.grade(true, Rate::new(0, 0), Rate::new(0, 0)), Grade::Sedang);
    }
}
