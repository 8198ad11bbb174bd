//! The plot: hit ratio against cache size per policy, one panel per trace.

use std::path::Path;

use plotters::prelude::*;

use crate::policy::PolicyName;
use crate::report::Row;

/// Colours beyond plotters' basic ones (its `full_palette` feature is off).
const ORANGE: RGBColor = RGBColor(255, 140, 0);
const BROWN: RGBColor = RGBColor(140, 80, 30);
const PURPLE: RGBColor = RGBColor(150, 60, 200);
const TEAL: RGBColor = RGBColor(0, 150, 150);
const DARK_GREEN: RGBColor = RGBColor(0, 150, 0);

/// Panel size in pixels.
const PANEL: (u32, u32) = (640, 460);

/// Heights of the title band and the citation footer.
const TITLE_PX: u32 = 50;

/// Height of the legend band under the title.
const LEGEND_PX: u32 = 30;
const FOOTER_PX: u32 = 66;

/// Height of one footer line.
const FOOTER_LINE_PX: i32 = 19;

/// The colour and line width of a policy.
fn style(policy: PolicyName) -> (RGBColor, u32) {
    match policy {
        PolicyName::Strata => (RED, 3),
        PolicyName::StrataLru => (ORANGE, 2),
        PolicyName::StrataTtl => (BROWN, 2),
        PolicyName::StrataRandom => (PURPLE, 2),
        PolicyName::Lru => (BLUE, 2),
        PolicyName::Moka => (DARK_GREEN, 2),
        PolicyName::QuickCache => (TEAL, 2),
        PolicyName::Opt => (BLACK, 2),
    }
}

/// `20000` as `20k`, `1500` as `1.5k`, `524288` as `524k`.
fn size_label(v: f64) -> String {
    if v >= 1_000_000.0 {
        format!("{}M", trim(v / 1_000_000.0))
    } else if v >= 1_000.0 {
        format!("{}k", trim(v / 1_000.0))
    } else {
        trim(v)
    }
}

