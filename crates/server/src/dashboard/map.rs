//! The dashboards' choropleth maps: which regions a view maps, the figures
//! of each, and the SVG, coloured by any ranking indicator.
//!
//! A province is mapped with its whole subtree (its regencies included), as
//! the Ombudsman ranks provinces; a regency or city with its own
//! institution and units, as Kemendagri rates each regional government.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::LazyLock;

use lapor_domain::geo::GeoIndex;
use lapor_domain::institution::InstitutionKind;
use lapor_domain::map::{Atlas, class_of, quantile_breaks};
use lapor_domain::{Error, ErrorCode};

use super::chart::esc;
use super::figures::Figures;
use super::tree::Tree;
use super::{Scope, SortKey};

/// Drawing width in SVG units (the page scales it).
const WIDTH: f64 = 1000.0;
const CLASSES: usize = 5;

static PROVINCES: LazyLock<Option<Atlas>> =
    LazyLock::new(
        || match GeoIndex::from_geojson(include_str!("../../../../data/geo/provinsi.geojson")) {
            Ok(g) => Some(Atlas::new(&g)),
            Err(e) => {
                tracing::error!(error = %e, "province boundaries failed to load");
                None
            }
        },
    );

static REGENCIES: LazyLock<Option<Atlas>> = LazyLock::new(|| crate::web::report_form::geo().map(Atlas::new));

/// Which regions a map shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Provinces,
    Regencies,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Provinces => "provinsi",
            Level::Regencies => "kabkota",
        }
    }

    fn atlas(self) -> Option<&'static Atlas> {
        match self {
            Level::Provinces => PROVINCES.as_ref(),
            Level::Regencies => REGENCIES.as_ref(),
        }
    }
}

/// The levels a view can map (its default first) and, for a province's
/// view, the province's region code the map zooms to.
pub fn levels(scope: &Scope, tree: &Tree) -> (Vec<Level>, Option<String>) {
    match scope {
        Scope::National | Scope::Oversight => (vec![Level::Provinces, Level::Regencies], None),
        Scope::RegionalGovernments => (vec![Level::Regencies, Level::Provinces], None),
        Scope::Institution(c) | Scope::Subtree(c) => match tree.get(c) {
            Some(i) if i.kind == InstitutionKind::Province => (vec![Level::Regencies], i.region_code.clone()),
            _ => (Vec::new(), None),
        },
    }
}

/// Picks the level asked for (`peta`), or the view's default.
pub fn choose(asked: &str, levels: &[Level]) -> Result<Option<Level>, Error> {
    match asked.trim() {
        "" => Ok(levels.first().copied()),
        v => levels
            .iter()
            .copied()
            .find(|l| l.as_str() == v)
            .map(Some)
            .ok_or_else(|| {
                Error::with(
                    ErrorCode::InvalidQuery,
                    "peta: tingkat peta tidak tersedia untuk tampilan ini / map: level not available for this view",
                )
            }),
    }
}

/// Every region a map of `level` draws (within `zoom`, a province's
/// region code), whether an institution answers for it or not.
pub fn regions(level: Level, zoom: Option<&str>) -> Vec<&'static str> {
    level
        .atlas()
        .map(|a| {
            a.codes()
                .filter(|c| zoom.is_none_or(|z| c.split('.').next() == Some(z)))
                .collect()
        })
        .unwrap_or_default()
}

/// One region on a map, with the institution whose figures colour it.
#[derive(Debug, Clone)]
pub struct Area {
    pub region: String,
    pub institution: String,
    pub name: String,
    /// The figures cover the institution's subtree (provinces).
    pub with_below: bool,
    pub figures: Figures,
}

/// The regions of a level (within `zoom`, a province's region code) and
/// their figures; `figures` sums a set of institutions.
pub fn areas(level: Level, zoom: Option<&str>, tree: &Tree, figures: impl Fn(&[String]) -> Figures) -> Vec<Area> {
    let kinds: &[InstitutionKind] = match level {
        Level::Provinces => &[InstitutionKind::Province],
        Level::Regencies => &[InstitutionKind::Regency, InstitutionKind::City],
    };
    let inside = |region: &str| zoom.is_none_or(|z| region.split('.').next() == Some(z));
    tree.of_kinds(kinds)
        .into_iter()
        .filter_map(|code| {
            let inst = tree.get(&code)?;
            let region = inst.region_code.clone()?;
            if !inside(&region) {
                return None;
            }
            let (members, with_below) = match level {
                Level::Provinces => (tree.subtree(&code), true),
                Level::Regencies => (tree.own(&code), false),
            };
            Some(Area {
                region,
                name: inst.name.clone(),
                institution: code,
                with_below,
                figures: figures(&members),
            })
        })
        .collect()
}

/// Whether more of an indicator is better (None: neither, as for volume).
pub fn higher_is_better(key: SortKey) -> Option<bool> {
    match key {
        SortKey::FollowedUp | SortKey::OnTime | SortKey::Completed | SortKey::Satisfaction => Some(true),
        SortKey::Median | SortKey::Reopen | SortKey::Transfer | SortKey::Ombudsman | SortKey::Overdue => Some(false),
        SortKey::Name | SortKey::Received | SortKey::Activity => None,
    }
}

