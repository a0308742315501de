#!/usr/bin/python3
"""ports.py N — prints N free ports (each free for both UDP and TCP on
127.0.0.1), then the start of a free range of 1000 UDP ports for RTP, so
parallel runs of the SIP suite do not collide.

A port is free when we check it, but a suite binds it seconds or minutes
later; three kinds of sockets take such ports meanwhile on a shared
machine, and the suite's sipp then fails with "Address already in use" in
a case that has nothing wrong:
- the kernel's ephemeral ports (/proc/sys/net/ipv4/ip_local_port_range,
  32768-60999 by default), which any unbound client socket gets at random
  (a DNS lookup, an HTTP client, a sipp without -p);
- RTP: callroute binds even ports of its range; a benchmark beside the
  tests holds thousands of them (bench/sip: 30000-60000);
- RTP and RTCP pairs, both parities: rtpengine
  (a media benchmark's: 10000-60000).
So the N single ports are above the ephemeral range (61000-65535 by
default), where none of these go, and odd, in case an RTP range reaches
up there; where the kernel leaves no room above, below the ephemeral
range. That span is small, so suites running side by side would pick the
same port now and then: each port picked is reserved for the suite (the
shell that runs ports.py) in RESERVED, a file per port naming its pid,
until that process is gone. The RTP range (the server's own allocator
skips a port someone holds) starts on an even port below the ephemeral
range: free when picked, or, when a benchmark holds ports all over, the
emptiest range found in 3 s."""
import fcntl
import os
import random
import socket
import sys
import time

LOWEST = 10000            # below: well-known services (6000, 8080, ...)
RANGE = 1000              # the RTP range's size
RESERVED = "/tmp/callroute-ports"


def ephemeral_range():
    """The ports the kernel hands out to unbound sockets."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split()[:2])
            return low, high
    except (OSError, ValueError):
        return 32768, 60999


def free(port, kinds=(socket.SOCK_DGRAM, socket.SOCK_STREAM)):
    socks = []
    try:
        for k in kinds:
            s = socket.socket(socket.AF_INET, k)
            s.bind(("127.0.0.1", port))
            socks.append(s)
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def reserved(port):
    """PORT is reserved by a suite still running."""
    try:
        with open(os.path.join(RESERVED, str(port))) as f:
            pid = int(f.read().strip() or 0)
        if pid <= 0:
            return False
        os.kill(pid, 0)
        return True
    except (OSError, ValueError):      # no such file or process
        return False


def reserve(port):
    with open(os.path.join(RESERVED, str(port)), "w") as f:
        f.write(f"{os.getppid()}\n")


def main():
    n = int(sys.argv[1])
    eph_low, eph_high = ephemeral_range()
    if eph_low - LOWEST < 4 * RANGE:
        eph_low = 32768   # an odd kernel setting: the default's span
    if 65535 - eph_high >= 2000:
        singles = (eph_high + 1, 65536)
    else:
        singles = (LOWEST, eph_low)
    rnd = random.SystemRandom()
    out = []
    os.makedirs(RESERVED, mode=0o700, exist_ok=True)
    with open(os.path.join(RESERVED, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)     # one ports.py picks at a time
        tries = 0
        while len(out) < n:
            tries += 1
            if tries == 50000:               # all taken: fall back to below
                singles = (LOWEST, eph_low)
            p = rnd.randrange(*singles) | 1
            if p < singles[1] and p not in out and not reserved(p) and free(p):
                out.append(p)
        for p in out:
            reserve(p)
    # A range nobody holds a port of; when a benchmark holds ports all
    # over (then there may be none), the emptiest found in 3 s.
    best = None
    deadline = time.monotonic() + 3
    while True:
        base = rnd.randrange(LOWEST, eph_low - RANGE) & ~1
        busy = sum(not free(p, (socket.SOCK_DGRAM,)) for p in range(base, base + RANGE))
        if busy == 0:
            break
        if best is None or busy < best[0]:
            best = (busy, base)
        if time.monotonic() > deadline:
            base = best[1]
            break
    print(" ".join(str(p) for p in out + [base]))


main()
