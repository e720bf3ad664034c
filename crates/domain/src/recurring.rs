//! Recurring problems: the topics that keep coming back to one institution.
//!
//! LAPOR! is criticised because each complaint is handled on its own, so
//! the same problem is reported again and again. This finds groups of
//! reports that share a pair of (stemmed) terms and are spread over time,
//! so an institution sees "jalan + rusak: 14 reports over 5 months" and
//! can fix the cause once.
//!
//! Method, chosen to be explainable to the admin reading it:
//! 1. Each report's terms come from [`crate::search::terms`] (stemmed,
//!    stopwords gone). Terms found in more than half of the reports say
//!    nothing about a topic and are left out; so are terms found only once.
//! 2. Every pair of a report's remaining terms (its rarest twelve) is
//!    counted.
//! 3. Greedily, the pair shared by the most reports not yet in a topic
//!    becomes a topic, if those reports are enough and span at least
//!    `min_span_days`; its reports leave the pool. Ties go to the
//!    alphabetically first pair, so the result is deterministic.

use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};

use chrono::NaiveDate;

/// One report as the finder sees it.
#[derive(Debug, Clone)]
pub struct Doc {
    pub day: NaiveDate,
    pub terms: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Fewest reports that make a topic.
    pub min_reports: usize,
    /// Fewest days between a topic's first and last report: a burst on one
    /// day is a duplicate, not a recurring problem.
    pub min_span_days: i64,
    pub max_topics: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            min_reports: 3,
            min_span_days: 7,
            max_topics: 10,
        }
    }
}

/// Terms of a report considered for pairs (its rarest).
const TERMS_PER_DOC: usize = 12;

/// A recurring topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    /// The shared pair, then a third term most of its reports share, if any.
    pub terms: Vec<String>,
    /// Indices into the input, newest first.
    pub docs: Vec<usize>,
    pub first: NaiveDate,
    pub last: NaiveDate,
}

