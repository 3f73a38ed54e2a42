//! The live progress display of `loadgate run`, on stdout as k6 draws it: a `running (...)` line
//! and one bar per scenario (status, progress of the scenario's own duration or iterations, and
//! k6's right-hand columns). On a terminal it is redrawn every 100 ms in place (log lines are
//! written above it, see [`crate::term`]); elsewhere (CI logs, `kubectl logs`) a frame is printed
//! every second, with percentages instead of bars. The last frame, with ✓ or ✗ per scenario,
//! stays on screen. Left out with `--quiet`.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::banner;
use crate::engine::options::plan::TestPlan;
use crate::engine::options::scenarios::{ExecutorConfig, ResolvedStage};
use crate::engine::state::{ScenarioProgress, TestAbort};
use crate::js::shared::TestShared;
use crate::term;

const DEFAULT_WIDTH: i64 = 40;
const MIN_WIDTH: i64 = 8;
const MAX_LEFT: usize = 30;
const TERM_PADDING: i64 = 1;
const DEFAULT_TERM_WIDTH: i64 = 80;

/// A running progress display; [`Progress::finish`] draws the last frame.
pub struct Progress {
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts drawing (unless `enabled` is false, for `--quiet`).
    pub fn start(
        shared: Arc<TestShared>,
        plan: &TestPlan,
        abort: TestAbort,
        enabled: bool,
    ) -> Self {
        let stop = CancellationToken::new();
        let task = enabled.then(|| {
            let stop = stop.clone();
            let streams = term::streams();
            let mut display = Display::new(
                shared,
                plan,
                abort,
                streams.stdout_tty,
                term::stdout_colors(),
            );
            tokio::spawn(async move {
                let period = if display.tty {
                    Duration::from_millis(100)
                } else {
                    Duration::from_secs(1)
                };
                let mut tick = tokio::time::interval_at(Instant::now() + period, period);
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        _ = tick.tick() => {
                            let frame = display.render(true);
                            term::draw_persistent(frame, display.tty);
                        }
                    }
                }
                let last = display.render(false);
                term::clear_persistent();
                term::draw_persistent(last, false);
            })
        });
        Progress { stop, task }
    }

    /// Draws the last frame and stops.
    pub async fn finish(mut self) {
        self.stop.cancel();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// `1m05.3s` style elapsed time (the service's logs use it).
pub fn clock(d: Duration) -> String {
    let secs = d.as_secs_f64();
    let m = (secs / 60.0).floor() as u64;
    format!("{m}m{:04.1}s", secs - (m * 60) as f64)
}

/// k6's `GetFixedLengthDuration`: `d` rounded to 100 ms, with as many leading fields as `max`
/// needs, so the text does not jump (`0.4s`, `04.0s`, `1m05.0s`, `00m01.0s`, `1h00m00.0s`).
pub fn fixed_duration(d: Duration, max: Duration) -> String {
    let rounding = 100_000_000u128;
    let max = max.max(d);
    let round = |x: Duration| (x.as_nanos() + rounding / 2) / rounding * rounding;
    let max_ns = round(max);
    let mut u = round(d) / rounding;
    let mut buf = *b"000000d00h00m00.0s";
    buf[16] = b'0' + (u % 10) as u8;
    u /= 10;
    buf[14] = b'0' + (u % 10) as u8;
    u /= 10;
    let s = |from: usize, b: &[u8; 18]| String::from_utf8_lossy(&b[from..]).into_owned();
    const SEC: u128 = 1_000_000_000;
    if max_ns < 10 * SEC {
        return s(14, &buf);
    }
    buf[13] = b'0' + (u % 6) as u8;
    u /= 6;
    if max_ns < 60 * SEC {
        return s(13, &buf);
    }
    buf[11] = b'0' + (u % 10) as u8;
    u /= 10;
    if max_ns < 600 * SEC {
        return s(11, &buf);
    }
    buf[10] = b'0' + (u % 6) as u8;
    u /= 6;
    if max_ns < 3600 * SEC {
        return s(10, &buf);
    }
    let h = u % 24;
    u /= 24;
    buf[7] = b'0' + (h / 10) as u8;
    buf[8] = b'0' + (h % 10) as u8;
    if max_ns < 10 * 3600 * SEC {
        return s(8, &buf);
    } else if max_ns < 24 * 3600 * SEC {
        return s(7, &buf);
    }
    buf[5] = b'0' + (u % 10) as u8;
    u /= 10;
    let mut rem = max_ns / (240 * 3600 * SEC);
    let mut i = 5;
    while rem > 0 && i > 0 {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        rem /= 10;
    }
    s(i, &buf)
}

/// Digits of `max` (k6's `GetFixedLengthIntFormat`): values are zero-padded to it.
fn int_width(max: u64) -> usize {
    max.max(1).ilog10() as usize + 1
}

/// k6's `GetFixedLengthFloatFormat(max, 2)`.
fn float_fixed(v: f64, max: f64) -> String {
    let mut len = 1usize;
    if max >= 10.0 {
        len += max.log10() as usize;
    }
    len += 3;
    format!("{v:0len$.2}")
}

fn go(d: Duration) -> String {
    crate::engine::duration::GoDuration::from_std(d).to_string()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Running,
    Waiting,
    Stopping,
    Interrupted,
    Done,
}

impl Status {
    fn symbol(self) -> char {
        match self {
            Status::Running => ' ',
            Status::Waiting => '•',
            Status::Stopping => '↓',
            Status::Interrupted => '✗',
            Status::Done => '✓',
        }
    }

    fn colored(self, colors: bool) -> String {
        let c = self.symbol();
        if !colors {
            return c.to_string();
        }
        match self {
            Status::Interrupted => format!("\x1b[31m{c}\x1b[0m"),
            Status::Done => format!("\x1b[32m{c}\x1b[0m"),
            Status::Waiting => format!("\x1b[2m{c}\x1b[22m"),
            _ => c.to_string(),
        }
    }
}

/// One scenario as the display needs it (values scaled to this instance's segment).
struct ScenarioView {
    name: String,
    executor: ExecutorConfig,
    start_time: Duration,
    /// duration / maxDuration / the stages' sum.
    regular: Duration,
    vus: u64,
    iterations: u64,
    /// maxVUs for arrival-rate, the largest target for ramping-vus.
    max_vus: u64,
    segment: f64,
}

impl ScenarioView {
    fn per_sec(&self, rate: f64, time_unit_ns: u64) -> f64 {
        if time_unit_ns == 0 {
            0.0
        } else {
            rate * 1e9 / time_unit_ns as f64 * self.segment
        }
    }

    /// The arrival rate at `spent` into a ramping-arrival-rate scenario, per second.
    fn ramping_rate(
        &self,
        start: u64,
        stages: &[ResolvedStage],
        time_unit_ns: u64,
        spent: Duration,
    ) -> f64 {
        let mut from = start as f64;
        let mut at = 0u64;
        let t = spent.as_nanos() as u64;
        for s in stages {
            if t < at + s.duration_ns {
                let frac = (t - at) as f64 / s.duration_ns.max(1) as f64;
                return self.per_sec(from + (s.target as f64 - from) * frac, time_unit_ns);
            }
            at += s.duration_ns;
            from = s.target as f64;
        }
        self.per_sec(from, time_unit_ns)
    }

    /// The executor's k6 progress function: 0..1 and the right-hand columns.
    fn progress(&self, p: &ScenarioProgress, spent: Duration) -> (f64, Vec<String>) {
        let dur = self.regular;
        let frac = |spent: Duration| {
            if dur.is_zero() {
                1.0
            } else {
                (spent.as_secs_f64() / dur.as_secs_f64()).min(1.0)
            }
        };
        let (done, total) = p.iterations();
        let total = if total == 0 { self.iterations } else { total };
        let iter_frac = if total == 0 {
            1.0
        } else {
            done as f64 / total as f64
        };
        let fixed = |spent: Duration| format!("{}/{}", fixed_duration(spent, dur), go(dur));
        match &self.executor {
            ExecutorConfig::ConstantVus { .. } => {
                let mut right = vec![format!("{} VUs", self.vus)];
                if spent > dur {
                    right.push(go(dur));
                    return (1.0, right);
                }
                right.push(fixed(spent));
                (frac(spent), right)
            }
            ExecutorConfig::SharedIterations { .. } => {
                let w = int_width(total);
                (
                    iter_frac,
                    vec![
                        format!("{:0vw$} VUs", self.vus, vw = int_width(self.vus)),
                        fixed(spent),
                        format!("{done:0w$}/{total:0w$} shared iters"),
                    ],
                )
            }
            ExecutorConfig::PerVuIterations { iterations, .. } => {
                let w = int_width(total);
                let mut right = vec![
                    format!("{:0vw$} VUs", self.vus, vw = int_width(self.vus)),
                    go(dur),
                    format!("{done:0w$}/{total:0w$} iters, {iterations} per VU"),
                ];
                if spent > dur {
                    return (1.0, right);
                }
                right[1] = fixed(spent);
                (iter_frac, right)
            }
            ExecutorConfig::RampingVus { .. } | ExecutorConfig::ExternallyControlled { .. } => {
                let w = int_width(self.max_vus);
                let vus = format!("{:0w$}/{:0w$} VUs", p.vus_active(), self.max_vus);
                if spent > dur {
                    return (1.0, vec![vus, go(dur)]);
                }
                let status = format!(
                    "{}/{}",
                    fixed_duration(spent, dur),
                    fixed_duration(dur, dur)
                );
                (frac(spent), vec![vus, status])
            }
            ExecutorConfig::ConstantArrivalRate {
                rate, time_unit_ns, ..
            } => {
                let r = self.per_sec(*rate as f64, *time_unit_ns);
                self.arrival(p, spent, float_fixed(r, r), frac(spent))
            }
            ExecutorConfig::RampingArrivalRate {
                start_rate,
                time_unit_ns,
                stages,
                ..
            } => {
                let max = stages.iter().map(|s| s.target).fold(*start_rate, u64::max);
                let max = self.per_sec(max as f64, *time_unit_ns);
                let now = self.ramping_rate(*start_rate, stages, *time_unit_ns, spent);
                self.arrival(p, spent, float_fixed(now, max), frac(spent))
            }
        }
    }

    fn arrival(
        &self,
        p: &ScenarioProgress,
        spent: Duration,
        rate: String,
        frac: f64,
    ) -> (f64, Vec<String>) {
        let w = int_width(self.max_vus);
        let mut right = vec![
            format!("{:0w$}/{:0w$} VUs", p.iterations_running(), p.vus_active()),
            go(self.regular),
            format!("{rate} iters/s"),
        ];
        if spent > self.regular {
            return (1.0, right);
        }
        right[1] = format!(
            "{}/{}",
            fixed_duration(spent, self.regular),
            go(self.regular)
        );
        (frac, right)
    }
}

/// One bar's parts before layout (k6 `ProgressBarRender`).
struct BarRender {
    left: String,
    status: Status,
    progress: f64,
    right: Vec<String>,
    /// The `running (...)` line replaces the whole bar.
    hijack: Option<String>,
}

struct Display {
    shared: Arc<TestShared>,
    abort: TestAbort,
    scenarios: Vec<ScenarioView>,
    max_vus: u64,
    max_duration: Duration,
    tty: bool,
    colors: bool,
    term_width: i64,
    width_delta: i64,
    /// Each bar's current width (k6 keeps it between frames).
    widths: Vec<i64>,
    max_left: usize,
}

fn terminal_width() -> Option<i64> {
    #[cfg(unix)]
    {
        // SAFETY: TIOCGWINSZ only writes the winsize struct we pass; stdout's fd stays open.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) };
        if r == 0 && ws.ws_col > 0 {
            return Some(i64::from(ws.ws_col));
        }
    }
    None
}

impl Display {
    fn new(
        shared: Arc<TestShared>,
        plan: &TestPlan,
        abort: TestAbort,
        tty: bool,
        colors: bool,
    ) -> Self {
        let segment = banner::segment_length(plan);
        let t = &plan.tuple;
        let scenarios: Vec<ScenarioView> = banner::sorted_scenarios(plan)
            .into_iter()
            .map(|s| {
                let (vus, iterations, max_vus) = match &s.executor {
                    ExecutorConfig::SharedIterations {
                        vus, iterations, ..
                    } => (t.scale(*vus), t.scale(*iterations), 0),
                    ExecutorConfig::PerVuIterations {
                        vus, iterations, ..
                    } => (t.scale(*vus), t.scale(*vus) * iterations, 0),
                    ExecutorConfig::ConstantVus { vus, .. } => (t.scale(*vus), 0, 0),
                    ExecutorConfig::RampingVus { .. }
                    | ExecutorConfig::ExternallyControlled { .. } => (0, 0, plan.scenario_vus(s)),
                    ExecutorConfig::ConstantArrivalRate {
                        max_vus,
                        pre_allocated_vus,
                        ..
                    }
                    | ExecutorConfig::RampingArrivalRate {
                        max_vus,
                        pre_allocated_vus,
                        ..
                    } => {
                        let m = (*max_vus).max(*pre_allocated_vus);
                        (0, 0, t.resegment(m).map_or(0, |r| r.scale(m)))
                    }
                };
                ScenarioView {
                    name: s.name.clone(),
                    executor: s.executor.clone(),
                    start_time: Duration::from_nanos(s.start_time_ns),
                    regular: Duration::from_nanos(s.run_duration_ns()),
                    vus,
                    iterations,
                    max_vus,
                    segment,
                }
            })
            .collect();
        let longest = scenarios.iter().map(|s| s.name.len()).max().unwrap_or(0);
        let max_left = longest.max("Init".len()).min(MAX_LEFT);
        let term_width = if tty {
            terminal_width().unwrap_or(DEFAULT_TERM_WIDTH)
        } else {
            DEFAULT_TERM_WIDTH
        };
        Display {
            shared,
            abort,
            widths: vec![DEFAULT_WIDTH; scenarios.len() + 1],
            scenarios,
            max_vus: banner::max_possible_vus(plan),
            max_duration: banner::max_duration(plan),
            tty,
            colors,
            term_width,
            width_delta: if tty { 0 } else { -DEFAULT_WIDTH },
            max_left,
        }
    }

    fn run_line(&self) -> String {
        let c = &self.shared.execution;
        let status = match c.start_time() {
            Some(_) => format!(
                "running ({})",
                fixed_duration(c.current_test_run_duration(), self.max_duration)
            ),
            None => "running".to_string(),
        };
        let w = int_width(self.max_vus);
        format!(
            "{status}, {:0w$}/{:0w$} VUs, {} complete and {} interrupted iterations",
            c.vus_active(),
            c.vus_initialized(),
            c.iterations_completed(),
            c.iterations_interrupted(),
        )
    }

    fn scenario_bar(
        &self,
        view: &ScenarioView,
        progress: Option<&Arc<ScenarioProgress>>,
    ) -> BarRender {
        let left = if view.name.len() > self.max_left {
            format!("{}...", &view.name[..self.max_left.saturating_sub(3)])
        } else {
            view.name.clone()
        };
        let waiting = |rem: Duration| BarRender {
            left: left.clone(),
            status: Status::Waiting,
            progress: 0.0,
            right: vec!["waiting".to_string(), fixed_duration(rem, view.start_time)],
            hijack: None,
        };
        let Some(p) = progress else {
            if view.start_time.is_zero() {
                return BarRender {
                    left,
                    status: Status::Running,
                    progress: 0.0,
                    right: vec![],
                    hijack: None,
                };
            }
            return waiting(view.start_time);
        };
        let Some(started) = p.started_at() else {
            return waiting(view.start_time.saturating_sub(p.created_at().elapsed()));
        };
        let now = p.finished_at().unwrap_or_else(Instant::now);
        let spent = now.saturating_duration_since(started);
        let (progress, right) = view.progress(p, spent);
        let status = if p.finished_at().is_some() {
            if self.abort.is_aborted() || progress < 1.0 {
                Status::Interrupted
            } else {
                Status::Done
            }
        } else if spent > view.regular {
            Status::Stopping
        } else {
            Status::Running
        };
        BarRender {
            left,
            status,
            progress,
            right,
            hijack: None,
        }
    }

    /// One frame (k6 `renderMultipleBars`); with `go_back` on a terminal it ends by moving the
    /// cursor back to the frame's first line.
    fn render(&mut self, go_back: bool) -> String {
        let live = self.shared.execution.scenarios();
        let mut bars = vec![BarRender {
            left: "Init".into(),
            status: Status::Running,
            progress: 0.0,
            right: vec![],
            hijack: Some(self.run_line()),
        }];
        for v in &self.scenarios {
            let p = live.iter().find(|p| p.name == v.name);
            bars.push(self.scenario_bar(v, p));
        }
        let line_end = if self.tty { "\x1b[K\n" } else { "\n" };
        let mut max_col = [0usize; 2];
        let mut parts: Vec<(String, String, String)> = Vec::with_capacity(bars.len());
        for (i, bar) in bars.iter().enumerate() {
            // The bar's width follows the room left on the widest line (terminals only).
            let width = (self.widths[i] + self.width_delta).clamp(MIN_WIDTH, DEFAULT_WIDTH);
            self.widths[i] = width;
            let (fill, padding, percent) = if width > MIN_WIDTH {
                let space = (width - 2) as usize;
                let filled = (space as f64 * bar.progress.clamp(0.0, 1.0)) as usize;
                let fill = if filled == 0 {
                    String::new()
                } else if filled < space {
                    format!("{}>", "=".repeat(filled - 1))
                } else {
                    "=".repeat(filled)
                };
                (fill, "-".repeat(space - filled), None)
            } else {
                (
                    String::new(),
                    String::new(),
                    Some(format!("{:3.0}%", bar.progress * 100.0)),
                )
            };
            let body = |colors: bool| match &percent {
                Some(p) => format!("[ {p} ]"),
                None if colors => format!("[{fill}\x1b[2m{padding}\x1b[22m]"),
                None => format!("[{fill}{padding}]"),
            };
            if bar.hijack.is_none() {
                for (j, r) in bar.right.iter().enumerate() {
                    if j + 1 == bar.right.len() || j >= 2 {
                        break;
                    }
                    max_col[j] = max_col[j].max(r.len());
                }
            }
            parts.push((body(false), body(self.colors), String::new()));
        }
        let mut out = String::new();
        out.push_str(line_end);
        let mut line_breaks = 0i64;
        let mut longest = 0i64;
        for (i, bar) in bars.iter().enumerate() {
            if let Some(h) = &bar.hijack {
                out.push_str(h);
                out.push_str(line_end);
                line_breaks += (h.chars().count() as i64 - TERM_PADDING) / self.term_width;
                continue;
            }
            let mut right = String::new();
            for (j, r) in bar.right.iter().enumerate() {
                let pad = max_col.get(j).copied().unwrap_or(0) + 1;
                let _ = write!(right, " {r:<pad$}");
            }
            let left = format!("{:<w$}", bar.left, w = self.max_left);
            let plain = format!(" {} ", bar.status.symbol());
            let line = format!("{left}{plain}{}{right}", parts[i].0);
            let n = line.chars().count() as i64;
            longest = longest.max(n);
            line_breaks += (n - TERM_PADDING) / self.term_width;
            if self.colors {
                let _ = write!(
                    out,
                    "{left} {} {}{right}",
                    bar.status.colored(true),
                    parts[i].1
                );
            } else {
                out.push_str(&line);
            }
            out.push_str(line_end);
        }
        if self.tty {
            self.width_delta = self.term_width - longest - TERM_PADDING;
            if go_back {
                let _ = write!(out, "\r\x1b[J\x1b[{}A", bars.len() as i64 + line_breaks + 1);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_format() {
        assert_eq!(clock(Duration::from_millis(5_000)), "0m05.0s");
        assert_eq!(clock(Duration::from_millis(65_300)), "1m05.3s");
    }

    #[test]
    fn fixed_length_durations_as_k6() {
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        assert_eq!(fixed_duration(ms(1000), s(3)), "1.0s");
        assert_eq!(fixed_duration(ms(1000), s(631)), "00m01.0s");
        assert_eq!(fixed_duration(ms(100), s(600)), "00m00.1s");
        assert_eq!(fixed_duration(ms(4_000), s(30)), "04.0s");
        assert_eq!(fixed_duration(ms(65_300), s(120)), "1m05.3s");
        assert_eq!(fixed_duration(s(3600), s(7200)), "1h00m00.0s");
        assert_eq!(fixed_duration(s(5), s(3)), "5.0s");
    }

    #[test]
    fn fixed_widths() {
        assert_eq!(int_width(3), 1);
        assert_eq!(int_width(10), 2);
        assert_eq!(int_width(0), 1);
        assert_eq!(float_fixed(10.0, 10.0), "10.00");
        assert_eq!(float_fixed(2.5, 10.0), "02.50");
        assert_eq!(float_fixed(1.0, 2.0), "1.00");
    }
}
