//! Choropleth maps: region outlines drawn as SVG paths, and the classes
//! that colour them.
//!
//! The boundaries are far more detailed than a dashboard map needs (160,000
//! points for the regencies), so they are simplified twice: once when the
//! atlas is built (fine enough for one province filling the map), and again
//! for each drawing, in drawing units, so a national map of 514 regencies
//! stays small while a province's map keeps its coastline.
//!
//! The projection is plain longitude/latitude: Indonesia lies within 11° of
//! the equator, where the scale error is under 2%.

use std::fmt::Write;

use crate::geo::GeoIndex;

/// Tolerance of the one-off simplification, in degrees (about 500 m).
const BUILD_TOLERANCE: f64 = 0.005;
/// Tolerance of a drawing, in drawing units (a map is ~1,000 units wide).
const DRAW_TOLERANCE: f64 = 0.6;
/// Rings smaller than this (drawing units, either side) are left out,
/// unless they are a region's largest: islets would be specks of colour.
const MIN_RING: f64 = 2.0;

/// One region's outline.
#[derive(Debug, Clone)]
pub struct Outline {
    pub code: String,
    pub name: String,
    /// Closed rings, [lon, lat].
    rings: Vec<Vec<[f64; 2]>>,
    /// [min_lon, min_lat, max_lon, max_lat].
    bbox: [f64; 4],
}

/// Simplified outlines of one level (provinces, or regencies and cities).
#[derive(Debug, Clone)]
pub struct Atlas {
    outlines: Vec<Outline>,
}

/// A region drawn: its SVG path data in the drawing's units.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub code: String,
    pub name: String,
    pub d: String,
}

/// Regions drawn to fit `width` × `height`.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawing {
    pub width: f64,
    pub height: f64,
    pub shapes: Vec<Shape>,
}

impl Atlas {
    pub fn new(index: &GeoIndex) -> Atlas {
        let outlines = index
            .outlines()
            .into_iter()
            .map(|(place, rings)| {
                let rings: Vec<Vec<[f64; 2]>> = rings
                    .iter()
                    .map(|r| simplify(r, BUILD_TOLERANCE))
                    .filter(|r| r.len() >= 4)
                    .collect();
                let bbox = rings
                    .iter()
                    .flatten()
                    .fold([f64::MAX, f64::MAX, f64::MIN, f64::MIN], |b, p| {
                        [b[0].min(p[0]), b[1].min(p[1]), b[2].max(p[0]), b[3].max(p[1])]
                    });
                Outline {
                    code: place.code.clone(),
                    name: place.name.clone(),
                    rings,
                    bbox,
                }
            })
            .filter(|o| !o.rings.is_empty())
            .collect();
        Atlas { outlines }
    }

    pub fn len(&self) -> usize {
        self.outlines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.outlines.is_empty()
    }

    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.outlines.iter().map(|o| o.code.as_str())
    }

    /// Draws the regions `keep` accepts, framed to fit them, `width` units
    /// wide. None when it accepts none.
    pub fn draw(&self, keep: impl Fn(&str) -> bool, width: f64) -> Option<Drawing> {
        let chosen: Vec<&Outline> = self.outlines.iter().filter(|o| keep(&o.code)).collect();
        let b = chosen.iter().fold([f64::MAX, f64::MAX, f64::MIN, f64::MIN], |b, o| {
            [
                b[0].min(o.bbox[0]),
                b[1].min(o.bbox[1]),
                b[2].max(o.bbox[2]),
                b[3].max(o.bbox[3]),
            ]
        });
        if chosen.is_empty() {
            return None;
        }
        let span = (b[2] - b[0]).max(1e-6);
        let k = width / span;
        let height = (((b[3] - b[1]) * k).max(1.0) * 10.0).round() / 10.0;
        let project = |p: &[f64; 2]| [(p[0] - b[0]) * k, (b[3] - p[1]) * k];
        let shapes = chosen
            .into_iter()
            .map(|o| {
                let projected: Vec<Vec<[f64; 2]>> = o.rings.iter().map(|r| r.iter().map(project).collect()).collect();
                let largest = projected
                    .iter()
                    .enumerate()
                    .max_by(|a, b| extent(a.1).total_cmp(&extent(b.1)))
                    .map_or(0, |(i, _)| i);
                let mut d = String::new();
                for (i, ring) in projected.iter().enumerate() {
                    if i != largest && extent(ring) < MIN_RING {
                        continue;
                    }
                    path(&mut d, &simplify(ring, DRAW_TOLERANCE));
                }
                if d.is_empty() {
                    // A city smaller than a unit of the drawing would vanish:
                    // it is shown as a dot where it is instead.
                    dot(&mut d, &projected[largest]);
                }
                Shape {
                    code: o.code.clone(),
                    name: o.name.clone(),
                    d,
                }
            })
            .collect();
        Some(Drawing { width, height, shapes })
    }
}