pub fn find(docs: &[Doc], opts: Options) -> Vec<Topic> {
    let n = docs.len();
    if n < opts.min_reports.max(2) {
        return Vec::new();
    }
    let sets: Vec<HashSet<&str>> = docs
        .iter()
        .map(|d| d.terms.iter().map(String::as_str).collect())
        .collect();
    let mut df: HashMap<&str, usize> = HashMap::new();
    for s in &sets {
        for t in s {
            *df.entry(t).or_default() += 1;
        }
    }
    let generic = |t: &str| n >= 10 && df[t] * 2 > n;
    let mut pairs: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, s) in sets.iter().enumerate() {
        let mut kept: Vec<&str> = s.iter().copied().filter(|t| df[t] >= 2 && !generic(t)).collect();
        kept.sort_by(|a, b| df[a].cmp(&df[b]).then(a.cmp(b)));
        kept.truncate(TERMS_PER_DOC);
        kept.sort_unstable();
        for (x, a) in kept.iter().enumerate() {
            for b in &kept[x + 1..] {
                pairs.entry((a, b)).or_default().push(i);
            }
        }
    }
    // Lazy greedy: a pair's count only falls as reports are taken, so a
    // popped pair whose recount still beats the next one is the best.
    let mut heap: BinaryHeap<(usize, std::cmp::Reverse<(&str, &str)>)> = pairs
        .iter()
        .filter(|(_, v)| v.len() >= opts.min_reports)
        .map(|(k, v)| (v.len(), std::cmp::Reverse(*k)))
        .collect();
    let mut taken = vec![false; n];
    let mut topics = Vec::new();
    while let Some((count, std::cmp::Reverse(pair))) = heap.pop() {
        if topics.len() >= opts.max_topics {
            break;
        }
        let free: Vec<usize> = pairs[&pair].iter().copied().filter(|&i| !taken[i]).collect();
        if free.len() < count {
            if free.len() >= opts.min_reports {
                heap.push((free.len(), std::cmp::Reverse(pair)));
            }
            continue;
        }
        let first = free.iter().map(|&i| docs[i].day).min().unwrap_or_default();
        let last = free.iter().map(|&i| docs[i].day).max().unwrap_or_default();
        if (last - first).num_days() < opts.min_span_days {
            continue;
        }
        for &i in &free {
            taken[i] = true;
        }
        // A third term shared by more than half the topic's reports.
        let mut third: BTreeMap<&str, usize> = BTreeMap::new();
        for &i in &free {
            for t in &sets[i] {
                if *t != pair.0 && *t != pair.1 && !generic(t) {
                    *third.entry(t).or_default() += 1;
                }
            }
        }
        let mut terms = vec![pair.0.to_string(), pair.1.to_string()];
        if let Some((t, c)) = third.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            && c * 2 > free.len()
        {
            terms.push(t.to_string());
        }
        let mut members = free;
        members.sort_by(|&a, &b| docs[b].day.cmp(&docs[a].day).then(a.cmp(&b)));
        topics.push(Topic {
            terms,
            docs: members,
            first,
            last,
        });
    }
    topics.sort_by(|a, b| b.docs.len().cmp(&a.docs.len()).then(a.terms.cmp(&b.terms)));
    topics
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::terms;

    fn doc(day: u32, text: &str) -> Doc {
        Doc {
            day: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Duration::days(i64::from(day)),
            terms: terms(text),
        }
    }

    #[test]
    fn finds_a_problem_that_keeps_coming_back() {
        let docs = vec![
            doc(0, "Jalan rusak berlubang di depan pasar"),
            doc(20, "Lampu penerangan jalan umum mati sejak minggu lalu"),
            doc(35, "Jalan berlubang dan rusak parah dekat pasar Cicadas"),
            doc(40, "Sampah menumpuk di tepi sungai"),
            doc(60, "Lubang besar di jalan, rusak, membahayakan pengendara"),
            doc(61, "Pungutan liar saat mengurus KTP"),
            doc(90, "Jalan kampung rusak lagi setelah diperbaiki"),
            doc(95, "Lampu jalan padam di gang"),
        ];
        let topics = find(&docs, Options::default());
        assert!(!topics.is_empty());
        let t = &topics[0];
        assert!(
            t.terms.contains(&"jalan".to_string()) && t.terms.contains(&"rusak".to_string()),
            "{t:?}"
        );
        assert_eq!(t.docs, vec![6, 4, 2, 0], "newest first");
        assert_eq!((t.last - t.first).num_days(), 90);
        // Each report is in one topic at most.
        let all: Vec<usize> = topics.iter().flat_map(|t| t.docs.clone()).collect();
        let unique: HashSet<usize> = all.iter().copied().collect();
        assert_eq!(all.len(), unique.len());
    }

    #[test]
    fn a_burst_on_one_day_is_not_recurring() {
        let docs: Vec<Doc> = (0..5).map(|_| doc(3, "Banjir di perumahan Griya Asri")).collect();
        assert!(find(&docs, Options::default()).is_empty());
        let spread: Vec<Doc> = (0..5).map(|i| doc(i * 10, "Banjir di perumahan Griya Asri")).collect();
        assert_eq!(find(&spread, Options::default()).len(), 1);
    }

    #[test]
    fn too_few_reports_or_nothing_shared_gives_nothing() {
        assert!(find(&[], Options::default()).is_empty());
        let docs = vec![doc(0, "air mati"), doc(30, "air mati")];
        assert!(find(&docs, Options::default()).is_empty());
        let docs = vec![
            doc(0, "jalan rusak"),
            doc(30, "sampah menumpuk"),
            doc(60, "izin usaha lambat"),
        ];
        assert!(find(&docs, Options::default()).is_empty());
    }

    #[test]
    fn deterministic_and_bounded() {
        let texts = [
            "air pdam mati",
            "air pdam keruh",
            "sampah menumpuk pasar",
            "sampah pasar bau",
            "jalan rusak",
            "jalan rusak parah",
            "lampu jalan mati",
            "lampu jalan padam",
        ];
        let docs: Vec<Doc> = (0..200).map(|i| doc(i, texts[i as usize % texts.len()])).collect();
        let a = find(
            &docs,
            Options {
                max_topics: 3,
                ..Options::default()
            },
        );
        let b = find(
            &docs,
            Options {
                max_topics: 3,
                ..Options::default()
            },
        );
        assert_eq!(a, b);
        assert_eq!(a.len(), 3);
        assert!(a.iter().all(|t| t.docs.len() >= 3));
    }
}
