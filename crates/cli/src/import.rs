//! Loading reference data: the four levels of Kemendagri regions, and
//! institutions from CSV. Files are checked whole before anything is written,
//! so a bad file changes nothing.

use indicatif::{ProgressBar, ProgressStyle};
use lapor_domain::calendar::Zone;
use lapor_domain::institution::{Institution, InstitutionKind, regional_government_code};
use lapor_store::reference_csv;
use lapor_store::{RegionQuery, Store};
use std::collections::{HashMap, HashSet};
use std::path::Path;

fn bar(len: u64, msg: &str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>14} [{bar:40.cyan/blue}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(msg.to_string());
    pb
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The rows of a CSV file; errors name the file.
pub(crate) fn read_csv(path: &Path) -> Result<Vec<(usize, csv::StringRecord)>, String> {
    reference_csv::rows(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))
}

/// Loads provinces, regencies/cities, districts and villages (with postal
/// codes) from `dir`, showing progress. Returns the counts per level.
pub async fn import_regions(store: &dyn Store, dir: &Path, progress: bool) -> Result<[i64; 4], String> {
    let postal_path = dir.join("postal-codes.csv");
    let postal = if postal_path.exists() {
        reference_csv::parse_postal_codes(&read(&postal_path)?)
            .map_err(|e| format!("{}: {e}", postal_path.display()))?
    } else {
        HashMap::new()
    };
    let files = [
        (1, "provinces.csv"),
        (2, "regencies.csv"),
        (3, "districts.csv"),
        (4, "villages.csv"),
    ];
    let mut levels = Vec::new();
    let mut known: HashSet<String> = HashSet::new();
    for (level, file) in files {
        let path = dir.join(file);
        let rows = reference_csv::parse_regions(&read(&path)?, level, &postal).map_err(|errs| {
            let n = errs.len();
            let mut shown: Vec<String> = errs
                .into_iter()
                .take(20)
                .map(|e| format!("{}: {e}", path.display()))
                .collect();
            if n > 20 {
                shown.push(format!("… and {} more", n - 20));
            }
            shown.join("\n")
        })?;
        // Parents must exist in the level above (checked before writing).
        if let Some(orphan) = rows
            .iter()
            .find(|r| r.parent_code.as_ref().is_some_and(|p| !known.contains(p)))
        {
            return Err(format!(
                "{file}: {} has unknown parent {:?}",
                orphan.code, orphan.parent_code
            ));
        }
        known.extend(rows.iter().map(|r| r.code.clone()));
        levels.push((file, rows));
    }
    for (file, rows) in &levels {
        let pb = bar(rows.len() as u64, file.trim_end_matches(".csv"), progress);
        for chunk in rows.chunks(5000) {
            store.upsert_regions(chunk).await.map_err(|e| e.to_string())?;
            pb.inc(chunk.len() as u64);
        }
        pb.finish();
    }
    store.region_counts().await.map_err(|e| e.to_string())
}

/// Checks a whole institutions file against itself and what the store
/// already holds; returns every problem with its line number.
pub async fn check_institutions(
    store: &dyn Store,
    rows: &[(usize, csv::StringRecord)],
) -> Result<Vec<Institution>, Vec<String>> {
    let mut errors = Vec::new();
    let mut out: Vec<Institution> = Vec::new();
    let mut kinds: HashMap<String, InstitutionKind> = HashMap::new();
    for (line, rec) in rows {
        let inst = match reference_csv::parse_institution(rec) {
            Ok(i) => i,
            Err(e) => {
                errors.push(format!("line {line}: {e}"));
                continue;
            }
        };
        if kinds.contains_key(&inst.code) {
            errors.push(format!("line {line}: duplicate code {}", inst.code));
            continue;
        }
        if let Some(p) = &inst.parent {
            let parent_kind = match kinds.get(p) {
                Some(k) => Some(*k),
                None => store
                    .institution(p)
                    .await
                    .map_err(|e| vec![e.to_string()])?
                    .map(|i| i.kind),
            };
            match parent_kind {
                None => errors.push(format!(
                    "line {line}: parent {p:?} is neither earlier in the file nor in the database"
                )),
                Some(pk) if !pk.may_parent(inst.kind) => errors.push(format!(
                    "line {line}: a {} cannot be placed under a {}",
                    inst.kind.as_str(),
                    pk.as_str()
                )),
                _ => {}
            }
        }
        if let Some(r) = &inst.region_code
            && store.region(r).await.map_err(|e| vec![e.to_string()])?.is_none()
        {
            errors.push(format!("line {line}: unknown region code {r}"));
        }
        kinds.insert(inst.code.clone(), inst.kind);
        out.push(inst);
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// `lapor import institutions FILE.csv`.
pub async fn import_institutions(store: &dyn Store, path: &Path) -> Result<u64, String> {
    let rows = read_csv(path)?;
    let insts = check_institutions(store, &rows).await.map_err(|e| e.join("\n"))?;
    store.upsert_institutions(&insts).await.map_err(|e| e.to_string())
}

/// One regional government per province and per regency/city, generated from
/// the region codes already loaded. Needs the national operator `lapor`.
pub async fn regional_governments(store: &dyn Store) -> Result<Vec<Institution>, String> {
    let q = |level| RegionQuery {
        level: Some(level),
        limit: 1000,
        ..Default::default()
    };
    let provinces = store.regions(&q(1)).await.map_err(|e| e.to_string())?;
    let regencies = store.regions(&q(2)).await.map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(provinces.len() + regencies.len());
    for p in &provinces {
        out.push(Institution {
            code: regional_government_code(&p.code, InstitutionKind::Province),
            name: format!("Pemerintah Provinsi {}", p.name),
            kind: InstitutionKind::Province,
            parent: Some("lapor".into()),
            region_code: Some(p.code.clone()),
            zone: Zone::for_province(&p.code),
        });
    }
    for r in &regencies {
        let kind = if r.name.starts_with("Kota ") {
            InstitutionKind::City
        } else {
            InstitutionKind::Regency
        };
        let province = r.parent_code.clone().unwrap_or_default();
        out.push(Institution {
            code: regional_government_code(&r.code, kind),
            name: format!("Pemerintah {}", r.name),
            kind,
            parent: Some(regional_government_code(&province, InstitutionKind::Province)),
            region_code: Some(r.code.clone()),
            zone: Zone::for_province(&r.code),
        });
    }
    Ok(out)
}
