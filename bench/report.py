#!/usr/bin/python3
"""BENCHMARKS.md from the JSON lines bench/run.sh collected (bench/README.md).

  report.py machine                    machine facts as JSON
  report.py time-load CALLROUTE FILE [k=v...]  one timed `callroute check FILE`
  report.py missed RESULTS             ids of goals missed (for profiling)
  report.py write RESULTS OUT.md       the report

Every figure is the median of the runs with min-max; every goal of issues
17 and 7 is read against the peer measured in the same run.
"""
import datetime
import glob
import json
import os
import platform
import re
import resource
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
        "rtpengine": sh("dpkg-query -W -f='rtpengine ${Version}' rtpengine-daemon 2>/dev/null"),
        "load": open("/proc/loadavg").read().split()[:3],
        # Held calls with media take descriptors: this bounds them.
        "nofile_hard": resource.getrlimit(resource.RLIMIT_NOFILE)[1],
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
    runs by (bench, phase, peer, ordinal); returns [(first record, {field: [values]})]."""
    groups, order = {}, []
    for recs in runs:
        seen = {}
        for r in recs:
            k = (r.get("bench"), r.get("phase"), r.get("peer"))
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
        # bench/cluster/run.sh: its own section, not SIP peers.
        self.cluster = read_jsonl(os.path.join(res, "cluster.jsonl"))
        # bench/tls/run.sh (issue 19): its ladders go through a converter,
        # so they are not SIP peers either.
        self.tls = read_jsonl(os.path.join(res, "tls.jsonl"))
        self.sip = {}
        for f in sorted(glob.glob(os.path.join(res, "sip-*.jsonl"))):
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


# ---------------------------------------------------------------- SIP figures

KB5 = 5 * 1024
# sipp's INVITE->200 times move in steps of its clock (4 ms on these
# machines): a p99 "within 10%" of the first step's also allows one step.
RTT_TICK_MS = 4
SIP_STATUS = {"callroute": "sip-callroute", "callroute-bypass": "sip-callroute",
              "kamailio": "sip-kamailio", "kamailio-rtpengine": "sip-kamailio-rtpengine",
              "sipp-direct": "sip-direct"}
PEER_LABEL = {"kamailio": "Kamailio (proxy + dialog, no media)",
              "kamailio-rtpengine": "Kamailio + rtpengine (media anchored)",
              "callroute": "callroute (B2BUA, media anchored)",
              "callroute-bypass": "callroute (B2BUA, media bypassed)",
              "sipp-direct": "sipp → sipp (no server)"}


def sip_steps(R, peer):
    """The ladder's steps in order (the series and holds apart)."""
    return [r for r in R.sip.get(peer, []) if r.get("phase") == "step"
            and str(r.get("tag", "")).startswith("step")]


def sip_series(R, peer):
    return [r for r in R.sip.get(peer, []) if r.get("phase") == "series"]


def sip_hold(R, peer):
    return next((r for r in R.sip.get(peer, []) if r.get("phase") == "hold"), None)


def sip_missing(R, peer):
    return where_missing(R, SIP_STATUS.get(peer, f"sip-{peer}"))


def highest_pass(R, peer):
    """(highest passing rate, highest rate tried, first failing step or None)."""
    steps = sip_steps(R, peer)
    if not steps:
        return None, None, None
    ok = [r["rate"] for r in steps if r.get("pass")]
    fail = [r for r in steps if not r.get("pass")]
    return (max(ok) if ok else 0), max(r["rate"] for r in steps), (fail[0] if fail else None)


def rate_fig(R, peer, rate, field="cpu_us_per_call"):
    """(Fig of FIELD at RATE, why there is none). The ladder runs each goal
    rate twice in a row: the figure is the step that follows one at the same
    rate (it pays the work the first left lingering, at that rate, as in
    steady operation); without one, every passing step at RATE."""
    st = sip_steps(R, peer)
    if not st:
        return Fig([]), sip_missing(R, peer)
    at = [i for i, r in enumerate(st) if r["rate"] == rate]
    if not at:
        _, _, fail = highest_pass(R, peer)
        if fail and fail["rate"] < rate:
            return Fig([]), f"the ladder stopped at {fmtnum(fail['rate'])} calls/s"
        return Fig([]), f"no step at {fmtnum(rate)} calls/s"
    ok = [i for i in at if st[i].get("pass")]
    if not ok:
        return Fig([]), f"fails at {fmtnum(rate)} calls/s: {st[at[0]].get('why', '')}"
    follow = [st[i] for i in ok if i > 0 and st[i - 1]["rate"] == rate]
    return Fig([r.get(field) for r in (follow or [st[i] for i in ok])]), ""


def rate_reached(hp, top, fail):
    """The highest passing rate as text: '≥' when no step failed."""
    if not hp:
        return f"none passed (failed at {fmtnum(fail['rate'])} calls/s)" if fail else "—"
    return f"{'≥ ' if hp == top else ''}{fmtnum(hp)} calls/s"


def fails_at(R, peer, rate):
    """True when PEER ran a step at RATE (or stopped below it) and failed."""
    st = sip_steps(R, peer)
    if not st:
        return False
    at = [r for r in st if r["rate"] == rate]
    if at:
        return not any(r.get("pass") for r in at)
    _, _, fail = highest_pass(R, peer)
    return bool(fail and fail["rate"] < rate)


def p99_max(R, peer):
    """(worst INVITE->200 p99 over the passing steps of the ladder and the
    series, the step it was seen in)."""
    worst = None
    for r in sip_steps(R, peer) + sip_series(R, peer):
        if r.get("pass") and r.get("rtt_p99_ms") is not None:
            if worst is None or r["rtt_p99_ms"] > worst["rtt_p99_ms"]:
                worst = r
    return (worst["rtt_p99_ms"], worst) if worst else (None, None)


def bytes_str(b):
    return "—" if b is None else f"{fmtnum(b)} B"


def hold_str(h):
    if h is None:
        return "—"
    if h.get("refused"):
        return "not run (check refused)"
    held = f"{fmtnum(h.get('held_calls'))}/{fmtnum(h.get('target_held', 2 * h.get('calls', 0)))} held"
    if h.get("failed"):
        held += f", {fmtnum(h['failed'])} failed"
    return f"{bytes_str(h.get('bytes_per_call'))} ({held})"


# ---------------------------------------------------------------- media figures

def media_recs(R, peer, phase="step"):
    return [(r, v) for r, v in R.find("media", lambda r: r.get("peer", "callroute") == peer)
            if r.get("phase", "step") == phase]


