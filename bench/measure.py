#!/usr/bin/env python3
"""Run one benchmark command and append one JSON line of measurements to a results file.

Usage: measure.py --results F --section S --engine E --param P --round N --log F --timeout SECS
                  [--status-url URL] [--mark-log F --tag TAG] -- CMD...

Measured: exit code (or "timeout"), wall time, user and system CPU seconds and peak RSS of the
process (getrusage via wait4: ru_maxrss is the kernel's VmHWM at exit, in KiB), requests counted by
the target (nginx stub_status before/after) and, with --mark-log/--tag, the time from just before the
process was started to the target logging the first `/mark?tag=TAG` request.
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


def first_mark(path, tag, deadline):
    """Earliest nginx $msec logged for tag, waiting briefly for the log line to appear."""
    needle = f"tag={tag}"
    while True:
        try:
            with open(path) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 2 and needle in parts[1].split("&"):
                        return float(parts[0])
        except OSError:
            pass
        if time.time() > deadline:
            return None
        time.sleep(0.05)


def main():
    ap = argparse.ArgumentParser()
    for name in ("results", "section", "engine", "param", "round", "log"):
        ap.add_argument(f"--{name}", required=True)
    ap.add_argument("--timeout", type=float, required=True)
    ap.add_argument("--status-url", default="")
    ap.add_argument("--mark-log", default="")
    ap.add_argument("--tag", default="")
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
        _, status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
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
        mark = first_mark(a.mark_log, a.tag, time.time() + 2)
        row["t_first_s"] = None if mark is None else round(mark - started, 4)
    with open(a.results, "a") as f:
        f.write(json.dumps(row) + "\n")
    print(f"    rc={rc} wall={wall:.2f}s cpu={usage.ru_utime + usage.ru_stime:.2f}s "
          f"rss={usage.ru_maxrss / 1024:.0f}MiB"
          + (f" reqs={row['server_reqs']}" if "server_reqs" in row else "")
          + (f" first={row['t_first_s']}s" if "t_first_s" in row else ""), flush=True)


if __name__ == "__main__":
    main()
