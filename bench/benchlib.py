"""Helpers shared by the end-to-end benchmark scripts under bench/ (bench/run,
bench/durable-queue/run): pinning, starting and stopping the processes, reading their CPU time
and memory from /proc, waiting for otlp-sink's count, and summarising rounds.

Plain python3 from Debian, nothing else. Import it from a script in a subfolder of bench/ with

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import benchlib
"""

import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def pinned(cpus, argv):
    """argv run under `taskset -c cpus` (unchanged when taskset is missing)."""
    if cpus and shutil.which("taskset"):
        return ["taskset", "-c", cpus] + argv
    return argv


def read_until(proc, wanted, timeout, what):
    """Reads stdout lines of proc until one starts with `wanted`; returns all lines read."""
    lines = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{what} exited before '{wanted}': {lines}")
        lines.append(line.strip())
        if line.startswith(wanted):
            return lines
    raise RuntimeError(f"{what} did not print '{wanted}' in {timeout}s")


def listening(lines, proto):
    """The HOST:PORT from a 'NAME: listening [component] PROTO HOST:PORT' line, or None."""
    for line in lines:
        words = line.split()
        if "listening" in words and proto in words:
            return words[-1]
    return None


def stop(proc, timeout=60):
    """SIGTERM, then SIGKILL after `timeout` seconds; returns the exit code."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def cpu_seconds(pid):
    """User + system CPU time of a process so far, all its threads (from /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_status(pid):
    """VmRSS and VmHWM in KiB and the thread count, from /proc/PID/status."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
            elif key == "Threads":
                out[key] = int(value)
    return out


class Sampler:
    """Samples a process's CPU time and VmRSS every `period` seconds on a thread, until stop().

    samples: (wall seconds since start, CPU seconds so far, VmRSS KiB) tuples.
    """

    def __init__(self, pid, period=0.1):
        self.pid = pid
        self.period = period
        self.samples = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._t0 = time.monotonic()
        self._thread.start()

    def _run(self):
        next_at = time.monotonic()
        while not self._done.is_set():
            try:
                cpu = cpu_seconds(self.pid)
                rss = proc_status(self.pid)["VmRSS"]
            except (OSError, KeyError, IndexError, ValueError):
                return  # the process is gone
            self.samples.append((time.monotonic() - self._t0, cpu, rss))
            next_at += self.period
            self._done.wait(max(0.0, next_at - time.monotonic()))

    def stop(self):
        self._done.set()
        self._thread.join()
        return self.samples

    @staticmethod
    def summary(samples, window=1.0):
        """CPU share (1.0 = one core) over the whole span and its max over `window`-second
        windows; VmRSS average and max in MiB. Windows are built from consecutive samples, so
        a 1 s window spans ten 100 ms samples (the 10 ms clock tick makes a single 100 ms
        sample too coarse to read a few percent from)."""
        if len(samples) < 2:
            return None
        t0, c0, _ = samples[0]
        t1, c1, _ = samples[-1]
        step = max(1, round(window / ((t1 - t0) / (len(samples) - 1))))
        shares = [(samples[i][1] - samples[i - step][1]) / (samples[i][0] - samples[i - step][0])
                  for i in range(step, len(samples))]
        rss = [s[2] for s in samples]
        return {
            "cpu_avg": (c1 - c0) / (t1 - t0),
            "cpu_max": max(shares) if shares else (c1 - c0) / (t1 - t0),
            "rss_avg_mib": statistics.mean(rss) / 1024,
            "rss_max_mib": max(rss) / 1024,
            "window_s": window,
            "samples": len(samples),
        }


def read_json(path):
    """The JSON object in path, or {} when it is missing or half written."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def wait_for_items(sink_json, wanted, timeout=120):
    """Waits until otlp-sink's --json file counts at least `wanted` items; returns its totals."""
    deadline = time.time() + timeout
    got = {}
    while time.time() < deadline:
        got = read_json(sink_json)
        if got.get("items", 0) >= wanted:
            break
        time.sleep(0.2)
    return got


def spread(values):
    """median, min and max of a list of numbers."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def fmt_rate(x):
    """1234567 -> '1.23M', 45678 -> '45.7k'."""
    if x is None:
        return "–"
    return f"{x / 1000:.1f}k" if x < 1e6 else f"{x / 1e6:.2f}M"


def fmt_spread(s, fmt=fmt_rate, unit=""):
    """'median (min–max)unit' of a spread() with fmt applied to each number."""
    if s is None:
        return "–"
    return f"{fmt(s['median'])} ({fmt(s['min'])}–{fmt(s['max'])}){unit}"


def machine():
    """What the numbers were measured on."""
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    return {"host": platform.node(), "cpus": os.cpu_count(), "cpu_model": model,
            "mem_gib": round(mem_kib / 1024 / 1024, 1), "kernel": platform.release(),
            "loadavg": load}


def results_path(name, out=None):
    """out, or bench/results/NAME-YYYYmmdd-HHMMSS.json."""
    if out:
        return out
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return os.path.join(ROOT, "bench", "results", f"{name}-{stamp}.json")


def write_json(path, obj):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
