//! `lapor bench-data --reports N`: a realistic national history for the
//! dashboards and their benchmark. Every report is walked through the real
//! lifecycle (`decide` / `apply`), so its events, state and rollups are
//! exactly what the service would have written:
//! - places weighted by population (provinces by BPS's mid-2024 estimates,
//!   regencies within a province by their number of districts, as the
//!   region data has no population);
//! - a mix of classifications, categories and channels;
//! - verification, disposition (mostly to the local government, some to
//!   the province or a ministry), acceptance or a transfer ("bukan
//!   wewenang"), follow-up delays with a long tail, ratings, automatic
//!   completion, reopenings and Ombudsman escalations;
//! - submissions over the last year, more of them recently, so recent
//!   reports are still open and some are overdue.
//!
//! Generation runs on a blocking thread while the store writes the previous
//! batch (`Rollups::bulk_load`, one transaction per batch); see `run` for
//! how a large load spares the indexes and the rollups.

use chrono::{DateTime, Duration, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use lapor_domain::calendar::{Calendar, Zone};
use lapor_domain::event::{Actor, Event, Submission};
use lapor_domain::ids::TrackingId;
use lapor_domain::institution::{Institution, InstitutionKind, Role};
use lapor_domain::lifecycle::{Command, Ctx, InstitutionTarget, apply, decide, submit};
use lapor_domain::report::{Channel, Classification, Report};
use lapor_domain::rollup::Counters;
use lapor_domain::sla::SlaPolicy;
use lapor_store::rollups::{RollupKey, expand};
use lapor_store::{BulkReport, InstitutionQuery, RegionQuery, ReportFilter, Store};
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Province populations in millions (BPS mid-2024 estimates, rounded).
const PROVINCE_POPULATION: [(&str, f64); 38] = [
    ("11", 5.55),
    ("12", 15.59),
    ("13", 5.84),
    ("14", 6.73),
    ("15", 3.72),
    ("16", 8.84),
    ("17", 2.11),
    ("18", 9.31),
    ("19", 1.53),
    ("21", 2.15),
    ("31", 10.68),
    ("32", 50.35),
    ("33", 37.89),
    ("34", 3.77),
    ("35", 41.64),
    ("36", 12.43),
    ("51", 4.43),
    ("52", 5.65),
    ("53", 5.65),
    ("61", 5.62),
    ("62", 2.81),
    ("63", 4.25),
    ("64", 4.00),
    ("65", 0.74),
    ("71", 2.67),
    ("72", 3.15),
    ("73", 9.46),
    ("74", 2.79),
    ("75", 1.21),
    ("76", 1.48),
    ("81", 1.94),
    ("82", 1.36),
    ("91", 1.06),
    ("92", 0.57),
    ("93", 0.54),
    ("94", 1.47),
    ("95", 1.46),
    ("96", 0.63),
];

const CHANNELS: [(Channel, f64); 10] = [
    (Channel::Web, 40.0),
    (Channel::Mobile, 25.0),
    (Channel::Whatsapp, 10.0),
    (Channel::Sms, 7.0),
    (Channel::Twitter, 5.0),
    (Channel::Telegram, 3.0),
    (Channel::Email, 4.0),
    (Channel::Api, 3.0),
    (Channel::Line, 1.5),
    (Channel::Messenger, 1.5),
];

const CLASSIFICATIONS: [(Classification, f64); 3] = [
    (Classification::Pengaduan, 70.0),
    (Classification::Aspirasi, 20.0),
    (Classification::PermintaanInformasi, 10.0),
];

/// (category, weight, title words)
const CATEGORIES: [(&str, f64, &str); 12] = [
    ("jalan", 18.0, "Jalan rusak dan berlubang"),
    ("bansos", 12.0, "Bantuan sosial belum diterima"),
    ("adminduk", 11.0, "Pengurusan KTP elektronik lambat"),
    ("kesehatan", 10.0, "Pelayanan puskesmas"),
    ("pendidikan", 9.0, "Pungutan di sekolah negeri"),
    ("lingkungan", 8.0, "Sampah menumpuk"),
    ("listrik-air", 7.0, "Air PDAM tidak mengalir"),
    ("transportasi", 6.0, "Lampu lalu lintas mati"),
    ("ketertiban", 5.0, "Parkir liar"),
    ("perizinan", 5.0, "Izin usaha tidak kunjung terbit"),
    ("kepegawaian", 4.0, "Petugas tidak ramah"),
    ("lainnya", 5.0, "Keluhan pelayanan"),
];

/// A small fast generator (xorshift*); reproducible from `--seed`.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Exponential with this mean.
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
    pub fn pick<'a, T>(&mut self, weighted: &'a [(T, f64)]) -> &'a T {
        let total: f64 = weighted.iter().map(|w| w.1).sum();
        let mut x = self.unit() * total;
        for (v, w) in weighted {
            if x < *w {
                return v;
            }
            x -= w;
        }
        &weighted[weighted.len() - 1].0
    }
}

