//! k6 v1's default end-of-test text summary, compact mode (k6.md §5.1; summary.js layout).
//!
//! Receives the [`SummaryMetric`]s, the merged check list and [`SummaryOptions`]; emits the
//! text `textSummary` returns (the CLI writes `"\n" + text + "\n\n"`, see [`super::stdout_text`]).

use super::data::{SummaryMetric, SummaryOptions};
use super::format::{humanize_value, js_num};
use crate::metrics::engine::CheckNode;
use crate::metrics::registry::{MetricType, ValueType};

/// Metrics the compact summary hides (prefix match, as k6).
const COMPACT_SKIPPED: [&str; 8] = [
    "checks",
    "group_duration",
    "http_req_blocked",
    "http_req_connecting",
    "http_req_receiving",
    "http_req_sending",
    "http_req_tls_handshaking",
    "http_req_waiting",
];

const HTTP: [&str; 9] = [
    "http_reqs",
    "http_req_failed",
    "http_req_duration",
    "http_req_blocked",
    "http_req_connecting",
    "http_req_tls_handshaking",
    "http_req_sending",
    "http_req_waiting",
    "http_req_receiving",
];
const EXECUTION: [&str; 5] = [
    "vus",
    "vus_max",
    "iterations",
    "iteration_duration",
    "dropped_iterations",
];
const NETWORK: [&str; 2] = ["data_sent", "data_received"];

/// Section of a metric, in k6's order (custom is moved first when rendering).
fn section(name: &str) -> usize {
    let any = |list: &[&str]| list.iter().any(|p| name.starts_with(p));
    if any(&HTTP) {
        1
    } else if any(&EXECUTION) {
        2
    } else if any(&NETWORK) {
        3
    } else if name.starts_with("browser_web_vital_") {
        5
    } else if name.starts_with("browser_") {
        4
    } else if name.starts_with("grpc_") {
        6
    } else if name.starts_with("ws_") {
        7
    } else {
        0
    }
}

const SECTION_TITLES: [&str; 8] = [
    "CUSTOM",
    "HTTP",
    "EXECUTION",
    "NETWORK",
    "BROWSER",
    "WEB_VITALS",
    "GRPC",
    "WEBSOCKET",
];

struct Fmt {
    colors: bool,
}

impl Fmt {
    fn decorate(&self, text: &str, color: &str, faint: bool) -> String {
        if !self.colors {
            return text.to_string();
        }
        let code = match color {
            "red" => "31",
            "green" => "32",
            "cyan" => "36",
            _ => "37",
        };
        if faint {
            format!("\x1b[2;{code}m{text}\x1b[0m")
        } else {
            format!("\x1b[{code}m{text}\x1b[0m")
        }
    }

