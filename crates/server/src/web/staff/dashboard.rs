//! The monitoring dashboards (`/staf/dasbor`) and their exports.
//!
//! Who may call what: every view and export needs `Action::ReadDashboard`:
//! on the system for the national, regional-government and oversight views
//! (national admins, oversight, auditors), on the institution's path for an
//! institution or subtree view (its own staff and supervisors above it).
//! A regency's staff cannot open another regency's numbers.

use super::Staff;
use crate::AppState;
use crate::dashboard::figures::{Figures, count, percent};
use crate::dashboard::{self, Dashboard, Filters, Params, Row, Scope, SortKey, Trend, chart, tree::Tree};
use crate::web::{enc, error_page, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use lapor_domain::calendar::Zone;
use lapor_domain::indicators::Grade;
use lapor_domain::{Error, ErrorCode};
use std::sync::Arc;

type QueryResult = Result<Query<Params>, axum::extract::rejection::QueryRejection>;

/// A headline figure.
pub struct Card {
    pub label: String,
    pub value: String,
    pub detail: String,
    /// Fewer than 5 reports stand behind it.
    pub small: bool,
}

/// A sortable column header.
pub struct Head {
    pub label: String,
    pub href: String,
    /// "ascending" / "descending" on the sorted column.
    pub sorted: Option<&'static str>,
}

pub struct Line {
    pub name: String,
    pub href: Option<String>,
    pub cells: Vec<String>,
    pub grade: Option<(&'static str, String)>,
    pub connected: bool,
}

/// A breakdown table and chart.
pub struct Breakdown {
    pub id: &'static str,
    pub title: String,
    pub svg: String,
    pub rows: Vec<(String, String, String, String)>,
}

pub struct ScopeLink {
    pub label: String,
    pub href: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "staff/dashboard.html")]
struct Page<'a> {
    s: &'a Staff,
    c: &'a crate::web::Ctx,
    title: String,
    scopes: Vec<ScopeLink>,
    p: Params,
    from: String,
    to: String,
    classifications: Vec<(&'static str, bool)>,
    categories: Vec<(String, String, bool)>,
    channels: Vec<(&'static str, bool)>,
    cards: Vec<Card>,
    trend_svg: String,
    trend_rows: Vec<(String, String, String, String)>,
    weekly: bool,
    breakdowns: Vec<Breakdown>,
    heads: Vec<Head>,
    lines: Vec<Line>,
    graded: bool,
    connectivity: String,
    admins: Vec<(String, String, String, String, bool)>,
    map: Option<MapView>,
    recurring: Option<dashboard::recurring::Recurring>,
    export: String,
    /// The printable evaluation report of this view.
    evaluation: String,
    /// The dashboard of this view (from the evaluation report).
    back: String,
    /// Every report of the view, streamed as CSV.
    reports_export: String,
    /// Rendering the evaluation report: no forms, tables open, definitions.
    print: bool,
    /// The view's own grade (an institution view of a regional government).
    grade: Option<(&'static str, String)>,
    as_of: String,
}

/// The map section: one level coloured by one indicator, its legend, and
/// the same figures as a table for those who do not read maps.
pub struct MapView {
    svg: String,
    /// (value, label, chosen)
    levels: Vec<(&'static str, &'static str, bool)>,
    indicators: Vec<(&'static str, String, bool)>,
    indicator: String,
    /// (colour, range)
    legend: Vec<(&'static str, String)>,
    no_data: &'static str,
    /// (region, link to its dashboard, value, received)
    rows: Vec<(String, Option<String>, String, String)>,
    /// The rest of the view, kept when the map changes.
    hidden: Vec<(&'static str, String)>,
}

/// The view, checked: parsed filters and scope the caller may see.
async fn resolve(st: &AppState, s: &Staff, p: &Params) -> Result<(Arc<Tree>, Scope, Filters, Trend), Error> {
    let tree = st.tree.get(st.store.as_ref()).await?;
    let scope = Scope::parse(p, s.principal(), &tree)?;
    if !scope.allowed(s.principal(), &tree) {
        return Err(Error::forbidden());
    }
    let categories: Vec<String> = st.store.categories().await?.into_iter().map(|c| c.code).collect();
    let filters = Filters::parse(p, dashboard::today(Utc::now()), &categories)?;
    let trend = Trend::parse(&p.tren, &filters)?;
    Ok((tree, scope, filters, trend))
}

/// The query string of a view, without sorting (links add their own).
fn view_qs(scope: &Scope, f: &Filters, trend: Trend) -> String {
    let mut q = format!("lingkup={}", scope.key());
    if let Some(c) = scope.code() {
        q.push_str(&format!("&kode={}", enc(c)));
    }
    q.push_str(&format!("&dari={}&sampai={}", f.from, f.to));
    if let Some(c) = f.classification {
        q.push_str(&format!("&klasifikasi={c}"));
    }
    if let Some(c) = &f.category {
        q.push_str(&format!("&kategori={}", enc(c)));
    }
    if let Some(c) = f.channel {
        q.push_str(&format!("&kanal={c}"));
    }
    q.push_str(match trend {
        Trend::Weekly => "&tren=minggu",
        Trend::Monthly => "&tren=bulan",
    });
    q
}

pub async fn page(State(st): State<AppState>, s: Staff, q: QueryResult) -> Response {
    let Ok(Query(p)) = q else {
        return error_page(&s.c, &Error::new(ErrorCode::InvalidQuery));
    };
    match build(&st, &s, p, false).await {
        Ok(r) => r,
        Err(e) => error_page(&s.c, &e),
    }
}

/// The printable evaluation report of a view: the same figures, laid out
/// for paper, with the definitions of the indicators.
pub async fn evaluation(State(st): State<AppState>, s: Staff, q: QueryResult) -> Response {
    let Ok(Query(p)) = q else {
        return error_page(&s.c, &Error::new(ErrorCode::InvalidQuery));
    };
    match build(&st, &s, p, true).await {
        Ok(r) => r,
        Err(e) => error_page(&s.c, &e),
    }
}

/// A stored percentile: beyond 10 days it stands for its bucket's range.
fn days(h: Option<u16>) -> String {
    h.map_or_else(|| "–".into(), lapor_domain::indicators::days_label)
}

fn mean(v: Option<f64>, en: bool) -> String {
    match v {
        None => "–".into(),
        Some(m) if en => format!("{m:.2}"),
        Some(m) => format!("{m:.2}").replace('.', ","),
    }
}

fn grade_label(g: Grade) -> (&'static str, String) {
    match g {
        Grade::Baik => ("baik", "Baik".into()),
        Grade::Sedang => ("sedang", "Sedang".into()),
        Grade::Kurang => ("kurang", "Kurang".into()),
    }
}

fn cards(c: &crate::web::Ctx, d: &Dashboard) -> Vec<Card> {
    let en = c.lang == lapor_domain::error::Lang::En;
    let h = &d.headline;
    let rate = |label: &str, r: lapor_domain::indicators::Rate| Card {
        label: label.to_string(),
        value: percent(r, en),
        detail: format!("{} / {}", count(r.num, en), count(r.den, en)),
        small: Figures::small(r.den),
    };
    let mut v = Vec::new();
    if d.national {
        v.push(Card {
            label: c.tr("Laporan masuk", "Reports submitted").into(),
            value: count(h.submitted, en),
            detail: String::new(),
            small: false,
        });
        v.push(rate(
            c.tr("Terverifikasi ≤ 3 hari kerja", "Verified ≤ 3 working days"),
            h.verified,
        ));
    }
    v.push(Card {
        label: c.tr("Diterima instansi", "Received by institutions").into(),
        value: count(h.received, en),
        detail: format!(
            "{} {}",
            count(h.to_units, en),
            c.tr("diteruskan ke unit", "passed to units")
        ),
        small: false,
    });
    v.push(rate(c.tr("Ditindaklanjuti", "Followed up"), h.followed_up));
    v.push(rate(
        c.tr("Tindak lanjut tepat waktu", "Followed up on time"),
        h.on_time,
    ));
    v.push(rate(c.tr("Selesai", "Completed"), h.completed));
    v.push(Card {
        label: c
            .tr("Respons pertama (hari kerja)", "First response (working days)")
            .into(),
        value: format!(
            "{} · p90 {}",
            days(h.first_response.median()),
            days(h.first_response.p90())
        ),
        detail: format!("{} {}", count(h.first_response.count(), en), c.tr("laporan", "reports")),
        small: Figures::small(h.first_response.count()),
    });
    v.push(Card {
        label: c
            .tr("Sampai selesai (hari kerja)", "To completion (working days)")
            .into(),
        value: format!("{} · p90 {}", days(h.completion.median()), days(h.completion.p90())),
        detail: format!("{} {}", count(h.completion.count(), en), c.tr("laporan", "reports")),
        small: Figures::small(h.completion.count()),
    });
    v.push(Card {
        label: c.tr("Melewati batas waktu sekarang", "Overdue now").into(),
        value: count(h.overdue.total(), en),
        detail: if d.national {
            format!(
                "{} {}",
                count(h.overdue.verification, en),
                c.tr("menunggu verifikasi", "awaiting verification")
            )
        } else {
            String::new()
        },
        small: false,
    });
    v.push(Card {
        label: c.tr("Kepuasan (1–5)", "Satisfaction (1–5)").into(),
        value: mean(h.satisfaction(), en),
        detail: h
            .ratings
            .iter()
            .enumerate()
            .map(|(i, n)| format!("{}★ {}", i + 1, count(*n, en)))
            .collect::<Vec<_>>()
            .join(" · "),
        small: Figures::small(h.rated()),
    });
    v.push(rate(c.tr("Dibuka ulang", "Reopened"), h.reopen));
    v.push(rate(
        c.tr("Dialihkan (bukan wewenang)", "Transferred (not ours)"),
        h.transfer,
    ));
    v.push(Card {
        label: c.tr("Ke Ombudsman", "To the Ombudsman").into(),
        value: count(h.ombudsman_escalated, en),
        detail: format!("{} {}", count(h.ombudsman_offered, en), c.tr("ditawarkan", "offered")),
        small: false,
    });
    v
}

/// The ranking's column headers (label, sort key).
fn columns(c: &crate::web::Ctx) -> Vec<(String, SortKey)> {
    vec![
        (c.tr("Instansi", "Institution").into(), SortKey::Name),
        (c.tr("Diterima", "Received").into(), SortKey::Received),
        (c.tr("Ditindaklanjuti", "Followed up").into(), SortKey::FollowedUp),
        (c.tr("Tepat waktu", "On time").into(), SortKey::OnTime),
        (c.tr("Selesai", "Completed").into(), SortKey::Completed),
        (
            c.tr("Median respons (hari kerja)", "Median response (working days)")
                .into(),
            SortKey::Median,
        ),
        (c.tr("Kepuasan", "Satisfaction").into(), SortKey::Satisfaction),
        (c.tr("Dibuka ulang", "Reopened").into(), SortKey::Reopen),
        (c.tr("Dialihkan", "Transferred").into(), SortKey::Transfer),
        ("Ombudsman".into(), SortKey::Ombudsman),
        (c.tr("Lewat batas", "Overdue").into(), SortKey::Overdue),
        (c.tr("Admin aktif", "Active admins").into(), SortKey::Activity),
    ]
}

/// An indicator as shown in a table cell ("" for the name and activity
/// columns, which are not figures).
fn cell(f: &Figures, key: SortKey, en: bool) -> String {
    match key {
        SortKey::Name | SortKey::Activity => String::new(),
        SortKey::Received => count(f.received, en),
        SortKey::FollowedUp => percent(f.followed_up, en),
        SortKey::OnTime => percent(f.on_time, en),
        SortKey::Completed => percent(f.completed, en),
        SortKey::Median => days(f.first_response.median()),
        SortKey::Satisfaction => mean(f.satisfaction(), en),
        SortKey::Reopen => percent(f.reopen, en),
        SortKey::Transfer => percent(f.transfer, en),
        SortKey::Ombudsman => count(f.ombudsman_escalated, en),
        SortKey::Overdue => count(f.overdue.total(), en),
    }
}

fn line(c: &crate::web::Ctx, r: &Row, href: Option<String>) -> Line {
    let en = c.lang == lapor_domain::error::Lang::En;
    Line {
        name: r.name.clone(),
        href,
        cells: columns(c)
            .into_iter()
            .skip(1)
            .map(|(_, key)| match key {
                SortKey::Activity => format!("{} / {}", r.active_admins, r.admins),
                _ => cell(&r.figures, key, en),
            })
            .collect(),
        grade: r.grade.map(grade_label),
        connected: r.connected,
    }
}

/// The dashboard of a row's institution (its subtree when the row covers
/// it), with the same filters; None for the view itself or one the viewer
/// may not open.
fn drill_down(d: &Dashboard, s: &Staff, tree: &Tree, code: &str, with_below: bool) -> Option<String> {
    let sc = if with_below {
        Scope::Subtree(code.to_string())
    } else {
        Scope::Institution(code.to_string())
    };
    (sc != d.scope && sc.allowed(s.principal(), tree))
        .then(|| format!("/staf/dasbor?{}", view_qs(&sc, &d.filters, d.trend_kind)))
}

/// A legend bound, in the indicator's unit.
fn bound(key: SortKey, v: f64, en: bool) -> String {
    let dec = |s: String| if en { s } else { s.replace('.', ",") };
    match key {
        SortKey::FollowedUp | SortKey::OnTime | SortKey::Completed | SortKey::Reopen | SortKey::Transfer => {
            dec(if en { format!("{v:.1}%") } else { format!("{v:.1} %") })
        }
        SortKey::Satisfaction => dec(format!("{v:.2}")),
        SortKey::Median => format!("{v:.0} {}", if en { "days" } else { "hari" }),
        _ => count(v.round() as i64, en),
    }
}

fn map_view(c: &crate::web::Ctx, d: &Dashboard, p: &Params, s: &Staff, tree: &Tree) -> Result<Option<MapView>, Error> {
    use crate::dashboard::map::{self, Level};
    let en = c.lang == lapor_domain::error::Lang::En;
    let levels: Vec<Level> = d.maps.iter().map(|(l, _)| *l).collect();
    let Some(level) = map::choose(&p.peta, &levels)? else {
        return Ok(None);
    };
    let choices: Vec<(String, SortKey)> = columns(c)
        .into_iter()
        .filter(|(_, k)| !matches!(k, SortKey::Name | SortKey::Activity))
        .collect();
    let key = match p.indikator.trim() {
        "" => SortKey::FollowedUp,
        v => choices
            .iter()
            .map(|(_, k)| *k)
            .find(|k| k.as_str() == v)
            .ok_or_else(|| Error::with(ErrorCode::InvalidQuery, "indikator: tidak dikenal / indicator: unknown"))?,
    };
    let label = choices
        .iter()
        .find(|(_, k)| *k == key)
        .map(|(l, _)| l.clone())
        .unwrap_or_default();
    let areas: &[map::Area] = d
        .maps
        .iter()
        .find(|(l, _)| *l == level)
        .map_or(&[], |(_, a)| a.as_slice());
    let values: Vec<Option<f64>> = areas.iter().map(|a| dashboard::figure(&a.figures, key)).collect();
    let (fills, legend) = map::colours(&values, map::higher_is_better(key));
    let none = c.tr("tidak ada instansi", "no institution");
    let mut shown: std::collections::HashMap<&str, (&'static str, String)> = map::regions(level, d.map_zoom.as_deref())
        .into_iter()
        .map(|code| (code, (map::NO_DATA, none.to_string())))
        .collect();
    for (a, fill) in areas.iter().zip(&fills) {
        if let Some(slot) = shown.get_mut(a.region.as_str()) {
            *slot = (*fill, cell(&a.figures, key, en));
        }
    }
    let level_name = match level {
        Level::Provinces => c.tr("provinsi", "provinces"),
        Level::Regencies => c.tr("kabupaten/kota", "regencies and cities"),
    };
    let title = format!("{}: {label}, {level_name}", c.tr("Peta", "Map"));
    let desc = c.tr(
        "Warna tiap wilayah menurut indikator; angka yang sama ada di tabel di samping peta.",
        "Each region coloured by the indicator; the same numbers are in the table beside the map.",
    );
    let Some(svg) = map::svg("peta-svg", level, &title, desc, &shown) else {
        return Ok(None);
    };
    let mut order: Vec<(&map::Area, Option<f64>)> = areas.iter().zip(values).collect();
    order.sort_by(|a, b| match (a.1, b.1) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.0.name.cmp(&b.0.name),
    });
    let rows = order
        .into_iter()
        .map(|(a, _)| {
            let href = drill_down(d, s, tree, &a.institution, a.with_below);
            (
                a.name.clone(),
                href,
                cell(&a.figures, key, en),
                count(a.figures.received, en),
            )
        })
        .collect();
    Ok(Some(MapView {
        svg,
        levels: levels
            .iter()
            .map(|l| {
                let name = match l {
                    Level::Provinces => c.tr("Provinsi", "Provinces"),
                    Level::Regencies => c.tr("Kabupaten/kota", "Regencies and cities"),
                };
                (l.as_str(), name, *l == level)
            })
            .collect(),
        indicators: choices
            .iter()
            .map(|(l, k)| (k.as_str(), l.clone(), *k == key))
            .collect(),
        indicator: label,
        legend: legend
            .iter()
            .map(|g| {
                let range = if g.from == g.to {
                    bound(key, g.to, en)
                } else {
                    format!("{} – {}", bound(key, g.from, en), bound(key, g.to, en))
                };
                (g.color, range)
            })
            .collect(),
        no_data: map::NO_DATA,
        rows,
        hidden: [
            ("lingkup", &p.lingkup),
            ("kode", &p.kode),
            ("dari", &p.dari),
            ("sampai", &p.sampai),
            ("klasifikasi", &p.klasifikasi),
            ("kategori", &p.kategori),
            ("kanal", &p.kanal),
            ("tren", &p.tren),
            ("urut", &p.urut),
            ("arah", &p.arah),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(n, v)| (n, v.clone()))
        .collect(),
    }))
}

fn when(t: chrono::DateTime<Utc>) -> String {
    t.with_timezone(&Zone::Wib.offset())
        .format("%Y-%m-%d %H:%M WIB")
        .to_string()
}

async fn build(st: &AppState, s: &Staff, p: Params, print: bool) -> Result<Response, Error> {
    let (tree, scope, filters, trend) = dashboard::timed("tree and filters", resolve(st, s, &p)).await?;
    let (key, desc) = SortKey::parse(&p.urut, &p.arah)?;
    let now = Utc::now();
    // The recurring problems read reports, not rollups: alongside the rest.
    let (mut d, recurring) = tokio::try_join!(
        dashboard::load(
            st,
            &tree,
            scope.clone(),
            filters.clone(),
            trend,
            now,
            dashboard::Detail::Page
        ),
        dashboard::timed(
            "recurring problems",
            dashboard::recurring::load(st, &scope, &filters, &tree)
        ),
    )?;
    dashboard::sort_rows(&mut d.rows, key, desc);
    let c = &s.c;
    let en = c.lang == lapor_domain::error::Lang::En;
    let qs = view_qs(&d.scope, &d.filters, d.trend_kind);

    // The views this user may open.
    let mut scopes = Vec::new();
    if s.may_system(lapor_domain::authz::Action::ReadDashboard) {
        for (sc, label) in [
            (Scope::National, c.tr("Nasional", "National")),
            (
                Scope::RegionalGovernments,
                c.tr("Pemerintah daerah", "Regional governments"),
            ),
            (Scope::Oversight, c.tr("Pengawasan (provinsi)", "Oversight (provinces)")),
        ] {
            scopes.push(ScopeLink {
                label: label.into(),
                href: format!("/staf/dasbor?{}", view_qs(&sc, &d.filters, d.trend_kind)),
                current: sc == d.scope,
            });
        }
    }
    for m in &s.user.memberships {
        let sc = Scope::Subtree(m.institution.clone());
        if tree.get(&m.institution).is_some()
            && sc.allowed(s.principal(), &tree)
            && !scopes
                .iter()
                .any(|x| x.href.contains(&format!("kode={}&", enc(&m.institution))))
        {
            scopes.push(ScopeLink {
                label: tree.name(&m.institution),
                href: format!("/staf/dasbor?{}", view_qs(&sc, &d.filters, d.trend_kind)),
                current: sc == d.scope,
            });
        }
    }

    let vol_label = if d.national {
        c.tr("Laporan masuk", "Submitted")
    } else {
        c.tr("Diterima", "Received")
    };
    let fu_label = c.tr("Ditindaklanjuti", "Followed up");
    let labels: Vec<String> = d.trend.iter().map(|pt| pt.label.clone()).collect();
    let trend_svg = chart::lines(
        "tren",
        &format!(
            "{} · {}",
            c.tr("Tren", "Trend"),
            if trend == Trend::Weekly {
                c.tr("per minggu", "weekly")
            } else {
                c.tr("per bulan", "monthly")
            }
        ),
        c.tr(
            "Jumlah laporan dan tindak lanjut per periode; angka yang sama ada di tabel di bawah grafik.",
            "Reports and follow-ups per period; the same numbers are in the table below the chart.",
        ),
        &labels,
        &[
            chart::Series {
                name: vol_label,
                values: d
                    .trend
                    .iter()
                    .map(|pt| dashboard::volume(&pt.counters, d.national) as f64)
                    .collect(),
                color: "#1f5fa8",
            },
            chart::Series {
                name: fu_label,
                values: d.trend.iter().map(|pt| pt.counters.followed_up as f64).collect(),
                color: "#b35900",
            },
        ],
    );
    let trend_rows = d
        .trend
        .iter()
        .map(|pt| {
            (
                pt.label.clone(),
                count(dashboard::volume(&pt.counters, d.national), en),
                count(pt.counters.followed_up, en),
                count(pt.counters.completed, en),
            )
        })
        .collect();

    let cat_names: std::collections::HashMap<String, String> = st
        .store
        .categories()
        .await?
        .into_iter()
        .map(|k| (k.code, if en { k.name_en } else { k.name_id }))
        .collect();
    let breakdown = |id: &'static str,
                     title: String,
                     items: &[(String, lapor_domain::rollup::Counters)],
                     name: &dyn Fn(&str) -> String| {
        let bars: Vec<(String, f64, String)> = items
            .iter()
            .map(|(k, cn)| {
                let v = dashboard::volume(cn, d.national);
                (name(k), v as f64, count(v, en))
            })
            .collect();
        Breakdown {
            id,
            svg: chart::bars(
                id,
                &title,
                c.tr(
                    "Jumlah laporan per kelompok; tabel di bawah memuat angka yang sama.",
                    "Reports per group; the table below has the same numbers.",
                ),
                &bars,
                "#1f5fa8",
            ),
            title,
            rows: items
                .iter()
                .map(|(k, cn)| {
                    let r = lapor_domain::indicators::Rate::new(cn.followed_up, cn.received);
                    (
                        name(k),
                        count(dashboard::volume(cn, d.national), en),
                        percent(r, en),
                        count(cn.completed, en),
                    )
                })
                .collect(),
        }
    };
    let none = c.tr("(tanpa kategori)", "(no category)").to_string();
    let breakdowns = vec![
        breakdown(
            "kategori",
            c.tr("Menurut kategori", "By category").into(),
            &d.by_category,
            &|k| {
                if k.is_empty() {
                    none.clone()
                } else {
                    cat_names.get(k).cloned().unwrap_or_else(|| k.to_string())
                }
            },
        ),
        breakdown(
            "kanal",
            c.tr("Menurut kanal", "By channel").into(),
            &d.by_channel,
            &|k| k.to_string(),
        ),
    ];

    let map = map_view(c, &d, &p, s, &tree)?;
    let heads = columns(c)
        .into_iter()
        .map(|(label, k)| {
            let next_desc = if k == key { !desc } else { !matches!(k, SortKey::Name) };
            Head {
                label,
                href: format!(
                    "/staf/dasbor?{qs}&urut={}&arah={}&peta={}&indikator={}#peringkat",
                    k.as_str(),
                    if next_desc { "turun" } else { "naik" },
                    enc(&p.peta),
                    enc(&p.indikator),
                ),
                sorted: (k == key).then_some(if desc { "descending" } else { "ascending" }),
            }
        })
        .collect();
    let lines = d
        .rows
        .iter()
        .map(|r| line(c, r, drill_down(&d, s, &tree, &r.code, r.with_below)))
        .collect();
    let graded = d.rows.iter().any(|r| r.grade.is_some());
    let grade = match &d.scope {
        Scope::Institution(code) => d
            .rows
            .iter()
            .find(|r| &r.code == code)
            .and_then(|r| r.grade)
            .map(grade_label),
        _ => None,
    };
    let admins = d
        .admins
        .iter()
        .map(|a| {
            let active = a
                .last_login_at
                .is_some_and(|t| t >= now - chrono::Duration::days(dashboard::ACTIVE_DAYS));
            (
                a.name.clone(),
                a.role.as_str().to_string(),
                tree.name(&a.institution),
                a.last_login_at
                    .map_or_else(|| c.tr("belum pernah", "never").to_string(), when),
                active,
            )
        })
        .collect();
    let page = Page {
        s,
        c,
        title: d.title.clone(),
        scopes,
        from: d.filters.from.to_string(),
        to: d.filters.to.to_string(),
        classifications: lapor_domain::report::Classification::ALL
            .iter()
            .map(|k| (k.as_str(), d.filters.classification == Some(*k)))
            .collect(),
        categories: {
            let mut v: Vec<(String, String, bool)> = cat_names
                .iter()
                .map(|(k, n)| (k.clone(), n.clone(), d.filters.category.as_deref() == Some(k.as_str())))
                .collect();
            v.sort_by(|a, b| a.1.cmp(&b.1));
            v
        },
        channels: lapor_domain::report::Channel::ALL
            .iter()
            .map(|k| (k.as_str(), d.filters.channel == Some(*k)))
            .collect(),
        cards: cards(c, &d),
        trend_svg,
        trend_rows,
        weekly: trend == Trend::Weekly,
        breakdowns,
        heads,
        lines,
        graded,
        connectivity: format!(
            "{} ({} / {})",
            percent(d.connectivity, en),
            count(d.connectivity.num, en),
            count(d.connectivity.den, en)
        ),
        admins,
        map,
        recurring,
        export: format!(
            "/staf/dasbor/ekspor?{qs}&urut={}&arah={}",
            key.as_str(),
            if desc { "turun" } else { "naik" }
        ),
        evaluation: format!("/staf/dasbor/evaluasi?{qs}"),
        back: format!("/staf/dasbor?{qs}"),
        reports_export: format!("/staf/dasbor/ekspor-laporan?{qs}"),
        print,
        grade,
        as_of: when(d.as_of),
        p,
    };
    Ok(render(c, StatusCode::OK, &page))
}

// ---------------------------------------------------------------- export

/// CSV of a dashboard table: `tabel` = peringkat (ranking), tren, kategori
/// or kanal. Numbers are plain (no thousands separators), rates as
/// numerator and denominator, so a spreadsheet can recompute them.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ExportParams {
    tabel: String,
    /// csv (the default) or xlsx.
    format: String,
    #[serde(flatten)]
    view: Params,
}

pub async fn export(
    State(st): State<AppState>,
    s: Staff,
    q: Result<Query<ExportParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(q)) = q else {
        return error_page(&s.c, &Error::new(ErrorCode::InvalidQuery));
    };
    let format = q.format.clone();
    let file = export_table(&st, &s, q).await.and_then(|t| t.file(&format));
    match file {
        Ok((name, kind, body)) => (
            [
                (header::CONTENT_TYPE, kind.to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            body,
        )
            .into_response(),
        Err(e) => error_page(&s.c, &e),
    }
}

/// A table ready to export: its first `text_columns` columns are text,
/// the rest numbers where they parse as numbers.
pub struct Table {
    pub name: String,
    pub sheet: &'static str,
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub text_columns: usize,
}

impl Table {
    /// The file in the format asked for: (file name, media type, bytes).
    pub fn file(&self, format: &str) -> Result<(String, &'static str, Vec<u8>), Error> {
        match format.trim() {
            "" | "csv" => Ok((format!("{}.csv", self.name), "text/csv; charset=utf-8", self.csv()?)),
            "xlsx" => Ok((
                format!("{}.xlsx", self.name),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                self.xlsx()?,
            )),
            _ => Err(Error::with(
                ErrorCode::InvalidQuery,
                "format: csv atau xlsx / format: csv or xlsx",
            )),
        }
    }

    fn csv(&self) -> Result<Vec<u8>, Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let err = |e: csv::Error| Error::internal(e.to_string());
        w.write_record(&self.head).map_err(err)?;
        for r in &self.rows {
            w.write_record(r).map_err(err)?;
        }
        w.into_inner().map_err(|e| Error::internal(e.to_string()))
    }

    /// One sheet, a bold frozen header row, numbers stored as numbers so a
    /// spreadsheet can sum and chart them.
    fn xlsx(&self) -> Result<Vec<u8>, Error> {
        use rust_xlsxwriter::{Format, Workbook};
        let err = |e: rust_xlsxwriter::XlsxError| Error::internal(e.to_string());
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name(self.sheet).map_err(err)?;
        let bold = Format::new().set_bold();
        for (col, h) in self.head.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, h, &bold).map_err(err)?;
        }
        for (i, r) in self.rows.iter().enumerate() {
            let row = i as u32 + 1;
            for (col, v) in r.iter().enumerate() {
                let number = (col >= self.text_columns).then(|| v.parse::<f64>().ok()).flatten();
                match number {
                    Some(n) if n.is_finite() => sheet.write_number(row, col as u16, n),
                    _ if v.is_empty() => continue,
                    _ => sheet.write_string(row, col as u16, v),
                }
                .map_err(err)?;
            }
        }
        sheet.set_freeze_panes(1, 0).map_err(err)?;
        sheet.autofit();
        book.save_to_buffer().map_err(err)
    }
}

/// The columns of a counters line in every export.
pub const COUNTER_COLUMNS: &str = "submitted,received,followed_up,followed_up_on_time,on_time_denominator,completed,\
median_first_response_days,p90_first_response_days,median_completion_days,p90_completion_days,\
rating_1,rating_2,rating_3,rating_4,rating_5,satisfaction_mean,reopened,transferred_out,ombudsman_offered,\
ombudsman_escalated,overdue_now";

pub fn counter_cells(f: &Figures) -> Vec<String> {
    let o = |v: Option<u16>| v.map(|d| d.to_string()).unwrap_or_default();
    let mut v = vec![
        f.submitted.to_string(),
        f.received.to_string(),
        f.followed_up.num.to_string(),
        f.on_time.num.to_string(),
        f.on_time.den.to_string(),
        f.completed.num.to_string(),
        o(f.first_response.median()),
        o(f.first_response.p90()),
        o(f.completion.median()),
        o(f.completion.p90()),
    ];
    v.extend(f.ratings.iter().map(|n| n.to_string()));
    v.push(f.satisfaction().map(|m| format!("{m:.3}")).unwrap_or_default());
    v.extend(
        [
            f.reopen.num,
            f.transfer.num,
            f.ombudsman_offered,
            f.ombudsman_escalated,
            f.overdue.total(),
        ]
        .iter()
        .map(|n| n.to_string()),
    );
    v
}

async fn export_table(st: &AppState, s: &Staff, q: ExportParams) -> Result<Table, Error> {
    let (tree, scope, filters, trend) = resolve(st, s, &q.view).await?;
    let (key, desc) = SortKey::parse(&q.view.urut, &q.view.arah)?;
    let table = match q.tabel.trim() {
        "" | "peringkat" => "peringkat",
        "tren" => "tren",
        "kategori" => "kategori",
        "kanal" => "kanal",
        _ => {
            return Err(Error::with(
                ErrorCode::InvalidQuery,
                "tabel: peringkat, tren, kategori atau kanal / table: peringkat, tren, kategori or kanal",
            ));
        }
    };
    let mut d = dashboard::load(st, &tree, scope, filters, trend, Utc::now(), dashboard::Detail::Full).await?;
    dashboard::sort_rows(&mut d.rows, key, desc);
    let mut head: Vec<String>;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let text_columns;
    match table {
        "peringkat" => {
            text_columns = 4;
            head = ["code", "name", "kind", "includes_below"].map(String::from).to_vec();
            head.extend(COUNTER_COLUMNS.split(',').map(String::from));
            head.extend(
                [
                    "admins",
                    "active_admins",
                    "last_login",
                    "live_integration",
                    "connected",
                    "grade",
                ]
                .map(String::from),
            );
            for r in &d.rows {
                let mut rec = vec![
                    r.code.clone(),
                    r.name.clone(),
                    r.kind.as_str().into(),
                    r.with_below.to_string(),
                ];
                rec.extend(counter_cells(&r.figures));
                rec.extend([
                    r.admins.to_string(),
                    r.active_admins.to_string(),
                    r.last_login.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    r.live_integration.to_string(),
                    r.connected.to_string(),
                    r.grade.map(|g| g.as_str().to_string()).unwrap_or_default(),
                ]);
                rows.push(rec);
            }
        }
        _ => {
            let items: Vec<(String, lapor_domain::rollup::Counters)> = match table {
                "tren" => d.trend.iter().map(|p| (p.label.clone(), p.counters.clone())).collect(),
                "kategori" => d.by_category.clone(),
                _ => d.by_channel.clone(),
            };
            text_columns = 1;
            head = vec![match table {
                "tren" => "period".to_string(),
                "kategori" => "category".into(),
                _ => "channel".into(),
            }];
            head.extend(COUNTER_COLUMNS.split(',').map(String::from));
            for (k, cn) in items {
                let mut rec = vec![k];
                // Overdue now is not a period figure: left at 0 per bucket.
                rec.extend(counter_cells(&Figures::new(&cn, Default::default())));
                rows.push(rec);
            }
        }
    }
    let name = format!(
        "lapor-{}-{}-{}-{}",
        table,
        d.scope.code().unwrap_or(d.scope.key()),
        d.filters.from,
        d.filters.to
    );
    Ok(Table {
        name,
        sheet: table,
        head,
        rows,
        text_columns,
    })
}

// ---------------------------------------------------------------- report export

/// Every report of a view submitted in its period, one CSV row each. The
/// store streams one query in batches through a small channel, so a
/// million rows never sit in memory and a slow client slows the query
/// rather than filling the server. Metadata only: no title, text or
/// reporter, so the file carries no personal data whoever it is passed on to.
pub async fn reports_export(State(st): State<AppState>, s: Staff, q: QueryResult) -> Response {
    let Ok(Query(p)) = q else {
        return error_page(&s.c, &Error::new(ErrorCode::InvalidQuery));
    };
    let (tree, scope, f) = match resolve(&st, &s, &p).await {
        Ok((tree, scope, f, _)) => (tree, scope, f),
        Err(e) => return error_page(&s.c, &e),
    };
    let filter = f.reports(&scope, &tree);
    let channel = f.channel.map(|c| c.as_str());
    let name = format!(
        "lapor-laporan-{}-{}-{}.csv",
        scope.code().unwrap_or(scope.key()),
        f.from,
        f.to
    );
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    let store = st.store.clone();
    let reading = tokio::spawn(async move { store.export_reports(&filter, tx).await });
    let first = {
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(REPORT_COLUMNS);
        w.into_inner().unwrap_or_default()
    };
    let head = futures_util::stream::once(async move { Ok::<_, std::io::Error>(axum::body::Bytes::from(first)) });
    let rows = futures_util::stream::unfold((rx, Some(reading)), move |(mut rx, reading)| async move {
        if let Some(batch) = rx.recv().await {
            let mut w = csv::Writer::from_writer(Vec::with_capacity(batch.len() * 200));
            for r in batch.iter().filter(|r| channel.is_none_or(|c| c == r.channel)) {
                let _ = w.write_record(summary_cells(r));
            }
            let bytes = w.into_inner().unwrap_or_default();
            return Some((Ok(axum::body::Bytes::from(bytes)), (rx, reading)));
        }
        // The reader is done: a failure cuts the download, so the client
        // sees an incomplete file, never a short one that looks whole.
        let failed = match reading?.await {
            Ok(Ok(_)) => return None,
            Ok(Err(e)) => e.to_string(),
            Err(e) => e.to_string(),
        };
        tracing::error!(error = %failed, "report export failed mid-stream");
        Some((Err(std::io::Error::other(failed)), (rx, None)))
    });
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        axum::body::Body::from_stream(futures_util::StreamExt::chain(head, rows)),
    )
        .into_response()
}

/// The report export's columns.
pub const REPORT_COLUMNS: [&str; 17] = [
    "tracking_id",
    "submitted_at",
    "status",
    "classification",
    "category",
    "channel",
    "region_code",
    "institution",
    "unit",
    "due_at",
    "first_response_at",
    "completed_at",
    "rating",
    "transfers",
    "reopenings",
    "anonymous",
    "confidential",
];

fn summary_cells(r: &lapor_store::ReportSummary) -> [String; 17] {
    let t = |v: Option<chrono::DateTime<Utc>>| v.map(|t| t.to_rfc3339()).unwrap_or_default();
    [
        r.tracking_id.clone(),
        r.submitted_at.to_rfc3339(),
        r.status.clone(),
        r.classification.clone(),
        r.category.clone().unwrap_or_default(),
        r.channel.clone(),
        r.region_code.clone().unwrap_or_default(),
        r.institution.clone().unwrap_or_default(),
        r.unit.clone().unwrap_or_default(),
        t(r.due_at),
        t(r.first_response_at),
        t(r.completed_at),
        r.rating.map(|n| n.to_string()).unwrap_or_default(),
        r.transfer_count.to_string(),
        r.reopen_count.to_string(),
        r.anonymous.to_string(),
        r.confidential.to_string(),
    ]
}