/// Where reports come from and who handles them.
pub struct World {
    /// (regency region code, its government, weight)
    places: Vec<((String, String), f64)>,
    province_of: HashMap<String, String>,
    ministries: Vec<(String, f64)>,
    targets: HashMap<String, InstitutionTarget>,
    categories: Vec<String>,
    cal: Calendar,
    policy: SlaPolicy,
}

impl World {
    pub async fn load(store: &dyn Store, cal: Calendar) -> Result<World, String> {
        let err = |e: lapor_domain::Error| e.to_string();
        let list: Vec<Institution> = store
            .institutions(&InstitutionQuery {
                limit: 1_000_000,
                ..Default::default()
            })
            .await
            .map_err(err)?;
        let by_code: HashMap<&str, &Institution> = list.iter().map(|i| (i.code.as_str(), i)).collect();
        let ancestors = |i: &Institution| {
            let mut v = Vec::new();
            let mut at = i.parent.as_deref().and_then(|p| by_code.get(p));
            while let Some(p) = at {
                v.push(p.code.clone());
                at = p.parent.as_deref().and_then(|q| by_code.get(q));
            }
            v.reverse();
            v
        };
        let targets: HashMap<String, InstitutionTarget> = list
            .iter()
            .map(|i| {
                (
                    i.code.clone(),
                    InstitutionTarget {
                        code: i.code.clone(),
                        kind: i.kind,
                        zone: i.zone,
                        ancestors: ancestors(i),
                    },
                )
            })
            .collect();
        let gov_of_region: HashMap<&str, &Institution> = list
            .iter()
            .filter(|i| {
                matches!(
                    i.kind,
                    InstitutionKind::Province | InstitutionKind::Regency | InstitutionKind::City
                )
            })
            .filter_map(|i| Some((i.region_code.as_deref()?, i)))
            .collect();
        let regencies = store
            .regions(&RegionQuery {
                level: Some(2),
                limit: 100_000,
                ..Default::default()
            })
            .await
            .map_err(err)?;
        let districts = store
            .regions(&RegionQuery {
                level: Some(3),
                limit: 1_000_000,
                ..Default::default()
            })
            .await
            .map_err(err)?;
        let mut district_count: HashMap<String, f64> = HashMap::new();
        for d in &districts {
            if let Some(p) = &d.parent_code {
                *district_count.entry(p.clone()).or_default() += 1.0;
            }
        }
        let mut province_total: HashMap<String, f64> = HashMap::new();
        for r in &regencies {
            if let Some(p) = &r.parent_code {
                *province_total.entry(p.clone()).or_default() += district_count.get(&r.code).copied().unwrap_or(1.0);
            }
        }
        let mut places = Vec::new();
        let mut province_of = HashMap::new();
        for r in &regencies {
            let (Some(p), Some(gov)) = (&r.parent_code, gov_of_region.get(r.code.as_str())) else {
                continue;
            };
            let Some(pop) = PROVINCE_POPULATION.iter().find(|(c, _)| c == p).map(|x| x.1) else {
                continue;
            };
            let share = district_count.get(&r.code).copied().unwrap_or(1.0) / province_total[p];
            places.push(((r.code.clone(), gov.code.clone()), pop * share));
            if let Some(pg) = gov_of_region.get(p.as_str()) {
                province_of.insert(gov.code.clone(), pg.code.clone());
            }
        }
        if places.is_empty() {
            return Err(
                "no regional governments with regions: run `lapor demo` (or import regions and institutions) first"
                    .into(),
            );
        }
        let ministries: Vec<(String, f64)> = list
            .iter()
            .filter(|i| matches!(i.kind, InstitutionKind::Ministry | InstitutionKind::Agency))
            .map(|i| (i.code.clone(), 1.0))
            .collect();
        let categories = store
            .categories()
            .await
            .map_err(err)?
            .into_iter()
            .map(|c| c.code)
            .collect();
        Ok(World {
            places,
            province_of,
            ministries,
            targets,
            categories,
            cal,
            policy: SlaPolicy::default(),
        })
    }
}