/// One decimal at most, none when whole.
fn trim(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

/// Draws `rows` to `path` (a PNG). `citation` (where the pages come from) goes under the
/// panels.
pub(crate) fn draw(
    path: &Path,
    rows: &[Row],
    threads: usize,
    citation: &str,
) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("plot {}: {e}", path.display());
    let mut traces: Vec<&str> = Vec::new();
    for r in rows {
        if !traces.contains(&r.trace.as_str()) {
            traces.push(&r.trace);
        }
    }
    if traces.is_empty() {
        return Err(format!("plot {}: no results to draw", path.display()));
    }
    let cols = (traces.len() as f64).sqrt().ceil() as usize;
    let panel_rows = traces.len().div_ceil(cols);
    let width = PANEL.0 * cols as u32;
    let height = PANEL.1 * panel_rows as u32 + TITLE_PX + LEGEND_PX + FOOTER_PX;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
    }

    let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let thread_note = if threads > 1 {
        format!(", {threads} threads")
    } else {
        String::new()
    };
    let body = root
        .titled(
            &format!("Hit ratio vs cache size (get, insert on miss{thread_note})"),
            ("sans-serif", 26),
        )
        .map_err(|e| err(&e))?;
    let (legend, body) = body.split_vertically(LEGEND_PX);
    let (body, footer) = body.split_vertically(height - TITLE_PX - LEGEND_PX - FOOTER_PX);

    // One legend for every panel, in a band of its own so it hides no line.
    let mut all_policies: Vec<PolicyName> = Vec::new();
    for r in rows {
        if !all_policies.contains(&r.policy) {
            all_policies.push(r.policy);
        }
    }
    let legend_style = TextStyle::from(("sans-serif", 16)).color(&BLACK);
    let mut item_widths = Vec::new();
    for policy in &all_policies {
        let (w, _) = legend
            .estimate_text_size(policy.as_str(), &legend_style)
            .map_err(|e| err(&e))?;
        item_widths.push(30 + w as i32 + 24);
    }
    let total: i32 = item_widths.iter().sum();
    let mut x = ((width as i32 - total) / 2).max(10);
    let y = (LEGEND_PX / 2) as i32;
    for (policy, item_width) in all_policies.iter().zip(item_widths) {
        let (color, line_width) = style(*policy);
        legend
            .draw(&PathElement::new(
                vec![(x, y), (x + 24, y)],
                color.stroke_width(line_width + 1),
            ))
            .map_err(|e| err(&e))?;
        legend
            .draw(&Text::new(policy.as_str(), (x + 30, y - 9), &legend_style))
            .map_err(|e| err(&e))?;
        x += item_width;
    }
    let footer_style = TextStyle::from(("sans-serif", 15)).color(&BLACK);
    let mut text = format!("{citation}.");
    if let Some(first) = text.get(..1) {
        text = first.to_uppercase() + &text[1..];
    }
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        let candidate = match lines.last() {
            Some(last) => format!("{last} {word}"),
            None => word.to_owned(),
        };
        let (w, _) = footer
            .estimate_text_size(&candidate, &footer_style)
            .map_err(|e| err(&e))?;
        match lines.last_mut() {
            Some(last) if w + 20 <= width => *last = candidate,
            _ => lines.push(word.to_owned()),
        }
    }
    for (i, line) in lines.iter().enumerate() {
        footer
            .draw_text(line, &footer_style, (10, 6 + FOOTER_LINE_PX * i as i32))
            .map_err(|e| err(&e))?;
    }

    for (panel, trace) in body.split_evenly((panel_rows, cols)).iter().zip(&traces) {
        let rows_here: Vec<&Row> = rows.iter().filter(|r| r.trace == *trace).collect();
        let mut sizes: Vec<f64> = rows_here.iter().map(|r| r.size as f64).collect();
        sizes.sort_by(f64::total_cmp);
        sizes.dedup();
        let (lo, hi) = (sizes[0], sizes[sizes.len() - 1]);
        // Some room either side, and a range even for a single size.
        let (x0, x1) = (lo / 1.25, hi * 1.25);
        let percents = rows_here.iter().map(|r| r.hit_ratio() * 100.0);
        let ymin = percents.clone().fold(f64::INFINITY, f64::min);
        let ymax = percents.fold(f64::NEG_INFINITY, f64::max);
        let y0 = ((ymin / 10.0).floor() * 10.0).max(0.0);
        let y1 = ((ymax / 10.0).ceil() * 10.0).min(100.0).max(y0 + 10.0);

        let mut chart = ChartBuilder::on(panel)
            .caption(*trace, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d((x0..x1).log_scale().with_key_points(sizes.clone()), y0..y1)
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc("cache size (entries, log scale)")
            .y_desc("hit ratio (%)")
            .x_label_formatter(&|v| size_label(*v))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(|e| err(&e))?;

        let mut policies: Vec<PolicyName> = Vec::new();
        for r in &rows_here {
            if !policies.contains(&r.policy) {
                policies.push(r.policy);
            }
        }
        for policy in policies {
            let mut points: Vec<(f64, f64)> = rows_here
                .iter()
                .filter(|r| r.policy == policy)
                .map(|r| (r.size as f64, r.hit_ratio() * 100.0))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (color, width) = style(policy);
            let line = color.stroke_width(width);
            // The lru crate and strata-lru often coincide: dashes let both show.
            let series = if policy == PolicyName::Lru {
                chart.draw_series(DashedLineSeries::new(points.clone(), 9, 6, line))
            } else {
                chart.draw_series(LineSeries::new(points.clone(), line))
            };
            series.map_err(|e| err(&e))?;
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|&p| Circle::new(p, width + 1, color.filled())),
                )
                .map_err(|e| err(&e))?;
        }
    }
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_sizes_compactly() {
        assert_eq!(size_label(20_000.0), "20k");
        assert_eq!(size_label(1_500.0), "1.5k");
        assert_eq!(size_label(512.0), "512");
        assert_eq!(size_label(2_000_000.0), "2M");
    }
}
