#!/usr/bin/python3
"""heldsites.py — what a held call keeps, by allocation site, counted by
heaptrack instead of read from Pss (which moves by ±2 KB a call between
runs on a shared machine: docs/decisions/sip-core.md, "Held-call memory").

   /usr/bin/python3 bench/sip/heldsites.py [--calls N] [--bypass] [--core nta|nua]

Starts `callroute serve` (build/bench/callroute, or $CALLROUTE) under
heaptrack with bench/sip/b2bua.yaml (--bypass: bypass.yaml), sets up N long
calls through it with sipp (its built-in uac -> the server -> sipp's uas),
waits until they are all up and then SETTLE seconds (40: the set-ups'
transactions and messages gone; sofia keeps them 32 s), and kills the
server with SIGKILL: what heaptrack then reports as leaked is what was
live with the N calls held. The same without
calls (a server started and killed after the settle) is subtracted site by
site; what remains / N is the bytes a held call keeps at each site, as
malloc was asked (mimalloc then rounds each up to its size class).

Deterministic: the same binary gives the same bytes to within a few bytes
a call. Not all of a site's bytes are per held call: a table or a pool
that grew while the calls were set up is counted too (sofia's outgoing
hash table under dialog_request, ~164 B a call at 1,000 calls; the pool of
idle loop timers under timer_start_op, at most 64 beyond those running:
before eed3f09 up to 1,024 of 112 B, ~112 B a call at 1,000 calls),
divided by N like the rest.
Frames heaptrack cannot name (addresses, moved by ASLR between the two
runs) are named "?", so a library's start-up allocations subtract.
Ports: 17070 (server), 17080 (uas), 17100 (uac), admin 127.0.0.1:18080,
away from the bench's and the tests'.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def wait_for(pred, deadline, what):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.2)
    sys.exit(f"heldsites: {what} did not happen within {deadline:g} s")


def udp_bound(port):
    hexport = f"{port:04X}"
    with open("/proc/net/udp") as f:
        return any(line.split()[1].endswith(":" + hexport) for line in list(f)[1:])


def sipp_stat(stat, column):
    """COLUMN of sipp's last statistics line (-1: none yet)."""
    try:
        lines = open(stat).read().splitlines()
    except OSError:
        return -1
    if len(lines) < 2:
        return -1
    head, last = lines[0].split(";"), lines[-1].split(";")
    try:
        return int(last[head.index(column)])
    except (ValueError, IndexError):
        return -1


def same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def run(args, calls, work):
    """Leaked bytes by top frame after a server held CALLS calls. Whatever
    way it ends, nothing it started is left holding the fixed ports (the
    next run, anyone's, would fail on them)."""
    started = []
    try:
        return run_held(args, calls, work, started)
    finally:
        for p in started:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL) if p is started[0] else p.kill()
                except OSError:
                    pass
                p.wait(timeout=30)