def media_best(R, peer):
    """(calls, limited by the generator, top step run) or None."""
    best = media_recs(R, peer, "best")
    if not best:
        return None
    r, v = best[0]
    top = max((x.get("calls", 0) for x, _ in media_recs(R, peer)), default=0)
    return pick(v, "calls"), bool(r.get("limited_by_generator")), top


def relay_calls(calls, limited, top):
    """Most calls a relay carried, as text: '≥' when its ceiling was not
    reached (the generator, or the top step, came first)."""
    if not calls.med:
        return ("the generator could not offer the first step's load (the machine was busy)"
                if limited else "no step under 0.1% loss")
    return f"{'≥ ' if limited or calls.med >= top else ''}{calls.fmt()} calls"


def media_ns(R, peer, calls):
    for r, v in media_recs(R, peer):
        if r.get("calls") == calls:
            return pick(v, "relay_ns_per_packet")
    return Fig([])


def media_passed(R, peer):
    """The steps (calls) PEER passed: full offered load, < 0.1% loss."""
    return {r["calls"] for r, v in media_recs(R, peer)
            if r.get("load_offered", True) and pick(v, "loss_pct").med is not None
            and pick(v, "loss_pct").med < 0.1}


def srtp_vs_plain(R, relay):
    """'SRTP x ns vs plain y ns per packet (z×) at N calls' for RELAY
    (callroute or rtpengine) at the highest step both its ladders passed,
    or ''."""
    common = sorted(media_passed(R, relay + "-srtp") & media_passed(R, relay))
    if not common:
        return ""
    at = common[-1]
    sn, pn = media_ns(R, relay + "-srtp", at), media_ns(R, relay, at)
    if not sn or not pn:
        return ""
    return (f"SRTP {sn.fmt(' ns')} vs plain {pn.fmt(' ns')} per packet "
            f"({sn.med / pn.med:.2f}×) at {fmtnum(at)} calls")


# ---------------------------------------------------------------- TLS signalling figures

TLS_PATHS = (("callroute-tls", "callroute, TLS"), ("callroute-udp", "callroute, UDP (same path)"),
             ("kamailio-tls", "Kamailio, TLS"), ("kamailio-udp", "Kamailio, UDP (same path)"))


def tls_steps(R, peer):
    return [r for r in R.tls if r.get("bench") == "sip" and r.get("phase") == "step"
            and r.get("peer") == peer]


def tls_handshakes(R, peer):
    return next((r for r in R.tls if r.get("phase") == "handshakes" and r.get("peer") == peer), None)


def tls_rates(R):
    return sorted({r["rate"] for p, _ in TLS_PATHS for r in tls_steps(R, p)})


def tls_at(R, peer, rate, field="cpu_us_per_call"):
    """(Fig of FIELD at RATE for PEER's passing steps, why there is none):
    the second of two steps at RATE in a row when the full ladder ran them."""
    st = tls_steps(R, peer)
    if not st:
        return Fig([]), "not measured"
    at = [i for i, r in enumerate(st) if r["rate"] == rate]
    if not at:
        return Fig([]), "not run (the ladder stopped below)"
    ok = [i for i in at if st[i].get("pass")]
    if not ok:
        return Fig([]), "fails (see its ladder)"
    follow = [st[i] for i in ok if i > 0 and st[i - 1]["rate"] == rate]
    return Fig([r.get(field) for r in (follow or [st[i] for i in ok]) if r.get(field) is not None]), ""


def ratio_str(a, b, what):
    return f"{a.med / b.med:.2f}× {what}" if a and b and b.med else ""


def tls_goal(R):
    """Issue 19's TLS row: CPU per call with TLS at the lowest rate every
    path passed, beside Kamailio doing the same TLS work and beside the
    plain path. No goal beyond 'beside': reported."""
    label = ("CPU per call with TLS signalling beside the plain figures (one reused TLS "
             "connection; sipp → Kamailio UDP→TLS converter → server)")
    if not tls_steps(R, "callroute-tls"):
        return {"id": "tls-signalling", "goal": label, "ours": where_missing(R, "tls"),
                "peer": "—", "ratio": "—", "met": None, "note": ""}
    rates = [r for r in tls_rates(R) if tls_at(R, "callroute-tls", r)[0]]
    if not rates:
        _, why = tls_at(R, "callroute-tls", tls_rates(R)[0])
        return {"id": "tls-signalling", "goal": label, "ours": "none passed: " + why,
                "peer": "—", "ratio": "—", "met": None, "note": ""}
    ours, peer, ratio, notes = [], [], [], []
    for rate in rates[:2]:
        c, _ = tls_at(R, "callroute-tls", rate)
        u, _ = tls_at(R, "callroute-udp", rate)
        k, kwhy = tls_at(R, "kamailio-tls", rate)
        ours.append(f"{c.fmt(' µs')} at {fmtnum(rate)}/s")
        peer.append(f"{k.fmt(' µs')} at {fmtnum(rate)}/s" if k else f"{kwhy} at {fmtnum(rate)}/s")
        rs = [x for x in (ratio_str(c, k, "Kamailio-TLS"), ratio_str(c, u, "its UDP")) if x]
        ratio.append(f"{fmtnum(rate)}/s: " + ", ".join(rs) if rs else "—")
    hc, hk = tls_handshakes(R, "callroute-tls"), tls_handshakes(R, "kamailio-tls")
    if hc and hc.get("pass"):
        notes.append(f"a new TLS connection costs callroute {fmtnum(hc['cpu_us_per_connection'])} µs"
                     + (f" (Kamailio {fmtnum(hk['cpu_us_per_connection'])} µs)" if hk and hk.get("pass")
                        else ""))
    return {"id": "tls-signalling", "goal": label, "ours": "; ".join(ours),
            "peer": "; ".join(peer) + " (Kamailio proxy + dialog, TLS)", "ratio": "; ".join(ratio),
            "met": "reported", "note": "; ".join(notes)}


