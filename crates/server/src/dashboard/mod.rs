//! Monitoring and evaluation (docs/indicators.md, decision 0016): the
//! figures of a view (one institution, a subtree, all regional governments,
//! national, oversight) from the rollups, with the live overdue count, the
//! trend, breakdowns and a ranking. The web pages and exports render what
//! `load` returns; who may see which view is `authorize`'s
//! `Action::ReadDashboard`.

pub mod chart;
pub mod figures;
pub mod map;
pub mod recurring;
pub mod tree;

use crate::AppState;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use figures::{Figures, Overdue};
use lapor_domain::authz::{Action, Principal, Target, authorize};
use lapor_domain::indicators::{Grade, GradeRule, Rate};
use lapor_domain::institution::InstitutionKind;
use lapor_domain::report::{Channel, Classification};
use lapor_domain::rollup::Counters;
use lapor_domain::{Error, ErrorCode};
use lapor_store::rollups::Columns;
use lapor_store::{AdminSeen, GroupBy, OverdueQuery, RollupQuery};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use tree::Tree;

/// Days an admin's last sign-in keeps an institution active (12).
pub const ACTIVE_DAYS: i64 = 30;
/// Days an API key use or webhook delivery keeps an integration live (13).
pub const LIVE_INTEGRATION_DAYS: i64 = 7;
/// Default period: the last 90 days.
pub const DEFAULT_DAYS: i64 = 90;

/// The query string of every dashboard page and export (Indonesian names,
/// as in the rest of the workspace). Empty means "not given".
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Params {
    pub lingkup: String,
    pub kode: String,
    pub dari: String,
    pub sampai: String,
    pub klasifikasi: String,
    pub kategori: String,
    pub kanal: String,
    pub tren: String,
    pub urut: String,
    pub arah: String,
    /// Map level: provinsi or kabkota.
    pub peta: String,
    /// The indicator colouring the map (a ranking column).
    pub indikator: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filters {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub classification: Option<Classification>,
    pub category: Option<String>,
    pub channel: Option<Channel>,
}

fn bad(detail: &str) -> Error {
    Error::with(ErrorCode::InvalidQuery, detail)
}

impl Filters {
    /// Parses and checks the period and filters; `today` is the WIB date.
    pub fn parse(p: &Params, today: NaiveDate, categories: &[String]) -> Result<Filters, Error> {
        let date = |v: &str, name: &str| -> Result<Option<NaiveDate>, Error> {
            match v.trim() {
                "" => Ok(None),
                v => NaiveDate::parse_from_str(v, "%Y-%m-%d").map(Some).map_err(|_| {
                    bad(&format!(
                        "{name}: tanggal harus berformat TTTT-BB-HH / dates are YYYY-MM-DD"
                    ))
                }),
            }
        };
        let to = date(&p.sampai, "sampai")?.unwrap_or(today);
        let from = date(&p.dari, "dari")?.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
        if to < from {
            return Err(bad(
                "periode: tanggal akhir sebelum tanggal awal / period: the end is before the start",
            ));
        }
        if (to - from).num_days() >= lapor_store::rollups::MAX_PERIOD_DAYS {
            return Err(bad("periode: paling lama 10 tahun / period: at most 10 years"));
        }
        if from.year() < 2000 || to.year() > 2100 {
            return Err(bad("periode: tahun 2000–2100 / period: years 2000–2100"));
        }
        let classification = match p.klasifikasi.trim() {
            "" => None,
            v => Some(Classification::parse(v).ok_or_else(|| {
                bad("klasifikasi: pengaduan, aspirasi atau permintaan_informasi / classification: pengaduan, aspirasi or permintaan_informasi")
            })?),
        };
        let channel = match p.kanal.trim() {
            "" => None,
            v => Some(Channel::parse(v).ok_or_else(|| bad("kanal: tidak dikenal / channel: unknown"))?),
        };
        let category = match p.kategori.trim() {
            "" => None,
            v if categories.iter().any(|c| c == v) => Some(v.to_string()),
            _ => return Err(Error::with(ErrorCode::UnknownCategory, "kategori / category")),
        };
        Ok(Filters {
            from,
            to,
            classification,
            category,
            channel,
        })
    }

    fn query(&self, institutions: Option<Vec<String>>, group: GroupBy, detail: Detail) -> RollupQuery {
        RollupQuery {
            from: self.from,
            to: self.to,
            subtree: None,
            institutions,
            except: None,
            classification: self.classification,
            category: self.category.clone(),
            channel: self.channel,
            group,
            // Percentiles are shown per institution only.
            histograms: group == GroupBy::Institution,
            // A page's trend chart and breakdowns show volumes only; an
            // export carries every counter.
            columns: if group == GroupBy::Institution || detail == Detail::Full {
                Columns::All
            } else {
                Columns::Volume
            },
        }
    }

    /// The view's reports as a report-list filter: submitted within the
    /// period (WIB days), with its classification and category. The store's
    /// list has no channel filter; callers apply `channel` themselves.
    pub fn reports(&self, scope: &Scope, tree: &Tree) -> lapor_store::ReportFilter {
        let start = |d: NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .map(|t| (t.and_utc() - Duration::hours(7)).into())
        };
        let mut filter = lapor_store::ReportFilter {
            classification: self.classification,
            category: self.category.clone(),
            channel: self.channel,
            submitted_from: start(self.from),
            submitted_before: start(self.to + Duration::days(1)),
            ..Default::default()
        };
        match scope {
            Scope::National | Scope::Oversight => {}
            // A short list of holders lets PostgreSQL use their indexes
            // (a city's newest reports: 15 -> 1.3 ms at 100,000 reports); a
            // large subtree holds enough reports that walking by date is
            // right, and a long list would be searched for every row.
            Scope::Institution(c) | Scope::Subtree(c) => {
                let codes = tree.subtree(c);
                if codes.len() <= lapor_store::rollups::JSON_SET_ABOVE {
                    filter.holders = Some(codes);
                } else {
                    filter.institution_subtree = Some(c.clone());
                }
            }
            Scope::RegionalGovernments => filter.scope = Some(tree.regional_governments()),
        }
        filter
    }

    fn overdue_query(&self, institutions: Option<Vec<String>>) -> OverdueQuery {
        OverdueQuery {
            subtree: None,
            institutions,
            classification: self.classification,
            category: self.category.clone(),
            channel: self.channel,
        }
    }
}

