//! Where should a report go? Suggestions for the verifier's institution
//! picker from three sources: the report's location (point → regency → its
//! government), the admins' routing rules, and a text classifier trained on
//! the store's own history of reports that stayed where they were sent.

use crate::AppState;
use lapor_domain::Error;
use lapor_domain::report::Report;
use lapor_domain::routing::{Classifier, Evaluation, Example, RoutingRule, apply_rules, evaluate};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Reports the classifier learns from (the most recent).
const HISTORY: i64 = 50_000;
/// Retrain at most this often; history changes slowly.
const RETRAIN_EVERY: Duration = Duration::from_secs(15 * 60);
/// Share of history held out to measure accuracy.
const TEST_PERCENT: u8 = 20;

pub struct Trained {
    pub classifier: Classifier,
    pub evaluation: Option<Evaluation>,
    pub examples: usize,
    pub at: Instant,
}

#[derive(Default)]
pub struct RoutingCache {
    trained: RwLock<Option<Arc<Trained>>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Location,
    Rule(i64),
    History(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub code: String,
    pub name: String,
    pub source: Source,
}

impl RoutingCache {
    /// The classifier, trained now if it never was or is stale.
    pub async fn trained(&self, st: &AppState) -> Result<Arc<Trained>, Error> {
        if let Ok(g) = self.trained.read()
            && let Some(t) = g.as_ref()
            && t.at.elapsed() < RETRAIN_EVERY
        {
            return Ok(t.clone());
        }
        self.retrain(st).await
    }

    pub async fn retrain(&self, st: &AppState) -> Result<Arc<Trained>, Error> {
        let rows = st.store.training_rows(HISTORY).await?;
        let examples: Vec<Example> = rows
            .into_iter()
            .map(|r| Example {
                id: r.tracking_id,
                text: format!("{} {}", r.title, r.body),
                label: r.institution,
            })
            .collect();
        // Training is CPU work: keep it off the async workers.
        let t = tokio::task::spawn_blocking(move || Trained {
            classifier: Classifier::train(&examples),
            evaluation: evaluate(&examples, TEST_PERCENT),
            examples: examples.len(),
            at: Instant::now(),
        })
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
        let t = Arc::new(t);
        if let Ok(mut g) = self.trained.write() {
            *g = Some(t.clone());
        }
        Ok(t)
    }
}

/// The rules as the domain knows them.
pub async fn rules(st: &AppState) -> Result<Vec<RoutingRule>, Error> {
    Ok(st
        .store
        .routing_rules()
        .await?
        .into_iter()
        .map(|r| RoutingRule {
            id: r.id,
            category: r.category,
            region_level: r.region_level.and_then(|l| u8::try_from(l).ok()),
            institution: r.institution,
        })
        .collect())
}

/// Suggestions for one report, best first, each institution once, only
/// institutions that exist and can take reports.
pub async fn for_report(st: &AppState, r: &Report) -> Result<Vec<Suggestion>, Error> {
    let mut out: Vec<Suggestion> = Vec::new();
    let mut push = |code: String, name: String, source: Source| {
        if !out.iter().any(|s| s.code == code) {
            out.push(Suggestion { code, name, source });
        }
    };
    // The point, when there is one, says more than a typed region.
    let region = match (r.latitude, r.longitude, crate::web::report_form_geo()) {
        (Some(lat), Some(lon), Some(geo)) => geo
            .locate(lon, lat)
            .map(|place| place.code.clone())
            .or_else(|| r.region_code.clone()),
        _ => r.region_code.clone(),
    };
    if let Some(region) = &region
        && let Some(o) = crate::web::suggest_institution(st, region).await?
    {
        push(o.code, o.name, Source::Location);
    }
    for m in apply_rules(&rules(st).await?, r.category.as_deref(), r.region_code.as_deref()) {
        if let Some(i) = st.store.institution(&m.institution).await? {
            push(i.code, i.name, Source::Rule(m.rule_id));
        }
    }
    let trained = st.routing.trained(st).await?;
    for p in trained.classifier.predict(&format!("{} {}", r.title, r.body), 3) {
        if p.probability < 0.05 {
            continue;
        }
        if let Some(i) = st.store.institution(&p.label).await? {
            push(i.code, i.name, Source::History(p.probability));
        }
    }
    Ok(out)
}