def tls_section(R):
    head = ("bench/tls/run.sh: Debian 12's sipp has no TLS, so sipp's calls (UDP) go through a "
            "Kamailio 5.6 acting only as a converter (bench/tls/converter.cfg: tm relays every "
            "request and reply; `-x tlsf`, one UDP and one TCP worker), pinned with sipp to CPU 1, "
            "to the server on CPU 0 over TLS (1.2 or later, 1.3 where both sides have it; an RSA "
            "2048 certificate made by the run with openssl), and the server dials the sipp UAS over UDP. The plain figure is the same "
            "path with the converter relaying over UDP, so TLS is the only difference. "
            "callroute: `callroute serve` with the bench/sip B2BUA scenario and a `tls:` listener "
            "in settings.sip.listen; Kamailio: bench/kamailio's proxy + dialog config with a tls "
            "socket, its UDP and TLS workers on CPU 0. CPU per call as in the SIP section "
            "(bench/sipp/sipstep.py). **The converter opens one TLS connection and reuses it for "
            "every call** (as an SBC or a phone keeps its connection): the ladder shows the cost "
            "of TLS records, not of handshakes. A new connection's cost is measured apart: "
            "connections one after the other, each a full handshake and one OPTIONS.\n")
    if not R.tls:
        return head + "\n" + where_missing(R, "tls") + "\n"
    out = [head]
    setup = next((r for r in R.tls if r.get("phase") == "setup"), {})
    counted = any("instructions_per_call" in r for r in R.tls)
    rows = []
    for rate in tls_rates(R):
        cells = {p: tls_at(R, p, rate) for p, _ in TLS_PATHS}

        def cell(p):
            f, why = cells[p]
            return f.fmt(" µs") if f else why

        c, u = cells["callroute-tls"][0], cells["callroute-udp"][0]
        k, ku = cells["kamailio-tls"][0], cells["kamailio-udp"][0]
        row = [fmtnum(rate), cell("callroute-tls"), cell("callroute-udp"),
               f"{c.med / u.med:.2f}×" if c and u else "—",
               cell("kamailio-tls"), cell("kamailio-udp"),
               f"{k.med / ku.med:.2f}×" if k and ku else "—",
               f"{c.med / k.med:.2f}×" if c and k else "—"]
        if counted:
            ci, _ = tls_at(R, "callroute-tls", rate, "instructions_per_call")
            ki, _ = tls_at(R, "kamailio-tls", rate, "instructions_per_call")
            row += [ci.fmt() if ci else "—", ki.fmt() if ki else "—"]
        rows.append(row)
    hd = ["calls/s", "callroute TLS", "callroute UDP", "TLS / UDP", "Kamailio TLS", "Kamailio UDP",
          "TLS / UDP", "callroute / Kamailio (TLS)"]
    if counted:
        hd += ["callroute TLS instructions/call", "Kamailio TLS instructions/call"]
    out.append("CPU-µs per call on the server (at a rate the full ladder runs twice, the second "
               "step):\n")
    out.append(md_table(hd, rows))
    if not counted:
        out.append("\nInstructions per call: "
                   + ("not counted (perf stat has no `instructions` counter on this machine: a "
                      "virtual machine without a PMU)." if setup.get("instructions_counter") is False
                      else "not counted."))
    fails = [f"{label}: {tls_at(R, p, r)[1]} at {fmtnum(r)}/s" for p, label in TLS_PATHS
             for r in tls_rates(R) if not tls_at(R, p, r)[0] and tls_steps(R, p)][:4]
    if fails and all(any(not s.get("pass") for s in tls_steps(R, p)) for p, _ in TLS_PATHS
                     if tls_steps(R, p)):
        out.append("\nEvery path, plain UDP included, fails at its top step, where the direct "
                   "ladders of the SIP section may pass: sipp and the converter share CPU 1 (and "
                   "the machine is shared), so that step is the path's ceiling, not read as a "
                   "server's (the step tables give sipp's and the converter's CPU).")
    else:
        # TLS failing where the same server's UDP path passes: the
        # converter's TLS runs on the load core beside sipp, so the step
        # tables (sipp's and the converter's CPU, the server's) tell whose
        # limit it is.
        for tls_p, udp_p, name in (("callroute-tls", "callroute-udp", "callroute"),
                                   ("kamailio-tls", "kamailio-udp", "Kamailio")):
            bad = [r for r in tls_rates(R) if not tls_at(R, tls_p, r)[0] and tls_at(R, udp_p, r)[0]]
            if bad and tls_steps(R, tls_p):
                out.append(f"\n{name} over TLS fails at {fmtnum(bad[0])} calls/s where its UDP path "
                           "passes: the converter's TLS side works on the load core beside sipp; "
                           "read the step table (server CPU, drops, converter CPU) before taking it "
                           "for the server's TLS ceiling.")
    for p, label in TLS_PATHS:
        st = tls_steps(R, p)
        if st:
            out.append(f"\n**{label}** — ladder (front: the converter's CPU):\n")
            out.append(step_rows(st))
            out.append("converter CPU per step: " + ", ".join(
                f"{r.get('tag')} {fmtnum(r.get('front_cpu_pct'))}%" for r in st
                if r.get("front_cpu_pct") is not None))
    hs = [(label, tls_handshakes(R, p)) for p, label in TLS_PATHS if tls_handshakes(R, p)]
    if hs:
        out.append("\n### A new TLS connection per call\n")
        out.append("Connections opened one after the other by one client on CPU 1 (Python's ssl, "
                   "verifying the certificate), each a full handshake, one OPTIONS with "
                   "Max-Forwards 0 answered by the server itself, and a close: the server's CPU "
                   "per connection is what a call costs more when its caller does not keep its "
                   "connection. Pss growth per closed connection: Debian 12's sofia-sip never "
                   "frees a closed connection's SSL (docs/decisions/sip-tls.md, known leak).\n")
        out.append(md_table(["server", "connections", "CPU-µs per connection", "connections/s",
                             "Pss growth per closed connection", "result"],
                            [[label.replace(", TLS", ""), fmtnum(h.get("connections")),
                              fmtnum(h.get("cpu_us_per_connection")),
                              fmtnum(h.get("connections_per_s")),
                              bytes_str(h.get("pss_growth_per_connection_b")),
                              "pass" if h.get("pass") else "FAIL: " + h.get("why", "")]
                             for label, h in hs]))
        est = []
        for p, name in (("callroute-tls", "callroute"), ("kamailio-tls", "Kamailio")):
            h = tls_handshakes(R, p)
            rate = next((r for r in tls_rates(R) if tls_at(R, p, r)[0]), None)
            if h and h.get("pass") and rate:
                c = tls_at(R, p, rate)[0].med
                est.append(f"{name} {fmtnum(c + h['cpu_us_per_connection'])} µs ({fmtnum(c)} + "
                           f"{fmtnum(h['cpu_us_per_connection'])}, at {fmtnum(rate)} calls/s)")
        if est:
            out.append("\nA call on a connection of its own, estimated as the reused-connection "
                       "call plus one connection's set-up (a sum, not measured as one): "
                       + "; ".join(est) + ".")
    return "\n".join(out) + "\n"