/// Which view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Everything; rows: the institutions under the national operator.
    National,
    /// One institution with its units; rows: its units.
    Institution(String),
    /// An institution and everything below it; rows: its children.
    Subtree(String),
    /// Every province, regency and city (Kemendagri), graded.
    RegionalGovernments,
    /// The Ombudsman's: provinces with their regencies, ranked.
    Oversight,
}

impl Scope {
    pub fn key(&self) -> &'static str {
        match self {
            Scope::National => "nasional",
            Scope::Institution(_) => "instansi",
            Scope::Subtree(_) => "subpohon",
            Scope::RegionalGovernments => "pemda",
            Scope::Oversight => "pengawasan",
        }
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            Scope::Institution(c) | Scope::Subtree(c) => Some(c),
            _ => None,
        }
    }

    /// The view asked for, or the caller's natural one: national for those
    /// who may see it, else the subtree of their first institution.
    pub fn parse(p: &Params, principal: &Principal, tree: &Tree) -> Result<Scope, Error> {
        let code = p.kode.trim();
        let known = |c: &str| {
            if tree.get(c).is_some() {
                Ok(c.to_string())
            } else {
                Err(Error::with(ErrorCode::UnknownInstitution, "kode / code"))
            }
        };
        match p.lingkup.trim() {
            "nasional" => Ok(Scope::National),
            "pemda" => Ok(Scope::RegionalGovernments),
            "pengawasan" => Ok(Scope::Oversight),
            "instansi" => Ok(Scope::Institution(known(code)?)),
            "subpohon" => Ok(Scope::Subtree(known(code)?)),
            "" if !code.is_empty() => Ok(Scope::Subtree(known(code)?)),
            "" => {
                if authorize(principal, Action::ReadDashboard, &Target::System) {
                    return Ok(Scope::National);
                }
                let Principal::Staff { memberships, .. } = principal else {
                    return Err(Error::forbidden());
                };
                memberships
                    .iter()
                    .find(|m| tree.get(&m.institution).is_some())
                    .map(|m| Scope::Subtree(m.institution.clone()))
                    .ok_or_else(Error::forbidden)
            }
            _ => Err(bad(
                "lingkup: nasional, instansi, subpohon, pemda atau pengawasan / scope: nasional, instansi, subpohon, pemda or pengawasan",
            )),
        }
    }

    /// May the caller see this view? Views across institutions need the
    /// right on the system; an institution's, the right on its path.
    pub fn allowed(&self, principal: &Principal, tree: &Tree) -> bool {
        match self.code() {
            None => authorize(principal, Action::ReadDashboard, &Target::System),
            Some(code) => authorize(principal, Action::ReadDashboard, &Target::Institution(&tree.path(code))),
        }
    }
}

