//! Where should a report go? Suggestions for the national admin who verifies a
//! new report and dispositions it to an institution.
//!
//! Two sources, both advisory (the admin decides):
//!
//! * [`apply_rules`]: admin-defined [`RoutingRule`]s keyed on category and
//!   region depth, whose institution may be a template such as
//!   `pemkot-{region}`, so one rule covers every regency/city.
//! * [`Classifier`]: multinomial naive Bayes trained on past dispositions over
//!   the search [`terms`], for reports the rules do not cover. [`evaluate`]
//!   measures it on a deterministic held-out split so the UI can say how far
//!   to trust it.

use crate::institution::valid_code;
use crate::search::terms;
use std::collections::{BTreeSet, HashMap};

// ---------------------------------------------------------------------------
// Rules

/// The one placeholder a rule's institution may contain.
const REGION_PLACEHOLDER: &str = "{region}";

/// Kemendagri codes have at most four levels: province, regency/city,
/// district, village.
const MAX_REGION_LEVEL: u8 = 4;

/// An admin-defined routing rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingRule {
    pub id: i64,
    /// `None` matches any category.
    pub category: Option<String>,
    /// 1 province, 2 regency/city; the report's region must be at least this
    /// deep. `None` matches any report, with or without a region.
    pub region_level: Option<u8>,
    /// Institution code, possibly with `{region}`, which becomes the report's
    /// region code cut to `region_level` parts.
    pub institution: String,
}

impl RoutingRule {
    /// Whether the rule can ever match: a valid institution template, a level
    /// within 1..=4, and a level whenever the template uses `{region}` (there
    /// would be nothing to cut the region code to otherwise).
    pub fn is_valid(&self) -> bool {
        valid_rule_institution(&self.institution)
            && match self.region_level {
                Some(level) => (1..=MAX_REGION_LEVEL).contains(&level),
                None => !self.institution.contains(REGION_PLACEHOLDER),
            }
            && self.category.as_deref().is_none_or(|c| !c.is_empty())
    }
}

/// A rule that applies to a report, with the institution it names for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMatch {
    pub rule_id: i64,
    pub institution: String,
}

/// Checks a rule's institution template: institution-code characters
/// (`a-z0-9.-`) plus `{region}` as the only placeholder, and not longer than
/// an institution code once a province code (the shortest) is filled in.
pub fn valid_rule_institution(s: &str) -> bool {
    let literal = s.replace(REGION_PLACEHOLDER, "");
    // Any brace left over is an unknown or broken placeholder.
    let filled = s.replace(REGION_PLACEHOLDER, "11");
    !s.is_empty() && (literal.is_empty() || valid_code(&literal)) && valid_code(&filled)
}

/// The rules that apply to a report, most specific first: category and level,
/// then category only, then level only, then catch-all rules. Within a group
/// deeper levels come first, then lower rule ids. Each institution appears
/// once, under its most specific rule.
///
/// A rule with a `region_level` needs the report's region to have at least
/// that many parts; reports without a region match only rules without one.
/// Invalid rules (see [`RoutingRule::is_valid`]) never match, and neither does
/// a substitution that would not give a valid institution code.
pub fn apply_rules(rules: &[RoutingRule], category: Option<&str>, region_code: Option<&str>) -> Vec<RuleMatch> {
    let region = region_code.map(str::trim).filter(|r| !r.is_empty());
    let region_depth = region.map_or(0, |r| r.split('.').count());

    let mut hits: Vec<(u8, u8, i64, String)> = Vec::new();
    for rule in rules.iter().filter(|r| r.is_valid()) {
        let category_specific = match rule.category.as_deref() {
            None => false,
            Some(c) if Some(c) == category => true,
            Some(_) => continue,
        };
        let institution = match (rule.region_level, region) {
            (None, _) => rule.institution.clone(),
            (Some(level), Some(region)) if region_depth >= usize::from(level) => {
                let cut = truncate_region(region, level);
                rule.institution.replace(REGION_PLACEHOLDER, cut)
            }
            (Some(_), _) => continue,
        };
        if !valid_code(&institution) {
            continue;
        }
        let group = match (category_specific, rule.region_level.is_some()) {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (false, false) => 3,
        };
        // Reverse the level so deeper (more specific) sorts first.
        let level_key = MAX_REGION_LEVEL - rule.region_level.unwrap_or(0);
        hits.push((group, level_key, rule.id, institution));
    }
    hits.sort();

    let mut out: Vec<RuleMatch> = Vec::new();
    for (_, _, rule_id, institution) in hits {
        if !out.iter().any(|m| m.institution == institution) {
            out.push(RuleMatch { rule_id, institution });
        }
    }
    out
}