def srtp_beside_rtpengine(R):
    """The SRTP relay's CPU per packet beside rtpengine's doing the same
    SRTP<->RTP work, step by step (media_bench --srtp), with each one's
    plain figure: the media half of an encrypted call."""
    steps = sorted({r["calls"] for r, _ in media_recs(R, "callroute-srtp")}
                   | {r["calls"] for r, _ in media_recs(R, "rtpengine-srtp")})
    if not steps:
        return "SRTP relay: " + where_missing(R, "media_bench") + "\n"
    rows = []
    for n in steps:
        cs, rs = media_ns(R, "callroute-srtp", n), media_ns(R, "rtpengine-srtp", n)
        cp, rp = media_ns(R, "callroute", n), media_ns(R, "rtpengine", n)
        rows.append([fmtnum(n), cs.fmt(" ns") if cs else "—", rs.fmt(" ns") if rs else "—",
                     f"{cs.med / rs.med:.2f}×" if cs and rs else "—",
                     f"{cs.med / cp.med:.2f}×" if cs and cp else "—",
                     f"{rs.med / rp.med:.2f}×" if rs and rp else "—"])
    return ("SRTP ↔ RTP relay (media_bench --srtp, the Media section has loss and relay CPU), "
            "CPU per packet:\n\n"
            + md_table(["calls", "callroute SRTP↔RTP", "rtpengine SRTP↔RTP", "callroute / rtpengine",
                        "callroute SRTP / plain", "rtpengine SRTP / plain"], rows) + "\n")


# ---------------------------------------------------------------- goals