/// How the trend is bucketed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    Weekly,
    Monthly,
}

impl Trend {
    pub fn parse(v: &str, f: &Filters) -> Result<Trend, Error> {
        match v.trim() {
            "minggu" => Ok(Trend::Weekly),
            "bulan" => Ok(Trend::Monthly),
            // Weeks for up to half a year, months beyond.
            "" if (f.to - f.from).num_days() <= 183 => Ok(Trend::Weekly),
            "" => Ok(Trend::Monthly),
            _ => Err(bad(
                "tren: minggu atau bulan / trend: minggu (weekly) or bulan (monthly)",
            )),
        }
    }
}

/// A ranking column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Received,
    FollowedUp,
    OnTime,
    Completed,
    Median,
    Satisfaction,
    Reopen,
    Transfer,
    Ombudsman,
    Overdue,
    Activity,
}

impl SortKey {
    pub const ALL: [(SortKey, &'static str); 12] = [
        (SortKey::Name, "nama"),
        (SortKey::Received, "diterima"),
        (SortKey::FollowedUp, "tindak"),
        (SortKey::OnTime, "tepat"),
        (SortKey::Completed, "selesai"),
        (SortKey::Median, "median"),
        (SortKey::Satisfaction, "puas"),
        (SortKey::Reopen, "ulang"),
        (SortKey::Transfer, "alih"),
        (SortKey::Ombudsman, "ombudsman"),
        (SortKey::Overdue, "tunggakan"),
        (SortKey::Activity, "aktif"),
    ];

    pub fn as_str(self) -> &'static str {
        SortKey::ALL.iter().find(|(k, _)| *k == self).map_or("nama", |(_, s)| s)
    }

    /// Column and direction; the default puts the weakest follow-up first,
    /// where an evaluator looks.
    pub fn parse(col: &str, dir: &str) -> Result<(SortKey, bool), Error> {
        let key = match col.trim() {
            "" => SortKey::FollowedUp,
            v => SortKey::ALL
                .iter()
                .find(|(_, s)| *s == v)
                .map(|(k, _)| *k)
                .ok_or_else(|| bad("urut: kolom tidak dikenal / sort: unknown column"))?,
        };
        let descending = match dir.trim() {
            "" => false,
            "naik" => false,
            "turun" => true,
            _ => {
                return Err(bad(
                    "arah: naik atau turun / direction: naik (ascending) or turun (descending)",
                ));
            }
        };
        Ok((key, descending))
    }
}

/// One line of a ranking.
#[derive(Debug, Clone)]
pub struct Row {
    pub code: String,
    pub name: String,
    pub kind: InstitutionKind,
    /// The row covers more than the institution itself (its subtree).
    pub with_below: bool,
    pub figures: Figures,
    pub admins: usize,
    pub active_admins: usize,
    pub last_login: Option<DateTime<Utc>>,
    pub live_integration: bool,
    pub connected: bool,
    /// Regional governments only.
    pub grade: Option<Grade>,
}

/// A trend bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub label: String,
    pub counters: Counters,
}

/// Everything a dashboard page shows.
pub struct Dashboard {
    pub scope: Scope,
    pub title: String,
    pub filters: Filters,
    pub trend_kind: Trend,
    pub headline: Figures,
    /// Submissions count nationally; receipts for institutions.
    pub national: bool,
    pub trend: Vec<Point>,
    pub by_category: Vec<(String, Counters)>,
    pub by_channel: Vec<(String, Counters)>,
    pub rows: Vec<Row>,
    pub connectivity: Rate,
    /// The staff answering for the view's institutions (institution and
    /// subtree views only), least recently seen first.
    pub admins: Vec<AdminSeen>,
    /// The regions each map level shows, default level first.
    pub maps: Vec<(map::Level, Vec<map::Area>)>,
    /// A province's view maps only that province (its region code).
    pub map_zoom: Option<String>,
    pub as_of: DateTime<Utc>,
}

