#!/usr/bin/python3
"""BENCHMARKS.md from the JSON lines bench/run.sh collected (bench/README.md).

  report.py machine                    machine facts as JSON
  report.py time-load CALLROUTE FILE [k=v...]  one timed `callroute check FILE`
  report.py missed RESULTS             ids of goals missed (for profiling)
  report.py write RESULTS OUT.md       the report

Every figure is the median of the runs with min-max; every goal of issue 7
is read against the peer measured in the same run.
"""
import datetime
import glob
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time


# ---------------------------------------------------------------- collection

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                              timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine():
    cpu = sh("lscpu | sed -n 's/^Model name: *//p'") or platform.processor()
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    osr = sh(". /etc/os-release && echo \"$PRETTY_NAME\"")
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem_kb / 1048576, 1),
        "kernel": platform.release(), "os": osr,
        "virt": ", ".join(x for x in (
            (lambda h: f"{h} virtual machine" if h else "")(
                sh("lscpu | sed -n 's/^Hypervisor vendor: *//p'")),
            (lambda c: f"{c} container" if c and c != "none" else "")(
                sh("systemd-detect-virt --container 2>/dev/null"))) if x),
        "cc": sh("cc --version | head -1"),
        "kamailio": sh("kamailio -v 2>/dev/null | head -1 | sed 's/^version: //'"),
        "sipp": sh("sipp -v 2>&1 | grep -o 'SIPp v[^ ]*' | head -1"),
        "lua": sh("lua5.4 -v 2>&1 | grep -o 'Lua [0-9.]*' | head -1"),
        "load": open("/proc/loadavg").read().split()[:3],
    }


