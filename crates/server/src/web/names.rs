//! Display names of regions, institutions and categories, and the option
//! lists built from them. They change rarely (imports), so they are cached
//! in memory for a short while instead of joined into every query.

use crate::AppState;
use lapor_domain::Error;
use lapor_domain::institution::InstitutionKind;
use lapor_store::{InstitutionQuery, RegionQuery};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(60);

/// A code and its display name, for `<select>` options.
#[derive(Debug, Clone, PartialEq)]
pub struct Opt {
    pub code: String,
    pub name: String,
}

#[derive(Default)]
pub struct NameCache {
    names: Mutex<HashMap<String, (String, Instant)>>,
    lists: Mutex<HashMap<&'static str, (Vec<Opt>, Instant)>>,
    stats: Mutex<Option<(lapor_store::PublicStats, Instant)>>,
}

impl NameCache {
    fn cached(&self, key: &str) -> Option<String> {
        let map = self.names.lock().ok()?;
        map.get(key)
            .filter(|(_, at)| at.elapsed() < TTL)
            .map(|(n, _)| n.clone())
    }

    /// Drops cached institution lists, after the tree changed.
    pub fn forget_institutions(&self) {
        if let Ok(mut l) = self.lists.lock() {
            l.remove("institutions");
        }
    }

    fn remember(&self, key: String, name: &str) {
        if let Ok(mut map) = self.names.lock() {
            if map.len() > 50_000 {
                map.clear();
            }
            map.insert(key, (name.to_string(), Instant::now()));
        }
    }

    /// The home page's headline numbers: a count over every public report,
    /// so it is refreshed at most once a minute rather than on every visit.
    pub async fn public_stats(&self, state: &AppState) -> Result<lapor_store::PublicStats, Error> {
        if let Ok(s) = self.stats.lock()
            && let Some((v, at)) = s.as_ref()
            && at.elapsed() < TTL
        {
            return Ok(v.clone());
        }
        let v = state.store.public_stats().await?;
        if let Ok(mut s) = self.stats.lock() {
            *s = Some((v.clone(), Instant::now()));
        }
        Ok(v)
    }

    pub async fn region(&self, state: &AppState, code: &str) -> Result<String, Error> {
        let key = format!("r:{code}");
        if let Some(n) = self.cached(&key) {
            return Ok(n);
        }
        let name = state
            .store
            .region(code)
            .await?
            .map(|r| r.name)
            .unwrap_or_else(|| code.to_string());
        self.remember(key, &name);
        Ok(name)
    }

    pub async fn institution(&self, state: &AppState, code: &str) -> Result<String, Error> {
        let key = format!("i:{code}");
        if let Some(n) = self.cached(&key) {
            return Ok(n);
        }
        let name = state
            .store
            .institution(code)
            .await?
            .map(|i| i.name)
            .unwrap_or_else(|| code.to_string());
        self.remember(key, &name);
        Ok(name)
    }

    async fn list(
        &self,
        key: &'static str,
        load: impl std::future::Future<Output = Result<Vec<Opt>, Error>>,
    ) -> Result<Vec<Opt>, Error> {
        if let Ok(map) = self.lists.lock()
            && let Some((v, at)) = map.get(key)
            && at.elapsed() < TTL
        {
            return Ok(v.clone());
        }
        let v = load.await?;
        if let Ok(mut map) = self.lists.lock() {
            map.insert(key, (v.clone(), Instant::now()));
        }
        Ok(v)
    }

    pub async fn provinces(&self, state: &AppState) -> Result<Vec<Opt>, Error> {
        self.list(
            "provinces",
            region_options(
                state,
                RegionQuery {
                    level: Some(1),
                    limit: 100,
                    ..Default::default()
                },
            ),
        )
        .await
    }

    /// The region's name, or nothing when the report has no region.
    pub async fn place(&self, state: &AppState, code: Option<&str>) -> Result<String, Error> {
        match code {
            Some(code) => self.region(state, code).await,
            None => Ok(String::new()),
        }
    }

    /// The handling institution's name, or `unassigned` when there is none yet.
    pub async fn handler(&self, state: &AppState, code: Option<&str>, unassigned: &str) -> Result<String, Error> {
        match code {
            Some(code) => self.institution(state, code).await,
            None => Ok(unassigned.to_string()),
        }
    }

    /// Institutions a citizen may name as the target of a report: every
    /// handling institution except units (which only their parent routes to).
    pub async fn handling_institutions(&self, state: &AppState) -> Result<Vec<Opt>, Error> {
        self.list("institutions", async {
            let mut out = Vec::new();
            for kind in [
                InstitutionKind::Ministry,
                InstitutionKind::Agency,
                InstitutionKind::StateEnterprise,
                InstitutionKind::Province,
                InstitutionKind::Regency,
                InstitutionKind::City,
            ] {
                let rows = state
                    .store
                    .institutions(&InstitutionQuery {
                        kind: Some(kind),
                        limit: 2000,
                        ..Default::default()
                    })
                    .await?;
                out.extend(rows.into_iter().map(|i| Opt {
                    code: i.code,
                    name: i.name,
                }));
            }
            out.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(out)
        })
        .await
    }

    pub async fn categories(&self, state: &AppState, lang: lapor_domain::Lang) -> Result<Vec<Opt>, Error> {
        let key = match lang {
            lapor_domain::Lang::Id => "categories-id",
            lapor_domain::Lang::En => "categories-en",
        };
        self.list(key, async {
            Ok(state
                .store
                .categories()
                .await?
                .into_iter()
                .map(|c| Opt {
                    code: c.code,
                    name: match lang {
                        lapor_domain::Lang::Id => c.name_id,
                        lapor_domain::Lang::En => c.name_en,
                    },
                })
                .collect())
        })
        .await
    }

    pub async fn category(&self, state: &AppState, code: &str, lang: lapor_domain::Lang) -> Result<String, Error> {
        Ok(self
            .categories(state, lang)
            .await?
            .into_iter()
            .find(|c| c.code == code)
            .map(|c| c.name)
            .unwrap_or_else(|| code.to_string()))
    }
}

/// Regions matching a query, as `<select>` options.
pub async fn region_options(state: &AppState, q: RegionQuery) -> Result<Vec<Opt>, Error> {
    Ok(state
        .store
        .regions(&q)
        .await?
        .into_iter()
        .map(|r| Opt {
            code: r.code,
            name: r.name,
        })
        .collect())
}
