//! Fuzzing without a fuzzer: the parsers that take user input (the CloudEvent parser, the
//! threshold parser, the Go-duration parser) get thousands of inputs mutated from seeds that each
//! once broke something (huge numbers, inf, deep nesting, odd units, control characters), plus
//! random JSON values. None may panic. A seeded generator keeps a failure reproducible (the input
//! is printed); each target stops after its iteration cap or its time budget (1 s, or
//! `LOADGATE_FUZZ_SECONDS`), so CI spends seconds, not minutes.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use loadgate::engine::duration::GoDuration;
use loadgate::keptn::event::{decode_structured, parse_triggered};
use loadgate::metrics::thresholds::parser::{parse_expression, parse_metric_key, parse_thresholds};
use serde_json::{Value, json};

/// xorshift64*: small, seedable, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

const PIECES: &[&str] = &[
    "",
    "0",
    "1",
    "-",
    "+",
    ".",
    "e",
    "E",
    "e400",
    "1e308",
    "inf",
    "Inf",
    "NaN",
    "nan",
    "h",
    "m",
    "s",
    "ms",
    "us",
    "µs",
    "μs",
    "ns",
    "d",
    "9223372036854775807",
    "18446744073709551616",
    " ",
    "\t",
    "\n",
    "\0",
    "\u{202e}",
    "é",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "\\",
    "<",
    ">",
    "=",
    "!",
    "<=",
    ">=",
    "==",
    "!=",
    "===",
    "p(",
    "p(99.9)",
    "p(100)",
    "p(-1)",
    "avg",
    "med",
    "min",
    "max",
    "count",
    "rate",
    "value",
    "__proto__",
];

/// One mutation of `seed`: insert, delete, duplicate, or splice a piece.
fn mutate(rng: &mut Rng, seed: &str) -> String {
    let mut s: Vec<char> = seed.chars().collect();
    for _ in 0..=rng.below(4) {
        let at = rng.below(s.len() + 1);
        match rng.below(4) {
            0 => {
                let p: Vec<char> = rng.pick(PIECES).chars().collect();
                s.splice(at..at, p);
            }
            1 if !s.is_empty() => {
                let end = (at + rng.below(4)).min(s.len());
                s.drain(at.min(end)..end);
            }
            2 if !s.is_empty() => {
                let start = at.min(s.len() - 1);
                let end = (start + 1 + rng.below(8)).min(s.len());
                let chunk: Vec<char> = s[start..end].to_vec();
                for _ in 0..rng.below(50) {
                    s.splice(start..start, chunk.iter().copied());
                }
            }
            _ => {
                if let Some(c) = s.get_mut(at) {
                    *c = char::from_u32(rng.next() as u32 % 0x3000).unwrap_or('?');
                }
            }
        }
    }
    s.into_iter().collect()
}

/// A random JSON value, up to `depth` levels deep (sometimes a 10,000-deep array).
fn value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth == 0 { 6 } else { 9 }) {
        0 => Value::Null,
        1 => json!(rng.below(2) == 0),
        2 => json!(rng.pick(&[0.0, -1.0, 1e308, -1e308, 0.5, 1e-300, 9.007e15])),
        3 => json!(rng.next() as i64),
        4 => json!(mutated(rng, PIECES)),
        5 if rng.below(50) == 0 => {
            serde_json::from_str(&format!("{}{}", "[".repeat(100), "]".repeat(100)))
                .unwrap_or(Value::Null)
        }
        5 => json!("x".repeat(rng.below(100_000))),
        6 | 7 => {
            let n = rng.below(5);
            Value::Array((0..n).map(|_| value(rng, depth - 1)).collect())
        }
        _ => {
            let n = rng.below(5);
            Value::Object(
                (0..n)
                    .map(|_| (mutated(rng, PIECES), value(rng, depth - 1)))
                    .collect(),
            )
        }
    }
}

/// A mutation of one of `seeds`.
fn mutated(rng: &mut Rng, seeds: &[&str]) -> String {
    let seed = rng.pick(seeds);
    mutate(rng, seed)
}