def time_load(binary, path, extra):
    """Times one `callroute check FILE` (load, validate, compile); EXTRA
    key=value pairs describe the file in the record."""
    t0 = time.time()
    p = subprocess.Popen([binary, "check", path], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.time() - t0
    rec = {"bench": "load", "file_bytes": os.path.getsize(path),
           "exit": os.waitstatus_to_exitcode(status), "wall_s": round(wall, 4),
           "cpu_s": round(ru.ru_utime + ru.ru_stime, 4), "maxrss_kb": ru.ru_maxrss}
    for kv in extra:
        k, _, v = kv.partition("=")
        rec[k] = int(v) if v.isdigit() else v
    print(json.dumps(rec))
    return 0 if rec["exit"] == 0 else 1


def read_jsonl(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
    except OSError:
        pass
    return out


class Fig:
    """One figure over runs: median, min, max."""

    def __init__(self, xs):
        self.xs = [x for x in xs if isinstance(x, (int, float)) and not isinstance(x, bool)]

    def __bool__(self):
        return bool(self.xs)

    @property
    def med(self):
        return statistics.median(self.xs) if self.xs else None

    def fmt(self, unit="", digits=None):
        if not self.xs:
            return "—"
        m = fmtnum(self.med, digits)
        if len(self.xs) == 1 or min(self.xs) == max(self.xs):
            return f"{m}{unit}"
        return f"{m}{unit} ({fmtnum(min(self.xs), digits)}–{fmtnum(max(self.xs), digits)})"


def fmtnum(x, digits=None):
    if x is None:
        return "—"
    if isinstance(x, bool):
        return str(x).lower()
    if digits is None and float(x).is_integer():
        digits = 0
    if digits is None:
        a = abs(x)
        digits = 0 if a >= 100 else 1 if a >= 10 else 2 if a >= 0.1 else 3
    if digits == 0:
        return f"{round(x):,}"
    return f"{x:,.{digits}f}"


def aggregate(runs):
    """runs: list of record lists (one per run). Records are matched across
    runs by (bench, phase, ordinal); returns [(first record, {field: [values]})]."""
    groups, order = {}, []
    for recs in runs:
        seen = {}
        for r in recs:
            k = (r.get("bench"), r.get("phase"))
            n = seen.get(k, 0)
            seen[k] = n + 1
            key = k + (n,)
            if key not in groups:
                groups[key] = (r, {})
                order.append(key)
            vals = groups[key][1]
            for f, v in r.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    vals.setdefault(f, []).append(v)
    return [groups[k] for k in order]


class Results:
    def __init__(self, res):
        self.dir = res
        self.machine = self._json("machine.json") or {}
        mode = self._json("mode.json") or {}
        self.quick = mode.get("quick", False)
        self.seconds = mode.get("seconds")
        self.status = {}
        try:
            with open(os.path.join(res, "status.tsv")) as f:
                for line in f:
                    p = line.rstrip("\n").split("\t")
                    if len(p) >= 2:
                        self.status[p[0]] = (p[1], p[2] if len(p) > 2 else "")
        except OSError:
            pass
        self.sets = {}        # name -> aggregate()
        names = set()
        for f in glob.glob(os.path.join(res, "*.run*.jsonl")):
            names.add(re.sub(r"\.run\d+\.jsonl$", "", os.path.basename(f)))
        for n in sorted(names):
            files = sorted(glob.glob(os.path.join(res, f"{n}.run*.jsonl")),
                           key=lambda p: int(re.search(r"run(\d+)", p).group(1)))
            self.sets[n] = aggregate([read_jsonl(f) for f in files])
        self.sip = {}
        for f in glob.glob(os.path.join(res, "sip-*.jsonl")):
            for r in read_jsonl(f):
                self.sip.setdefault(r.get("peer", "?"), []).append(r)
        self.others = []      # (bench, rec, vals) from every set, for lookups
        for n, agg in self.sets.items():
            for rec, vals in agg:
                self.others.append((n, rec, vals))
        for peer, recs in self.sip.items():
            for r in recs:
                if r.get("bench") not in (None, "sip"):
                    self.others.append((f"sip-{peer}", r, {k: [v] for k, v in r.items()
                                                           if isinstance(v, (int, float))}))

    def _json(self, name):
        try:
            with open(os.path.join(self.dir, name)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def find(self, bench, where=None):
        """[(rec, vals)] whose 'bench' is BENCH and where(rec) holds."""
        out = []
        for _, rec, vals in self.others:
            if rec.get("bench") == bench and (where is None or where(rec)):
                out.append((rec, vals))
        return out


def pick(vals, *names):
    """The first field of NAMES present: a Fig."""
    for n in names:
        if n in vals:
            return Fig(vals[n])
    return Fig([])


def pick_name(vals, *names):
    for n in names:
        if n in vals:
            return n
    return None


def file_text(path):
    try:
        with open(path) as f:
            return f.read().rstrip()
    except OSError:
        return ""


# ---------------------------------------------------------------- goals

KB3 = 3 * 1024


def where_missing(R, *names):
    """Why a figure is absent: from status.tsv, else 'not written yet'."""
    for n in names:
        st = R.status.get(n)
        if st and st[0] != "ok":
            return f"not yet measured ({n}: {st[0]}{', ' + st[1] if st[1] else ''})"
        if st:
            return f"not yet measured ({n} ran but printed no such figure)"
    return f"not yet measured ({' / '.join(names)} not written yet)"


def engine_fig(R, *fields):
    for rec, vals in R.find("engine"):
        f = pick(vals, *fields)
        if f:
            return f, rec
    return Fig([]), None


def lua_fig(R, name, field):
    for rec, vals in R.sets.get(name, []):
        if field in vals:
            return Fig(vals[field]), rec
    return Fig([]), None


def route_at(R, n):
    """(ours, linear, ratio) Figs for the route table of N routes."""
    for rec, vals in R.find("route", lambda r: r.get("routes") == n):
        ours = pick(vals, "index_ns", "ns_per_select", "select_ns", "ns_per_call", "ns")
        lin = pick(vals, "linear_ns", "linear_ns_per_select", "scan_ns", "linear_ns_per_call")
        ratio = pick(vals, "ratio", "speedup")
        if not ratio and ours and lin:
            ratio = Fig([l / o for l, o in zip(lin.xs, ours.xs) if o])
        return ours, lin, ratio
    return Fig([]), Fig([]), Fig([])


def sip_steps(R, peer):
    return [r for r in R.sip.get(peer, []) if r.get("phase") == "step"]


def sip_at(R, peer, rate):
    return [r for r in sip_steps(R, peer) if r.get("rate") == rate]


def sip_ref(R, peer, rate):
    """Passing steps the CPU figure is taken from: the repeats at RATE when
    there are any. Each follows a step at the same rate, so the work a call
    leaves behind (transactions that linger past the drain and are freed in
    the next step) is paid at that rate: the steady state."""
    at = [r for r in sip_at(R, peer, rate) if r.get("pass")]
    rep = [r for r in at if str(r.get("tag", "")).startswith("repeat")]
    return rep or at


def highest_pass(R, peer):
    """(highest passing rate, highest rate tried, first failing step or None)."""
    steps = [r for r in sip_steps(R, peer) if str(r.get("tag", "")).startswith("step")]
    if not steps:
        return None, None, None
    ok = [r["rate"] for r in steps if r.get("pass")]
    fail = [r for r in steps if not r.get("pass")]
    return (max(ok) if ok else 0), max(r["rate"] for r in steps), (fail[0] if fail else None)


def sip_ref_rate(R):
    """The rate CPU-µs per call is compared at: 1,000 calls/s when both ran it."""
    cr, km = sip_steps(R, "callroute"), sip_steps(R, "kamailio")
    both = {r["rate"] for r in cr if r.get("pass")} & {r["rate"] for r in km if r.get("pass")}
    if 1000.0 in both or not both:
        return 1000.0
    return max(both)


def goals(R):
    G = []

    def add(gid, goal, ours, peer, ratio, met, note=""):
        G.append({"id": gid, "goal": goal, "ours": ours, "peer": peer, "ratio": ratio,
                  "met": met, "note": note})

    # Interpreter: time per step
    e, _ = engine_fig(R, "ns_per_step", "step_ns", "time_per_step_ns")
    l, _ = lua_fig(R, "lua-run", "ns_per_step")
    if e and l:
        add("interp-time", "Interpreter: time per action step ≤ Lua's",
            e.fmt(" ns"), l.fmt(" ns"), f"{e.med / l.med:.2f}× Lua", e.med <= l.med)
    else:
        add("interp-time", "Interpreter: time per action step ≤ Lua's",
            e.fmt(" ns") if e else where_missing(R, "engine_bench"), l.fmt(" ns"), "—", None)

    # Interpreter: memory per waiting call
    e, _ = engine_fig(R, "bytes_per_call", "bytes_per_waiting_call", "per_call_bytes")
    l, _ = lua_fig(R, "lua-memory", "bytes_per_call")
    if e and l:
        add("interp-mem", "Memory per waiting call ≤ 3 KB and below Lua's",
            e.fmt(" B"), l.fmt(" B"), f"{e.med / l.med:.2f}× Lua",
            e.med <= KB3 and e.med < l.med)
    else:
        add("interp-mem", "Memory per waiting call ≤ 3 KB and below Lua's",
            e.fmt(" B") if e else where_missing(R, "engine_bench"), l.fmt(" B"), "—", None)

    # Routes at 10,000
    ours, lin, ratio = route_at(R, 10000)
    if ours and ratio:
        add("route-10k", "Route selection at 10,000 routes ≥ 10× faster than the linear scan",
            ours.fmt(" ns"), lin.fmt(" ns") + " (linear scan)", ratio.fmt("×"), ratio.med >= 10)
    else:
        add("route-10k", "Route selection at 10,000 routes ≥ 10× faster than the linear scan",
            where_missing(R, "route_bench"), "—", "—", None)

    # SIP CPU per call
    rate = sip_ref_rate(R)
    cr = sip_ref(R, "callroute", rate)
    km = sip_ref(R, "kamailio", rate)
    c = Fig([r.get("cpu_us_per_call") for r in cr])
    k = Fig([r.get("cpu_us_per_call") for r in km])
    label = f"SIP: CPU-µs per B2BUA call ≤ 2× Kamailio's per proxied call (at {fmtnum(rate)} calls/s)"
    if c and k:
        add("sip-cpu", label, c.fmt(" µs"), k.fmt(" µs"), f"{c.med / k.med:.2f}× Kamailio",
            c.med <= 2 * k.med)
    else:
        add("sip-cpu", label, where_missing(R, "sip-callroute") if not c else c.fmt(" µs"),
            k.fmt(" µs") if k else where_missing(R, "sip-kamailio"), "—", None)

    # SIP rate on one core
    hp, top, fail = highest_pass(R, "callroute")
    gen, _, _ = highest_pass(R, "sipp-direct")
    if hp is not None:
        s = f"{fmtnum(hp)} calls/s"
        if hp == top:
            s = f"≥ {s} (highest step run)"
        note = ""
        if gen and hp >= 0.8 * gen:
            note = f"limited by the generator (sipp → sipp: {fmtnum(gen)} calls/s)"
        elif fail:
            note = f"first failing step {fmtnum(fail['rate'])} calls/s: {fail.get('why', '')}"
        khp, ktop, _ = highest_pass(R, "kamailio")
        kstr = "—" if khp is None else (f"≥ {fmtnum(khp)}" if khp == ktop else fmtnum(khp)) + " calls/s"
        add("sip-rate", "SIP: 0 failures at ≥ 1,000 calls/s on one core", s, kstr + " (Kamailio)",
            "—", hp >= 1000, note)
    else:
        add("sip-rate", "SIP: 0 failures at ≥ 1,000 calls/s on one core",
            where_missing(R, "sip-callroute"), "—", "—", None)

    # Media
    label = "Media: ≥ 500 bridged G.711 calls relayed on one core with < 0.1% loss"
    steps = [(r, v) for r, v in R.find("media") if r.get("phase", "step") == "step"]
    best = [(r, v) for r, v in R.find("media") if r.get("phase") == "best"]
    if best:
        r, v = best[0]
        calls = pick(v, "calls")
        top = max((x.get("calls", 0) for x, _ in steps), default=None)
        s_ = f"{calls.fmt()} calls ({pick(v, 'loss_pct').fmt('%', 3)} loss)"
        if top is not None and calls.med >= top:
            s_ = "≥ " + s_ + " (highest step run)"
        note = "limited by the generator" if r.get("limited_by_generator") else ""
        add("media", label, s_, "—", "—", calls.med >= 500, note)
    elif steps:
        ok = [r["calls"] for r, v in steps
              if r.get("calls") is not None and pick(v, "loss_pct").med is not None
              and pick(v, "loss_pct").med < 0.1 and r.get("load_offered", True)]
        add("media", label, f"{fmtnum(max(ok))} calls" if ok else "no step under 0.1% loss",
            "—", "—", bool(ok) and max(ok) >= 500)
    else:
        add("media", label, where_missing(R, "media_bench"), "—", "—", None)

    # Conference mixer (issue 15)
    label = "Mixer: 100 rooms × 50 G.711 members mixed on one core, < 0.1% of frames late"
    rt = [(r, v) for r, v in R.find("mixer") if r.get("phase") == "realtime"]
    if rt:
        r, v = rt[0]
        late, cpu = pick(v, "late_pct"), pick(v, "cpu_pct")
        ns = pick(v, "ns_per_member_frame")
        add("mixer", label, f"{late.fmt('%', 3)} late, {cpu.fmt('%')} of the core",
            "—", "—", late.med is not None and late.med < 0.1,
            f"{ns.fmt(' ns')} per member-frame, every member talking")
    else:
        add("mixer", label, where_missing(R, "mixer_bench"), "—", "—", None)
    return G


def cmd_missed(res):
    R = Results(res)
    for g in goals(R):
        if g["met"] is False:
            print(g["id"])
    return 0


# ---------------------------------------------------------------- report

def md_table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def generic_table(agg):
    """Every record of a set: its text fields, then each number median (min–max)."""
    if not agg:
        return ""
    lines = []
    for rec, vals in agg:
        text = ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in rec.items()
                         if k != "bench" and not isinstance(v, (int, float)) or isinstance(v, bool))
        nums = [(k, Fig(v)) for k, v in vals.items()]
        cells = ", ".join(f"{k} {f.fmt()}" for k, f in nums)
        lines.append(f"- **{rec.get('bench', '?')}**{' (' + text + ')' if text else ''}: {cells}")
    return "\n".join(lines)


def verdict(met):
    return "**met**" if met is True else "**missed**" if met is False else "not yet measured"


CAUSE_FILES = {
    "interp-time": "perf-engine_bench.txt",
    "route-10k": "perf-route_bench.txt", "sip-cpu": "perf-sip.txt", "sip-rate": "perf-sip.txt",
}


def sip_section(R):
    out = []
    peers = [p for p in ("callroute", "kamailio", "sipp-direct") if p in R.sip]
    peers += [p for p in R.sip if p not in peers]
    if not peers:
        return "Not yet measured.\n"
    rate = sip_ref_rate(R)
    gen, gtop, _ = highest_pass(R, "sipp-direct")
    rows = []
    for p in peers:
        hp, top, fail = highest_pass(R, p)
        hps = "—" if hp is None else (f"≥ {fmtnum(hp)}" if hp == top else fmtnum(hp))
        at = sip_ref(R, p, rate)
        cpu = Fig([r.get("cpu_us_per_call") for r in at])
        p50 = Fig([r.get("rtt_p50_ms") for r in at])
        p99 = Fig([r.get("rtt_p99_ms") for r in at])
        held = [r for r in R.sip[p] if r.get("phase") == "hold"]
        if not held:
            hold = "—"
        elif not held[0].get("pass", True):
            h = held[0]
            hold = ("failed: " + h.get("why", f"{h.get('held_calls')} of {2 * h['calls']} calls "
                                       f"held, {h.get('failed')} failed"))
        else:
            hold = (f"{fmtnum(held[0]['bytes_per_call'])} B "
                    f"({fmtnum(held[0].get('held_calls', held[0]['calls']))} held)")
        note = ""
        if p != "sipp-direct" and gen and hp is not None and hp >= 0.8 * gen:
            note = "limited by the generator"
        elif fail:
            note = f"fails at {fmtnum(fail['rate'])}: {fail.get('why', '')}"
        rows.append([p, hps, cpu.fmt(" µs") if p != "sipp-direct" else "—",
                     f"{p50.fmt()} / {p99.fmt()}", hold, note])
    out.append(md_table(["peer", "highest passing calls/s", f"CPU-µs per call at {fmtnum(rate)}/s",
                         f"INVITE→200 p50 / p99 ms at {fmtnum(rate)}/s", "Pss per held call", "note"],
                        rows))
    out.append("")
    out.append("CPU-µs per call: utime+stime of every server process (/proc/PID/stat) "
               "over the step and the drain after it, divided by the calls completed; "
               "the median of the repeated steps at the reference rate (min–max): each "
               "follows a step at the same rate, so work a call leaves for later "
               "(transactions that linger past the drain) is paid at that rate. "
               "INVITE→200 from sipp -trace_rtt (1 ms resolution: 0 means < 1 ms).")
    for p in peers:
        st = sip_steps(R, p)
        if not st:
            continue
        out.append(f"\n**{p}** — every step:\n")
        rows = []
        for r in st:
            rows.append([r.get("tag"), fmtnum(r["rate"]), f"{fmtnum(r.get('achieved_cps'))}",
                         f"{r.get('ok')}/{r.get('calls')}", r.get("failed"), r.get("timeouts"),
                         r.get("retrans"), r.get("rcvbuf_errors"),
                         fmtnum(r.get("cpu_us_per_call")) if "cpu_us_per_call" in r else "—",
                         fmtnum(r.get("server_cpu_pct")) + "%" if "server_cpu_pct" in r else "—",
                         f"{fmtnum(r.get('rtt_p50_ms'))} / {fmtnum(r.get('rtt_p99_ms'))}",
                         fmtnum(r.get("sipp_cpu_pct")) + "%",
                         "pass" if r.get("pass") else "FAIL: " + r.get("why", "")])
        out.append(md_table(["step", "calls/s", "reached", "ok", "failed", "timeouts", "retrans",
                             "RcvbufErrors", "CPU-µs/call", "server CPU", "p50/p99 ms",
                             "sipp CPU", "result"], rows))
    return "\n".join(out) + "\n"


def cmd_write(res, out_path):
    R = Results(res)
    m = R.machine
    G = goals(R)
    w = []
    w.append("# Benchmarks\n")
    w.append(f"Written by `make bench{' QUICK=1' if R.quick else ''}` (bench/run.sh, "
             f"bench/report.py) on {m.get('date', '?')}; do not edit by hand. "
             "Method, peers and how to read each figure: [bench/README.md](bench/README.md). "
             "Each figure is the median of several runs, with min–max in brackets; every "
             "peer figure comes from the same invocation on the same machine.\n")
    if R.quick:
        w.append("> **QUICK run**: short steps and few repeats; the figures are indicative. "
                 "`make bench` gives the full method.\n")
    w.append("## Machine\n")
    w.append(md_table(["", ""], [
        ["CPU", f"{m.get('cpu', '?')} ({m.get('virt') or 'bare metal'})"],
        ["cores", m.get("cores", "?")], ["memory", f"{m.get('memory_gb', '?')} GB"],
        ["kernel", m.get("kernel", "?")], ["OS", m.get("os", "?")],
        ["compiler", m.get("cc", "?")],
        ["peers", f"{m.get('kamailio', '?')}; {m.get('sipp', '?')}; {m.get('lua', '?')}"],
        ["load average at start", " ".join(m.get("load", []))],
        ["whole run", f"{R.seconds // 60} min {R.seconds % 60} s" if R.seconds else "?"],
    ]))
    w.append("")
    w.append("## Goals (issue 7)\n")
    w.append(md_table(["goal", "callroute", "peer, same run", "ratio", "verdict", "note"],
                      [[g["goal"], g["ours"], g["peer"], g["ratio"], verdict(g["met"]), g["note"]]
                       for g in G]))
    w.append("")
    for g in G:
        if g["met"] is not False:
            continue
        w.append(f"### Missed: {g['goal']}\n")
        txt = file_text(os.path.join(res, CAUSE_FILES.get(g["id"], "-")))
        if txt:
            w.append("Where the time goes (perf, samples of the program behind the figure, "
                     "top symbols):\n")
            w.append("```\n" + txt + "\n```\n")
        else:
            w.append("No profile was taken in this run.\n")

    w.append("## Interpreter: callroute engine vs Lua 5.4 coroutines\n")
    w.append("The same 20-action scenario (a stream and two event handlers) on the same "
             "virtual-time workload; Lua runs it as one coroutine per strand "
             "(bench/lua/scenario.lua, host bench/lua/lua_peer.c). Time per step: CPU "
             "time of the run / action steps run.\n")
    e_ns, e_rec = engine_fig(R, "ns_per_step", "step_ns", "time_per_step_ns")
    l_ns, _ = lua_fig(R, "lua-run", "ns_per_step")
    e_vals = next((v for r, v in R.find("engine") if r is e_rec), {})
    l_vals = next((v for r, v in R.sets.get("lua-run", []) if "ns_per_step" in v), {})
    rows = []
    for label, names in (("time per action step", ("ns_per_step", "step_ns")),
                         ("simulated calls per second (wall)", ("calls_per_second",)),
                         ("virtual seconds simulated", ("virtual_seconds",)),
                         ("action steps per call", ("steps_per_call",)),
                         ("calls run", ("calls",))):
        unit = " ns" if "step" in label and "time" in label else " kB" if "RSS" in label else ""
        e, l = pick(e_vals, *names), pick(l_vals, *names)
        ratio = f"{e.med / l.med:.2f}×" if e and l and l.med else "—"
        rows.append([label, e.fmt(unit) if e else "—", l.fmt(unit) if l else "—", ratio])
    if e_ns or l_ns:
        w.append(md_table(["", "callroute", "Lua 5.4", "callroute / Lua"], rows))
    if not e_ns:
        w.append("\ncallroute: " + where_missing(R, "engine_bench") + ".")
    w.append("")
    w.append("## Memory: 100,000 waiting calls\n")
    w.append("Every call waits at once (main strand in `wait 10`, stream in `wait 1`, "
             "handlers registered). Per call: the growth of malloc's live heap "
             "(mallinfo2) / calls — Lua after a full collection, its host's timer heap "
             "and call table included; peak RSS of the whole process.\n")
    em = next(((r, v) for r, v in R.find("engine")
               if pick(v, "bytes_per_call", "bytes_per_waiting_call", "per_call_bytes")), (None, {}))
    lm = next(((r, v) for r, v in R.sets.get("lua-memory", [])), (None, {}))
    rows = []
    for label, names, unit in (("bytes per waiting call", ("bytes_per_call", "bytes_per_waiting_call",
                                                            "per_call_bytes"), " B"),
                               ("RSS growth per call", ("rss_delta_per_call", "rss_per_call"), " B"),
                               ("peak RSS", ("peak_rss_kb",), " kB"),
                               ("calls waiting", ("calls",), "")):
        e, l = pick(em[1], *names), pick(lm[1], *names)
        ratio = f"{e.med / l.med:.2f}×" if e and l and l.med else "—"
        rows.append([label, e.fmt(unit) if e else "—", l.fmt(unit) if l else "—", ratio])
    if em[0] or lm[0]:
        w.append(md_table(["", "callroute", "Lua 5.4", "callroute / Lua"], rows))
    if not em[0]:
        w.append("\ncallroute: " + where_missing(R, "engine_bench") + ".")
    w.append("")
    if R.sets.get("engine_bench"):
        w.append("Every figure engine_bench printed:\n")
        w.append(generic_table(R.sets["engine_bench"]) + "\n")

    w.append("## Routes: index vs linear scan\n")
    w.append("Time to select the route of one call (bench/route_bench.c: a realistic "
             "mix of numbers, prefixes, patterns, regexes and schedules), callroute's "
             "index vs a linear scan that evaluates each route's conditions in order.\n")
    rows = []
    for rec, vals in R.find("route"):
        if "routes" not in rec:
            continue
        ours, lin, ratio = route_at(R, rec["routes"])
        rows.append([fmtnum(rec["routes"]), ours.fmt(" ns"), lin.fmt(" ns"), ratio.fmt("×"),
                     pick(vals, "load_ms").fmt(" ms"), pick(vals, "prepare_ms").fmt(" ms"),
                     pick(vals, "matched_pct").fmt("%")])
    w.append(md_table(["routes", "callroute (index)", "linear scan", "ratio", "load",
                       "index build", "calls matched"], rows) if rows
             else where_missing(R, "route_bench"))
    w.append("")
    w.append("## SIP: B2BUA vs Kamailio, sipp → sipp ceiling\n")
    w.append(sip_section(R))
    w.append("## Media: bridged G.711 calls relayed on one core\n")
    w.append("bench/media_bench.c: the SIP driver's RTP relay on CPU 0, a generator on "
             "CPU 1 playing both phones of every call (one 20 ms PCMU packet every 20 ms "
             "each way); a step passes with < 0.1% of packets lost.\n")
    rows = []
    for rec, vals in R.find("media"):
        if rec.get("phase", "step") != "step":
            continue
        loss = pick(vals, "loss_pct")
        rows.append([pick(vals, "calls").fmt(), pick(vals, "seconds").fmt(" s"),
                     pick(vals, "packets_sent").fmt(), loss.fmt("%", 3),
                     pick(vals, "relay_cpu_pct").fmt("%"), pick(vals, "gen_cpu_pct").fmt("%"),
                     "yes" if rec.get("load_offered", True) else "NO (generator)",
                     "pass" if loss and loss.med < 0.1 else "FAIL"])
    w.append(md_table(["calls", "step", "packets sent", "loss", "relay CPU", "generator CPU",
                       "load offered", "result"], rows) if rows
             else where_missing(R, "media_bench"))
    w.append("")
    w.append("## Conference mixer: rooms × members on one core\n")
    w.append("bench/mixer_bench.c: per 20 ms frame, decode each member's G.711 frame, sum "
             "without each member's own voice, encode what each hears in its codec (half PCMU, "
             "half PCMA), 100 rooms of 50 members on CPU 0. `hand`: src/media/mixer.c (G.711 by "
             "table, silent members share one encoding); `spandsp`: the same algorithm with "
             "spandsp's G.711 functions. Real time: the rooms mixed every 20 ms on the clock, "
             "every member talking; a tick that ends after the next is due loses its frames. "
             "No sockets (the RTP path is media_bench's).\n")
    rows = []
    for rec, vals in R.find("mixer"):
        if rec.get("phase") == "cost":
            rows.append([rec.get("impl", "?"), rec.get("talkers", "?"), fmtnum(rec.get("rooms")),
                         fmtnum(rec.get("members")), pick(vals, "ns_per_member_frame").fmt(" ns"), "—", "—"])
        elif rec.get("phase") == "realtime":
            rows.append(["hand, real time", "all", fmtnum(rec.get("rooms")), fmtnum(rec.get("members")),
                         pick(vals, "ns_per_member_frame").fmt(" ns"), pick(vals, "late_pct").fmt("%", 3),
                         pick(vals, "cpu_pct").fmt("%")])
    w.append(md_table(["mixing", "talkers", "rooms", "members", "per member-frame", "frames late",
                       "CPU of the core"], rows) if rows else where_missing(R, "mixer_bench"))
    w.append("")
    w.append("## Services: 10,000 calls waiting at once\n")
    w.append("bench/services_bench.c: 10,000 simulated calls on one loop, each waiting on a "
             "local HTTP service that answers after 1 s, then each doing one PostgreSQL "
             "lookup (both servers real, on 127.0.0.1). No peer: the figures show the "
             "cost of waiting.\n")
    rows = []
    for rec, vals in R.find("services"):
        rows.append([rec.get("phase", "?"), pick(vals, "calls").fmt(),
                     pick(vals, "completed").fmt(), "yes" if rec.get("all_complete") else "NO",
                     pick(vals, "wall_s").fmt(" s"), pick(vals, "cpu_us_per_call").fmt(" µs"),
                     pick(vals, "heap_bytes_per_waiting_call").fmt(" B"),
                     pick(vals, "peak_rss_kb").fmt(" kB")])
    w.append(md_table(["service", "calls", "completed", "all complete", "wall", "CPU per call",
                       "heap per waiting call", "peak RSS"], rows) if rows
             else where_missing(R, "services_bench"))
    w.append("")
    w.append("## Load time of a large scenario file\n")
    rows = []
    for rec, vals in R.find("load"):
        rows.append([pick(vals, "routes").fmt(), pick(vals, "actions").fmt(),
                     pick(vals, "file_bytes").fmt(" B"), pick(vals, "wall_s").fmt(" s"),
                     pick(vals, "cpu_s").fmt(" s"), pick(vals, "maxrss_kb").fmt(" kB"),
                     "ok" if rec.get("exit") == 0 else f"exit {rec.get('exit')}"])
    if rows:
        w.append("`callroute check` (load, validate, compile) on the file bench/gen-scenario.py "
                 "writes:\n")
        w.append(md_table(["routes", "actions", "size", "wall", "CPU", "max RSS", "check"], rows))
    else:
        w.append(where_missing(R, "load"))
    w.append("")
    shown = {"engine_bench", "lua-run", "lua-memory", "route_bench", "services_bench", "load",
             "media_bench", "mixer_bench"}
    rest = [(n, a) for n, a in R.sets.items() if n not in shown]
    w.append("## Other figures\n")
    if rest:
        for n, a in rest:
            w.append(f"**{n}**:\n")
            w.append(generic_table(a) + "\n")
    else:
        w.append("None.\n")
    w.append("## Status of each benchmark\n")
    w.append(md_table(["benchmark", "state", "detail"],
                      [[k, v[0], v[1]] for k, v in sorted(R.status.items())]) if R.status else "—")
    w.append("")
    with open(out_path, "w") as f:
        f.write("\n".join(w))
    return 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "machine":
        print(json.dumps(machine()))
        return 0
    if len(argv) >= 4 and argv[1] == "time-load":
        return time_load(argv[2], argv[3], argv[4:])
    if len(argv) == 3 and argv[1] == "missed":
        return cmd_missed(argv[2])
    if len(argv) == 4 and argv[1] == "write":
        return cmd_write(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
