#!/usr/bin/env python3
"""Run one benchmark command and append one JSON line of measurements to a results file.

Usage: measure.py --results F --section S --engine E --param P --round N --log F --timeout SECS
                  [--status-url URL] [--mark-log F --tag TAG] [--rss-every SECS] -- CMD...

Measured: exit code (or "timeout"), wall time, user and system CPU seconds and peak RSS of the
process (getrusage via wait4: ru_maxrss is the kernel's VmHWM at exit, in KiB), requests counted by
the target (nginx stub_status before/after) and, with --mark-log/--tag, the time from just before the
process was started to the target logging the first `/mark?tag=TAG` request (t_first_s) and the
last one (t_last_mark_s: with one /mark per VU, when the last VU made its first request), and the
number of those requests (marks). With --rss-every, the process's VmRSS is sampled every SECS
seconds (rss_series: [[seconds since start, KiB], ...]).
"""
import argparse
import json
import os
import signal
import subprocess
import threading
import time
import urllib.request


def server_requests(url):
    if not url:
        return None
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            lines = r.read().decode().splitlines()
        return int(lines[2].split()[2])  # "accepts handled requests" -> requests
    except (OSError, ValueError, IndexError):
        return None


def marks(path, tag, deadline):
    """(earliest, latest, count) of the nginx $msec logged for tag, waiting briefly for a line."""
    needle = f"tag={tag}"
    while True:
        found = []
        try:
            with open(path) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 2 and needle in parts[1].split("&"):
                        found.append(float(parts[0]))
        except OSError:
            pass
        if found:
            return min(found), max(found), len(found)
        if time.time() > deadline:
            return None, None, 0
        time.sleep(0.05)


def vm_rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def sample_rss(pid, every, t0, series, done):
    """Append [seconds since t0, VmRSS KiB] every `every` seconds until done is set."""
    while not done.wait(every):
        kib = vm_rss_kib(pid)
        if kib is None:
            return
        series.append([round(time.monotonic() - t0, 1), kib])


def main():
    ap = argparse.ArgumentParser()
    for name in ("results", "section", "engine", "param", "round", "log"):
        ap.add_argument(f"--{name}", required=True)
    ap.add_argument("--timeout", type=float, required=True)
    ap.add_argument("--status-url", default="")
    ap.add_argument("--mark-log", default="")
    ap.add_argument("--tag", default="")
    ap.add_argument("--rss-every", type=float, default=0)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd

    reqs_before = server_requests(a.status_url)
    timed_out = threading.Event()
    with open(a.log, "w") as log:
        started = time.time()
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)

        def kill():
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(a.timeout, kill)
        timer.start()
        series, done = [], threading.Event()
        sampler = None
        if a.rss_every > 0:
            sampler = threading.Thread(target=sample_rss, args=(proc.pid, a.rss_every, t0, series, done))
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
        done.set()
        if sampler:
            sampler.join()
        wall = time.monotonic() - t0
    reqs_after = server_requests(a.status_url)
    rc = "timeout" if timed_out.is_set() else os.waitstatus_to_exitcode(status)
    row = {
        "section": a.section, "engine": a.engine, "param": a.param, "round": int(a.round),
        "rc": rc, "wall_s": round(wall, 4), "user_s": usage.ru_utime, "sys_s": usage.ru_stime,
        "maxrss_kib": usage.ru_maxrss, "cmd": cmd, "log": a.log,
    }
    if reqs_before is not None and reqs_after is not None:
        row["server_reqs"] = reqs_after - reqs_before - 1  # minus our own status request
    if a.mark_log and a.tag:
        first, last, count = marks(a.mark_log, a.tag, time.time() + 2)
        row["t_first_s"] = None if first is None else round(first - started, 4)
        row["t_last_mark_s"] = None if last is None else round(last - started, 4)
        row["marks"] = count
    if a.rss_every > 0:
        row["rss_series"] = series
    with open(a.results, "a") as f:
        f.write(json.dumps(row) + "\n")
    print(f"    rc={rc} wall={wall:.2f}s cpu={usage.ru_utime + usage.ru_stime:.2f}s "
          f"rss={usage.ru_maxrss / 1024:.0f}MiB"
          + (f" reqs={row['server_reqs']}" if "server_reqs" in row else "")
          + (f" first={row['t_first_s']}s" if "t_first_s" in row else "")
          + (f" last_mark={row['t_last_mark_s']}s marks={row['marks']}" if row.get("marks", 0) > 1 else "")
          + (f" rss_samples={len(series)} last_rss={series[-1][1] / 1024:.0f}MiB" if series else ""),
          flush=True)


if __name__ == "__main__":
    main()