def run_held(args, calls, work, started):
    out = os.path.join(work, f"ht{calls}")
    conf = os.path.join(work, "scn.yaml")
    srv = subprocess.Popen(["heaptrack", "-o", out, args.callroute, "serve", conf, "--sip",
                            "udp:127.0.0.1:17070", "--admin", "127.0.0.1:18080", "--log-level", "error"],
                           stdout=open(os.path.join(work, f"srv{calls}.log"), "w"), stderr=subprocess.STDOUT,
                           start_new_session=True)
    started.append(srv)
    wait_for(lambda: udp_bound(17070), 30, "the server's bind")
    procs = started   # sipp's, after the server
    if calls:
        uas = subprocess.Popen(["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", "17080", "-nostdin",
                                "-max_socket", "65000"], cwd=work, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        procs.append(uas)
        wait_for(lambda: udp_bound(17080), 10, "sipp uas's bind")
        stat = os.path.join(work, f"stat{calls}.csv")
        uac = subprocess.Popen(["sipp", "-sn", "uac", "127.0.0.1:17070", "-i", "127.0.0.1", "-p", "17100",
                                "-r", str(args.rate), "-m", str(calls), "-l", str(calls), "-d", "3600000",
                                "-nostdin", "-trace_stat", "-stf", stat, "-fd", "1"],
                               cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(uac)
        wait_for(lambda: sipp_stat(stat, "CurrentCall") >= calls, calls / args.rate + 60, f"{calls} calls up")
    time.sleep(args.settle)
    if calls:
        # A call sipp counts as current may still be waiting for its
        # answer: held means none failed by the end of the settle.
        time.sleep(1.5)   # sipp writes its statistics every second
        if sipp_stat(stat, "FailedCall(C)") != 0 or sipp_stat(stat, "CurrentCall") != calls:
            srv.send_signal(signal.SIGTERM)
            sys.exit(f"heldsites: {sipp_stat(stat, 'CurrentCall')} of {calls} calls up, "
                     f"{sipp_stat(stat, 'FailedCall(C)')} failed (see {work})")
    # The callroute process heaptrack runs (its child), killed outright:
    # heaptrack's record stops with everything the calls hold still live.
    # (By its executable, not its name: a copy of the binary under another
    # name is heaptrack's child all the same.)
    kids = subprocess.run(["pgrep", "-P", str(srv.pid)], capture_output=True, text=True).stdout.split()
    target = [int(k) for k in kids if same_file(f"/proc/{k}/exe", args.callroute)]
    if not target:
        sys.exit("heldsites: no callroute under heaptrack")
    os.kill(target[0], signal.SIGKILL)
    srv.wait(timeout=120)
    for p in procs[1:]:
        p.terminate()
        p.wait(timeout=10)
    data = [f for f in os.listdir(work) if f.startswith(f"ht{calls}.")][0]
    stacks = os.path.join(work, f"leaked{calls}.txt")
    subprocess.run(["heaptrack_print", "-f", os.path.join(work, data), "-p", "0", "-a", "0", "-T", "0",
                    "--flamegraph-cost-type", "leaked", "-F", stacks], stdout=subprocess.DEVNULL, check=True)
    return by_site(stacks, own_functions(args.callroute))


def own_functions(binary):
    """callroute's own functions (its text symbols): a site is named by the
    innermost of them on the allocation's stack."""
    out = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True).stdout
    return {f[2] for f in (line.split() for line in out.splitlines()) if len(f) == 3 and f[1] in "tT"}


# Our allocation wrappers: the site is their caller.
WRAPPERS = {"cr_xmalloc", "cr_xcalloc", "cr_xrealloc", "cr_xstrdup", "cr_xstrndup", "cr_strbuf_grow",
            "cr_strbuf_append", "cr_strbuf_puts", "cr_strbuf_putc", "cr_strbuf_printf", "cr_strbuf_fit",
            "cr_strbuf_reserve"}


def by_site(path, own):
    """{site: bytes leaked} from heaptrack's leaked-bytes stacks (one
    stack a line, outermost first, the bytes last): a site is the innermost
    of callroute's functions that is not an allocation wrapper, with the
    first frame it called when that is not ours (sofia's, libc's, ...)."""
    sites = {}
    for line in open(path):
        stack, _, cost = line.rstrip("\n").rpartition(" ")
        if not cost.isdigit() or cost == "0":
            continue
        # An unsymbolised frame is an address, which ASLR moves between the
        # two runs: named by it, a library's start-up allocations (libstdc++'s
        # 72,704 B exception pool, the ASN.1 trees GnuTLS's constructor builds
        # with libtasn1) were never subtracted and counted ~178 B a held call.
        frames = ["?" if re.fullmatch(r"0x[0-9a-f]+", f) else f
                  for f in (f.split(" (")[0] for f in stack.rstrip(";").split(";"))]
        name = None
        for i in range(len(frames) - 1, -1, -1):
            if frames[i] in own and frames[i] not in WRAPPERS:
                callee = frames[i + 1] if i + 1 < len(frames) else ""
                name = frames[i] + (" > " + callee if callee and callee not in own else "")
                break
        if name is None:
            name = "(no callroute frame) " + " > ".join(frames[-3:])
        sites[name] = sites.get(name, 0) + int(cost)
    return sites


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--rate", type=int, default=200)
    # 12 s and 24 s counted ~10 KB a call more: sofia keeps our INVITE's
    # request, its transaction and the INVITE received 32 s after the
    # set-up, though T1x64 is 8 s (none of it is left at 32 s).
    ap.add_argument("--settle", type=float, default=40, help="seconds after the last call is up")
    ap.add_argument("--bypass", action="store_true", help="bench/sip/bypass.yaml (media: bypass)")
    ap.add_argument("--core", default="nta")
    ap.add_argument("--callroute", default=os.environ.get("CALLROUTE", os.path.join(ROOT, "build/bench/callroute")))
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="heldsites.")
    src = os.path.join(ROOT, "bench/sip", "bypass.yaml" if args.bypass else "b2bua.yaml")
    text = open(src).read().replace("@UAS_PORT@", "17080")
    text = re.sub(r"^(  sip: \{ flood: \{ rate: 0 \}) \}$", rf"\1, core: {args.core} }}", text, flags=re.M)
    open(os.path.join(work, "scn.yaml"), "w").write(text)
    base = run(args, 0, work)
    held = run(args, args.calls, work)
    n = args.calls
    rows = sorted(((site, (b - base.get(site, 0)) / n) for site, b in held.items()), key=lambda r: -r[1])
    tot = sum(b for _, b in rows)
    print(f"# {n} held calls, {'bypass' if args.bypass else 'anchored'}, core {args.core}: "
          f"{tot:,.0f} B live a held call (as asked of malloc; live at SIGKILL, less a server without calls)")
    print(f"{'B/call':>8}  site (innermost callroute function > what it called)")
    for site, b in rows[:args.top]:
        print(f"{b:8,.0f}  {site}")
    print(f"(work files: {work})", file=sys.stderr)


if __name__ == "__main__":
    main()