/// The first `level` dot-separated parts of a region code.
fn truncate_region(region: &str, level: u8) -> &str {
    match region.match_indices('.').nth(usize::from(level).saturating_sub(1)) {
        Some((i, _)) => &region[..i],
        None => region,
    }
}

// ---------------------------------------------------------------------------
// Classifier

/// A past disposition. `text` is the report's title and body joined by a
/// space; `label` the institution it went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub id: String,
    pub text: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub label: String,
    pub probability: f64,
}

/// Additive smoothing constant α: P(term | label) = (count + α) / (terms + α·V).
///
/// Laplace's α = 1 starves labels with few examples: on a label seen once,
/// each matching word then weighs too little against the prior of busy
/// labels, so "listrik padam" ranked PLN (one example) below three unrelated
/// offices with ten each. Much smaller values make one coincidental word
/// decisive. 0.5 puts a clear match on a rare label first while a mixed text
/// still goes to the well-attested label; tune it with [`evaluate`] once real
/// dispositions exist.
const SMOOTHING: f64 = 0.5;

/// Multinomial naive Bayes with additive (Laplace/Lidstone, α = 0.5) smoothing
/// over the search [`terms`] of a text. Since `terms` deduplicates, each report
/// counts a term once (binarized NB, which does better than raw counts on
/// short texts).
///
/// Storage is sparse: a posting list per vocabulary term of the labels that
/// used it, so memory grows with the training data, not labels × vocabulary,
/// and a prediction only touches the postings of the query's own terms.
#[derive(Debug, Clone, Default)]
pub struct Classifier {
    /// Sorted by name, so a label's index orders ties deterministically.
    labels: Vec<String>,
    /// ln(P(label)).
    log_prior: Vec<f64>,
    /// ln(terms seen with the label / α + vocabulary size): the smoothed
    /// denominator of every P(term | label), divided by α.
    log_denominator: Vec<f64>,
    vocabulary: HashMap<String, u32>,
    /// Per term id: (label index, ln(count / α + 1)), sorted by label.
    postings: Vec<Vec<(u32, f64)>>,
}