    fn bold(&self, text: &str) -> String {
        if self.colors {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn indent(base: usize, level: usize) -> String {
    " ".repeat((base + level) * 2)
}

/// `name{a:b}` → `  { a:b }`; plain names unchanged.
fn display_name(name: &str) -> String {
    match name.find('{') {
        Some(i) => format!("  {{ {} }}", &name[i + 1..name.len() - 1]),
        None => name.to_string(),
    }
}

/// The rendered cells of one metric line.
enum Cells {
    Trend(Vec<String>),
    Other(String, Vec<String>),
}

fn cells(m: &SummaryMetric, opts: &SummaryOptions) -> Cells {
    let h = |v: f64| humanize_value(v, m.kind, m.contains, &opts.time_unit);
    let get = |k: &str| m.value(k).unwrap_or(0.0);
    match m.kind {
        MetricType::Trend => Cells::Trend(
            opts.trend_stats
                .iter()
                .map(|s| {
                    let v = get(s);
                    if s == "count" { js_num(v) } else { h(v) }
                })
                .collect(),
        ),
        MetricType::Counter => Cells::Other(h(get("count")), vec![format!("{}/s", h(get("rate")))]),
        MetricType::Gauge => Cells::Other(
            h(get("value")),
            vec![
                format!("min={}", h(get("min"))),
                format!("max={}", h(get("max"))),
            ],
        ),
        MetricType::Rate => {
            let (p, f) = (get("passes"), get("fails"));
            Cells::Other(
                h(get("rate")),
                vec![format!("{} out of {}", js_num(p), js_num(p + f))],
            )
        }
    }
}

/// Renders metric lines with k6's shared column widths.
fn render_metric_block(
    groups: &[(Option<&str>, Vec<&SummaryMetric>)],
    base: usize,
    opts: &SummaryOptions,
    f: &Fmt,
    out: &mut Vec<String>,
) {
    let ind = indent(base, 1);
    let all: Vec<(&SummaryMetric, Cells)> = groups
        .iter()
        .flat_map(|(_, ms)| ms.iter().map(|m| (*m, cells(m, opts))))
        .collect();
    let mut max_name = 0;
    let mut trend_lens = vec![0usize; opts.trend_stats.len()];
    let mut value_len = 0;
    let mut extra_lens: Vec<usize> = Vec::new();
    for (m, c) in &all {
        max_name = max_name.max(width(&ind) + width(&m.name) + width(&display_name(&m.name)));
        match c {
            Cells::Trend(cols) => {
                for (i, col) in cols.iter().enumerate() {
                    trend_lens[i] = trend_lens[i].max(width(col));
                }
            }
            Cells::Other(v, extras) => {
                value_len = value_len.max(width(v));
                for (i, e) in extras.iter().enumerate() {
                    if extra_lens.len() <= i {
                        extra_lens.push(0);
                    }
                    extra_lens[i] = extra_lens[i].max(width(e));
                }
            }
        }
    }
    let mut idx = 0;
    for (title, ms) in groups {
        if let Some(t) = title {
            out.push(format!("{ind}{}", f.bold(t)));
        }
        for _ in ms {
            let (m, c) = &all[idx];
            idx += 1;
            let shown = display_name(&m.name);
            let dots = (max_name + 3).saturating_sub(width(&shown) + width(&ind));
            let dotted = format!(
                "{shown}{}",
                f.decorate(&format!("{}:", ".".repeat(dots)), "white", true)
            );
            let data = match c {
                Cells::Trend(cols) => cols
                    .iter()
                    .enumerate()
                    .map(|(i, col)| {
                        let pad = " ".repeat(trend_lens[i].saturating_sub(width(col)));
                        format!(
                            "{}={}{pad}",
                            opts.trend_stats[i],
                            f.decorate(col, "cyan", false)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
                Cells::Other(v, extras) => {
                    let mut s = f.decorate(v, "cyan", false);
                    s.push_str(&" ".repeat(value_len.saturating_sub(width(v))));
                    if extras.len() == 1 {
                        s.push(' ');
                        s.push_str(&f.decorate(&extras[0], "cyan", true));
                    } else if extras.len() > 1 {
                        let parts: Vec<String> = extras
                            .iter()
                            .enumerate()
                            .map(|(i, e)| {
                                let pad = " ".repeat(extra_lens[i].saturating_sub(width(e)));
                                format!("{}{pad}", f.decorate(e, "cyan", true))
                            })
                            .collect();
                        s.push(' ');
                        s.push_str(&parts.join(" "));
                    }
                    s
                }
            };
            out.push(format!("{ind}{dotted} {data}"));
        }
        if title.is_some() {
            out.push("\n".to_string());
        }
    }
}

/// The value shown after a threshold (`p(95)=44.2ms`, `rate=50.00%`, `count=30`).
fn threshold_value(m: &SummaryMetric, source: &str, opts: &SummaryOptions) -> (String, String) {
    let agg = source
        .split(['=', '>', '<'])
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let h = |v: f64| humanize_value(v, m.kind, m.contains, &opts.time_unit);
    let value = match m.kind {
        MetricType::Trend => m
            .value(&agg)
            .map(|v| if agg == "count" { js_num(v) } else { h(v) }),
        MetricType::Counter if agg == "count" => m.value("count").map(h),
        MetricType::Counter => m.value("rate").map(|v| format!("{}/s", h(v))),
        MetricType::Gauge => m.value("value").map(h),
        MetricType::Rate => m.value("rate").map(h),
    };
    // k6 prints JS `undefined` (empty once joined) when it has no such value.
    let value = value.unwrap_or_else(|| {
        if opts.no_color {
            String::new()
        } else {
            "undefined".into()
        }
    });
    (agg, value)
}

fn render_thresholds(metrics: &[SummaryMetric], opts: &SummaryOptions, f: &Fmt) -> Vec<String> {
    let mut out = Vec::new();
    let with: Vec<&SummaryMetric> = metrics
        .iter()
        .filter(|m| !m.thresholds.is_empty())
        .collect();
    for m in &with {
        let parent = m.name.split('{').next().unwrap_or("");
        let is_sub = m.name.len() > parent.len();
        let parent_listed = with.iter().any(|o| o.name == parent);
        let base = if is_sub && parent_listed { 2 } else { 1 };
        let ind = indent(base, 1);
        let shown = if is_sub && parent_listed {
            &m.name[parent.len()..]
        } else {
            &m.name
        };
        out.push(format!("{ind}{shown}"));
        for (src, ok) in &m.thresholds {
            let status = if *ok {
                f.decorate("✓", "green", false)
            } else {
                f.decorate("✗", "red", false)
            };
            let (agg, value) = threshold_value(m, src, opts);
            out.push(format!(
                "{ind}{status} {} {}={}",
                f.decorate(&format!("'{}'", src.trim()), "white", false),
                f.decorate(&agg, "white", false),
                if value.is_empty() {
                    value
                } else {
                    f.decorate(&value, "cyan", false)
                }
            ));
        }
        out.push("\n".to_string());
    }
    out
}

fn render_checks(
    checks: &[CheckNode],
    check_metric: Option<&SummaryMetric>,
    opts: &SummaryOptions,
    f: &Fmt,
) -> Vec<String> {
    let Some(cm) = check_metric else {
        return Vec::new();
    };
    let passes = cm.value("passes").unwrap_or(0.0);
    let fails = cm.value("fails").unwrap_or(0.0);
    let total = passes + fails;
    let secs = opts.test_run_duration.as_secs_f64();
    let mk = |name: &str, kind, values: Vec<(&str, f64)>| SummaryMetric {
        name: name.to_string(),
        kind,
        contains: ValueType::Default,
        values: values
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        threshold_values: Vec::new(),
        thresholds: Vec::new(),
    };
    let total_m = mk(
        "checks_total",
        MetricType::Counter,
        vec![
            ("count", total),
            ("rate", if secs > 0.0 { total / secs } else { 0.0 }),
        ],
    );
    let ok_m = mk(
        "checks_succeeded",
        MetricType::Rate,
        vec![
            ("rate", cm.value("rate").unwrap_or(0.0)),
            ("passes", passes),
            ("fails", fails),
        ],
    );
    let fail_m = mk(
        "checks_failed",
        MetricType::Rate,
        vec![
            ("rate", fails / total),
            ("passes", fails),
            ("fails", passes),
        ],
    );
    let mut out = Vec::new();
    render_metric_block(
        &[(None, vec![&total_m, &ok_m, &fail_m])],
        1,
        opts,
        f,
        &mut out,
    );
    out.push("\n".to_string());
    let ind = indent(1, 1);
    for c in checks {
        if c.fails == 0 {
            out.push(format!(
                "{ind}{}",
                f.decorate(&format!("✓ {}", c.name), "green", false)
            ));
        } else {
            let pct = (100 * c.passes) / (c.passes + c.fails);
            let res = format!("↳  {pct}% — ✓ {} / ✗ {}", c.passes, c.fails);
            out.push(format!(
                "{ind}{}\n{}{}",
                f.decorate(&format!("✗ {}", c.name), "red", false),
                indent(1, 2),
                f.decorate(&res, "red", false)
            ));
        }
    }
    out
}

/// The compact text summary (what `textSummary(data)` returns).
pub fn render(metrics: &[SummaryMetric], checks: &[CheckNode], opts: &SummaryOptions) -> String {
    let f = Fmt {
        colors: !opts.no_color,
    };
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    let thresholds = render_thresholds(metrics, opts, &f);
    if !thresholds.is_empty() {
        sections.push(("THRESHOLDS".into(), thresholds));
    }
    let mut content = Vec::new();
    let check_metric = metrics.iter().find(|m| m.name == "checks");
    if check_metric.is_some() {
        content.extend(render_checks(checks, check_metric, opts, &f));
        content.push("\n".to_string());
    }
    let mut by_section: Vec<Vec<&SummaryMetric>> = vec![Vec::new(); SECTION_TITLES.len()];
    for m in metrics {
        if !COMPACT_SKIPPED.iter().any(|p| m.name.starts_with(p)) {
            by_section[section(&m.name)].push(m);
        }
    }
    let groups: Vec<(Option<&str>, Vec<&SummaryMetric>)> = by_section
        .into_iter()
        .enumerate()
        .filter(|(_, ms)| !ms.is_empty())
        .map(|(i, ms)| (Some(SECTION_TITLES[i]), ms))
        .collect();
    render_metric_block(&groups, 1, opts, &f, &mut content);
    sections.push(("TOTAL RESULTS".into(), content));

    let mut out = String::new();
    for (title, lines) in sections {
        out.push('\n');
        out.push_str(&format!("{}█ {} \n", indent(0, 1), f.bold(&title)));
        for l in lines {
            if l == "\n" {
                out.push('\n');
            } else {
                out.push('\n');
                out.push_str(&l);
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colors_follow_k6_codes() {
        let m = SummaryMetric {
            name: "my_counter".into(),
            kind: MetricType::Counter,
            contains: ValueType::Default,
            values: vec![("count".into(), 2.0), ("rate".into(), 1.0)],
            threshold_values: Vec::new(),
            thresholds: vec![("count>100".into(), false)],
        };
        let opts = SummaryOptions::default();
        let out = render(&[m], &[], &opts);
        assert!(out.contains("  █ \x1b[1mTHRESHOLDS\x1b[0m \n"));
        assert!(out.contains(
            "    \x1b[31m✗\x1b[0m \x1b[37m'count>100'\x1b[0m \x1b[37mcount\x1b[0m=\x1b[36m2\x1b[0m"
        ));
        assert!(out.contains("    \x1b[1mCUSTOM\x1b[0m"));
        assert!(out.contains("my_counter\x1b[2;37m"));
        assert!(out.contains("\x1b[36m2\x1b[0m \x1b[2;36m1/s\x1b[0m"));
    }
}
