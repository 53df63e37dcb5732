//! Charts of a simulation as SVG and PNG (plotters): value over time, weights against targets and bands,
//! and the cost / tracking-error frontier. Text needs a font: DejaVu Sans from the system (or the file
//! named by `BALLAST_FONT`); without one the charts are skipped and the caller is told why.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::StrategyResult;

const FONT_CANDIDATES: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
];

/// Registers a sans-serif font once; `Err` says why charts cannot be drawn.
fn font() -> Result<(), String> {
    static FONT: OnceLock<Result<(), String>> = OnceLock::new();
    FONT.get_or_init(|| {
        let candidates: Vec<PathBuf> = std::env::var_os("BALLAST_FONT")
            .map(PathBuf::from)
            .into_iter()
            .chain(FONT_CANDIDATES.iter().map(PathBuf::from))
            .collect();
        let path = candidates.iter().find(|p| p.exists()).ok_or("no TrueType font found (set BALLAST_FONT)")?;
        let bytes: &'static [u8] = Box::leak(std::fs::read(path).map_err(|e| e.to_string())?.into_boxed_slice());
        plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
            .map_err(|_| format!("{} is not a usable font", path.display()))
    })
    .clone()
}

const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("plot: {e:?}")
}

fn value_chart<DB: DrawingBackend>(area: DrawingArea<DB, Shift>, results: &[StrategyResult]) -> Result<()> {
    area.fill(&WHITE).map_err(err)?;
    let steps = results.iter().map(|r| r.steps.len()).max().unwrap_or(1);
    let (lo, hi) = results
        .iter()
        .flat_map(|r| r.steps.iter().map(|s| s.nav_usd))
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let pad = (hi - lo).max(1.0) * 0.05;
    let mut chart = ChartBuilder::on(&area)
        .caption("Vault value by strategy", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(80)
        .build_cartesian_2d(0..steps, (lo - pad)..(hi + pad))
        .map_err(err)?;
    chart.configure_mesh().x_desc("step").y_desc("USD").draw().map_err(err)?;
    for (i, r) in results.iter().enumerate() {
        let c = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(r.steps.iter().map(|s| (s.step, s.nav_usd)), c.stroke_width(2)))
            .map_err(err)?
            .label(r.strategy.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2)));
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(err)?;
    area.present().map_err(err)
}

fn weights_chart<DB: DrawingBackend>(area: DrawingArea<DB, Shift>, r: &StrategyResult, band_bps: f64) -> Result<()> {
    area.fill(&WHITE).map_err(err)?;
    let steps = r.steps.len();
    let mut chart = ChartBuilder::on(&area)
        .caption(format!("Weights vs targets ± band: {}", r.strategy), ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(0..steps, 0f64..100f64)
        .map_err(err)?;
    chart.configure_mesh().x_desc("step").y_desc("weight %").draw().map_err(err)?;
    for (a, name) in super::SYMBOLS.iter().enumerate() {
        let c = COLORS[a];
        let t = |s: &super::StepRecord| s.targets_bps[a] as f64 / 100.0;
        chart
            .draw_series(LineSeries::new(
                r.steps.iter().map(|s| (s.step, s.weights_bps[a] as f64 / 100.0)),
                c.stroke_width(2),
            ))
            .map_err(err)?
            .label(name.to_string())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2)));
        chart.draw_series(LineSeries::new(r.steps.iter().map(|s| (s.step, t(s))), c.mix(0.6))).map_err(err)?;
        for sign in [-1.0, 1.0] {
            chart
                .draw_series(LineSeries::new(
                    r.steps.iter().map(|s| (s.step, t(s) + sign * band_bps / 100.0)),
                    c.mix(0.25),
                ))
                .map_err(err)?;
        }
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(err)?;
    area.present().map_err(err)
}

fn frontier_chart<DB: DrawingBackend>(area: DrawingArea<DB, Shift>, results: &[StrategyResult]) -> Result<()> {
    area.fill(&WHITE).map_err(err)?;
    let max_cost = results.iter().map(|r| r.cost_bps_of_nav).fold(1.0, f64::max) * 1.15;
    let max_te = results.iter().map(|r| r.tracking_error_bps / 100.0).fold(0.1, f64::max) * 1.15;
    let mut chart = ChartBuilder::on(&area)
        .caption("Cost vs tracking error", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..max_cost, 0f64..max_te)
        .map_err(err)?;
    chart.configure_mesh().x_desc("cost (bps of NAV)").y_desc("tracking error (% a year)").draw().map_err(err)?;
    for (i, r) in results.iter().enumerate() {
        let c = COLORS[i % COLORS.len()];
        let p = (r.cost_bps_of_nav, r.tracking_error_bps / 100.0);
        chart.draw_series(std::iter::once(Circle::new(p, 5, c.filled()))).map_err(err)?;
        chart.draw_series(std::iter::once(Text::new(r.strategy.clone(), p, ("sans-serif", 14)))).map_err(err)?;
    }
    area.present().map_err(err)
}

/// Writes value, weights and frontier charts as SVG and PNG into `dir`; returns the files written.
/// `weights_of` picks the strategy whose weights are drawn, with its band.
pub fn write_all(dir: &Path, results: &[StrategyResult], weights_of: (usize, f64)) -> Result<Vec<PathBuf>> {
    font().map_err(|e| anyhow!("charts skipped: {e}"))?;
    let mut written = Vec::new();
    let (idx, band) = weights_of;
    for (name, size) in [("value", (1000, 560)), ("weights", (1000, 560)), ("frontier", (800, 560))] {
        let svg = dir.join(format!("{name}.svg"));
        let png = dir.join(format!("{name}.png"));
        {
            let svg_area = SVGBackend::new(&svg, size).into_drawing_area();
            let png_area = BitMapBackend::new(&png, size).into_drawing_area();
            match name {
                "value" => {
                    value_chart(svg_area, results)?;
                    value_chart(png_area, results)?;
                }
                "weights" => {
                    weights_chart(svg_area, &results[idx], band)?;
                    weights_chart(png_area, &results[idx], band)?;
                }
                _ => {
                    frontier_chart(svg_area, results)?;
                    frontier_chart(png_area, results)?;
                }
            }
        }
        written.push(svg);
        written.push(png);
    }
    Ok(written)
}