/// Runs `check` on `make`'s inputs until the cap or the budget; a panic names the input.
fn fuzz<T: std::fmt::Debug>(
    name: &str,
    seed: u64,
    cap: usize,
    mut make: impl FnMut(&mut Rng) -> T,
    check: impl Fn(&T),
) {
    let budget = std::env::var("LOADGATE_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .map_or(Duration::from_secs(1), Duration::from_secs_f64);
    let cap = if std::env::var_os("LOADGATE_FUZZ_SECONDS").is_some() {
        usize::MAX
    } else {
        cap
    };
    let mut rng = Rng(seed);
    let start = Instant::now();
    let mut n = 0;
    while n < cap && start.elapsed() < budget {
        let input = make(&mut rng);
        if catch_unwind(AssertUnwindSafe(|| check(&input))).is_err() {
            let shown: String = format!("{input:?}").chars().take(2000).collect();
            panic!("{name} panicked on input #{n} (seed {seed}): {shown}");
        }
        n += 1;
    }
    assert!(n > 0, "{name}: no input was tried");
}

#[test]
fn the_duration_parser_never_panics() {
    let seeds = [
        "1h2m3.5s",
        "-1.5ms",
        "1e400s",
        "inf",
        "9223372036854775807ns",
        "2562047h47m16.854775807s",
        "1µs",
        "0",
        "",
        ".5s",
        "1.s",
        "1h-1m",
        "3d",
    ];
    fuzz(
        "GoDuration::parse",
        0x5eed_d0d0,
        20_000,
        |rng| mutated(rng, &seeds),
        |s| {
            if let Ok(d) = GoDuration::parse(s) {
                let _ = d.to_std();
            }
        },
    );
    fuzz(
        "GoDuration::from_json",
        0x5eed_d0d1,
        5_000,
        |rng| value(rng, 2),
        |v| {
            let _ = GoDuration::from_json(v);
        },
    );
}

#[test]
fn the_threshold_parser_never_panics() {
    let expressions = [
        "p(99.9)<300",
        "count>0",
        "rate==1",
        "avg< 200",
        "med>=1e308",
        "p(100)<inf",
        "max<=-0",
        "value!=NaN",
        "p(0)<1",
        "rate<0.01",
    ];
    fuzz(
        "parse_expression",
        0x7e57_0001,
        20_000,
        |rng| mutated(rng, &expressions),
        |s| {
            let _ = parse_expression(s);
        },
    );
    let keys = [
        "http_req_duration{scenario:a,status:200}",
        "checks{check:ok}",
        "http_reqs",
        "my_metric{tag:{nested}}",
        "a{b:c:d}",
        "x{}",
    ];
    fuzz(
        "parse_metric_key",
        0x7e57_0002,
        20_000,
        |rng| mutated(rng, &keys),
        |s| {
            let _ = parse_metric_key(s);
        },
    );
    fuzz(
        "parse_thresholds",
        0x7e57_0003,
        3_000,
        |rng| {
            let mut v = json!({
                "http_req_duration": ["p(95)<500", {"threshold": "avg<1", "abortOnFail": true,
                    "delayAbortEval": "10s"}],
                "checks{check:ok}": ["rate==1"],
            });
            if let Some(o) = v.as_object_mut() {
                for _ in 0..rng.below(3) {
                    let k = mutated(rng, &keys);
                    let val = if rng.below(2) == 0 {
                        json!([mutated(rng, &expressions)])
                    } else {
                        json!([{"threshold": mutated(rng, &expressions),
                            "abortOnFail": value(rng, 1), "delayAbortEval": value(rng, 1)}])
                    };
                    o.insert(k, val);
                }
            }
            if rng.below(10) == 0 { value(rng, 3) } else { v }
        },
        |v| {
            let _ = parse_thresholds(v);
        },
    );
}

#[test]
fn the_cloudevent_parser_never_panics() {
    let fixture: Value =
        serde_json::from_str(include_str!("../../test-data/events/test.triggered.json")).unwrap();
    let types = vec!["sh.keptn.event.test.triggered".to_string()];
    let check = |body: &Vec<u8>| {
        if let Ok(e) = decode_structured(body) {
            let _ = parse_triggered(&e, &types);
        }
    };
    // Byte-level mutations of the fixture's text.
    let text = fixture.to_string();
    fuzz(
        "decode_structured (text)",
        0xce_0001,
        3_000,
        |rng| mutate(rng, &text).into_bytes(),
        check,
    );
    // Structural: one field of the envelope or of data replaced by a random value.
    fuzz(
        "decode_structured (fields)",
        0xce_0002,
        5_000,
        |rng| {
            let mut ev = fixture.clone();
            let paths: &[&[&str]] = &[
                &["id"],
                &["type"],
                &["source"],
                &["specversion"],
                &["shkeptncontext"],
                &["data"],
                &["data", "project"],
                &["data", "stage"],
                &["data", "service"],
                &["data", "labels"],
                &["data", "test"],
                &["data", "test", "teststrategy"],
                &["data", "deployment"],
                &["data", "deployment", "deploymentURIsLocal"],
                &["datacontenttype"],
                &["gitcommitid"],
            ];
            let path = rng.pick(paths);
            let mut at = &mut ev;
            for (i, k) in path.iter().enumerate() {
                if i + 1 == path.len() {
                    if rng.below(8) == 0 {
                        if let Some(o) = at.as_object_mut() {
                            o.remove(*k);
                        }
                    } else {
                        at[*k] = value(rng, 3);
                    }
                    break;
                }
                at = &mut at[*k];
            }
            ev.to_string().into_bytes()
        },
        check,
    );
}