/// The larger side of a ring's bounding box.
fn extent(ring: &[[f64; 2]]) -> f64 {
    let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
    for p in ring {
        for a in 0..2 {
            lo[a] = lo[a].min(p[a]);
            hi[a] = hi[a].max(p[a]);
        }
    }
    (hi[0] - lo[0]).max(hi[1] - lo[1])
}

/// Appends one closed ring as "M x y L … Z", one decimal, points that round
/// to the previous one skipped.
fn path(d: &mut String, ring: &[[f64; 2]]) {
    let mut last = (i64::MIN, i64::MIN);
    let mut n = 0;
    let start = d.len();
    for p in ring {
        let q = ((p[0] * 10.0).round() as i64, (p[1] * 10.0).round() as i64);
        if q == last {
            continue;
        }
        let cmd = if n == 0 { 'M' } else { 'L' };
        let _ = write!(d, "{cmd}{} {}", tenths(q.0), tenths(q.1));
        last = q;
        n += 1;
    }
    if n < 4 {
        // Fewer than three distinct corners enclose nothing.
        d.truncate(start);
    } else {
        d.push('Z');
    }
}

/// A small diamond at the centre of a ring's bounding box.
fn dot(d: &mut String, ring: &[[f64; 2]]) {
    let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
    for p in ring {
        for a in 0..2 {
            lo[a] = lo[a].min(p[a]);
            hi[a] = hi[a].max(p[a]);
        }
    }
    let (x, y, r) = ((lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0, MIN_RING / 2.0);
    path(d, &[[x, y - r], [x + r, y], [x, y + r], [x - r, y], [x, y - r]]);
}

fn tenths(v: i64) -> String {
    if v % 10 == 0 {
        (v / 10).to_string()
    } else {
        format!("{}{}.{}", if v < 0 { "-" } else { "" }, (v / 10).abs(), (v % 10).abs())
    }
}

/// Douglas–Peucker: keeps the points that stray more than `tol` from the
/// line between the points kept around them. The ends always stay, so a
/// closed ring stays closed.
pub fn simplify(pts: &[[f64; 2]], tol: f64) -> Vec<[f64; 2]> {
    if pts.len() < 3 {
        return pts.to_vec();
    }
    let mut keep = vec![false; pts.len()];
    keep[0] = true;
    keep[pts.len() - 1] = true;
    let mut stack = vec![(0, pts.len() - 1)];
    while let Some((a, b)) = stack.pop() {
        let (mut worst, mut at) = (-1.0, 0);
        for (i, p) in pts.iter().enumerate().take(b).skip(a + 1) {
            let d = distance_to_segment(*p, pts[a], pts[b]);
            if d > worst {
                worst = d;
                at = i;
            }
        }
        if worst > tol {
            keep[at] = true;
            stack.push((a, at));
            stack.push((at, b));
        }
    }
    pts.iter().zip(keep).filter(|(_, k)| *k).map(|(p, _)| *p).collect()
}

fn distance_to_segment(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    };
    ((p[0] - a[0] - t * dx).powi(2) + (p[1] - a[1] - t * dy).powi(2)).sqrt()
}

/// Class breaks for a choropleth: up to `classes` ranges holding about
/// equal numbers of regions (quantiles), so a few outliers do not paint
/// everyone else the same colour. Returns the upper bounds, ascending; the
/// last is the maximum. Fewer classes when there are fewer distinct values.
pub fn quantile_breaks(values: &[f64], classes: usize) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() || classes == 0 {
        return Vec::new();
    }
    v.sort_by(f64::total_cmp);
    let mut breaks: Vec<f64> = (1..=classes)
        .map(|i| v[((i * v.len()).div_ceil(classes)).saturating_sub(1).min(v.len() - 1)])
        .collect();
    breaks.dedup();
    breaks
}

