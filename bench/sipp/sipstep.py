#!/usr/bin/python3
"""Fixed-rate sipp steps against a SIP server, measured from /proc.

One tool for every SIP figure in BENCHMARKS.md, so Kamailio, callroute and
the sipp-to-sipp baseline are measured the same way (bench/README.md):

  sipstep.py ladder --name kamailio --server "CMD" --target 127.0.0.1:7070 \
      --rates 100,200,400 --duration 30
  sipstep.py series --name callroute --server "CMD" --target ... --steps 5 --repeat-rate 1000
  sipstep.py hold --name kamailio --server "CMD" --target ... --calls 5000
  sipstep.py handshakes --name callroute-tls --server "CMD" --server-port 7071 \
      --tls 127.0.0.1:7072 --connections 500

--front "CMD" starts a process between sipp and the server, pinned with sipp
(bench/tls: a Kamailio converting sipp's UDP to TLS); the UAC then calls it at
--target and the server binds --server-port.

The server command is started pinned to --server-cpu (taskset), every sipp
on --sipp-cpu. Without --server the UAC calls the UAS directly (the
generator's own ceiling). Results are JSON lines on stdout (and --out).
"""
import argparse
import csv
import glob
import json
import math
import os
import resource
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CLK = os.sysconf("SC_CLK_TCK")
# sipp's socket buffers (default 64 KB): larger, so the generator is not the
# first to drop a burst; the kernel caps it at net.core.rmem_max.
BUFF = 1 << 20


# ---------------------------------------------------------------- /proc

def _stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    # comm may hold spaces and parentheses: split after the last ')'.
    return s[s.rindex(")") + 2:].split()


def proc_tree(root):
    """root and all its live descendants."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            ppid = int(_stat_fields(d)[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_of(pids):
    """(seconds from utime+stime+cutime+cstime, seconds from schedstat)."""
    ticks, ns = 0, 0
    for p in pids:
        try:
            f = _stat_fields(p)
            # fields 14..17 of stat: utime stime cutime cstime (reaped children)
            ticks += sum(int(x) for x in f[11:15])
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/schedstat") as sf:
                    ns += int(sf.read().split()[0])
        except (OSError, ValueError):
            pass
    return ticks / CLK, ns / 1e9


def user_sys_of(pids):
    """(user seconds, system seconds) of PIDS from /proc stat: system time
    is where page faults, madvise and the socket calls are paid."""
    ut = st = 0
    for p in pids:
        try:
            f = _stat_fields(p)
            ut += int(f[11]) + int(f[13])
            st += int(f[12]) + int(f[14])
        except (OSError, ValueError, IndexError):
            pass
    return ut / CLK, st / CLK


def mem_of(pids):
    """(Pss kB, Rss kB) summed: Pss shares pages among Kamailio's processes."""
    pss = rss = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
        except OSError:
            pass
    return pss, rss


def udp_rcvbuf_errors():
    with open("/proc/net/snmp") as f:
        rows = [l.split() for l in f if l.startswith("Udp:")]
    return int(rows[1][rows[0].index("RcvbufErrors")])


def udp_drops():
    """Datagrams dropped per local UDP port (/proc/net/udp 'drops'): tells
    whether the server's socket or the generator's overflowed."""
    out = {}
    for path in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(path) as f:
                for line in f.readlines()[1:]:
                    p = line.split()
                    port = int(p[1].rsplit(":", 1)[1], 16)
                    out[port] = out.get(port, 0) + int(p[-1])
        except (OSError, ValueError, IndexError):
            pass
    return out


def socket_inodes(pids):
    """Inodes of the sockets PIDS hold open (/proc/PID/fd -> socket:[N])."""
    out = set()
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                out.add(link[8:-1])
    return out


def udp_drops_of(pids):
    """Datagrams dropped so far on the UDP sockets PIDS hold (every socket
    of the server's tree: its SIP socket, Kamailio's socket to rtpengine,
    rtpengine's control socket, ...). Unlike the machine-wide RcvbufErrors,
    another program's drops do not count: the machine is shared."""
    inodes = socket_inodes(pids)
    total = 0
    for path in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(path) as f:
                for line in f.readlines()[1:]:
                    p = line.split()
                    if len(p) > 9 and p[9] in inodes:
                        total += int(p[-1])
        except (OSError, ValueError):
            pass
    return total


def udp_bound(port):
    want = f":{port:04X}"
    for path in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(path) as f:
                for line in f.readlines()[1:]:
                    if line.split()[1].endswith(want):
                        return True
        except OSError:
            pass
    return False