def goals17(R, cr="callroute", crb="callroute-bypass"):
    """Issue 17's goals (CR: callroute's anchored peer name, CRB: its
    bypassed one), each against its peer in the same run."""
    G = []

    def add(gid, goal, ours, peer, ratio, met, note=""):
        G.append({"id": gid, "goal": goal, "ours": ours, "peer": peer, "ratio": ratio,
                  "met": met, "note": note})

    # 1. CPU per call at 1,000 and 2,000 calls/s against both peers.
    for rate in (1000.0, 2000.0):
        c, cwhy = rate_fig(R, cr, rate)
        for peer, bound, short in (("kamailio", 2, "Kamailio"),
                                   ("kamailio-rtpengine", 0.5, "Kamailio + rtpengine")):
            k, kwhy = rate_fig(R, peer, rate)
            label = (f"1. CPU-µs per call at {fmtnum(rate)} calls/s ≤ {bound:g}× {short}'s"
                     + (" (signalling only)" if peer == "kamailio" else " (media anchored)"))
            gid = f"sip-cpu-{int(rate)}-{peer}"
            ours = c.fmt(" µs") if c else cwhy
            theirs = k.fmt(" µs") if k else kwhy
            if c and k:
                add(gid, label, ours, theirs, f"{c.med / k.med:.2f}× {short}", c.med <= bound * k.med)
            elif not c and fails_at(R, cr, rate):
                add(gid, label, ours, theirs, "—", False, "callroute fails at this rate")
            elif c and fails_at(R, peer, rate):
                add(gid, label, ours, theirs, "—", None,
                    f"no peer figure: {short} fails at {fmtnum(rate)} calls/s")
            else:
                add(gid, label, ours, theirs, "—", None)

    # 2a. The same cost for the last of five steps as for the first.
    label = "2. Five 30 s steps at 1,000 calls/s: last step's CPU-µs per call and p99 within 10% of the first"
    ser = sip_series(R, cr)
    kser = sip_series(R, "kamailio")

    def drift(rs):
        a, b = rs[0], rs[-1]
        return (f"{fmtnum(a.get('cpu_us_per_call'))} → {fmtnum(b.get('cpu_us_per_call'))} µs, "
                f"p99 {fmtnum(a.get('rtt_p99_ms'))} → {fmtnum(b.get('rtt_p99_ms'))} ms")
    if len(ser) >= 2:
        a, b = ser[0], ser[-1]
        cpu_ok = (a.get("cpu_us_per_call") is not None and b.get("cpu_us_per_call") is not None
                  and b["cpu_us_per_call"] <= 1.1 * a["cpu_us_per_call"])
        pa, pb = a.get("rtt_p99_ms"), b.get("rtt_p99_ms")
        p99_ok = pa is not None and pb is not None and pb <= max(1.1 * pa, pa + RTT_TICK_MS)
        failed = [r["tag"] for r in ser if not r.get("pass")]
        note = []
        if failed:
            note.append("failing steps: " + ", ".join(failed))
        if len(ser) < 5:
            note.append(f"only {len(ser)} steps")
        if a.get("seconds", 30) < 30:
            note.append(f"{fmtnum(a['seconds'])} s steps (QUICK)")
        ratio = (f"{b['cpu_us_per_call'] / a['cpu_us_per_call']:.2f}× the first"
                 if a.get("cpu_us_per_call") and b.get("cpu_us_per_call") else "—")
        met = cpu_ok and p99_ok and not failed and len(ser) >= 5
        if met and a.get("seconds", 30) < 30:
            met = None   # the goal is about 30 s steps: QUICK's say nothing
        add("sip-drift", label, drift(ser), (drift(kser) + " (Kamailio)") if len(kser) >= 2 else "—",
            ratio, met, "; ".join(note))
    else:
        add("sip-drift", label, sip_missing(R, cr), "—", "—", None)

    # 2b. INVITE->200 p99 <= 10 ms at every passing rate.
    label = "2. INVITE→200 p99 ≤ 10 ms at every passing rate"
    w, wr = p99_max(R, cr)
    kw, kwr = p99_max(R, "kamailio")
    if w is not None:
        over = sorted({fmtnum(r["rate"]) for r in sip_steps(R, cr) + ser
                       if r.get("pass") and (r.get("rtt_p99_ms") or 0) > 10})
        add("sip-p99", label, f"worst {fmtnum(w)} ms ({wr['tag']}, {fmtnum(wr['rate'])} calls/s)",
            f"worst {fmtnum(kw)} ms (Kamailio)" if kw is not None else "—", "—", w <= 10,
            ("over 10 ms at " + ", ".join(over) + " calls/s; " if over else "")
            + f"sipp's clock moves in {RTT_TICK_MS} ms steps here")
    else:
        add("sip-p99", label, sip_missing(R, cr), "—", "—", None)

    # 3. 0 failed calls at >= 4,000 calls/s.
    label = "3. 0 failed calls at ≥ 4,000 calls/s on one core (two sipp UACs)"
    hp, top, fail = highest_pass(R, cr)
    gen, gtop, _ = highest_pass(R, "sipp-direct")
    peers = []
    for p, short in (("kamailio", "Kamailio"), ("kamailio-rtpengine", "Kamailio + rtpengine")):
        khp, ktop, kfail = highest_pass(R, p)
        if khp is not None:
            peers.append(f"{rate_reached(khp, ktop, kfail)} ({short})")
    if hp is not None:
        note = []
        if fail:
            note.append(f"first failing step {fmtnum(fail['rate'])} calls/s: {fail.get('why', '')}")
        if gen is not None and gen < 4000:
            note.append("the generator itself (sipp → sipp) "
                        + (f"tops out at {fmtnum(gen)} calls/s" if gen else
                           "failed at its first step: the machine was busy"))
        add("sip-rate", label, rate_reached(hp, top, fail),
            "; ".join(peers) or "—", "—", hp >= 4000, "; ".join(note))
    else:
        add("sip-rate", label, sip_missing(R, cr), "; ".join(peers) or "—", "—", None)

    # 4. 10,000 held calls with media anchored.
    label = "4. 10,000 held calls with media anchored: 0 failures, ≤ 5 KB per held call (Pss growth)"
    h, kh = sip_hold(R, cr), sip_hold(R, "kamailio-rtpengine")
    peer_s = (hold_str(kh) + " (Kamailio + rtpengine)") if kh else sip_missing(R, "kamailio-rtpengine")
    if h and not h.get("refused"):
        target = h.get("target_held", 2 * h.get("calls", 0))
        ok = h.get("pass") and (h.get("bytes_per_call") or 0) <= KB5
        ratio = (f"{h['bytes_per_call'] / kh['bytes_per_call']:.2f}× Kamailio + rtpengine"
                 if kh and h.get("bytes_per_call") and kh.get("bytes_per_call") and kh.get("pass")
                 else "—")
        note = h.get("why", "")
        if kh and kh.get("why"):
            note = (note + "; " if note else "") + "Kamailio + rtpengine: " + kh["why"]
        met = ok if target >= 10000 else None
        ours = hold_str(h)
        if not h.get("pass") and h.get("fd_limited"):
            # The machine's descriptor limit, not callroute's work, ended it.
            met = None
            ours = "not measured: descriptor limit reached — " + ours
        add("sip-hold", label, ours, peer_s, ratio, met, note)
    else:
        add("sip-hold", label, sip_missing(R, cr), peer_s, "—", None)

    # 5. Media relay >= 2x rtpengine's userspace relay.
    label = "5. Media relay ≥ 2× rtpengine's userspace relay (calls on one core, < 0.1% loss)"
    cb, rb = media_best(R, "callroute"), media_best(R, "rtpengine")
    if cb and rb:
        (cc, climited, ctop), (rc, rlimited, rtop) = cb, rb
        common = sorted({r["calls"] for r, v in media_recs(R, "callroute")
                         if r.get("load_offered", True) and pick(v, "loss_pct").med is not None
                         and pick(v, "loss_pct").med < 0.1}
                        & {r["calls"] for r, v in media_recs(R, "rtpengine")
                           if r.get("load_offered", True) and pick(v, "loss_pct").med is not None
                           and pick(v, "loss_pct").med < 0.1})
        at = common[-1] if common else None
        cn, rn = (media_ns(R, "callroute", at), media_ns(R, "rtpengine", at)) if at else (Fig([]), Fig([]))
        per_pkt = f"; CPU per packet at {fmtnum(at)} calls: {cn.fmt(' ns')} vs {rn.fmt(' ns')}" if cn and rn else ""
        ours = relay_calls(cc, climited, ctop)
        theirs = relay_calls(rc, rlimited, rtop) + " (rtpengine)"
        if cc.med and rc.med and not climited and cc.med < ctop:
            add("media-relay", label, ours, theirs, f"{cc.med / rc.med:.2f}× rtpengine",
                cc.med >= 2 * rc.med, per_pkt.lstrip("; "))
        elif cn and rn:
            # callroute's ceiling was not reached (the generator, or the
            # top step): read the capacity on CPU per packet instead.
            add("media-relay", label, ours, theirs,
                f"{rn.med / cn.med:.2f}× (rtpengine's CPU per packet / callroute's)",
                rn.med >= 2 * cn.med,
                "callroute's capacity not reached (" + ("the generator" if climited else "top step")
                + "): read on CPU per packet" + per_pkt)
        else:
            add("media-relay", label, ours, theirs, "—", None, "no step both relays passed")
    else:
        add("media-relay", label,
            f"{cb[0].fmt()} calls" if cb else where_missing(R, "media_bench"),
            where_missing(R, "media_bench") if not rb else f"{rb[0].fmt()} calls", "—", None,
            "" if rb else "rtpengine was not measured")

    # 6. 100,000 held calls without media anchoring.
    label = "6. 100,000 held calls without media anchoring (`media: bypass`): ≤ 3 KB per held call"
    h, kh = sip_hold(R, crb), sip_hold(R, "kamailio")
    peer_s = (hold_str(kh) + " (Kamailio, no media)") if kh else sip_missing(R, "kamailio")
    if h and h.get("refused"):
        add("sip-bypass", label, f"not yet measured: {h['refused']}", peer_s, "—", None,
            h.get("check", ""))
    elif h:
        target = h.get("target_held", 2 * h.get("calls", 0))
        ok = h.get("pass") and (h.get("bytes_per_call") or 0) <= KB3
        ratio = (f"{h['bytes_per_call'] / kh['bytes_per_call']:.2f}× Kamailio"
                 if kh and h.get("bytes_per_call") and kh.get("bytes_per_call") and kh.get("pass") else "—")
        note = h.get("why", "")
        if target < 100000:
            note = (note + "; " if note else "") + f"{fmtnum(target)} held (QUICK), the goal is 100,000"
        met = ok if target >= 100000 else None
        ours = hold_str(h)
        if not h.get("pass") and h.get("fd_limited"):
            met = None
            ours = "not measured: descriptor limit reached — " + ours
        add("sip-bypass", label, ours, peer_s, ratio, met, note)
    else:
        add("sip-bypass", label, sip_missing(R, cr), peer_s, "—", None)
    return G