/// The class (0-based) of a value under `breaks`.
pub fn class_of(value: f64, breaks: &[f64]) -> usize {
    breaks
        .iter()
        .position(|b| value <= *b)
        .unwrap_or(breaks.len().saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square_index() -> GeoIndex {
        // Two unit squares side by side, the second with a zero-area
        // retraced inner ring as in the real data, and a far islet.
        let text = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"kode":"A","nama":"Alpha"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},
          {"type":"Feature","properties":{"kode":"B","nama":"Beta"},"geometry":{"type":"MultiPolygon","coordinates":[
            [[[1,0],[2,0],[2,1],[1,1],[1,0]],[[1.5,0.5],[1.6,0.5],[1.5,0.5]]],
            [[[3,3],[3.05,3],[3.05,3.05],[3,3]]]
          ]}}]}"#;
        GeoIndex::from_geojson(text).expect("parse")
    }

    #[test]
    fn draws_framed_to_the_chosen_regions() {
        let atlas = Atlas::new(&square_index());
        assert_eq!(atlas.len(), 2);
        let all = atlas.draw(|_| true, 100.0).expect("drawn");
        // Frame spans lon 0..3.05 and lat 0..3.05: square.
        assert_eq!((all.width, all.height), (100.0, 100.0));
        assert_eq!(all.shapes[0].code, "A");
        // North up: latitude 0 is at the bottom.
        assert!(all.shapes[0].d.starts_with("M0 100"), "{}", all.shapes[0].d);
        // The islet (1.6 units across) and the zero-area ring are left out.
        assert_eq!(all.shapes[1].d.matches('M').count(), 1, "{}", all.shapes[1].d);
        // Drawn larger, the islet shows.
        let big = atlas.draw(|_| true, 1000.0).expect("drawn");
        assert_eq!(big.shapes[1].d.matches('M').count(), 2, "{}", big.shapes[1].d);

        let one = atlas.draw(|c| c == "A", 100.0).expect("drawn");
        assert_eq!(one.shapes.len(), 1);
        assert_eq!(one.height, 100.0);
        assert_eq!(one.shapes[0].d, "M0 100L100 100L100 0L0 0L0 100Z");
        assert!(atlas.draw(|_| false, 100.0).is_none());
    }

    #[test]
    fn a_regions_only_ring_is_kept_however_small() {
        let text = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"kode":"BIG","nama":"Big"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]]]}},
          {"type":"Feature","properties":{"kode":"CITY","nama":"City"},"geometry":{"type":"Polygon","coordinates":[[[5,5],[5.02,5],[5.02,5.02],[5,5.02],[5,5]]]}}]}"#;
        let atlas = Atlas::new(&GeoIndex::from_geojson(text).expect("parse"));
        let d = atlas.draw(|_| true, 1000.0).expect("drawn");
        assert!(
            d.shapes[1].d.starts_with('M') && d.shapes[1].d.ends_with('Z'),
            "{:?}",
            d.shapes[1]
        );
    }

    #[test]
    fn simplification_keeps_corners_and_drops_near_straight_points() {
        let line = [[0.0, 0.0], [1.0, 0.01], [2.0, 0.0], [2.0, 2.0], [0.0, 0.0]];
        assert_eq!(
            simplify(&line, 0.1),
            vec![[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 0.0]]
        );
        assert_eq!(simplify(&line, 0.001).len(), 5);
    }

    #[test]
    fn quantile_classes() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(quantile_breaks(&v, 5), vec![2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(class_of(1.0, &[2.0, 4.0]), 0);
        assert_eq!(class_of(3.0, &[2.0, 4.0]), 1);
        assert_eq!(class_of(9.0, &[2.0, 4.0]), 1);
        // Ties collapse: fewer classes than asked.
        assert_eq!(quantile_breaks(&[5.0, 5.0, 5.0, 7.0], 4), vec![5.0, 7.0]);
        assert!(quantile_breaks(&[], 5).is_empty());
        assert_eq!(quantile_breaks(&[f64::NAN, 3.0], 3), vec![3.0]);
    }

    #[test]
    fn real_boundaries_draw_small_enough_for_a_page() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/geo/");
        for (file, count, max_bytes) in [("provinsi.geojson", 38, 120_000), ("kabkota.geojson", 514, 250_000)] {
            let text = std::fs::read_to_string(format!("{root}{file}")).expect("geo data");
            let atlas = Atlas::new(&GeoIndex::from_geojson(&text).expect("parse"));
            assert_eq!(atlas.len(), count, "{file}");
            let national = atlas.draw(|_| true, 1000.0).expect("drawn");
            let bytes: usize = national.shapes.iter().map(|s| s.d.len()).sum();
            assert!(bytes < max_bytes, "{file}: {bytes} bytes of path data");
            assert!(
                national.shapes.iter().all(|s| !s.d.is_empty()),
                "{file}: a region vanished"
            );
            // Indonesia is about 2.6 times as wide as it is tall.
            assert!((330.0..450.0).contains(&national.height), "{file}: {}", national.height);
        }
        let text = std::fs::read_to_string(format!("{root}kabkota.geojson")).expect("geo data");
        let atlas = Atlas::new(&GeoIndex::from_geojson(&text).expect("parse"));
        let jabar = atlas.draw(|c| c.starts_with("32."), 1000.0).expect("drawn");
        assert_eq!(jabar.shapes.len(), 27);
    }
}
