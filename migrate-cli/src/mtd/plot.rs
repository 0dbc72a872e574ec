//! `migrate mtd --plot`: the run's timeline as SVG: which ISA the program
//! ran on over time (top), and each migration's latency, part by part
//! (bottom).

use super::report::Report;
use anyhow::{anyhow, Result};
use migrate_format::Arch;
use plotters::prelude::*;

const X86_COLOR: RGBColor = RGBColor(31, 119, 180);
const ARM_COLOR: RGBColor = RGBColor(255, 127, 14);
/// One color per latency part, in `MoveTiming::parts` order.
const PART_COLORS: [RGBColor; 5] = [
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(214, 39, 40),
    RGBColor(127, 127, 127),
    RGBColor(23, 190, 207),
];

fn color(arch: Arch) -> RGBColor {
    match arch {
        Arch::X86_64 => X86_COLOR,
        Arch::Aarch64 => ARM_COLOR,
    }
}

/// The SVG document.
pub fn svg(r: &Report) -> Result<String> {
    let mut out = String::new();
    draw(r, &mut out).map_err(|e| anyhow!("cannot draw the plot: {e}"))?;
    Ok(out)
}

fn draw(r: &Report, out: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(out, (960, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(200);
    let wall = r.wall_s.max(1e-3);

    // Where the program ran: one band per ISA, gaps where it was moving.
    let mut timeline = ChartBuilder::on(&top)
        .caption(
            format!(
                "{}: {} migrations in {:.2} s, period {} ms ± {:.0}%, seed {}",
                r.program,
                r.migrations,
                r.wall_s,
                r.period_ms,
                r.jitter * 100.0,
                r.seed
            ),
            ("sans-serif", 16),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..wall, 0.0..2.0)?;
    timeline
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(5)
        .y_label_formatter(&|y| match *y {
            y if (0.4..0.6).contains(&y) => "x86_64".to_string(),
            y if (1.4..1.6).contains(&y) => "aarch64".to_string(),
            _ => String::new(),
        })
        .x_desc("time (s)")
        .draw()?;
    timeline.draw_series(r.legs.iter().map(|leg| {
        let y = match leg.arch {
            Arch::X86_64 => 0.5,
            Arch::Aarch64 => 1.5,
        };
        Rectangle::new(
            [(leg.start_s, y - 0.3), (leg.end_s, y + 0.3)],
            color(leg.arch).filled(),
        )
    }))?;

    // Each migration's latency, stacked by part, at the time it started.
    let highest = r.moves.iter().map(|m| m.total_ms).fold(1.0, f64::max) * 1.1;
    let mut latency = ChartBuilder::on(&bottom)
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..wall, 0.0..highest)?;
    latency
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc("migration latency (ms)")
        .draw()?;
    let width = (wall / (3.0 * r.moves.len().max(1) as f64)).min(wall / 100.0);
    for (i, name) in [
        "checkpoint",
        "hand-over",
        "translate",
        "start-up",
        "restore",
    ]
    .iter()
    .enumerate()
    {
        let style = PART_COLORS[i].filled();
        latency
            .draw_series(r.moves.iter().map(move |m| {
                let parts = m.parts();
                let below: f64 = parts[..i].iter().map(|p| p.1).sum();
                Rectangle::new(
                    [(m.at_s, below), (m.at_s + width, below + parts[i].1)],
                    style,
                )
            }))?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], style));
    }
    latency
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