def goals(R):
    """Issue 7's goals that issue 17 does not supersede (its SIP goals —
    CPU per call ≤ 2× Kamailio's, ≥ 1,000 calls/s — are goals 1 and 3 there)."""
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

    # Media
    label = "Media: ≥ 500 bridged G.711 calls relayed on one core with < 0.1% loss"
    steps = media_recs(R, "callroute")
    best = media_best(R, "callroute")
    if best:
        calls, limited, top = best
        r, v = media_recs(R, "callroute", "best")[0]
        s_ = f"{calls.fmt()} calls ({pick(v, 'loss_pct').fmt('%', 3)} loss)"
        if calls.med >= top:
            s_ = "≥ " + s_ + " (highest step run)"
        add("media", label, s_, "—", "—", calls.med >= 500,
            "limited by the generator" if limited else "")
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


def goals19(R):
    """Issue 19 item 4: encrypted calls' cost. The SRTP relay (media_bench
    --srtp: one leg SDES-SRTP, the other plain) beside the plain relay and
    beside rtpengine doing the same SRTP<->RTP work; TLS signalling
    (bench/tls) beside Kamailio terminating TLS and beside the same path
    over UDP."""
    G = []

    def add(gid, goal, ours, peer, ratio, met, note=""):
        G.append({"id": gid, "goal": goal, "ours": ours, "peer": peer, "ratio": ratio,
                  "met": met, "note": note})

    label = ("SRTP relay ≥ 500 bridged calls on one core (one leg SDES-SRTP AES_CM_128_HMAC_SHA1_80, "
             "the other plain RTP; < 0.1% loss)")
    cb, rb = media_best(R, "callroute-srtp"), media_best(R, "rtpengine-srtp")
    if rb and not media_recs(R, "rtpengine-srtp"):
        peer = "rtpengine SRTP peer: not yet measured (its calls could not be set up: see media_bench.err)"
        rnote = ""
    elif rb:
        peer = relay_calls(*rb) + " (rtpengine, SRTP↔RTP)"
        rnote = srtp_vs_plain(R, "rtpengine")
    else:
        peer = "rtpengine SRTP peer: not yet measured" + (
            "" if media_recs(R, "rtpengine") else " (" + where_missing(R, "media_bench") + ")")
        rnote = ""
    if cb:
        calls, limited, top = cb
        common = sorted(media_passed(R, "callroute-srtp") & media_passed(R, "rtpengine-srtp"))
        at = common[-1] if common else None
        cn, rn = (media_ns(R, "callroute-srtp", at), media_ns(R, "rtpengine-srtp", at)) if at else (Fig([]), Fig([]))
        ratio = (f"CPU per packet {cn.med / rn.med:.2f}× rtpengine's (at {fmtnum(at)} calls)"
                 if cn and rn else "—")
        notes = [n for n in ("callroute: " + srtp_vs_plain(R, "callroute")
                             if srtp_vs_plain(R, "callroute") else "",
                             "rtpengine: " + rnote if rnote else "") if n]
        if calls.med is not None and calls.med >= 500:
            met = True
        elif limited:
            met = None   # the generator ran short below 500: the relay's ceiling is unknown
            notes.insert(0, "the generator could not offer the load below 500 calls")
        else:
            met = False
        add("srtp-relay", label, relay_calls(calls, limited, top), peer, ratio, met, "; ".join(notes))
    else:
        add("srtp-relay", label, where_missing(R, "media_bench") if not media_recs(R, "callroute")
            else "not yet measured: media_bench ran no --srtp ladder", peer, "—", None)

    G.append(tls_goal(R))
    return G


def cmd_missed(res):
    R = Results(res)
    for g in goals17(R) + goals(R) + goals19(R):
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
    if met == "reported":   # the issue sets no goal, only "beside": the figures are the point
        return "reported"
    return "**met**" if met is True else "**missed**" if met is False else "not yet measured"


CAUSE_FILES = {
    "interp-time": "perf-engine_bench.txt", "route-10k": "perf-route_bench.txt",
}


def cause_file(gid):
    """The profile behind a missed goal: the SIP ones are callroute's
    (perf of the server during an extra step of its ladder)."""
    if gid.startswith("sip-"):
        return "perf-sip.txt"
    return CAUSE_FILES.get(gid, "-")


def step_rows(steps):
    rows = []
    for r in steps:
        rows.append([r.get("tag"), fmtnum(r["rate"]), f"{fmtnum(r.get('achieved_cps'))}",
                     f"{r.get('ok')}/{r.get('calls')}", r.get("failed"), r.get("timeouts"),
                     r.get("retrans"),
                     f"{r['own_drops']} / {r.get('rcvbuf_errors')}" if "own_drops" in r
                     else f"— / {r.get('rcvbuf_errors')}",
                     fmtnum(r.get("cpu_us_per_call")) if "cpu_us_per_call" in r else "—",
                     fmtnum(r.get("server_cpu_pct")) + "%" if "server_cpu_pct" in r else "—",
                     f"{fmtnum(r.get('rtt_p50_ms'))} / {fmtnum(r.get('rtt_p99_ms'))}",
                     fmtnum(r.get("sipp_cpu_pct")) + "%",
                     "pass" if r.get("pass") else "FAIL: " + r.get("why", "")])
    return md_table(["step", "calls/s", "reached", "ok", "failed", "timeouts", "retrans",
                     "UDP drops (ours / machine)", "CPU-µs/call", "server CPU", "p50/p99 ms",
                     "sipp CPU", "result"], rows)


