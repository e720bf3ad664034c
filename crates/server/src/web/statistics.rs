//! Public statistics and open data (`/statistik`, `.csv`, `.json`): the
//! national figures, the monthly trend, breakdowns by category and channel,
//! and each institution under the national operator (provinces with their
//! regencies and cities). Anyone may call them.
//!
//! Aggregates only (docs/indicators.md, "Public statistics and open data"):
//! no report text, no personal data, no Tracking IDs, no staff names. A
//! count from 1 to 4 is shown as "< 5" and a rate over fewer than 5 reports
//! as "–", so a rare report cannot be recognised by where and when it was
//! filed. Breakdowns are national only, never by category or day within an
//! institution.

use super::{Ctx, error_page, render};
use crate::AppState;
use crate::dashboard::figures::{Figures, count, percent};
use crate::dashboard::{self, Dashboard, Filters, Params, Scope, Trend};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use lapor_domain::indicators::{Rate, SMALL_SAMPLE};
use lapor_domain::rollup::Counters;
use lapor_domain::{Error, ErrorCode, Lang};
use serde_json::{Value, json};

type QueryResult = Result<Query<Params>, axum::extract::rejection::QueryRejection>;

/// A count as the public sees it: "< 5" for 1 to 4.
fn shown(n: i64, en: bool) -> String {
    if n > 0 && n < SMALL_SAMPLE {
        "< 5".into()
    } else {
        count(n, en)
    }
}

/// A rate as the public sees it: "–" over fewer than 5 reports.
fn shown_rate(r: Rate, en: bool) -> String {
    if r.den < SMALL_SAMPLE {
        "–".into()
    } else {
        percent(r, en)
    }
}

fn json_count(n: i64) -> Value {
    if n > 0 && n < SMALL_SAMPLE {
        json!("<5")
    } else {
        json!(n)
    }
}

fn json_rate(r: Rate) -> Value {
    if r.den < SMALL_SAMPLE {
        Value::Null
    } else {
        json!({ "numerator": r.num, "denominator": r.den, "percent": r.percent().map(|p| (p * 10.0).round() / 10.0) })
    }
}

/// The national view over the period, every filter checked like the
/// dashboards'. Scope and sorting are not the caller's to choose here.
async fn load(st: &AppState, p: &Params) -> Result<Dashboard, Error> {
    for (name, v) in [
        ("lingkup", &p.lingkup),
        ("kode", &p.kode),
        ("urut", &p.urut),
        ("arah", &p.arah),
    ] {
        if !v.is_empty() {
            return Err(Error::with(ErrorCode::InvalidQuery, name));
        }
    }
    let tree = st.tree.get(st.store.as_ref()).await?;
    let categories: Vec<String> = st.store.categories().await?.into_iter().map(|c| c.code).collect();
    let today = dashboard::today(Utc::now());
    let mut p = p.clone();
    if p.dari.is_empty() {
        // The public default: the last twelve months.
        p.dari = (today - chrono::Duration::days(364)).to_string();
    }
    let filters = Filters::parse(&p, today, &categories)?;
    let mut d = dashboard::load(
        st,
        &tree,
        Scope::National,
        filters,
        Trend::Monthly,
        Utc::now(),
        dashboard::Detail::Full,
    )
    .await?;
    d.admins.clear(); // never public
    dashboard::sort_rows(&mut d.rows, dashboard::SortKey::Name, false);
    Ok(d)
}

#[derive(Template)]
#[template(path = "statistics.html")]
struct Page<'a> {
    c: &'a Ctx,
    from: String,
    to: String,
    headline: Vec<(String, String, String)>,
    months: Vec<(String, String, String, String)>,
    categories: Vec<(String, String)>,
    channels: Vec<(String, String)>,
    rows: Vec<(String, Vec<String>)>,
    qs: String,
}