impl Classifier {
    /// Trains on the examples. Examples with a blank label are skipped; those
    /// whose text has no terms still count toward their label's prior.
    pub fn train<'a>(examples: impl IntoIterator<Item = &'a Example>) -> Classifier {
        let docs: Vec<(&str, Vec<String>)> = examples
            .into_iter()
            .filter(|e| !e.label.trim().is_empty())
            .map(|e| (e.label.as_str(), terms(&e.text)))
            .collect();
        if docs.is_empty() {
            return Classifier::default();
        }
        let labels: Vec<String> = docs
            .iter()
            .map(|(l, _)| *l)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let index: HashMap<&str, u32> = labels.iter().zip(0u32..).map(|(l, i)| (l.as_str(), i)).collect();
        let mut docs: Vec<(u32, Vec<String>)> = docs.into_iter().map(|(l, t)| (index[l], t)).collect();
        // Grouping the documents by label lets each posting list be built in
        // order, bumping its last entry, without a (label, term) map.
        docs.sort_by_key(|(l, _)| *l);

        let mut doc_count = vec![0u64; labels.len()];
        let mut term_total = vec![0u64; labels.len()];
        let mut vocabulary: HashMap<String, u32> = HashMap::new();
        let mut counts: Vec<Vec<(u32, u64)>> = Vec::new();
        for (label, doc_terms) in docs {
            let l = label as usize;
            doc_count[l] += 1;
            term_total[l] += doc_terms.len() as u64;
            for term in doc_terms {
                let next_id = vocabulary.len() as u32;
                let id = *vocabulary.entry(term).or_insert(next_id);
                if id == next_id {
                    counts.push(Vec::new());
                }
                let list = &mut counts[id as usize];
                match list.last_mut() {
                    Some((last, n)) if *last == label => *n += 1,
                    _ => list.push((label, 1)),
                }
            }
        }

        let total_docs: u64 = doc_count.iter().sum();
        let vocab_size = vocabulary.len() as f64;
        Classifier {
            log_prior: doc_count.iter().map(|&n| (n as f64 / total_docs as f64).ln()).collect(),
            log_denominator: term_total
                .iter()
                .map(|&n| (n as f64 / SMOOTHING + vocab_size).ln())
                .collect(),
            postings: counts
                .into_iter()
                .map(|list| {
                    list.into_iter()
                        .map(|(l, n)| (l, (n as f64 / SMOOTHING + 1.0).ln()))
                        .collect()
                })
                .collect(),
            vocabulary,
            labels,
        }
    }

    /// Whether nothing was learnt.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of distinct labels.
    pub fn labels(&self) -> usize {
        self.labels.len()
    }

    /// The `k` most probable labels, most probable first (ties by label name).
    /// Probabilities are the softmax of the log scores over all labels, so the
    /// full list sums to 1 and the top `k` to at most 1.
    ///
    /// Returns nothing when no term of the text was seen in training: the
    /// priors alone would just name the busiest institution, which is no
    /// suggestion.
    pub fn predict(&self, text: &str, k: usize) -> Vec<Prediction> {
        if k == 0 || self.is_empty() {
            return Vec::new();
        }
        let known: Vec<u32> = terms(text)
            .iter()
            .filter_map(|t| self.vocabulary.get(t.as_str()).copied())
            .collect();
        if known.is_empty() {
            return Vec::new();
        }
        // ln P(l) + Σ_t ln((c_lt + α) / (T_l + αV)). Dividing through by α
        // (a constant shift, the same for every label) gives
        // ln P(l) + Σ_t [ln(c_lt/α + 1) − ln(T_l/α + V)]: the denominator part
        // is the same for every query term, and ln(c/α + 1) is zero for unseen
        // pairs, so only the postings of the query's terms need visiting.
        let m = known.len() as f64;
        let mut scores: Vec<f64> = self
            .log_prior
            .iter()
            .zip(&self.log_denominator)
            .map(|(prior, denominator)| prior - m * denominator)
            .collect();
        for id in known {
            for &(label, log_count) in &self.postings[id as usize] {
                scores[label as usize] += log_count;
            }
        }

        let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let weights: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
        let sum: f64 = weights.iter().sum();
        let mut order: Vec<usize> = (0..self.labels.len()).collect();
        // Indices follow label names, so comparing them breaks ties by name.
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        order
            .into_iter()
            .take(k)
            .map(|i| Prediction {
                label: self.labels[i].clone(),
                probability: (weights[i] / sum).clamp(0.0, 1.0),
            })
            .collect()
    }
}

/// Accuracy on a held-out set.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub train: usize,
    pub test: usize,
    /// Fraction of test examples whose label was the first prediction.
    pub top1: f64,
    /// Fraction whose label was among the first three.
    pub top3: f64,
}