def sip_section(R):
    out = []
    order = ("callroute", "kamailio", "kamailio-rtpengine", "sipp-direct", "callroute-bypass")
    peers = [p for p in order if p in R.sip] + [p for p in R.sip if p not in order]
    if not peers:
        return "Not yet measured.\n"
    rows = []
    for p in peers:
        if p == "callroute-bypass":
            continue
        hp, top, fail = highest_pass(R, p)
        hps = "—" if hp is None else rate_reached(hp, top, fail)
        cells = [PEER_LABEL.get(p, p), hps]
        for rate in (1000.0, 2000.0):
            f, why = rate_fig(R, p, rate)
            cells.append("—" if p == "sipp-direct" else f.fmt(" µs") if f else
                         ("fails" if fails_at(R, p, rate) else "—"))
        w, wr = p99_max(R, p)
        cells.append("—" if w is None else f"{fmtnum(w)} ms")
        ser = sip_series(R, p)
        cells.append(" → ".join(fmtnum(r.get("cpu_us_per_call")) for r in ser) + " µs" if ser else "—")
        cells.append(hold_str(sip_hold(R, p)))
        cells.append(f"fails at {fmtnum(fail['rate'])}: {fail.get('why', '')}" if fail else "")
        rows.append(cells)
    out.append(md_table(["peer", "highest passing rate", "CPU-µs/call at 1,000/s",
                         "at 2,000/s", "worst INVITE→200 p99", "series at 1,000/s (CPU-µs/call)",
                         "Pss per held call", "note"], rows))
    out.append("")
    out.append("CPU-µs per call: utime+stime of every process of the server's tree "
               "(/proc/PID/stat; Kamailio's processes, and rtpengine with them) over the step "
               "and the drain after it, divided by the calls completed. At a goal rate the "
               "figure is the second of two steps in a row at that rate (it pays the work the "
               "first left lingering, at the same rate). INVITE→200 from sipp -trace_rtt "
               f"(its clock moves in {RTT_TICK_MS} ms steps here: 0 means < {RTT_TICK_MS} ms). "
               "The worst p99 is over every passing step of the ladder and the series.")
    for p in peers:
        st = sip_steps(R, p)
        if st:
            out.append(f"\n**{PEER_LABEL.get(p, p)}** — ladder:\n")
            out.append(step_rows(st))
    series = [p for p in peers if sip_series(R, p)]
    if series:
        out.append("\n### Five steps in a row at 1,000 calls/s, one server process (goal 2)\n")
        for p in series:
            out.append(f"**{PEER_LABEL.get(p, p)}**:\n")
            out.append(step_rows(sip_series(R, p)))
            out.append("")
    holds = [(p, sip_hold(R, p)) for p in peers if sip_hold(R, p)]
    if holds:
        out.append("\n### Held calls (goals 4 and 6)\n")
        out.append("Two batches of long calls (sipp `-d`), each set up at the same rate and left to "
                   "settle past the server's transaction linger; per held call = Pss growth from "
                   "after the first batch to after the second / calls in a batch (Pss summed over "
                   "the server's processes). Failed: calls of either batch that did not stay up.\n")
        rows = []
        for p, h in holds:
            if h.get("refused"):
                rows.append([PEER_LABEL.get(p, p), "—", "—", "—", "—", "—", "—",
                             f"not run: {h['refused']} ({h.get('check', '')})"])
                continue
            fds = (f"{fmtnum(h.get('fds_max'))} / {fmtnum(h.get('nofile_limit'))}"
                   if h.get("fds_max") is not None else "—")
            rows.append([PEER_LABEL.get(p, p),
                         f"{fmtnum(h.get('target_held', 2 * h.get('calls', 0)))} at {fmtnum(h.get('rate'))}/s",
                         fmtnum(h.get("held_calls")), fmtnum(h.get("failed")),
                         bytes_str(h.get("bytes_per_call")),
                         bytes_str(h.get("first_batch_bytes_per_call")), fds,
                         "pass" if h.get("pass") else "FAIL: " + h.get("why", "")])
        out.append(md_table(["peer", "calls (set-up rate)", "held", "failed", "Pss per held call",
                             "first batch per call", "descriptors (max / limit)", "result"], rows))
    return "\n".join(out) + "\n"


def media_table(R, peers):
    """Each step's loss, relay CPU and CPU per packet for PEERS, side by side,
    then the most calls each carried."""
    steps = sorted({r["calls"] for p in peers for r, _ in media_recs(R, p)})
    rows = []
    for n in steps:
        row = [fmtnum(n)]
        for p in peers:
            rec = next(((r, v) for r, v in media_recs(R, p) if r.get("calls") == n), None)
            if not rec:
                row += ["—", "—", "—"]
                continue
            r, v = rec
            loss = pick(v, "loss_pct")
            ok = "" if r.get("load_offered", True) else " (generator short)"
            row += [loss.fmt("%", 3) + ok, pick(v, "relay_cpu_pct").fmt("%"),
                    pick(v, "relay_ns_per_packet").fmt(" ns")]
        rows.append(row)
    head = ["calls"]
    for p in peers:
        head += [f"{p}: loss", f"{p}: relay CPU", f"{p}: CPU per packet"]
    out = [md_table(head, rows)]
    best = []
    for p in peers:
        b = media_best(R, p)
        if b:
            best.append(f"{p}: {b[0].fmt()} calls" + (" (limited by the generator)" if b[1] else ""))
    if best:
        out.append("\nMost calls with < 0.1% loss at the full offered load — " + "; ".join(best) + ".")
    return out


def media_section(R):
    peers = [p for p in ("callroute", "rtpengine") if media_recs(R, p)]
    if not peers:
        return where_missing(R, "media_bench") + "\n"
    out = ["bench/media_bench.c: the relay on CPU 0 — callroute's RTP module (sip_rtp.c) in "
           "the benchmark's process, or rtpengine (`--table=-1`, userspace; its calls set up "
           "over the NG protocol) — and one generator on CPU 1 playing both phones of every "
           "call (one 20 ms PCMU packet every 20 ms each way) for both; a step passes with "
           "< 0.1% of packets lost. CPU per packet: the relay's CPU over the step / packets "
           "relayed (rtpengine: every thread of its process).\n"]
    out += media_table(R, peers)
    out.append("\n### SRTP ↔ RTP (issue 19)\n")
    speers = [p for p in ("callroute-srtp", "rtpengine-srtp") if media_recs(R, p)]
    if not speers:
        out.append("Not yet measured: media_bench ran no `--srtp` ladder.")
        return "\n".join(out) + "\n"
    out.append("`media_bench --srtp`: the same calls with phone A's leg SDES-SRTP "
               "(AES_CM_128_HMAC_SHA1_80) and phone B's plain RTP, so the relay decrypts one "
               "direction and encrypts the other. callroute: the A session of each pair keyed "
               "through `rtp_set_srtp` (libsrtp2); rtpengine: an RTP/SAVP offer with A's "
               "a=crypto and `transport-protocol: RTP/AVP` toward B. The generator does phone A's "
               "crypto with libsrtp2 and counts a packet only when it authenticates and decrypts "
               "(toward A) or arrives in the clear (toward B).\n")
    out += media_table(R, speers)
    if "rtpengine-srtp" not in speers:
        out.append("\nrtpengine SRTP peer: not yet measured.")
    cmp_ = [f"{relay}: {srtp_vs_plain(R, relay)}" for relay in ("callroute", "rtpengine")
            if srtp_vs_plain(R, relay)]
    if cmp_:
        out.append("\nCPU per packet, SRTP vs plain (highest step both passed) — " + "; ".join(cmp_) + ".")
    return "\n".join(out) + "\n"