fn staff(code: &str) -> Actor {
    Actor::Staff {
        user_id: "bench-data".into(),
        role: Role::InstitutionAdmin,
        institution: code.into(),
    }
}

fn national() -> Actor {
    Actor::Staff {
        user_id: "bench-data".into(),
        role: Role::NationalAdmin,
        institution: "lapor".into(),
    }
}

/// Days as a duration, with working days stretched over weekends (×1.4).
fn days(d: f64) -> Duration {
    Duration::minutes((d * 1.4 * 24.0 * 60.0) as i64)
}

/// Generates one report's history up to `now`.
/// `at` is where in the run the report falls (0 first, 1 last): reports are
/// generated oldest first, more of them recently (the density grows towards
/// `now`), so each batch covers a short stretch of days.
pub fn history(w: &World, rng: &mut Rng, id: TrackingId, now: DateTime<Utc>, span_days: i64, at: f64) -> BulkReport {
    let back = span_days as f64 * (1.0 - at.clamp(0.0, 1.0)).powf(1.6);
    let start = now - Duration::seconds((back * 86_400.0) as i64);
    let (region, gov) = rng.pick(&w.places).clone();
    let classification = *rng.pick(&CLASSIFICATIONS);
    let (category, title) = {
        let weighted: Vec<((&str, &str), f64)> = CATEGORIES
            .iter()
            .filter(|(c, _, _)| w.categories.iter().any(|k| k == c))
            .map(|(c, wt, t)| ((*c, *t), *wt))
            .collect();
        if weighted.is_empty() {
            (None, "Keluhan pelayanan publik")
        } else {
            let (c, t) = *rng.pick(&weighted);
            (Some(c.to_string()), t)
        }
    };
    let sub = Submission {
        classification,
        needs_investigation: classification == Classification::Pengaduan && rng.chance(0.05),
        category,
        title: format!("{title} di wilayah {region}"),
        body: format!(
            "{title}. Sudah berlangsung sekitar {} minggu dan belum ada penanganan. Mohon segera ditindaklanjuti.",
            1 + rng.next_u64() % 8
        ),
        incident_date: None,
        region_code: Some(region),
        latitude: None,
        longitude: None,
        anonymous: rng.chance(0.2),
        confidential: rng.chance(0.1),
        channel: *rng.pick(&CHANNELS),
        reporter_id: None,
        suggested_institution: None,
        policy: w.policy.name.clone(),
        zone: Zone::Wib,
    };
    let ctx = |at, actor| Ctx {
        now: at,
        actor,
        calendar: &w.cal,
        policy: &w.policy,
    };
    let first = submit(id, sub, &ctx(start, Actor::Reporter { reporter_id: None }));
    let mut report = apply(None, &first).expect("a submission applies");
    let mut events = vec![first];
    let mut at = start;
    // Each step: wait, then act; the walk ends at `now` or at a refusal.
    let mut step = |report: &mut Report, at: &mut DateTime<Utc>, wait: Duration, actor: Actor, cmd: Command| -> bool {
        let when = *at + wait;
        if when >= now {
            return false;
        }
        match decide(report, &cmd, &ctx(when, actor)) {
            Ok(e) => match apply(Some(report.clone()), &e) {
                Ok(next) => {
                    *report = next;
                    *at = when;
                    events.push(e);
                    true
                }
                Err(_) => false,
            },
            Err(_) => false,
        }
    };
    let target = |code: &str| w.targets.get(code).cloned();
    // Verification: most within 3 working days, a tail later.
    let holder = if rng.chance(0.12) && !w.ministries.is_empty() {
        rng.pick(&w.ministries).clone()
    } else if rng.chance(0.1) {
        w.province_of.get(&gov).cloned().unwrap_or(gov.clone())
    } else {
        gov.clone()
    };
    let Some(to) = target(&holder) else {
        return finish(report, events, w);
    };
    let cmd = Command::Disposition {
        to,
        classification: None,
        needs_investigation: None,
        category: None,
        note: None,
    };
    if rng.chance(0.03) || !step(&mut report, &mut at, days(rng.exp(1.6)), national(), cmd) {
        return finish(report, events, w);
    }
    let mut holder = holder;
    // "Bukan wewenang": passed on once, now and then twice.
    for _ in 0..2 {
        if !rng.chance(0.08) {
            break;
        }
        let next = if w.ministries.is_empty() || rng.chance(0.5) {
            w.province_of.get(&gov).cloned().unwrap_or(gov.clone())
        } else {
            rng.pick(&w.ministries).clone()
        };
        let Some(to) = target(&next).filter(|_| next != holder) else {
            break;
        };
        let cmd = Command::Transfer {
            to,
            reason: "Bukan kewenangan instansi kami.".into(),
        };
        if !step(&mut report, &mut at, days(rng.exp(1.0)), staff(&holder), cmd) {
            return finish(report, events, w);
        }
        holder = next;
    }
    if !step(
        &mut report,
        &mut at,
        days(rng.exp(0.8)),
        staff(&holder),
        Command::Accept { note: None },
    ) {
        return finish(report, events, w);
    }
    // Follow-up: a long tail, and some never answered (they go overdue).
    if rng.chance(0.12) {
        return finish(report, events, w);
    }
    let delay = if rng.chance(0.75) {
        rng.exp(3.0)
    } else {
        5.0 + rng.exp(15.0)
    };
    let answer = Command::FollowUp {
        body: "Laporan telah kami tindak lanjuti dan petugas sudah turun ke lapangan.".into(),
    };
    if !step(&mut report, &mut at, days(delay), staff(&holder), answer) {
        return finish(report, events, w);
    }
    // The reporter rates, or the reply window runs out.
    if rng.chance(0.55) {
        let rating = *rng.pick(&[(1u8, 10.0), (2, 8.0), (3, 17.0), (4, 30.0), (5, 35.0)]);
        let cmd = Command::Rate { rating, comment: None };
        if !step(
            &mut report,
            &mut at,
            days(rng.exp(2.0)),
            Actor::Reporter { reporter_id: None },
            cmd,
        ) {
            return finish(report, events, w);
        }
    } else {
        let wait = report.due_at.map_or(days(15.0), |d| d - at + Duration::hours(1));
        if !step(&mut report, &mut at, wait, Actor::System, Command::AutoComplete) {
            return finish(report, events, w);
        }
    }
    if rng.chance(0.05) {
        let cmd = Command::Reopen {
            reason: "Masalah muncul lagi.".into(),
        };
        step(
            &mut report,
            &mut at,
            days(rng.exp(3.0)),
            Actor::Reporter { reporter_id: None },
            cmd,
        );
    }
    finish(report, events, w)
}

