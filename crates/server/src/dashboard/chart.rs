//! Charts drawn on the server as SVG: they show without JavaScript, print,
//! and scale on a phone. Each carries a title and a description for screen
//! readers; the page puts the same numbers in a table beside it.

use std::fmt::Write;

/// One line of a trend chart.
pub struct Series<'a> {
    pub name: &'a str,
    pub values: Vec<f64>,
    pub color: &'a str,
}

/// Escapes text for SVG (XML).
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A round upper bound for an axis: 1, 2, 5 × 10^k.
fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if v <= m * p {
            return m * p;
        }
    }
    10.0 * p
}

fn open(out: &mut String, id: &str, title: &str, desc: &str, w: u32, h: u32) {
    let _ = write!(
        out,
        r#"<svg class="chart" id="{id}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(desc)
    );
}

/// Lines over periods, with a y axis from 0, a legend, and at most about
/// twelve x labels.
pub fn lines(id: &str, title: &str, desc: &str, labels: &[String], series: &[Series<'_>]) -> String {
    let (w, h, left, right, top, bottom) = (720.0, 300.0, 56.0, 12.0, 36.0, 44.0);
    let mut out = String::new();
    open(&mut out, id, title, desc, w as u32, h as u32);
    let max = nice_max(series.iter().flat_map(|s| s.values.iter().copied()).fold(0.0, f64::max));
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let n = labels.len().max(1);
    let x = |i: usize| {
        if n == 1 {
            left + plot_w / 2.0
        } else {
            left + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| top + plot_h - plot_h * v / max;
    for k in 0..=4 {
        let v = max * f64::from(k) / 4.0;
        let _ = write!(
            out,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#d0d7de" stroke-width="1"/><text x="{}" y="{:.1}" font-size="12" text-anchor="end" fill="#333">{}</text>"##,
            w - right,
            left - 6.0,
            y(v) + 4.0,
            axis_label(v),
            y = y(v)
        );
    }
    let step = n.div_ceil(12).max(1);
    for (i, l) in labels.iter().enumerate() {
        if i % step == 0 || i + 1 == n {
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{}" font-size="11" text-anchor="middle" fill="#333">{}</text>"##,
                x(i),
                h - bottom + 18.0,
                esc(l)
            );
        }
    }
    for (k, s) in series.iter().enumerate() {
        let pts: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline fill="none" stroke="{c}" stroke-width="2.5" points="{}"/>"#,
            pts.join(" "),
            c = s.color
        );
        for (i, v) in s.values.iter().enumerate() {
            let _ = write!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"><title>{}: {} {}</title></circle>"#,
                x(i),
                y(*v),
                s.color,
                esc(labels.get(i).map_or("", |l| l.as_str())),
                axis_label(*v),
                esc(s.name)
            );
        }
        let lx = left + 170.0 * k as f64;
        let _ = write!(
            out,
            r##"<rect x="{lx}" y="10" width="14" height="14" fill="{}"/><text x="{}" y="22" font-size="13" fill="#111">{}</text>"##,
            s.color,
            lx + 20.0,
            esc(s.name)
        );
    }
    out.push_str("</svg>");
    out
}

/// Horizontal bars, largest first as given, with the value at each bar's end.
pub fn bars(id: &str, title: &str, desc: &str, rows: &[(String, f64, String)], color: &str) -> String {
    let row_h = 26.0;
    let (w, label_w, top) = (720.0, 260.0, 8.0);
    let h = top * 2.0 + row_h * rows.len().max(1) as f64;
    let mut out = String::new();
    open(&mut out, id, title, desc, w as u32, h as u32);
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1e-9);
    let bar_w = w - label_w - 90.0;
    for (i, (label, v, shown)) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let len = (bar_w * v / max).max(if *v > 0.0 { 2.0 } else { 0.0 });
        let short: String = if label.chars().count() > 34 {
            format!("{}…", label.chars().take(33).collect::<String>())
        } else {
            label.clone()
        };
        let _ = write!(
            out,
            r##"<text x="{}" y="{:.1}" font-size="13" text-anchor="end" fill="#111">{}</text><rect x="{label_w}" y="{:.1}" width="{len:.1}" height="{}" fill="{color}"><title>{}: {}</title></rect><text x="{:.1}" y="{:.1}" font-size="13" fill="#111">{}</text>"##,
            label_w - 8.0,
            y + 17.0,
            esc(&short),
            y + 4.0,
            row_h - 8.0,
            esc(label),
            esc(shown),
            label_w + len + 6.0,
            y + 17.0,
            esc(shown)
        );
    }
    out.push_str("</svg>");
    out
}

fn axis_label(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_labelled_svg_that_escapes_names() {
        let svg = lines(
            "t",
            "Tren <laporan>",
            "Diterima per minggu",
            &["W1".into(), "W2".into()],
            &[Series {
                name: "Diterima & ditindaklanjuti",
                values: vec![3.0, 7.0],
                color: "#1f5fa8",
            }],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"aria-labelledby="t-t t-d""#));
        assert!(svg.contains("Tren &lt;laporan&gt;"));
        assert!(svg.contains("Diterima &amp; ditindaklanjuti"));
        assert_eq!(svg.matches("<circle").count(), 2);
        let b = bars(
            "b",
            "Kanal",
            "Laporan per kanal",
            &[("web".into(), 5.0, "5".into())],
            "#1f5fa8",
        );
        assert!(b.contains(">web</text>") && b.contains("<rect"));
        // An empty chart still draws (an axis, no lines).
        assert!(lines("e", "x", "y", &[], &[]).ends_with("</svg>"));
    }

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(120.0), 200.0);
        assert_eq!(nice_max(45.0), 50.0);
    }
}