def cluster_section(R):
    recs = [r for r in R.cluster if r.get("bench") == "sip" and r.get("phase") == "step"]
    head = ("`bench/cluster/run.sh` (bench/sipp/sipstep.py; the bench/sip B2BUA scenario: every "
            "call dialled out to the sipp UAS gateway, answered, bridged, no hold time; call "
            "records off, flood limit off; the server tree pinned to CPU 0, sipp to CPU 1; "
            "Kamailio 5.6 with contrib/kamailio/kamailio.cfg, `-x tlsf`, one UDP worker; "
            "PostgreSQL for the cluster database outside the measured tree). CPU per call "
            "is the whole tree's: Kamailio and both nodes.\n")
    if not recs:
        return head + "\n" + where_missing(R, "cluster") + "\n"
    names = []
    for r in recs:
        if r["peer"] not in names:
            names.append(r["peer"])
    label = {"callroute-direct": "callroute, 1 node, direct",
             "kamailio+2-nodes": "Kamailio + 2 callroute nodes"}
    rows = []
    for r in recs:
        rows.append([label.get(r["peer"], r["peer"]), r.get("tag"), fmtnum(r["rate"]),
                     fmtnum(r.get("achieved_cps")), r.get("failed"),
                     fmtnum(r.get("cpu_us_per_call")), fmtnum(r.get("server_cpu_pct")) + "%",
                     "pass" if r.get("pass") else "FAIL: " + r.get("why", "")])
    out = [head, md_table(["setup", "step", "calls/s", "reached", "failed", "CPU-µs per call",
                           "tree CPU", "result"], rows)]
    # The front end's cost: the same rate both ways, repeats preferred.
    ref = max((r["rate"] for r in recs if str(r.get("tag", "")).startswith("repeat")),
              default=max(r["rate"] for r in recs))

    def at(peer):
        xs = [r for r in recs if r["peer"] == peer and r["rate"] == ref and r.get("pass")]
        rep = [r for r in xs if str(r.get("tag", "")).startswith("repeat")]
        return Fig([r.get("cpu_us_per_call") for r in (rep or xs)])
    d, c = at("callroute-direct"), at("kamailio+2-nodes")
    if d and c:
        out.append(f"\nAt {fmtnum(ref)} calls/s the front end costs {fmtnum(c.med - d.med)} CPU-µs "
                   f"per call ({c.fmt(' µs')} through Kamailio and two nodes, {d.fmt(' µs')} "
                   "to one node directly): Kamailio's relaying of INVITE, ACK and BYE with "
                   "Record-Route and dispatcher, the nodes' extra work for the front end and "
                   "their heartbeat.")
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
    # $BENCH_NOTE: what the person running the bench knows of its conditions
    # (other work on the same cores, say), printed as given.
    if os.environ.get("BENCH_NOTE"):
        w.append("> **Conditions**: " + os.environ["BENCH_NOTE"].strip() + "\n")
    w.append("## Machine\n")
    w.append(md_table(["", ""], [
        ["CPU", f"{m.get('cpu', '?')} ({m.get('virt') or 'bare metal'})"],
        ["cores", m.get("cores", "?")], ["memory", f"{m.get('memory_gb', '?')} GB"],
        ["kernel", m.get("kernel", "?")], ["OS", m.get("os", "?")],
        ["compiler", m.get("cc", "?")],
        ["peers", "; ".join(m.get(k) or f"{k}: ?" for k in ("kamailio", "rtpengine", "sipp", "lua"))],
        ["load average at start", " ".join(m.get("load", []))],
        ["open files per process (hard limit)", fmtnum(m.get("nofile_hard") or next(
            (r["nofile_limit"] for rs in R.sip.values() for r in rs if r.get("nofile_limit")), None))],
        ["whole run", f"{R.seconds // 60} min {R.seconds % 60} s" if R.seconds else "?"],
    ]))
    w.append("")
    G17, G7 = goals17(R), goals(R)
    w.append("## Goals (issue 17)\n")
    w.append("Each goal against its peer in the same run (bench/README.md: the peers and how "
             "each is measured).\n")
    w.append(md_table(["goal", "callroute", "peer, same run", "ratio", "verdict", "note"],
                      [[g["goal"], g["ours"], g["peer"], g["ratio"], verdict(g["met"]), g["note"]]
                       for g in G17]))
    w.append("")
    w.append("## Goals (issue 7)\n")
    w.append("Its SIP goals (CPU per call ≤ 2× Kamailio's, ≥ 1,000 calls/s) are goals 1 and 3 "
             "of issue 17 above.\n")
    w.append(md_table(["goal", "callroute", "peer, same run", "ratio", "verdict", "note"],
                      [[g["goal"], g["ours"], g["peer"], g["ratio"], verdict(g["met"]), g["note"]]
                       for g in G7]))
    w.append("")
    G19 = goals19(R)
    w.append("## Goals (issue 19, item 4: encrypted calls)\n")
    w.append(md_table(["goal", "callroute", "peer, same run", "ratio", "verdict", "note"],
                      [[g["goal"], g["ours"], g["peer"], g["ratio"], verdict(g["met"]), g["note"]]
                       for g in G19]))
    w.append("")
    shown = set()
    for g in G17 + G7 + G19:
        if g["met"] is not False:
            continue
        w.append(f"### Missed: {g['goal']}\n")
        cf = cause_file(g["id"])
        txt = file_text(os.path.join(res, cf))
        if txt and cf in shown:
            w.append(f"Profile: as under the first missed SIP goal above.\n")
        elif txt:
            shown.add(cf)
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
    w.append("## SIP: callroute B2BUA vs Kamailio, Kamailio + rtpengine, sipp → sipp\n")
    w.append(sip_section(R))
    w.append("## Media: callroute's relay vs rtpengine's on one core\n")
    w.append(media_section(R))
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
    w.append("## Encrypted calls (issue 19): TLS signalling and SRTP media\n")
    w.append(tls_section(R))
    w.append(srtp_beside_rtpengine(R))
    w.append("## Cluster: Kamailio + 2 nodes vs 1 node direct (issue 18)\n")
    w.append(cluster_section(R))
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