/// Deterministic held-out evaluation: an example goes to the test set when
/// the FNV-1a hash of its id falls in the last `test_percent` of 100 buckets,
/// so the split is stable across runs, machines and growing data (an example
/// never changes side). Trains on the rest. `None` when either side is empty.
pub fn evaluate(examples: &[Example], test_percent: u8) -> Option<Evaluation> {
    let (test, train): (Vec<&Example>, Vec<&Example>) = examples.iter().partition(|e| in_test_set(&e.id, test_percent));
    if test.is_empty() || train.is_empty() {
        return None;
    }
    let classifier = Classifier::train(train.iter().copied());
    let (mut top1, mut top3) = (0usize, 0usize);
    for e in &test {
        let predicted = classifier.predict(&e.text, 3);
        if predicted.first().is_some_and(|p| p.label == e.label) {
            top1 += 1;
        }
        if predicted.iter().any(|p| p.label == e.label) {
            top3 += 1;
        }
    }
    let n = test.len() as f64;
    Some(Evaluation {
        train: train.len(),
        test: test.len(),
        top1: top1 as f64 / n,
        top3: top3 as f64 / n,
    })
}

fn in_test_set(id: &str, test_percent: u8) -> bool {
    let percent = u64::from(test_percent.min(100));
    fnv1a64(id.as_bytes()) % 100 >= 100 - percent
}

