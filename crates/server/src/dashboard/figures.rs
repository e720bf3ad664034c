//! The indicators of docs/indicators.md for one set of holders, from their
//! summed rollup counters and the live overdue count.

use lapor_domain::indicators::{Histogram, Rate, SMALL_SAMPLE};
use lapor_domain::rollup::Counters;
use serde::Serialize;

/// The live part (decision 0016, point 4): reports past their deadline now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Overdue {
    /// Not yet verified: the national operator's.
    pub verification: i64,
    /// Held by an institution.
    pub held: i64,
}

impl Overdue {
    pub fn total(self) -> i64 {
        self.verification + self.held
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Submissions (national intake).
    pub submitted: i64,
    /// Reports received by the institutions (1).
    pub received: i64,
    /// Verified within 3 working days (2): on time over settled, where a
    /// report overdue for verification now counts as settled late.
    pub verified: Rate,
    /// Passed to the institutions' own units (3).
    pub to_units: i64,
    /// Followed up (4): over received.
    pub followed_up: Rate,
    /// Followed up on time (4): over settled (followed up, or overdue now).
    pub on_time: Rate,
    /// Completed (5): over received.
    pub completed: Rate,
    /// Working days to the first response and to completion (6).
    pub first_response: Histogram,
    pub completion: Histogram,
    /// Overdue now (7).
    pub overdue: Overdue,
    /// Ratings 1..=5 (8).
    pub ratings: [i64; 5],
    /// Reopened over completed (9).
    pub reopen: Rate,
    /// Transferred away over received (10).
    pub transfer: Rate,
    /// Ombudsman (11).
    pub ombudsman_offered: i64,
    pub ombudsman_escalated: i64,
}

impl Figures {
    pub fn new(c: &Counters, overdue: Overdue) -> Figures {
        let hist = |m: &std::collections::BTreeMap<u32, i64>| {
            let mut h = Histogram::default();
            for (d, n) in m {
                h.add_n(*d, *n);
            }
            h
        };
        Figures {
            submitted: c.submitted,
            received: c.received,
            verified: Rate::new(c.verified_on_time, c.verified + overdue.verification),
            to_units: c.dispositioned_to_unit,
            followed_up: Rate::new(c.followed_up, c.received),
            on_time: Rate::new(c.followed_up_on_time, c.followed_up + overdue.held),
            completed: Rate::new(c.completed, c.received),
            first_response: hist(&c.first_response_days),
            completion: hist(&c.completion_days),
            overdue,
            ratings: c.ratings,
            reopen: Rate::new(c.reopened, c.completed),
            transfer: Rate::new(c.transferred_out, c.received),
            ombudsman_offered: c.ombudsman_offered,
            ombudsman_escalated: c.ombudsman_escalated,
        }
    }

    pub fn rated(&self) -> i64 {
        self.ratings.iter().sum()
    }

    /// Mean rating, None without ratings.
    pub fn satisfaction(&self) -> Option<f64> {
        let n = self.rated();
        (n > 0).then(|| {
            let sum: i64 = self.ratings.iter().enumerate().map(|(i, k)| (i as i64 + 1) * k).sum();
            sum as f64 / n as f64
        })
    }

    /// Shown with a "few reports" mark when fewer than 5 stand behind it.
    pub fn small(n: i64) -> bool {
        n > 0 && n < SMALL_SAMPLE
    }
}

/// "72,5 %" (Indonesian) or "72.5%", "–" when there is nothing to divide.
pub fn percent(r: Rate, en: bool) -> String {
    match r.percent() {
        None => "–".into(),
        Some(p) if en => format!("{p:.1}%"),
        Some(p) => format!("{p:.1} %").replace('.', ","),
    }
}

/// A number with thousands separators ("12.345" or "12,345").
pub fn count(n: i64, en: bool) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(if en { ',' } else { '.' });
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_unsettled_reports_enter_the_denominators() {
        let c = Counters {
            verified: 10,
            verified_on_time: 8,
            received: 20,
            followed_up: 15,
            followed_up_on_time: 9,
            completed: 10,
            reopened: 1,
            transferred_out: 2,
            ratings: [0, 0, 1, 0, 3],
            ..Default::default()
        };
        let f = Figures::new(
            &c,
            Overdue {
                verification: 2,
                held: 3,
            },
        );
        assert_eq!(f.verified, Rate::new(8, 12));
        assert_eq!(f.on_time, Rate::new(9, 18));
        assert_eq!(f.followed_up, Rate::new(15, 20));
        assert_eq!(f.reopen, Rate::new(1, 10));
        assert_eq!(f.transfer, Rate::new(2, 20));
        assert_eq!(f.satisfaction(), Some(4.5));
        assert_eq!(f.overdue.total(), 5);
        assert_eq!(
            Figures::new(&Counters::default(), Overdue::default()).satisfaction(),
            None
        );
    }

    #[test]
    fn numbers_read_the_way_each_language_writes_them() {
        assert_eq!(percent(Rate::new(29, 40), false), "72,5 %");
        assert_eq!(percent(Rate::new(29, 40), true), "72.5%");
        assert_eq!(percent(Rate::new(0, 0), true), "–");
        assert_eq!(count(1_234_567, false), "1.234.567");
        assert_eq!(count(1_234, true), "1,234");
        assert_eq!(count(12, true), "12");
        assert_eq!(count(-1_000, true), "-1,000");
    }
}