/// Sequential blues for volumes; brown (worse) to teal (better) otherwise.
/// Both read in grey scale and for the common colour-vision deficiencies.
const BLUES: [&str; CLASSES] = ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"];
const WORSE_TO_BETTER: [&str; CLASSES] = ["#8c510a", "#d8b365", "#f6e8c3", "#5ab4ac", "#01665e"];
pub const NO_DATA: &str = "#d4d4d4";

/// A legend entry: colour and the range it stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct Legend {
    pub color: &'static str,
    pub from: f64,
    pub to: f64,
}

/// Colours each value: quantile classes, ordered so the darkest teal is
/// the best when better is known.
pub fn colours(values: &[Option<f64>], better: Option<bool>) -> (Vec<&'static str>, Vec<Legend>) {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let breaks = quantile_breaks(&present, CLASSES);
    // Spread fewer classes over the whole ramp.
    let ramp = |class: usize| -> &'static str {
        let n = breaks.len().max(1);
        let at = if n == 1 {
            CLASSES - 1
        } else {
            class * (CLASSES - 1) / (n - 1)
        };
        match better {
            None => BLUES[at],
            Some(true) => WORSE_TO_BETTER[at],
            Some(false) => WORSE_TO_BETTER[CLASSES - 1 - at],
        }
    };
    let fills = values
        .iter()
        .map(|v| v.map_or(NO_DATA, |v| ramp(class_of(v, &breaks))))
        .collect();
    // Each class from its smallest value, so ranges never overlap.
    let legend = breaks
        .iter()
        .enumerate()
        .map(|(i, &to)| Legend {
            color: ramp(i),
            from: present
                .iter()
                .copied()
                .filter(|&v| i == 0 || v > breaks[i - 1])
                .fold(f64::INFINITY, f64::min)
                .min(to),
            to,
        })
        .collect();
    (fills, legend)
}

/// The map's SVG: one path per region with its name and value as a
/// tooltip. `labels` holds the shown value per region code. None when the
/// boundaries are not available or no region is mapped.
pub fn svg(
    id: &str,
    level: Level,
    title: &str,
    desc: &str,
    fills: &HashMap<&str, (&'static str, String)>,
) -> Option<String> {
    let drawing = level.atlas()?.draw(|code| fills.contains_key(code), WIDTH)?;
    let mut out = String::with_capacity(drawing.shapes.iter().map(|s| s.d.len() + 120).sum());
    let _ = write!(
        out,
        r##"<svg class="map" id="{id}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc><g stroke="#ffffff" stroke-width="0.6" stroke-linejoin="round" fill-rule="evenodd">"##,
        esc(title),
        esc(desc),
        w = drawing.width,
        h = drawing.height,
    );
    for shape in &drawing.shapes {
        let (fill, label) = &fills[shape.code.as_str()];
        let _ = write!(
            out,
            r#"<path d="{}" fill="{fill}" data-kode="{}"><title>{}: {}</title></path>"#,
            shape.d,
            esc(&shape.code),
            esc(&shape.name),
            esc(label)
        );
    }
    out.push_str("</g></svg>");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_follow_the_indicator_direction() {
        let v = [Some(10.0), Some(90.0), None, Some(50.0)];
        let (better, legend) = colours(&v, Some(true));
        assert_eq!(better[0], WORSE_TO_BETTER[0]);
        assert_eq!(better[1], WORSE_TO_BETTER[4]);
        assert_eq!(better[2], NO_DATA);
        assert_eq!(legend.len(), 3);
        assert_eq!((legend[0].from, legend[2].to), (10.0, 90.0));
        // Ranges start at their smallest member: 10, 50, 90.
        assert_eq!((legend[1].from, legend[1].to), (50.0, 50.0));
        assert_eq!(legend[2].from, 90.0);
        let (worse, _) = colours(&v, Some(false));
        assert_eq!(worse[1], WORSE_TO_BETTER[0], "a high overdue count is the bad end");
        let (volume, _) = colours(&v, None);
        assert_eq!(volume[1], BLUES[4]);
        // One distinct value: the darkest colour, one legend entry.
        let (same, legend) = colours(&[Some(3.0), Some(3.0)], None);
        assert_eq!(same, vec![BLUES[4], BLUES[4]]);
        assert_eq!(legend.len(), 1);
    }

    #[test]
    fn the_real_maps_draw() {
        let fills: HashMap<&str, (&'static str, String)> = PROVINCES
            .as_ref()
            .expect("provinces")
            .codes()
            .map(|c| (c, (BLUES[2], "1".to_string())))
            .collect();
        let s = svg("peta", Level::Provinces, "t", "d", &fills).expect("svg");
        assert_eq!(s.matches("<path ").count(), 38);
        assert!(s.contains(r#"data-kode="32""#));
        let one: HashMap<&str, (&'static str, String)> = [("32.73", (BLUES[0], "5".to_string()))].into();
        let s = svg("peta", Level::Regencies, "t", "d", &one).expect("svg");
        assert!(s.contains("Kota Bandung: 5"), "{}", &s[..300]);
    }
}