/// The holders a view sums, or None for everything.
fn holders(scope: &Scope, tree: &Tree) -> Option<Vec<String>> {
    match scope {
        Scope::National | Scope::Oversight => None,
        Scope::Institution(c) => Some(tree.own(c)),
        Scope::Subtree(c) => Some(tree.subtree(c)),
        Scope::RegionalGovernments => Some(tree.regional_governments().iter().flat_map(|c| tree.own(c)).collect()),
    }
}

/// The ranking's rows: (code, holders summed, covers more than itself).
fn row_sets(scope: &Scope, tree: &Tree) -> Vec<(String, Vec<String>, bool)> {
    let below = |c: &String| (c.clone(), tree.subtree(c), tree.subtree(c).len() > 1);
    match scope {
        Scope::National => tree
            .roots()
            .iter()
            .flat_map(|r| tree.children(r).iter())
            .map(below)
            .collect(),
        Scope::Oversight => tree.of_kinds(&[InstitutionKind::Province]).iter().map(below).collect(),
        Scope::RegionalGovernments => tree
            .regional_governments()
            .into_iter()
            .map(|c| {
                let own = tree.own(&c);
                let more = own.len() > 1;
                (c, own, more)
            })
            .collect(),
        Scope::Institution(c) => {
            let mut v = vec![(c.clone(), vec![c.clone()], false)];
            v.extend(
                tree.children(c)
                    .iter()
                    .filter(|u| tree.get(u).is_some_and(|i| i.kind == InstitutionKind::Unit))
                    .map(|u| {
                        let own = tree.own(u);
                        let more = own.len() > 1;
                        (u.clone(), own, more)
                    }),
            );
            v
        }
        Scope::Subtree(c) => {
            let mut v = vec![(c.clone(), vec![c.clone()], false)];
            v.extend(tree.children(c).iter().map(below));
            v
        }
    }
}

fn sum<'a>(set: impl IntoIterator<Item = &'a String>, by: &HashMap<String, Counters>) -> Counters {
    let mut c = Counters::default();
    for code in set {
        if let Some(x) = by.get(code) {
            c.merge(x, 1);
        }
    }
    c
}

/// WIB today.
pub fn today(now: DateTime<Utc>) -> NaiveDate {
    lapor_domain::rollup::wib_day(now)
}

/// What a view is read for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// A page: trend and breakdowns need their volumes only.
    Page,
    /// An export or open data: every counter of every table.
    Full,
}