pub async fn page(State(st): State<AppState>, c: Ctx, q: QueryResult) -> Response {
    let Ok(Query(p)) = q else {
        return error_page(&c, &Error::new(ErrorCode::InvalidQuery));
    };
    let d = match load(&st, &p).await {
        Ok(d) => d,
        Err(e) => return error_page(&c, &e),
    };
    let en = c.lang == Lang::En;
    let h = &d.headline;
    let rate = |r: Rate| {
        (
            shown_rate(r, en),
            format!("{} / {}", count(r.num, en), count(r.den, en)),
        )
    };
    let mut headline = vec![
        (
            c.tr("Laporan masuk", "Reports submitted").to_string(),
            count(h.submitted, en),
            String::new(),
        ),
        (
            c.tr("Diterima instansi", "Received by institutions").into(),
            count(h.received, en),
            String::new(),
        ),
    ];
    for (label, r) in [
        (
            c.tr("Terverifikasi ≤ 3 hari kerja", "Verified ≤ 3 working days"),
            h.verified,
        ),
        (c.tr("Ditindaklanjuti", "Followed up"), h.followed_up),
        (c.tr("Tindak lanjut tepat waktu", "Followed up on time"), h.on_time),
        (c.tr("Selesai", "Completed"), h.completed),
    ] {
        let (v, detail) = rate(r);
        headline.push((label.into(), v, detail));
    }
    headline.push((
        c.tr(
            "Median respons pertama (hari kerja)",
            "Median first response (working days)",
        )
        .into(),
        h.first_response
            .median()
            .map_or("–".into(), lapor_domain::indicators::days_label),
        String::new(),
    ));
    headline.push((
        c.tr("Kepuasan pelapor (1–5)", "Reporters' satisfaction (1–5)").into(),
        h.satisfaction().map_or("–".into(), |m| {
            let s = format!("{m:.2}");
            if en { s } else { s.replace('.', ",") }
        }),
        format!("{} {}", count(h.rated(), en), c.tr("penilaian", "ratings")),
    ));
    let months = d
        .trend
        .iter()
        .map(|pt| {
            (
                pt.label.clone(),
                shown(pt.counters.submitted, en),
                shown(pt.counters.followed_up, en),
                shown(pt.counters.completed, en),
            )
        })
        .collect();
    let names: std::collections::HashMap<String, String> = match st.store.categories().await {
        Ok(v) => v
            .into_iter()
            .map(|k| (k.code, if en { k.name_en } else { k.name_id }))
            .collect(),
        Err(e) => return error_page(&c, &e),
    };
    let label = |k: &str| {
        if k.is_empty() {
            c.tr("(tanpa kategori)", "(no category)").to_string()
        } else {
            names.get(k).cloned().unwrap_or_else(|| k.to_string())
        }
    };
    let page = Page {
        c: &c,
        from: d.filters.from.to_string(),
        to: d.filters.to.to_string(),
        headline,
        months,
        categories: d
            .by_category
            .iter()
            .map(|(k, v)| (label(k), shown(v.submitted, en)))
            .collect(),
        channels: d
            .by_channel
            .iter()
            .map(|(k, v)| (k.clone(), shown(v.submitted, en)))
            .collect(),
        rows: d
            .rows
            .iter()
            .map(|r| {
                let f = &r.figures;
                (
                    r.name.clone(),
                    vec![
                        shown(f.received, en),
                        shown_rate(f.followed_up, en),
                        shown_rate(f.on_time, en),
                        shown_rate(f.completed, en),
                        if f.first_response.count() < SMALL_SAMPLE {
                            "–".into()
                        } else {
                            f.first_response
                                .median()
                                .map_or("–".into(), lapor_domain::indicators::days_label)
                        },
                    ],
                )
            })
            .collect(),
        qs: format!("dari={}&sampai={}", d.filters.from, d.filters.to),
    };
    render(&c, StatusCode::OK, &page)
}

fn totals(c: &Counters) -> Value {
    json!({
        "submitted": json_count(c.submitted),
        "followed_up": json_count(c.followed_up),
        "completed": json_count(c.completed),
    })
}

fn institution_json(f: &Figures) -> Value {
    json!({
        "received": json_count(f.received),
        "followed_up": json_rate(f.followed_up),
        "followed_up_on_time": json_rate(f.on_time),
        "completed": json_rate(f.completed),
        "median_first_response_working_days":
            if f.first_response.count() < SMALL_SAMPLE { Value::Null } else { json!(f.first_response.median()) },
    })
}

fn download(ct: &str, name: String, body: impl Into<axum::body::Body>) -> Response {
    (
        [
            (header::CONTENT_TYPE, ct.to_string()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}\"")),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*".to_string()),
            (header::CACHE_CONTROL, "public, max-age=60".to_string()),
        ],
        body.into(),
    )
        .into_response()
}