fn finish(report: Report, events: Vec<Event>, w: &World) -> BulkReport {
    let wake_at = lapor_domain::sla::timers(&report, &w.policy, &w.cal).next();
    BulkReport {
        report,
        events,
        wake_at,
    }
}

/// The `i`th generated Tracking ID, counting down from the top of the ID
/// space (live reports draw theirs at random, so they rarely meet): a
/// generated ID's symbols are `TOP - i` written most significant first, so
/// consecutive reports get adjacent IDs and the inserts append to the
/// indexes instead of landing at random pages. Runs that continue from the
/// stored count never collide with each other. Such IDs are guessable;
/// generated data is for benchmarks and demos, never for real reporters.
fn tracking_id(i: u64) -> TrackingId {
    const TOP: u64 = (1 << 35) - 1;
    let v = TOP - (i & TOP);
    // from_random reads symbol k from bits 5k..5k+5: reverse the groups.
    let mut r = 0u64;
    for k in 0..7 {
        r |= ((v >> (5 * (6 - k))) & 31) << (5 * k);
    }
    TrackingId::from_random(r)
}

pub struct Summary {
    pub reports: u64,
    pub events: u64,
    /// Rollup rows written (a key written again after a flush counts again).
    pub rollup_rows: u64,
    /// Secondary indexes set aside during the load and made again after it.
    pub indexes: usize,
    /// Of `seconds`, the time spent making those indexes again.
    pub index_seconds: f64,
    pub seconds: f64,
}