def free_port(want):
    """WANT if nothing holds it (UDP), else one the kernel picks: a server
    with media takes many ports (RTP) while a ladder runs."""
    for port in (want, 0):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", port))
            return s.getsockname()[1]
        except OSError:
            continue
        finally:
            s.close()
    sys.exit("sipstep: no free UDP port")


def wait_free(port, what, timeout=15.0):
    """Before starting WHAT: the port must be free. The previous run's
    process may still be closing its sockets (a sipp with 100,000 calls
    takes a while): wait for it, with a deadline."""
    end = time.time() + timeout
    while udp_bound(port):
        if time.time() > end:
            sys.exit(f"sipstep: UDP :{port} is already in use: {what} cannot start")
        time.sleep(0.1)


def wait_bound(port, proc, what, timeout=15.0):
    end = time.time() + timeout
    while time.time() < end:
        if udp_bound(port):
            return
        if proc is not None and proc.poll() is not None:
            sys.exit(f"sipstep: {what} exited ({proc.returncode}) before binding :{port}")
        time.sleep(0.05)
    sys.exit(f"sipstep: {what} did not bind UDP :{port} in {timeout:.0f} s")


# ---------------------------------------------------------------- processes

def _all_fds():
    """Soft limit of open files raised to the hard one: a server holding
    10,000 calls with media needs two sockets a call (callroute) or four
    (rtpengine: RTP and RTCP each side); no peer gets more than the other."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def nofile_limit():
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def fds_of(pids):
    """{pid: open descriptors} of PIDS (the tree's processes)."""
    out = {}
    for p in pids:
        try:
            out[p] = len(os.listdir(f"/proc/{p}/fd"))
        except OSError:
            pass
    return out


class Proc:
    """A process we started; stopped by its own pid and descendants only."""

    def __init__(self, argv, cpu, log, cwd=None):
        self.argv = argv
        self.log = open(log, "ab")
        self.p = subprocess.Popen(["taskset", "-c", str(cpu)] + argv,
                                  stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, cwd=cwd, preexec_fn=_all_fds)

    @property
    def pid(self):
        return self.p.pid

    def tree(self):
        return proc_tree(self.p.pid)

    def reap(self):
        """Wait for exit; return its CPU seconds (rusage: /proc is gone by then)."""
        _, status, ru = os.wait4(self.p.pid, 0)
        self.p.returncode = os.waitstatus_to_exitcode(status)
        return ru.ru_utime + ru.ru_stime

    def stop(self, grace=5.0):
        if self.p.poll() is None:
            pids = self.tree()
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(grace)
            except subprocess.TimeoutExpired:
                pass
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.p.wait()
        self.log.close()


def start_server(args, work):
    if not args.server:
        return None
    port = server_port(args)
    wait_free(port, "server")
    srv = Proc(shlex.split(args.server), args.server_cpu,
               os.path.join(work, "server.log"))
    try:
        wait_bound(port, srv.p, "server")
    except SystemExit:
        srv.stop()   # never leave a server we started behind
        raise
    time.sleep(args.server_settle)  # children fork after the bind
    return srv


def server_port(args):
    """The UDP port the server binds: --server-port, else the target's."""
    return args.server_port or int(args.target.rsplit(":", 1)[1])


def start_front(args, work):
    """The process between sipp and the server (--front), on sipp's CPU:
    its CPU is the generator's. It binds the target's port."""
    if not args.front:
        return None
    port = int(args.target.rsplit(":", 1)[1])
    wait_free(port, "front")
    front = Proc(shlex.split(args.front), args.sipp_cpu, os.path.join(work, "front.log"))
    try:
        wait_bound(port, front.p, "front")
    except SystemExit:
        front.stop()
        raise
    time.sleep(args.server_settle)
    return front


def perf_events(args):
    """The events perf stat counts per step: --perf-events, else
    instructions when --perf-stat asks; none without either."""
    if args.perf_events:
        return [e for e in args.perf_events.split(",") if e]
    return ["instructions"] if args.perf_stat else []


def perf_stat_start(args, pids):
    """perf stat over PIDS for one step (perf_events); else None."""
    events = perf_events(args)
    if not events or not pids:
        return None
    out = tempfile.NamedTemporaryFile(prefix="perfstat-", suffix=".csv", delete=False)
    out.close()
    p = subprocess.Popen(["perf", "stat", "-x", ",", "-e", ",".join(events), "-o", out.name,
                          "-p", ",".join(str(x) for x in pids)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p, out.name, events


def perf_stat_stop(handle):
    """{event: count} of the events the machine counts ('<not supported>'
    ones left out), or None. Keyed by the event as asked: perf may print
    "instructions" as "instructions:u"."""
    if handle is None:
        return None
    p, path, events = handle
    p.send_signal(signal.SIGINT)
    p.wait()
    counts = {}
    try:
        with open(path) as f:
            for line in f:
                cells = line.strip().split(",")
                if len(cells) <= 2:
                    continue
                ev = next((e for e in events
                           if cells[2] == e or cells[2].startswith(e + ":")), None)
                if ev is None:
                    continue
                try:
                    counts[ev] = float(cells[0])
                except ValueError:
                    pass
    finally:
        os.unlink(path)
    return counts


def start_uas(args, work):
    wait_free(args.uas_port, "sipp uas")
    uas = Proc(["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(args.uas_port),
                "-nostdin", "-trace_err", "-max_socket", "65000", "-buff_size", str(BUFF)],
               args.sipp_cpu, os.path.join(work, "uas.log"), cwd=work)
    try:
        wait_bound(args.uas_port, uas.p, "sipp uas")
    except SystemExit:
        uas.stop()
        raise
    return uas


def uac_argv(args, rate, calls, port, extra=(), wall=None):
    """sipp's built-in uac; WALL: seconds before it gives up (-timeout)."""
    wall = wall or int(calls / max(rate, 1)) + 60
    return ["sipp", "-sn", "uac", args.target, "-i", "127.0.0.1", "-p", str(port),
            "-r", f"{rate:g}", "-rp", "1000", "-m", str(calls), "-nostdin",
            "-recv_timeout", str(args.recv_timeout), "-timeout", str(wall),
            "-timeout_error", "-trace_stat", "-stf", "stat.csv", "-fd", "1",
            "-trace_err", "-max_socket", "65000", "-buff_size", str(BUFF)] + list(extra)


def read_stat(path):
    """Last (cumulative) row of a sipp -trace_stat file, as a dict."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f, delimiter=";"))
    except OSError:
        return {}
    if len(rows) < 2:
        return {}
    return dict(zip(rows[0], rows[-1]))


def num(stat, key):
    try:
        return float(stat.get(key, 0) or 0)
    except ValueError:
        return 0.0


def percentile(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    i = min(len(xs) - 1, max(0, math.ceil(q * len(xs)) - 1))
    return xs[i]


# ---------------------------------------------------------------- one step

def run_uacs(args, rate, seconds, work, tag, rtt=True, extra=()):
    """Run ceil(rate/per_uac) sipp UACs at rate in total; return their stats."""
    n = max(1, math.ceil(rate / args.per_uac))
    calls = max(1, int(round(rate * seconds)))
    procs, dirs = [], []
    for i in range(n):
        d = os.path.join(work, f"{tag}-uac{i}")
        os.makedirs(d, exist_ok=True)
        ex = list(extra) + (["-trace_rtt", "-rtt_freq", "100"] if rtt else [])
        share = calls // n + (1 if i < calls % n else 0)
        procs.append(Proc(uac_argv(args, rate / n, share, free_port(args.uac_port + 2 * i), ex),
                          args.sipp_cpu, os.path.join(d, "uac.log"), cwd=d))
        dirs.append(d)
    return procs, dirs, calls


def collect(dirs):
    tot = {"ok": 0, "failed": 0, "timeouts": 0, "retrans": 0, "created": 0,
           "cps": 0.0, "dead": 0, "unexpected": 0}
    rtts = []
    for d in dirs:
        st = read_stat(os.path.join(d, "stat.csv"))
        tot["ok"] += int(num(st, "SuccessfulCall(C)"))
        tot["failed"] += int(num(st, "FailedCall(C)"))
        tot["timeouts"] += int(num(st, "FailedTimeoutOnRecv(C)") + num(st, "FailedMaxUDPRetrans(C)"))
        tot["retrans"] += int(num(st, "Retransmissions(C)"))
        tot["created"] += int(num(st, "TotalCallCreated"))
        tot["cps"] += num(st, "CallRate(C)")
        tot["dead"] += int(num(st, "DeadCallMsgs(C)"))
        tot["unexpected"] += int(num(st, "FailedUnexpectedMessage(C)"))
        for f in glob.glob(os.path.join(d, "*_rtt.csv")):
            with open(f) as fh:
                for line in fh:
                    p = line.strip().split(";")
                    if len(p) == 3 and p[2] == "1":
                        try:
                            rtts.append(float(p[1]))
                        except ValueError:
                            pass
    return tot, rtts


def step(args, srv, uas, rate, seconds, work, tag, record=True, profile=None, phase="step",
         front=None):
    pids = srv.tree() if srv else []
    perf = None
    if profile and pids:
        # perf samples the server while it carries this step (bench/run.sh
        # turns it into "where the time goes" when a goal is missed).
        perf = subprocess.Popen(["perf", "record", "-q", "-g", "-F", "999", "-o", profile,
                                 "-p", ",".join(str(p) for p in pids)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rcv0 = udp_rcvbuf_errors()
    # The UAS socket lives for the whole ladder; UAC sockets are born and die
    # with the step, so their drops are the counter's growth not seen here.
    srv_port = server_port(args)
    d0 = udp_drops()
    own0 = udp_drops_of(pids + uas.tree())
    f0 = cpu_of(front.tree()) if front else (0, 0)
    pstat = perf_stat_start(args, pids) if record else None
    c0 = cpu_of(pids)
    us0 = user_sys_of(pids)
    g0 = cpu_of(uas.tree())
    t0 = time.time()
    procs, dirs, calls = run_uacs(args, rate, seconds, work, tag)
    uac_cpu = sum(p.reap() for p in procs)
    wall = time.time() - t0
    if perf:
        perf.send_signal(signal.SIGINT)
        perf.wait()
    time.sleep(args.drain)  # lingering transactions are part of a call's cost
    c1 = cpu_of(pids)
    us1 = user_sys_of(pids)
    counts = perf_stat_stop(pstat)
    g1 = cpu_of(uas.tree())
    f1 = cpu_of(front.tree()) if front else (0, 0)
    rcv1 = udp_rcvbuf_errors()
    d1 = udp_drops()
    own1 = udp_drops_of((srv.tree() if srv else []) + uas.tree())
    for p in procs:
        p.stop()
    tot, rtts = collect(dirs)
    res = {
        "bench": "sip", "phase": phase, "peer": args.name, "tag": tag,
        "rate": rate, "seconds": seconds, "calls": calls, "uacs": len(procs),
        "ok": tot["ok"], "failed": tot["failed"], "timeouts": tot["timeouts"],
        "retrans": tot["retrans"], "dead_msgs": tot["dead"],
        "achieved_cps": round(tot["cps"], 1), "wall_s": round(wall, 2),
        "rcvbuf_errors": rcv1 - rcv0,
        "own_drops": max(own1 - own0, 0),
        "drops_server": (d1.get(srv_port, 0) - d0.get(srv_port, 0)) if srv else None,
        "drops_uas": d1.get(args.uas_port, 0) - d0.get(args.uas_port, 0),
        # Both sipps share one core: near 100% the generator is the limit.
        "sipp_cpu_pct": round(100 * (uac_cpu + g1[0] - g0[0]) / max(wall, 1e-9), 1),
    }
    if front:
        # The converter shares the load CPU with sipp: near 100% together,
        # the generator is the limit.
        res["front_cpu_pct"] = round(100 * (f1[1] - f0[1]) / max(wall, 1e-9), 1)
    for ev, n in (counts or {}).items():
        # instructions_per_call, page-faults -> page_faults_per_call, ...
        res[ev.replace("-", "_").replace(":", "_") + "_per_call"] = round(n / max(tot["ok"], 1), 4)
    if counts and "instructions_per_call" in res:
        res["instructions_per_call"] = round(res["instructions_per_call"])
    if srv:
        res["cpu_us_per_call"] = round(1e6 * (c1[0] - c0[0]) / max(tot["ok"], 1), 1)
        res["cpu_sched_us_per_call"] = round(1e6 * (c1[1] - c0[1]) / max(tot["ok"], 1), 1)
        res["server_cpu_pct"] = round(100 * (c1[1] - c0[1]) / max(wall, 1e-9), 1)
        res["user_us_per_call"] = round(1e6 * (us1[0] - us0[0]) / max(tot["ok"], 1), 1)
        res["sys_us_per_call"] = round(1e6 * (us1[1] - us0[1]) / max(tot["ok"], 1), 1)
    if rtts:
        res["rtt_p50_ms"] = percentile(rtts, 0.50)
        res["rtt_p99_ms"] = percentile(rtts, 0.99)
        res["rtt_samples"] = len(rtts)
    res["pass"] = (tot["failed"] == 0 and tot["timeouts"] == 0 and tot["ok"] == calls
                   and res["own_drops"] == 0
                   and tot["cps"] >= 0.95 * rate)
    if not res["pass"]:
        why = []
        if tot["failed"] or tot["ok"] != calls:
            why.append(f"{tot['failed']} failed, {tot['ok']}/{calls} ok")
        if tot["timeouts"]:
            why.append(f"{tot['timeouts']} timeouts")
        if res["own_drops"]:
            where = f"server's SIP socket {res['drops_server']}, " if srv else ""
            why.append(f"{res['own_drops']} datagrams dropped on the server's and UAS's sockets "
                       f"({where}UAS socket {res['drops_uas']}; UdpRcvbufErrors machine-wide "
                       f"+{res['rcvbuf_errors']})")
        bad = [p.p.returncode for p in procs if p.p.returncode not in (0, 1)]
        if bad:
            why.append(f"sipp uac exit {bad[0]} (see {dirs[0]}/uac.log)")
        if uas.p.poll() is not None:
            why.append(f"sipp uas exited ({uas.p.returncode})")
        if srv and srv.p.poll() is not None:
            why.append(f"server exited ({srv.p.returncode})")
        if front and front.p.poll() is not None:
            why.append(f"front exited ({front.p.returncode})")
        if tot["cps"] < 0.95 * rate and not why:
            why.append(f"only {tot['cps']:.0f} calls/s reached")
        res["why"] = "; ".join(why)
    if not res["pass"]:
        args.failed = True
    if record:
        emit(args, res)
    return res


def emit(args, res):
    line = json.dumps(res, sort_keys=True)
    print(line, flush=True)
    if args.out:
        with open(args.out, "a") as f:
            f.write(line + "\n")


# ---------------------------------------------------------------- commands

def cmd_ladder(args, work):
    srv = start_server(args, work)
    uas = front = None
    try:
        front = start_front(args, work)
        uas = start_uas(args, work)
        if args.warmup > 0:
            step(args, srv, uas, args.warmup_rate, args.warmup, work, "warmup", record=False,
                 front=front)
        for i, rate in enumerate(args.rates):
            r = step(args, srv, uas, rate, args.duration, work, f"step{i}", front=front)
            if not r["pass"] and not args.keep_going:
                break
        for k in range(args.repeats):
            step(args, srv, uas, args.repeat_rate, args.duration, work, f"repeat{k}", front=front)
        if args.profile and srv:
            # An extra, unrecorded step: perf's own cost stays out of the figures.
            step(args, srv, uas, args.repeat_rate, min(args.duration, 10), work, "profile",
                 record=False, profile=args.profile, front=front)
    finally:
        if uas:
            uas.stop()
        if front:
            front.stop()
        if srv:
            srv.stop()


def cmd_series(args, work):
    """STEPS steps in a row at one rate on one server process: the cost of
    a server's millionth call against its first (issue 17, goal 2). Every
    step runs, failing or not: the drift is the figure."""
    srv = start_server(args, work)
    uas = None
    try:
        uas = start_uas(args, work)
        if args.warmup > 0:
            step(args, srv, uas, args.warmup_rate, args.warmup, work, "warmup", record=False)
        want = {int(x) for x in (args.profile_steps or "").split(",") if x}
        for i in range(args.steps):
            # --profile-steps: perf record these steps (perf diff compares
            # them); a profiled step's CPU figures include perf's sampling.
            prof = (os.path.join(args.profile_dir, f"series{i}.data")
                    if i in want and args.profile_dir else None)
            step(args, srv, uas, args.repeat_rate, args.duration, work, f"series{i}",
                 phase="series", profile=prof)
    finally:
        if uas:
            uas.stop()
        if srv:
            srv.stop()


def hold_batch(args, work, k, srv):
    """Batch K of long calls (-d): each stays up after ACK until the caller
    stops. One sipp UAC in UDP single-socket mode (its default, -t u1)
    carries the whole batch: 50,000 calls need no descriptor each.
    Returns the UAC, its directory and the server's settled (Pss, Rss)."""
    d = os.path.join(work, f"hold{k}-uac")
    os.makedirs(d, exist_ok=True)
    setup = args.calls / args.rate + 1
    # The first batch lives through every batch and its settling; sipp
    # must not give up on it before the last reading.
    wall = int(args.batches * (setup + args.settle + args.settle_more) + 120)
    uac = Proc(uac_argv(args, args.rate, args.calls, free_port(args.uac_port + 2 * k),
                        ["-d", "3600000", "-l", str(args.calls)], wall=wall),
               args.sipp_cpu, os.path.join(d, "uac.log"), cwd=d)
    time.sleep(setup)
    time.sleep(args.settle)   # the set-up's transactions linger, then go
    return uac, d, settled_mem(args, srv)


def settled_mem(args, srv):
    """The server's (Pss, Rss) once Pss stops moving: after --settle, read
    every 2 s until two readings 4 s apart differ by less than 0.5% (at
    most --settle-more seconds more). What a set-up leaves behind goes
    later than its transactions (heaptrack: sofia keeps our INVITE's
    request 32 s, though callroute sets T1x64 to 8 s): a reading taken
    while it goes counts part of it for the batch."""
    readings = [mem_of(srv.tree())]
    end = time.monotonic() + args.settle_more
    while time.monotonic() < end:
        time.sleep(2)
        readings.append(mem_of(srv.tree()))
        if len(readings) >= 3 and abs(readings[-1][0] - readings[-3][0]) <= 0.005 * readings[-1][0]:
            break
    return readings[-1]


def fd_note(fds, limit):
    """Why a held call may have failed that is the machine's, not the
    server's: a process of the tree at its descriptor limit."""
    if not fds or not limit:
        return ""
    top = max(fds.values())
    if top >= 0.98 * limit:
        return (f"a server process held {top} descriptors, its limit is {limit} "
                f"(RLIMIT_NOFILE hard limit of this machine)")
    return ""


def cmd_hold(args, work):
    """Memory per held call, by batches of N long calls set up the same way
    (--batches, 2 by default): each batch after the first gives (after it -
    after the one before) / N; the figure is the median of those. The
    transient memory of a set-up (lingering transactions; an allocator keeps
    pages it touched) is the same for every batch and cancels; what stays is
    the calls held. At the end batches * N calls are up at once; failed
    counts every call of every batch that did not stay up (refused, timed
    out, or hung up by the server since)."""
    if not args.server:
        sys.exit("sipstep: hold needs --server")
    if args.batches < 2:
        sys.exit("sipstep: hold needs --batches 2 or more (growth is read between batches)")
    srv = start_server(args, work)
    uas = None
    uacs, dirs = [], []
    try:
        uas = start_uas(args, work)
        if args.hold_warmup > 0:
            step(args, srv, uas, args.rate, args.hold_warmup, work, "warmup", record=False)
        base = mem_of(srv.tree())
        mem, why = [], []
        for k in range(args.batches):
            uac, d, m = hold_batch(args, work, k, srv)
            uacs.append(uac)
            dirs.append(d)
            mem.append(m)
        fds = fds_of(srv.tree())
        held = failed = created = 0
        held_k = []
        for k, (uac, d) in enumerate(zip(uacs, dirs)):
            st = read_stat(os.path.join(d, "stat.csv"))
            held_k.append(int(num(st, "CurrentCall")))
            held += held_k[-1]
            failed += int(num(st, "FailedCall(C)"))
            created += int(num(st, "TotalCallCreated"))
            if uac.p.poll() is not None:
                why.append(f"batch {k}: sipp exited ({uac.p.returncode}), see {d}/uac.log")
        if srv.p.poll() is not None:
            why.append(f"server exited ({srv.p.returncode})")
        target = args.batches * args.calls
        ok = failed == 0 and held == target and not why
        fd_limited = False
        if not ok:
            why.insert(0, f"{held} of {target} calls held, {failed} failed")
            note = fd_note(fds, nofile_limit())
            if note:
                why.append(note)
                fd_limited = True
            args.failed = True
        # Per held call: each later batch's growth / the calls it holds
        # (all of them when nothing failed; a server that refused some is
        # not credited with memory it never spent on them); the median.
        n = max(args.calls, 1)
        nb = held_k[1] if len(held_k) > 1 else 0
        per_batch = [round(1024 * (mem[k][0] - mem[k - 1][0]) / held_k[k])
                     for k in range(1, len(mem)) if held_k[k]]
        emit(args, {
            "bench": "sip", "phase": "hold", "peer": args.name, "calls": args.calls,
            "target_held": target, "held_calls": held, "failed": failed,
            "created": created, "rate": args.rate, "settle_s": args.settle,
            "batches": args.batches,
            "pss_base_kb": base[0], "pss_a_kb": mem[0][0], "pss_b_kb": mem[1][0],
            "pss_kb": [m[0] for m in mem],
            "rss_base_kb": base[1], "rss_b_kb": mem[1][1],
            "fds_max": max(fds.values()) if fds else None, "nofile_limit": nofile_limit(),
            "fd_limited": fd_limited,
            "held_b": nb,
            "per_batch_bytes_per_call": per_batch,
            "bytes_per_call": round(statistics.median(per_batch)) if per_batch else None,
            "first_batch_bytes_per_call": round(1024 * (mem[0][0] - base[0]) / n),
            "pass": ok,
            **({"why": "; ".join(why)} if why else {}),
        })
    finally:
        for u in uacs:
            u.stop()
        if uas:
            uas.stop()
        srv.stop()


def one_handshake(host, port, ctx, n, timeout=5.0):
    """One new TLS connection: handshake, an OPTIONS (Max-Forwards 0: any
    server answers it itself, Kamailio with 483, sofia with its own reply),
    its response read, the connection closed. True when a response came."""
    import ssl
    raw = socket.create_connection((host, port), timeout=timeout)
    try:
        with ctx.wrap_socket(raw, server_hostname=host) as s:
            lport = s.getsockname()[1]
            msg = (f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/TLS 127.0.0.1:{lport};branch=z9hG4bK-hs{n};rport\r\n"
                   "Max-Forwards: 0\r\n"
                   f"From: <sip:bench@127.0.0.1>;tag=hs{n}\r\n"
                   f"To: <sip:{host}:{port}>\r\n"
                   f"Call-ID: hs{n}-{os.getpid()}@bench\r\n"
                   "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
            s.sendall(msg.encode())
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
            ok = buf.startswith(b"SIP/2.0 ")
            try:
                s.unwrap()     # close_notify, as a well-behaved client
            except (ssl.SSLError, OSError):
                pass
            return ok
    except (OSError, ssl.SSLError):
        return False
    finally:
        raw.close()


def cmd_handshakes(args, work):
    """CPU per new TLS connection on the server: --connections connections
    one after the other from this process (pinned to sipp's CPU), each a
    full handshake and one OPTIONS. What a call costs more when its TLS
    connection is not reused: the ladder's calls share one connection."""
    import ssl
    if not args.server or not args.tls:
        sys.exit("sipstep: handshakes needs --server and --tls HOST:PORT")
    os.sched_setaffinity(0, {int(args.sipp_cpu)})
    host, port = args.tls.rsplit(":", 1)
    port = int(port)
    ctx = ssl.create_default_context(cafile=args.ca) if args.ca else ssl._create_unverified_context()
    srv = start_server(args, work)
    try:
        end = time.time() + 15
        while not one_handshake(host, port, ctx, -1):   # the TLS listener is up
            if time.time() > end or srv.p.poll() is not None:
                sys.exit(f"sipstep: no TLS answer on {args.tls}")
            time.sleep(0.1)
        for i in range(min(50, args.connections)):      # warm up
            one_handshake(host, port, ctx, i)
        time.sleep(args.drain)
        m0 = mem_of(srv.tree())
        c0 = cpu_of(srv.tree())
        t0 = time.time()
        ok = 0
        for i in range(args.connections):
            ok += one_handshake(host, port, ctx, i)
        wall = time.time() - t0
        time.sleep(args.drain)
        c1 = cpu_of(srv.tree())
        m1 = mem_of(srv.tree())
        res = {"bench": "tls", "phase": "handshakes", "peer": args.name,
               "connections": args.connections, "ok": ok, "wall_s": round(wall, 2),
               "connections_per_s": round(args.connections / max(wall, 1e-9), 1),
               "cpu_us_per_connection": round(1e6 * (c1[0] - c0[0]) / max(ok, 1), 1),
               "cpu_sched_us_per_connection": round(1e6 * (c1[1] - c0[1]) / max(ok, 1), 1),
               # Pss growth over the connections, all closed by then: what a
               # closed connection leaves behind.
               "pss_growth_per_connection_b": round(1024 * (m1[0] - m0[0]) / max(ok, 1)),
               "pass": ok == args.connections and srv.p.poll() is None}
        if not res["pass"]:
            res["why"] = (f"{args.connections - ok} of {args.connections} connections got no answer"
                          + ("; server exited" if srv.p.poll() is not None else ""))
            args.failed = True
        emit(args, res)
    finally:
        srv.stop()


def main():
    # bench/run.sh's time limit ends a run with TERM: unwind (the finally
    # blocks stop the server and sipp processes we started) rather than die.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=["ladder", "series", "hold", "handshakes"])
    ap.add_argument("--name", required=True, help="peer name in the results")
    ap.add_argument("--server", help="server command line (started pinned)")
    ap.add_argument("--target", required=True, help="host:port the UAC calls")
    ap.add_argument("--uas-port", type=int, default=7080)
    ap.add_argument("--server-port", type=int,
                    help="UDP port the server binds (default: the target's)")
    ap.add_argument("--front", help="command between sipp and the server, started pinned "
                    "to --sipp-cpu; it binds the target's port")
    ap.add_argument("--perf-stat", action="store_true",
                    help="count the server's instructions per call (perf stat), when the "
                    "machine has the counter")
    ap.add_argument("--perf-events",
                    help="comma-separated events perf stat counts on the server each step; "
                    "each becomes EVENT_per_call (page-faults,task-clock,... where the "
                    "machine has no hardware counters)")
    ap.add_argument("--profile-steps",
                    help="series: perf record -g these steps (0-based, comma-separated) into "
                    "--profile-dir/seriesN.data")
    ap.add_argument("--profile-dir", help="series: where --profile-steps writes")
    ap.add_argument("--tls", help="handshakes: the server's TLS HOST:PORT")
    ap.add_argument("--ca", help="handshakes: CA file to verify the server with")
    ap.add_argument("--connections", type=int, default=500,
                    help="handshakes: new TLS connections, one after the other")
    ap.add_argument("--uac-port", type=int, default=7100)
    ap.add_argument("--server-cpu", default="0")
    ap.add_argument("--sipp-cpu", default="1")
    ap.add_argument("--server-settle", type=float, default=0.5)
    ap.add_argument("--rates", default="100,200,400,800,1000,1600",
                    type=lambda s: [float(x) for x in s.split(",") if x])
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--warmup-rate", type=float, default=100)
    ap.add_argument("--drain", type=float, default=5,
                    help="seconds after a step before CPU is read")
    ap.add_argument("--repeat-rate", type=float, default=1000)
    ap.add_argument("--repeats", type=int, default=0,
                    help="extra steps at --repeat-rate (median of several runs)")
    ap.add_argument("--steps", type=int, default=5,
                    help="series: steps in a row at --repeat-rate on one server process")
    ap.add_argument("--keep-going", action="store_true",
                    help="go on after a failing step")
    ap.add_argument("--per-uac", type=float, default=2000,
                    help="calls/s one sipp UAC carries before another is added")
    ap.add_argument("--recv-timeout", type=int, default=10000)
    ap.add_argument("--calls", type=int, default=5000, help="hold: calls in each batch")
    ap.add_argument("--rate", type=float, default=500, help="hold: set-up rate")
    ap.add_argument("--hold-warmup", type=float, default=0,
                    help="hold: seconds of short calls before the first batch")
    ap.add_argument("--settle", type=float, default=6,
                    help="hold: seconds for set-up transactions to expire")
    ap.add_argument("--settle-more", type=float, default=20,
                    help="hold: at most this much longer, until Pss stops moving")
    ap.add_argument("--batches", type=int, default=2,
                    help="hold: batches of --calls; per held call: the median over batches 2..")
    ap.add_argument("--out", help="append JSON lines here too")
    ap.add_argument("--profile", default=os.environ.get("SIP_PROFILE"),
                    help="perf record the server during an extra step at --repeat-rate "
                         "into this file (default $SIP_PROFILE)")
    ap.add_argument("--work", help="keep logs here (default: a temp dir, removed)")
    args = ap.parse_args()

    # $SIPSTEP_TMP: where a failing step's logs stay (bench/run.sh: its
    # results directory, emptied at each run; else /tmp).
    tmp = os.environ.get("SIPSTEP_TMP")
    if tmp:
        os.makedirs(tmp, exist_ok=True)
    work = args.work or tempfile.mkdtemp(prefix="sipstep-", dir=tmp or None)
    os.makedirs(work, exist_ok=True)
    args.failed = False
    try:
        {"ladder": cmd_ladder, "series": cmd_series, "hold": cmd_hold,
         "handshakes": cmd_handshakes}[args.cmd](args, work)
    finally:
        if args.failed and not args.work:
            # The logs of a failing step are what tells why: keep them.
            print(f"sipstep: a step failed; logs kept in {work}", file=sys.stderr)
        elif not args.work:
            subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