/// Reads a view. The caller has checked `Scope::allowed`.
pub async fn load(
    st: &AppState,
    tree: &Tree,
    scope: Scope,
    filters: Filters,
    trend_kind: Trend,
    now: DateTime<Utc>,
    detail: Detail,
) -> Result<Dashboard, Error> {
    let store = &st.store;
    let set = holders(&scope, tree);
    let national = matches!(scope, Scope::National | Scope::Oversight);
    // The regional governments are most holders: their trend and
    // breakdowns read the national rows minus the other holders' (the
    // ministries, agencies and state enterprises, and the national intake),
    // about a quarter of the governments' own rows (decision 0019).
    let others: Option<Vec<String>> = matches!(scope, Scope::RegionalGovernments).then(|| {
        let own: HashSet<&String> = set.iter().flatten().collect();
        let mut v: Vec<String> = tree.codes().filter(|c| !own.contains(c)).cloned().collect();
        v.push(String::new());
        v.sort();
        v
    });
    let q = |group| {
        let mut q = filters.query(set.clone(), group, detail);
        if let Some(others) = others.as_ref().filter(|_| group != GroupBy::Institution) {
            q.institutions = None;
            q.except = Some(others.clone());
        }
        q
    };
    let admin_root = scope.code().map(|c| c.to_string());
    let (by_inst_q, overdue_q, category_q, channel_q) = (
        q(GroupBy::Institution),
        filters.overdue_query(set.clone()),
        q(GroupBy::Category),
        q(GroupBy::Channel),
    );
    let trend_q = q(match trend_kind {
        Trend::Weekly => GroupBy::Day,
        Trend::Monthly => GroupBy::Month,
    });
    // The reads are independent: run together, a page waits for the
    // slowest instead of their sum (the pools hold several readers).
    let (by_inst, overdue, trend_rows, by_category, by_channel, admins_all, live) = tokio::try_join!(
        timed("rollups by institution", store.rollup(&by_inst_q)),
        timed("overdue now", store.overdue_now(&overdue_q, now)),
        timed("trend", store.rollup(&trend_q)),
        timed("by category", store.rollup(&category_q)),
        timed("by channel", store.rollup(&channel_q)),
        timed("admin activity", store.admin_activity(admin_root.as_deref())),
        timed(
            "live integrations",
            store.live_integrations(now - Duration::days(LIVE_INTEGRATION_DAYS))
        ),
    )?;
    let by_inst: HashMap<String, Counters> = by_inst.into_iter().collect();
    let overdue: HashMap<String, i64> = overdue.into_iter().collect();
    let by_category = sorted_by_volume(by_category, national);
    let by_channel = sorted_by_volume(by_channel, national);
    let live: HashSet<String> = live.into_iter().collect();

    let overdue_of = |set: &[String]| Overdue {
        verification: 0,
        held: set.iter().filter_map(|c| overdue.get(c)).sum(),
    };
    let headline = match &set {
        None => {
            let mut all = Counters::default();
            for c in by_inst.values() {
                all.merge(c, 1);
            }
            Figures::new(
                &all,
                Overdue {
                    verification: overdue.get("").copied().unwrap_or(0),
                    held: overdue.iter().filter(|(k, _)| !k.is_empty()).map(|(_, n)| n).sum(),
                },
            )
        }
        Some(set) => Figures::new(&sum(set, &by_inst), overdue_of(set)),
    };

    let active_since = now - Duration::days(ACTIVE_DAYS);
    let mut admins_by: HashMap<&str, Vec<&AdminSeen>> = HashMap::new();
    for a in &admins_all {
        admins_by.entry(a.institution.as_str()).or_default().push(a);
    }
    let rule = GradeRule::default();
    let mut rows: Vec<Row> = Vec::new();
    for (code, members, with_below) in row_sets(&scope, tree) {
        let Some(inst) = tree.get(&code) else { continue };
        let figures = Figures::new(&sum(&members, &by_inst), overdue_of(&members));
        let seen: Vec<&AdminSeen> = members
            .iter()
            .flat_map(|m| admins_by.get(m.as_str()).into_iter().flatten().copied())
            .collect();
        let mut users: Vec<(&str, Option<DateTime<Utc>>)> =
            seen.iter().map(|a| (a.user_id.as_str(), a.last_login_at)).collect();
        users.sort();
        users.dedup_by(|a, b| a.0 == b.0);
        let active = users
            .iter()
            .filter(|(_, t)| t.is_some_and(|t| t >= active_since))
            .count();
        let last_login = users.iter().filter_map(|(_, t)| *t).max();
        let live_integration = members.iter().any(|m| live.contains(m));
        let connected = active > 0 || live_integration;
        let grade = matches!(
            inst.kind,
            InstitutionKind::Province | InstitutionKind::Regency | InstitutionKind::City
        )
        .then(|| rule.grade(connected, figures.followed_up, figures.on_time));
        rows.push(Row {
            code: code.clone(),
            name: inst.name.clone(),
            kind: inst.kind,
            with_below,
            figures,
            admins: users.len(),
            active_admins: active,
            last_login,
            live_integration,
            connected,
            grade,
        });
    }
    // Connectivity over the institutions a view covers (units answer
    // through their institution and are not counted on their own).
    let covered: Vec<String> = match &set {
        None => tree.of_kinds(&[
            InstitutionKind::Ministry,
            InstitutionKind::Agency,
            InstitutionKind::Province,
            InstitutionKind::Regency,
            InstitutionKind::City,
            InstitutionKind::StateEnterprise,
        ]),
        Some(set) => set
            .iter()
            .filter(|c| tree.get(c).is_some_and(|i| i.kind != InstitutionKind::Unit))
            .cloned()
            .collect(),
    };
    let connected = covered
        .iter()
        .filter(|c| {
            let own = tree.own(c);
            live.iter().any(|l| own.contains(l))
                || own.iter().any(|m| {
                    admins_by
                        .get(m.as_str())
                        .is_some_and(|v| v.iter().any(|a| a.last_login_at.is_some_and(|t| t >= active_since)))
                })
        })
        .count();
    let connectivity = Rate::new(connected as i64, covered.len() as i64);

    let mut admins: Vec<AdminSeen> = if scope.code().is_some() { admins_all } else { Vec::new() };
    admins.sort_by(|a, b| a.last_login_at.cmp(&b.last_login_at).then(a.name.cmp(&b.name)));

    let (levels, zoom) = map::levels(&scope, tree);
    let maps = levels
        .into_iter()
        .map(|level| {
            let areas = map::areas(level, zoom.as_deref(), tree, |members| {
                Figures::new(&sum(members, &by_inst), overdue_of(members))
            });
            (level, areas)
        })
        .collect();

    let trend = buckets(&filters, trend_kind, trend_rows);
    let title = match &scope {
        Scope::National => "Nasional".to_string(),
        Scope::RegionalGovernments => "Pemerintah daerah".to_string(),
        Scope::Oversight => "Pengawasan".to_string(),
        Scope::Institution(c) | Scope::Subtree(c) => tree.name(c),
    };
    Ok(Dashboard {
        scope,
        title,
        filters,
        trend_kind,
        headline,
        national,
        trend,
        by_category,
        by_channel,
        rows,
        connectivity,
        admins,
        maps,
        map_zoom: zoom,
        as_of: now,
    })
}