/// FNV-1a, 64 bit: tiny and stable, unlike std's randomly seeded hasher.
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: i64, category: Option<&str>, level: Option<u8>, institution: &str) -> RoutingRule {
        RoutingRule {
            id,
            category: category.map(str::to_owned),
            region_level: level,
            institution: institution.to_owned(),
        }
    }

    fn institutions(matches: &[RuleMatch]) -> Vec<&str> {
        matches.iter().map(|m| m.institution.as_str()).collect()
    }

    #[test]
    fn rules_are_ordered_most_specific_first() {
        let rules = [
            rule(1, None, None, "kemendagri"),
            rule(2, None, Some(1), "pemprov-{region}"),
            rule(3, Some("kesehatan"), None, "kemenkes"),
            rule(4, Some("kesehatan"), Some(2), "dinkes-{region}"),
            rule(5, None, Some(2), "pemkot-{region}"),
            rule(6, Some("pendidikan"), None, "kemendikbud"),
        ];
        let got = apply_rules(&rules, Some("kesehatan"), Some("32.73.01.1001"));
        assert_eq!(
            institutions(&got),
            ["dinkes-32.73", "kemenkes", "pemkot-32.73", "pemprov-32", "kemendagri"]
        );
        assert_eq!(got.iter().map(|m| m.rule_id).collect::<Vec<_>>(), [4, 3, 5, 2, 1]);
    }

    #[test]
    fn region_placeholder_is_cut_to_the_rule_level() {
        let rules = [
            rule(1, None, Some(2), "pemkot-{region}"),
            rule(2, None, Some(1), "pemprov-{region}"),
        ];
        let got = apply_rules(&rules, None, Some("32.73.01.1001"));
        assert_eq!(institutions(&got), ["pemkot-32.73", "pemprov-32"]);
        // A level-2 code is deep enough for both; a province code only for one.
        assert_eq!(
            institutions(&apply_rules(&rules, None, Some("32.73"))),
            ["pemkot-32.73", "pemprov-32"]
        );
        assert_eq!(institutions(&apply_rules(&rules, None, Some("32"))), ["pemprov-32"]);
        assert_eq!(truncate_region("32.73.01.1001", 3), "32.73.01");
        assert_eq!(truncate_region("32.73.01.1001", 4), "32.73.01.1001");
    }

    #[test]
    fn rules_needing_a_region_skip_reports_without_one() {
        let rules = [
            rule(1, Some("kesehatan"), Some(1), "dinkes-{region}"),
            rule(2, Some("kesehatan"), None, "kemenkes"),
            rule(3, None, Some(2), "pemkot-{region}"),
            rule(4, None, None, "kemendagri"),
        ];
        for region in [None, Some(""), Some("  ")] {
            let got = apply_rules(&rules, Some("kesehatan"), region);
            assert_eq!(institutions(&got), ["kemenkes", "kemendagri"], "{region:?}");
        }
        // No category: category rules don't apply, catch-alls do.
        assert_eq!(institutions(&apply_rules(&rules, None, None)), ["kemendagri"]);
    }

    #[test]
    fn matches_are_deduplicated_by_institution() {
        let rules = [
            rule(7, None, None, "kemenkes"),
            rule(8, Some("kesehatan"), None, "kemenkes"),
            rule(9, Some("kesehatan"), None, "kemenkes"),
        ];
        let got = apply_rules(&rules, Some("kesehatan"), None);
        assert_eq!(
            got,
            [RuleMatch {
                rule_id: 8,
                institution: "kemenkes".into()
            }]
        );
    }

    #[test]
    fn invalid_rules_never_match() {
        let rules = [
            rule(1, None, None, "pemkot-{region}"),    // placeholder without a level
            rule(2, None, Some(0), "pemkot-{region}"), // no level 0
            rule(3, None, Some(5), "pemkot-{region}"),
            rule(4, None, Some(2), "Pemkot-{region}"),
            rule(5, Some(""), None, "kemenkes"),
        ];
        assert!(rules.iter().all(|r| !r.is_valid()));
        assert!(apply_rules(&rules, Some(""), Some("32.73.01.1001")).is_empty());
        // A region code that would make an invalid institution code is skipped.
        let ok = [rule(6, None, Some(1), "pemprov-{region}")];
        assert!(apply_rules(&ok, None, Some("3 2.73")).is_empty());
    }

    #[test]
    fn rule_institution_templates() {
        for ok in [
            "kemenkes",
            "pemkot-{region}",
            "dinas-pu.{region}",
            "{region}",
            "bpjs-{region}-{region}",
        ] {
            assert!(valid_rule_institution(ok), "{ok}");
        }
        for bad in [
            "",
            "pemkot-{kota}",
            "pemkot-{region",
            "pemkot-region}",
            "Kemenkes",
            "dinas pu",
            "{{region}}",
        ] {
            assert!(!valid_rule_institution(bad), "{bad}");
        }
        assert!(!valid_rule_institution(&"a".repeat(65)));
    }

    /// ~10 varied complaints for each of three offices.
    fn corpus() -> Vec<Example> {
        let pu = [
            "Jalan berlubang di depan pasar, aspal rusak parah",
            "Aspal jalan mengelupas dan berlubang setelah hujan",
            "Jembatan retak dan jalan rusak membahayakan pengendara",
            "Lubang besar di jalan raya belum ditambal",
            "Perbaikan jalan kampung tidak selesai, aspal hanya setengah",
            "Jalan rusak berat, banyak motor terjatuh karena lubang",
            "Trotoar rusak dan saluran drainase jalan tersumbat",
            "Aspal baru sudah rusak lagi, kualitas pengerjaan jalan buruk",
            "Jalan provinsi berlubang dalam, truk sering terperosok",
            "Tambal sulam aspal di jalan desa cepat rusak",
        ];
        let dinkes = [
            "Puskesmas tutup lebih awal, dokter tidak ada",
            "Antrean obat di puskesmas sangat panjang",
            "Dokter puskesmas sering terlambat datang",
            "Obat di apotek puskesmas kosong berminggu-minggu",
            "Pelayanan perawat puskesmas kasar terhadap pasien",
            "Pasien BPJS ditolak berobat di puskesmas",
            "Antre berjam-jam untuk diperiksa dokter umum",
            "Vaksin imunisasi anak di posyandu habis",
            "Puskesmas kekurangan dokter dan obat dasar",
            "Ambulans puskesmas tidak bisa dipakai mengantar pasien",
        ];
        let disdik = [
            "Sekolah menahan ijazah karena tunggakan biaya",
            "Guru honorer belum menerima gaji tiga bulan",
            "Ijazah siswa lulusan tahun lalu belum dibagikan sekolah",
            "Pungutan liar saat pendaftaran sekolah baru",
            "Guru sering tidak masuk mengajar di kelas",
            "Atap ruang kelas sekolah bocor dan hampir roboh",
            "Sekolah mewajibkan siswa membeli seragam dan buku mahal",
            "Penerimaan siswa baru zonasi tidak transparan",
            "Dana BOS sekolah tidak jelas penggunaannya, guru mengeluh",
            "Kepala sekolah meminta uang untuk pengambilan ijazah",
        ];
        let mut out = Vec::new();
        for (label, texts) in [("dinas-pu", &pu), ("dinkes", &dinkes), ("disdik", &disdik)] {
            for (i, text) in texts.iter().enumerate() {
                out.push(Example {
                    id: format!("{label}-{i}"),
                    text: (*text).to_owned(),
                    label: label.to_owned(),
                });
            }
        }
        out
    }

    #[test]
    fn classifier_learns_a_small_corpus() {
        let c = Classifier::train(&corpus());
        assert!(!c.is_empty());
        assert_eq!(c.labels(), 3);
        let held_out = [
            ("Jalan di kompleks kami berlubang dan aspalnya rusak", "dinas-pu"),
            (
                "Tolong perbaiki lubang jalan dekat sekolah dasar sebelum ada korban",
                "dinas-pu",
            ),
            ("Di puskesmas kecamatan obat habis dan dokter jarang ada", "dinkes"),
            ("Antrean pasien di puskesmas mengular sejak subuh", "dinkes"),
            ("Ijazah anak saya ditahan sekolah", "disdik"),
            ("Guru di sekolah kami meminta pungutan untuk buku", "disdik"),
        ];
        for (text, want) in held_out {
            let p = c.predict(text, 3);
            assert_eq!(p.len(), 3, "{text}");
            assert_eq!(p[0].label, want, "{text}: {p:?}");
            assert!(p[0].probability > 0.5, "{text}: {p:?}");
        }
    }

    #[test]
    fn probabilities_are_in_range_sorted_and_sum_to_one() {
        let c = Classifier::train(&corpus());
        for text in [
            "jalan rusak dekat puskesmas",
            "sekolah",
            "guru dokter aspal ijazah obat",
        ] {
            let all = c.predict(text, 10);
            assert_eq!(all.len(), 3);
            assert!(all.iter().all(|p| (0.0..=1.0).contains(&p.probability)), "{all:?}");
            assert!(all.windows(2).all(|w| w[0].probability >= w[1].probability), "{all:?}");
            let sum: f64 = all.iter().map(|p| p.probability).sum();
            assert!((sum - 1.0).abs() < 1e-9, "{sum}");
            let top = c.predict(text, 1);
            assert_eq!(top, all[..1]);
        }
    }

    #[test]
    fn ties_are_broken_by_label_name() {
        let examples = [
            Example {
                id: "1".into(),
                text: "sampah menumpuk".into(),
                label: "zeta".into(),
            },
            Example {
                id: "2".into(),
                text: "sampah menumpuk".into(),
                label: "alfa".into(),
            },
            Example {
                id: "3".into(),
                text: "sampah menumpuk".into(),
                label: "mu".into(),
            },
        ];
        let p = Classifier::train(&examples).predict("sampah", 3);
        assert_eq!(
            p.iter().map(|p| p.label.as_str()).collect::<Vec<_>>(),
            ["alfa", "mu", "zeta"]
        );
        assert!(p.iter().all(|x| (x.probability - 1.0 / 3.0).abs() < 1e-12));
    }

    #[test]
    fn small_labels_are_still_predicted() {
        let mut examples = corpus();
        examples.push(Example {
            id: "pln-0".into(),
            text: "Listrik padam setiap malam, meteran token rusak".into(),
            label: "pln".into(),
        });
        let c = Classifier::train(&examples);
        // Two matching words outweigh a 1:10 prior (add-one smoothing ranked
        // PLN last here).
        for text in [
            "listrik padam lagi di rumah kami",
            "Meteran token listrik rusak, listrik padam",
        ] {
            let p = c.predict(text, 1);
            assert_eq!(p[0].label, "pln", "{text}: {p:?}");
        }
        // But one rare label does not swallow a text that is mostly about a
        // well-attested one.
        let p = c.predict("jalan rusak dan listrik padam di depan puskesmas", 2);
        let labels: Vec<&str> = p.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(labels, ["dinas-pu", "pln"], "{p:?}");
    }

    #[test]
    fn empty_classifier_and_unknown_text_predict_nothing() {
        let empty = Classifier::train(&[]);
        assert!(empty.is_empty());
        assert_eq!(empty.labels(), 0);
        assert!(empty.predict("jalan rusak", 3).is_empty());

        let blank_labels = [Example {
            id: "1".into(),
            text: "jalan rusak".into(),
            label: " ".into(),
        }];
        assert!(Classifier::train(&blank_labels).is_empty());

        let c = Classifier::train(&corpus());
        assert!(c.predict("xyzzy qwerty", 3).is_empty());
        assert!(c.predict("", 3).is_empty());
        assert!(c.predict("jalan rusak", 0).is_empty());
    }

    #[test]
    fn evaluation_split_is_deterministic_with_the_right_fractions() {
        let examples: Vec<Example> = (0..2000)
            .map(|i| Example {
                id: format!("LPR-{i:06}"),
                text: if i % 2 == 0 {
                    "jalan aspal berlubang"
                } else {
                    "dokter puskesmas obat"
                }
                .to_owned(),
                label: if i % 2 == 0 { "dinas-pu" } else { "dinkes" }.to_owned(),
            })
            .collect();
        let a = evaluate(&examples, 20).expect("both sides non-empty");
        let b = evaluate(&examples, 20).expect("both sides non-empty");
        assert_eq!(a, b);
        assert_eq!(a.train + a.test, 2000);
        let fraction = a.test as f64 / 2000.0;
        assert!((0.17..=0.23).contains(&fraction), "{fraction}");
        assert_eq!((a.top1, a.top3), (1.0, 1.0));
        // The split depends on the id alone, not on the order or the others.
        let mut reversed = examples.clone();
        reversed.reverse();
        assert_eq!(evaluate(&reversed, 20).map(|e| e.test), Some(a.test));
        let test_ids: Vec<&str> = examples
            .iter()
            .filter(|e| in_test_set(&e.id, 20))
            .map(|e| e.id.as_str())
            .collect();
        assert_eq!(test_ids.len(), a.test);
        // A larger share puts every earlier test example in the test set too.
        assert!(test_ids.iter().all(|id| in_test_set(id, 50)));

        assert_eq!(evaluate(&examples, 0), None);
        assert_eq!(evaluate(&examples, 100), None);
        assert_eq!(evaluate(&examples, 255), None);
        assert_eq!(evaluate(&[], 20), None);
    }

    #[test]
    fn evaluation_on_the_corpus() {
        let e = evaluate(&corpus(), 30).expect("both sides non-empty");
        assert_eq!(e.train + e.test, 30);
        assert!(e.test > 0 && e.train > 0);
        assert!((0.0..=1.0).contains(&e.top1) && e.top1 <= e.top3);
        // Three labels only: the right one is always among the top three
        // unless nothing of the text was seen.
        assert!(e.top3 >= 0.9, "{e:?}");
    }

    #[test]
    fn fnv1a_reference_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn many_labels() {
        // 500 labels, each with its own marker word plus shared filler.
        let words: Vec<String> = (0..500).map(|i| format!("kode{i}x")).collect();
        let examples: Vec<Example> = (0..1500)
            .map(|i| Example {
                id: i.to_string(),
                text: format!("laporan warga masalah {} pelayanan", words[i % 500]),
                label: format!("inst-{:03}", i % 500),
            })
            .collect();
        let c = Classifier::train(&examples);
        assert_eq!(c.labels(), 500);
        let text = format!("{} {}", "pelayanan warga masalah laporan ".repeat(60), words[123]);
        let p = c.predict(&text, 5);
        assert_eq!(p[0].label, "inst-123");
        assert!(p.windows(2).all(|w| w[0].probability >= w[1].probability));
    }
}
