//! Loading reference data: the four levels of Kemendagri regions, and
//! institutions from CSV. Files are checked whole before anything is written,
//! so a bad file changes nothing.

use indicatif::{ProgressBar, ProgressStyle};
use lapor_domain::calendar::Zone;
use lapor_domain::institution::{Institution, InstitutionKind, regional_government_code, valid_code};
use lapor_store::{Region, RegionQuery, Store};
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

fn read_csv(path: &Path) -> Result<Vec<(usize, csv::StringRecord)>, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_path(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| format!("{}: line {}: {e}", path.display(), i + 2))?;
        out.push((i + 2, rec));
    }
    Ok(out)
}

/// Parses one region level file (`code,parent_code,name`, or `code,name`
/// for provinces). All errors are collected with their line numbers.
fn parse_level(path: &Path, level: i64, postal: &HashMap<String, String>) -> Result<Vec<Region>, Vec<String>> {
    let rows = read_csv(path).map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    let mut seen = HashSet::new();
    for (line, rec) in rows {
        let (code, parent, name) = match (level, rec.len()) {
            (1, 2) => (rec[0].trim(), None, rec[1].trim()),
            (_, 3) if level > 1 => (rec[0].trim(), Some(rec[1].trim()), rec[2].trim()),
            _ => {
                errors.push(format!(
                    "{}:{line}: expected {} columns",
                    path.display(),
                    if level == 1 { 2 } else { 3 }
                ));
                continue;
            }
        };
        if Region::level_of(code) != Some(level) {
            errors.push(format!(
                "{}:{line}: {code:?} is not a level-{level} region code",
                path.display()
            ));
            continue;
        }
        if parent.is_some() && parent.map(str::to_string) != Region::parent_of(code) {
            errors.push(format!(
                "{}:{line}: parent {:?} does not match code {code}",
                path.display(),
                parent.unwrap_or_default()
            ));
            continue;
        }
        if name.is_empty() {
            errors.push(format!("{}:{line}: empty name", path.display()));
            continue;
        }
        if !seen.insert(code.to_string()) {
            errors.push(format!("{}:{line}: duplicate code {code}", path.display()));
            continue;
        }
        out.push(Region {
            code: code.to_string(),
            level,
            parent_code: parent.map(str::to_string),
            name: name.to_string(),
            postal_code: postal.get(code).cloned(),
        });
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// Loads provinces, regencies/cities, districts and villages (with postal
/// codes) from `dir`, showing progress. Returns the counts per level.
pub async fn import_regions(store: &dyn Store, dir: &Path, progress: bool) -> Result<[i64; 4], String> {
    let mut postal = HashMap::new();
    let postal_path = dir.join("postal-codes.csv");
    if postal_path.exists() {
        for (line, rec) in read_csv(&postal_path)? {
            if rec.len() != 2 || !rec[1].trim().bytes().all(|b| b.is_ascii_digit()) || rec[1].trim().len() != 5 {
                return Err(format!("{}:{line}: expected kode_desa,kodepos", postal_path.display()));
            }
            postal.insert(rec[0].trim().to_string(), rec[1].trim().to_string());
        }
    }
    let files = [
        (1, "provinces.csv"),
        (2, "regencies.csv"),
        (3, "districts.csv"),
        (4, "villages.csv"),
    ];
    let mut levels = Vec::new();
    let mut known: HashSet<String> = HashSet::new();
    for (level, file) in files {
        let rows = parse_level(&dir.join(file), level, &postal).map_err(|errs| {
            let n = errs.len();
            let mut shown: Vec<String> = errs.into_iter().take(20).collect();
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

/// One row of an institutions CSV, checked.
fn parse_institution_row(rec: &csv::StringRecord) -> Result<Institution, String> {
    if rec.len() != 6 {
        return Err("expected 6 columns: code,name,kind,parent_code,region_code,timezone".into());
    }
    let code = rec[0].trim();
    if !valid_code(code) {
        return Err(format!("code {code:?}: use lowercase letters, digits, '-' and '.'"));
    }
    let name = rec[1].trim();
    if name.is_empty() || name.chars().count() > 300 {
        return Err("name: 1-300 characters".into());
    }
    let kind = InstitutionKind::parse(rec[2].trim()).ok_or_else(|| format!("kind {:?} is not known", &rec[2]))?;
    let parent = Some(rec[3].trim()).filter(|p| !p.is_empty()).map(str::to_string);
    let region_code = Some(rec[4].trim()).filter(|p| !p.is_empty()).map(str::to_string);
    let zone = match rec[5].trim() {
        "" => region_code.as_deref().map(Zone::for_province).unwrap_or(Zone::Wib),
        z => Zone::parse(z).ok_or_else(|| format!("timezone {z:?}: WIB, WITA or WIT"))?,
    };
    if kind == InstitutionKind::NationalOperator && parent.is_some() {
        return Err("the national operator has no parent".into());
    }
    if kind != InstitutionKind::NationalOperator && parent.is_none() {
        return Err("parent_code is required".into());
    }
    Ok(Institution {
        code: code.to_string(),
        name: name.to_string(),
        kind,
        parent,
        region_code,
        zone,
    })
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
        let inst = match parse_institution_row(rec) {
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