/// Awaits one of a view's reads and logs how long it took
/// (`LAPOR_LOG=lapor_server::dashboard=debug`): where a slow page's time goes.
pub async fn timed<T>(what: &'static str, read: impl std::future::Future<Output = T>) -> T {
    let started = std::time::Instant::now();
    let out = read.await;
    tracing::debug!(
        read = what,
        ms = started.elapsed().as_secs_f64() * 1e3,
        "dashboard read"
    );
    out
}

/// The volume a breakdown is sorted by: submissions nationally, receipts
/// for institutions.
pub fn volume(c: &Counters, national: bool) -> i64 {
    if national { c.submitted } else { c.received }
}

fn sorted_by_volume(mut v: Vec<(String, Counters)>, national: bool) -> Vec<(String, Counters)> {
    v.retain(|(_, c)| volume(c, national) > 0);
    v.sort_by(|a, b| volume(&b.1, national).cmp(&volume(&a.1, national)).then(a.0.cmp(&b.0)));
    v
}

/// Every week (ISO, Monday first) or month of the period, empty ones too,
/// so a quiet week shows as a dip and not as a gap.
fn buckets(f: &Filters, kind: Trend, rows: Vec<(String, Counters)>) -> Vec<Point> {
    let key_of_day = |d: NaiveDate| match kind {
        Trend::Weekly => {
            let w = d.iso_week();
            format!("{}-W{:02}", w.year(), w.week())
        }
        Trend::Monthly => format!("{}-{:02}", d.year(), d.month()),
    };
    let mut order: Vec<String> = Vec::new();
    let mut d = f.from;
    while d <= f.to {
        let k = key_of_day(d);
        if order.last() != Some(&k) {
            order.push(k);
        }
        d += Duration::days(1);
    }
    let mut sums: HashMap<String, Counters> = HashMap::new();
    for (period, c) in rows {
        let Ok(p) = period.parse::<i64>() else { continue };
        let key = match kind {
            Trend::Weekly => {
                let day = NaiveDate::from_ymd_opt((p / 10_000) as i32, ((p / 100) % 100) as u32, (p % 100) as u32);
                match day {
                    Some(day) => key_of_day(day),
                    None => continue,
                }
            }
            Trend::Monthly => format!("{}-{:02}", p / 100, p % 100),
        };
        sums.entry(key).or_default().merge(&c, 1);
    }
    order
        .into_iter()
        .map(|label| Point {
            counters: sums.remove(&label).unwrap_or_default(),
            label,
        })
        .collect()
}