/// How a run is shaped.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub reports: u64,
    pub seed: u64,
    /// Reports per transaction.
    pub batch: usize,
    /// Rollup rows summed in memory before they go out with a batch. Most
    /// keys (a day, a holder, its labels) are hit by many reports of many
    /// batches; summed first, each is written about once instead of once
    /// per batch. A million keys take about 400 MB.
    pub rollup_keys: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            reports: 100_000,
            seed: 1,
            batch: 10_000,
            rollup_keys: 1_000_000,
        }
    }
}

fn progress_bar(progress: bool, len: u64, template: &str) -> ProgressBar {
    if !progress {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    b
}

/// Generates and stores `o.reports` reports in batches of `o.batch`.
///
/// A load that at least doubles the stored reports sets the secondary
/// indexes aside and makes them once at the end (`Rollups::defer_indexes`):
/// sorting every row once beats updating a dozen b-trees per row. Rollups
/// are summed in memory up to `o.rollup_keys` rows and written with the
/// batch at hand. If the run dies, the indexes come back at the next start
/// (`migrate`); the reports already written stay, and `lapor rollups
/// rebuild` brings their rollups up to date.
pub async fn run(store: Arc<dyn Store>, cal: Calendar, o: Options, progress: bool) -> Result<Summary, String> {
    let err = |e: lapor_domain::Error| e.to_string();
    let world = Arc::new(World::load(store.as_ref(), cal.clone()).await?);
    let offset = store
        .count_reports(&ReportFilter::default(), i64::MAX)
        .await
        .map_err(err)? as u64;
    let n = o.reports;
    let now = Utc::now();
    let started = std::time::Instant::now();
    let deferred = if n > 0 && n >= offset {
        store.defer_indexes().await.map_err(err)?
    } else {
        vec![]
    };
    let bar = progress_bar(
        progress,
        n,
        "bench-data [{bar:40.cyan/blue}] {pos}/{len} reports ({per_sec}, {eta})",
    );
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(Vec<BulkReport>, BTreeMap<RollupKey, Counters>)>(4);
    let gen_world = world.clone();
    let batch = o.batch.max(1);
    let (seed, rollup_keys) = (o.seed, o.rollup_keys.max(1));
    // The walk and the rollup sums run on a blocking thread while the
    // store writes the previous batch.
    let generator = tokio::task::spawn_blocking(move || {
        let mut rng = Rng::new(seed);
        let mut sums: BTreeMap<RollupKey, Counters> = BTreeMap::new();
        let mut i = 0u64;
        while i < n {
            let k = (batch as u64).min(n - i);
            let items: Vec<BulkReport> = (i..i + k)
                .map(|j| {
                    let at = j as f64 / n as f64;
                    history(&gen_world, &mut rng, tracking_id(offset + j), now, 365, at)
                })
                .collect();
            let cells: Vec<_> = items
                .iter()
                .flat_map(|b| lapor_domain::rollup::replay(&b.events, &gen_world.cal))
                .collect();
            for (key, c) in expand(&cells) {
                match sums.entry(key) {
                    Entry::Vacant(v) => {
                        v.insert(c);
                    }
                    Entry::Occupied(mut o) => o.get_mut().merge(&c, 1),
                }
            }
            i += k;
            let flush = if sums.len() >= rollup_keys || i >= n {
                std::mem::take(&mut sums)
            } else {
                BTreeMap::new()
            };
            if tx.blocking_send((items, flush)).is_err() {
                return;
            }
        }
    });
    let (mut events, mut done, mut rollup_rows) = (0u64, 0u64, 0u64);
    let mut failed = None;
    while let Some((items, rollups)) = rx.recv().await {
        events += items.iter().map(|b| b.events.len() as u64).sum::<u64>();
        if let Err(e) = store.bulk_load(&items, "bench-data:no-pin", &rollups).await {
            failed = Some(format!(
                "after {done} reports: {e} (`lapor rollups rebuild` brings the rollups of the reports written up to date)"
            ));
            break;
        }
        done += items.len() as u64;
        rollup_rows += rollups.len() as u64;
        bar.set_position(done);
    }
    drop(rx);
    if let Err(e) = generator.await {
        failed.get_or_insert(e.to_string());
    }
    bar.finish_and_clear();
    // The indexes come back even after a failure, so no reader is left
    // without them; a failure to restore them is reported with the load's
    // own failure, not instead of it.
    let t = std::time::Instant::now();
    if !deferred.is_empty() {
        let b = progress_bar(
            progress,
            deferred.len() as u64,
            "indexes    [{bar:40.cyan/blue}] {pos}/{len} made again ({elapsed})",
        );
        let restored = store.restore_indexes(&|d, _| b.set_position(d)).await;
        b.finish_and_clear();
        if let Err(e) = restored {
            return Err(match failed {
                Some(f) => format!("{f}; making the indexes again also failed: {e} (the next `lapor migrate` retries)"),
                None => err(e),
            });
        }
    }
    let index_seconds = t.elapsed().as_secs_f64();
    if let Some(e) = failed {
        return Err(e);
    }
    // Statistics that describe the new rows (and, on SQLite, the log
    // folded back).
    store.analyze().await.map_err(err)?;
    Ok(Summary {
        reports: done,
        events,
        rollup_rows,
        indexes: deferred.len(),
        index_seconds,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_distinct_valid_and_in_order() {
        let mut seen = std::collections::HashSet::new();
        let mut last: Option<TrackingId> = None;
        for i in 0..100_000u64 {
            let id = tracking_id(i);
            assert!(TrackingId::parse(id.as_str()).is_ok());
            if let Some(l) = &last {
                assert!(id.as_str() < l.as_str(), "{i}: {id} after {l}");
            }
            assert!(seen.insert(id.clone()), "{i}");
            last = Some(id);
        }
        assert_eq!(tracking_id(0).as_str().get(..4), Some("ZZZZ"));
    }

    #[test]
    fn weighted_picks_follow_the_weights() {
        let mut rng = Rng::new(7);
        let mut web = 0;
        for _ in 0..10_000 {
            if *rng.pick(&CHANNELS) == Channel::Web {
                web += 1;
            }
        }
        assert!((3_600..4_400).contains(&web), "{web}");
    }
}
