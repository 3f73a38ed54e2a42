#!/usr/bin/env python3
"""Summarise bench/run.sh results: medians per engine and the ratio loadgate/k6 per figure.

Usage: report.py RESULTS.jsonl [--rps-seconds S]
Exit status 1 when any run failed (non-zero exit or timeout), so a 5,000-VU run that does not
complete fails the benchmark.
"""
import argparse
import json
import statistics


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(v, digits=2):
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--rps-seconds", type=float, default=15.0)
    a = ap.parse_args()
    with open(a.results) as f:
        rows = [json.loads(line) for line in f if line.strip()]

    failed = [r for r in rows if r["rc"] != 0]
    ok = [r for r in rows if r["rc"] == 0 and r["section"] != "rw"]
    rw = [r for r in rows if r["rc"] == 0 and r["section"] == "rw"]

    def per_run(r):
        """(figure name, unit, value) for one successful run."""
        cpu = r["user_s"] + r["sys_s"]
        if r["section"] == "rps":
            reqs = r.get("server_reqs") or 0
            yield "requests/s", "req/s", reqs / a.rps_seconds if reqs else None
            yield "CPU-s per 10k requests", "s", cpu / reqs * 1e4 if reqs else None
        elif r["section"] == "mem":
            vus = int(r["param"])
            yield f"peak RSS at {vus} VUs", "MiB", r["maxrss_kib"] / 1024
            yield f"RSS per VU at {vus} VUs", "KiB", r["maxrss_kib"] / vus
        elif r["section"] == "startup":
            t = r.get("t_first_s")
            yield "start to first request (1 VU)", "ms", None if t is None else t * 1000
        elif r["section"] in ("first", "big"):
            vus = int(r["param"])
            what = f"{vus} VUs" + (", big: noConnectionReuse" if r["section"] == "big" and reuse_off(r) else "")
            t, last = r.get("t_first_s"), r.get("t_last_mark_s")
            yield f"start to first request ({what})", "ms", None if t is None else t * 1000
            yield f"start to last VU's first request ({what})", "ms", None if last is None else last * 1000
            yield f"VUs that made a request ({what})", "VUs", r.get("marks")
            yield f"peak RSS ({what})", "MiB", r["maxrss_kib"] / 1024
            yield f"RSS per VU ({what})", "KiB", r["maxrss_kib"] / vus
            if r["section"] == "big":
                yield f"requests ({what})", "req", r.get("server_reqs")
                yield f"CPU-s ({what})", "s", cpu
        elif r["section"] == "trend":
            series = r.get("rss_series") or []
            if series:
                early = next((kib for t, kib in series if t >= 60), series[0][1])
                yield "trend: RSS after 1 min (50 VUs, no sleep)", "MiB", early / 1024
                yield f"trend: RSS at the end ({series[-1][0]:.0f} s)", "MiB", series[-1][1] / 1024
                yield "trend: RSS growth from 1 min to the end", "MiB", (series[-1][1] - early) / 1024
                yield "trend: highest RSS sample", "MiB", max(kib for _, kib in series) / 1024
            yield "trend: requests", "req", r.get("server_reqs")

    figures = {}  # name -> {"unit", engine -> [values]}
    order = []
    for r in ok:
        for name, unit, value in per_run(r):
            if name not in figures:
                figures[name] = {"unit": unit}
                order.append(name)
            figures[name].setdefault(r["engine"], []).append(value)

    # Marginal memory per extra VU between the smallest and largest VU counts.
    mem = {}
    for r in ok:
        if r["section"] == "mem":
            mem.setdefault(r["engine"], {}).setdefault(int(r["param"]), []).append(r["maxrss_kib"])
    for engine, by_vus in mem.items():
        if len(by_vus) >= 2:
            lo, hi = min(by_vus), max(by_vus)
            name = f"RSS per extra VU ({lo}->{hi})"
            if name not in figures:
                figures[name] = {"unit": "KiB"}
                order.append(name)
            figures[name][engine] = [(median(by_vus[hi]) - median(by_vus[lo])) / (hi - lo)]

    runs = {}
    for r in rows:
        runs.setdefault(r["engine"], set()).add((r["section"], r["param"], r["round"]))
    print(f"\n{len(rows)} runs ({len(failed)} failed); medians over rounds; ratio = loadgate / k6\n")
    print("| figure | unit | k6 | loadgate | ratio |")
    print("|---|---|---:|---:|---:|")
    for name in order:
        fig = figures[name]
        k6, ours = median(fig.get("k6", [])), median(fig.get("loadgate", []))
        ratio = ours / k6 if k6 and ours is not None else None
        print(f"| {name} | {fig['unit']} | {fmt(k6)} | {fmt(ours)} | {fmt(ratio, 3)} |")
    big = [r for r in rows if r["section"] == "big"]
    if big:
        print("\nbig section, runs completed (exit 0 within the timeout) / runs:")
        for engine in sorted({r["engine"] for r in big}):
            mine = [r for r in big if r["engine"] == engine]
            print(f"  {engine}: {sum(r['rc'] == 0 for r in mine)} / {len(mine)} at {mine[0]['param']} VUs")
    trend = [r for r in ok if r["section"] == "trend" and r.get("rss_series")]
    if trend:
        print_trend(trend)
    if rw:
        print_rw(rw, a.rps_seconds)
    if failed:
        print("\nFAILED runs:")
        for r in failed:
            print(f"  {r['section']} {r['param']} round {r['round']} {r['engine']}: rc={r['rc']}, log {r['log']}")
    return 1 if failed else 0


def reuse_off(r):
    return "NO_REUSE=1" in r.get("cmd", [])


def print_trend(rows):
    """VmRSS per engine at every full minute of the trend runs (median over rounds)."""
    by = {}
    for r in rows:
        for t, kib in r["rss_series"]:
            by.setdefault(r["engine"], {}).setdefault(int(t // 60), {}).setdefault(r["round"], kib)
    engines = sorted(by)
    minutes = sorted({m for e in engines for m in by[e]})
    print("\ntrend: VmRSS (MiB) at the first sample of each minute, median over rounds\n")
    print("| minute | " + " | ".join(engines) + " |")
    print("|---:|" + "---:|" * len(engines))
    for m in minutes:
        cells = [fmt(median(list(by[e].get(m, {}).values())) / 1024) if by[e].get(m) else "n/a" for e in engines]
        print(f"| {m} | " + " | ".join(cells) + " |")


def print_rw(rows, seconds):
    """Remote write off vs on (loadgate only): medians and the overhead on/off - 1."""
    def figs(engine):
        rps, cpu = [], []
        for r in rows:
            if r["engine"] == engine and r.get("server_reqs"):
                rps.append(r["server_reqs"] / seconds)
                cpu.append((r["user_s"] + r["sys_s"]) / r["server_reqs"] * 1e4)
        return median(rps), median(cpu)
    off, on = figs("loadgate"), figs("loadgate-rw")
    print("\nPrometheus remote write, 50 VUs (rps.js), loadgate off vs on; overhead = on / off - 1\n")
    print("| figure | unit | rw off | rw on | overhead |")
    print("|---|---|---:|---:|---:|")
    for i, (name, unit) in enumerate([("requests/s", "req/s"), ("CPU-s per 10k requests", "s")]):
        a, b = off[i], on[i]
        over = f"{(b / a - 1) * 100:+.1f}%" if a and b is not None else "n/a"
        print(f"| {name} | {unit} | {fmt(a)} | {fmt(b)} | {over} |")


if __name__ == "__main__":
    raise SystemExit(main())