/// An indicator's value (None for a rate without a denominator, and for
/// the columns that are not figures: name, admin activity).
pub fn figure(f: &Figures, key: SortKey) -> Option<f64> {
    let pct = |r: Rate| r.percent();
    match key {
        SortKey::Name | SortKey::Activity => None,
        SortKey::Received => Some(f.received as f64),
        SortKey::FollowedUp => pct(f.followed_up),
        SortKey::OnTime => pct(f.on_time),
        SortKey::Completed => pct(f.completed),
        SortKey::Median => f.first_response.median().map(f64::from),
        SortKey::Satisfaction => f.satisfaction(),
        SortKey::Reopen => pct(f.reopen),
        SortKey::Transfer => pct(f.transfer),
        SortKey::Ombudsman => Some(f.ombudsman_escalated as f64),
        SortKey::Overdue => Some(f.overdue.total() as f64),
    }
}

/// Sorts a ranking in place.
pub fn sort_rows(rows: &mut [Row], key: SortKey, descending: bool) {
    // Rates without a denominator sort after every real figure, either way.
    rows.sort_by(|a, b| {
        let (fa, fb) = (&a.figures, &b.figures);
        let opt = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (Some(x), Some(y)) => {
                let o = x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal);
                if descending { o.reverse() } else { o }
            }
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        let o = match key {
            SortKey::Name => {
                let o = a.name.cmp(&b.name);
                if descending { o.reverse() } else { o }
            }
            SortKey::Activity => opt(Some(a.active_admins as f64), Some(b.active_admins as f64)),
            _ => opt(figure(fa, key), figure(fb, key)),
        };
        o.then_with(|| a.name.cmp(&b.name))
    });
}

/// Every staff role has a dashboard (at least its own institution's), so
/// the navigation shows the link to any member of an institution.
pub fn sees_dashboards(memberships: &[lapor_domain::institution::Membership]) -> bool {
    !memberships.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Params {
        let q: String = pairs.iter().map(|(k, v)| format!("{k}={v}&")).collect();
        serde_urlencoded::from_str(&q).unwrap()
    }

    #[test]
    fn filters_default_to_the_last_90_days_and_refuse_nonsense() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let cats = vec!["jalan".to_string()];
        let f = Filters::parse(&p(&[]), today, &cats).unwrap();
        assert_eq!((f.to - f.from).num_days(), 89);
        let f = Filters::parse(
            &p(&[
                ("dari", "2026-01-01"),
                ("sampai", "2026-03-31"),
                ("kanal", "sms"),
                ("kategori", "jalan"),
            ]),
            today,
            &cats,
        )
        .unwrap();
        assert_eq!(f.channel, Some(Channel::Sms));
        assert_eq!(f.category.as_deref(), Some("jalan"));
        for (bad_q, code) in [
            (vec![("dari", "01/02/2026")], ErrorCode::InvalidQuery),
            (
                vec![("dari", "2026-03-01"), ("sampai", "2026-02-01")],
                ErrorCode::InvalidQuery,
            ),
            (
                vec![("dari", "2000-01-01"), ("sampai", "2026-01-01")],
                ErrorCode::InvalidQuery,
            ),
            (vec![("klasifikasi", "keluhan")], ErrorCode::InvalidQuery),
            (vec![("kanal", "merpati")], ErrorCode::InvalidQuery),
            (vec![("kategori", "tidak-ada")], ErrorCode::UnknownCategory),
        ] {
            let e = Filters::parse(&p(&bad_q), today, &cats).unwrap_err();
            assert_eq!(e.code, code, "{bad_q:?}");
        }
        assert!(SortKey::parse("acak", "").is_err());
        assert!(SortKey::parse("nama", "miring").is_err());
        assert_eq!(SortKey::parse("", "").unwrap(), (SortKey::FollowedUp, false));
    }

    #[test]
    fn weekly_buckets_cover_every_week_even_quiet_ones() {
        let f = Filters {
            from: NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
            classification: None,
            category: None,
            channel: None,
        };
        let c = Counters {
            received: 2,
            ..Default::default()
        };
        let pts = buckets(
            &f,
            Trend::Weekly,
            vec![("20261103".into(), c.clone()), ("20261104".into(), c)],
        );
        assert_eq!(pts.len(), 3);
        assert_eq!(pts[0].label, "2026-W45");
        assert_eq!(pts[0].counters.received, 4);
        assert_eq!(pts[1].counters.received, 0);
        let m = buckets(&f, Trend::Monthly, vec![("202611".into(), Counters::default())]);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].label, "2026-11");
    }
}