/// Open data as JSON: everything the page shows, numbers unformatted.
pub async fn json(State(st): State<AppState>, c: Ctx, q: QueryResult) -> Response {
    let result = async {
        let Ok(Query(p)) = q else {
            return Err(Error::new(ErrorCode::InvalidQuery));
        };
        load(&st, &p).await
    }
    .await;
    let d = match result {
        Ok(d) => d,
        Err(e) => return crate::error::error_response(&e, c.lang),
    };
    let h = &d.headline;
    let body = json!({
        "period": { "from": d.filters.from, "to": d.filters.to, "time_zone": "Asia/Jakarta" },
        "as_of": d.as_of,
        "definitions": "docs/indicators.md in the Lapor source",
        "suppression": "counts from 1 to 4 are \"<5\"; rates over fewer than 5 reports are null",
        "national": {
            "submitted": h.submitted,
            "received": h.received,
            "verified_within_3_working_days": json_rate(h.verified),
            "followed_up": json_rate(h.followed_up),
            "followed_up_on_time": json_rate(h.on_time),
            "completed": json_rate(h.completed),
            "median_first_response_working_days": h.first_response.median(),
            "satisfaction_mean": h.satisfaction().map(|m| (m * 100.0).round() / 100.0),
            "ratings": h.ratings.iter().map(|n| json_count(*n)).collect::<Vec<_>>(),
        },
        "by_month": d.trend.iter().map(|p| json!({ "month": p.label, "totals": totals(&p.counters) })).collect::<Vec<_>>(),
        "by_category": d.by_category.iter().map(|(k, v)| json!({ "category": k, "submitted": json_count(v.submitted) })).collect::<Vec<_>>(),
        "by_channel": d.by_channel.iter().map(|(k, v)| json!({ "channel": k, "submitted": json_count(v.submitted) })).collect::<Vec<_>>(),
        "institutions": d.rows.iter().map(|r| {
            let mut v = institution_json(&r.figures);
            v["code"] = json!(r.code);
            v["name"] = json!(r.name);
            v["kind"] = json!(r.kind.as_str());
            v["includes_below"] = json!(r.with_below);
            v
        }).collect::<Vec<_>>(),
    });
    let name = format!("lapor-statistik-{}-{}.json", d.filters.from, d.filters.to);
    download("application/json", name, body.to_string())
}

/// Open data as CSV: one row per institution under the national operator.
pub async fn csv(State(st): State<AppState>, c: Ctx, q: QueryResult) -> Response {
    file(&st, &c, q, "csv").await
}

/// The same table as a workbook.
pub async fn xlsx(State(st): State<AppState>, c: Ctx, q: QueryResult) -> Response {
    file(&st, &c, q, "xlsx").await
}

async fn file(st: &AppState, c: &Ctx, q: QueryResult, format: &str) -> Response {
    let result = async {
        let Ok(Query(p)) = q else {
            return Err(Error::new(ErrorCode::InvalidQuery));
        };
        let d = load(st, &p).await?;
        let pct = |r: Rate| {
            if r.den < SMALL_SAMPLE {
                String::new()
            } else {
                r.percent().map(|p| format!("{p:.1}")).unwrap_or_default()
            }
        };
        let rows = d
            .rows
            .iter()
            .map(|r| {
                let f = &r.figures;
                let received = if f.received > 0 && f.received < SMALL_SAMPLE {
                    "<5".to_string()
                } else {
                    f.received.to_string()
                };
                let median = if f.first_response.count() < SMALL_SAMPLE {
                    String::new()
                } else {
                    f.first_response.median().map(|m| m.to_string()).unwrap_or_default()
                };
                vec![
                    r.code.clone(),
                    r.name.clone(),
                    r.kind.as_str().to_string(),
                    r.with_below.to_string(),
                    received,
                    pct(f.followed_up),
                    pct(f.on_time),
                    pct(f.completed),
                    median,
                ]
            })
            .collect();
        let table = crate::web::staff::dashboard::Table {
            name: format!("lapor-statistik-{}-{}", d.filters.from, d.filters.to),
            sheet: "statistik",
            head: [
                "code",
                "name",
                "kind",
                "includes_below",
                "received",
                "followed_up_percent",
                "followed_up_on_time_percent",
                "completed_percent",
                "median_first_response_working_days",
            ]
            .map(String::from)
            .to_vec(),
            rows,
            text_columns: 4,
        };
        table.file(format)
    }
    .await;
    match result {
        Ok((name, kind, body)) => download(kind, name, body),
        Err(e) => crate::error::error_response(&e, c.lang),
    }
}
