#!/usr/bin/python3
"""ports.py N — prints N free ports (each free for both UDP and TCP on
127.0.0.1), then the start of a free range of 1000 UDP ports for RTP, so
parallel runs of the SIP suite do not collide.

A port is free when we check it, but a suite binds it seconds or minutes
later; two kinds of sockets would take it meanwhile, and the suite's sipp
then fails with "Address already in use" in a case that has nothing wrong:
- the kernel's ephemeral ports (/proc/sys/net/ipv4/ip_local_port_range,
  32768-60999 by default), which any unbound client socket gets at random
  (a DNS lookup, an HTTP client, a sipp without -p): every port here is
  below that range;
- RTP: callroute (and most media servers) bind even ports of a wide range,
  and a benchmark running beside the tests holds thousands of them: the N
  single ports are odd, so no RTP allocator ever takes one. The RTP range
  starts on an even port, below the ephemeral ones too."""
import random
import socket
import sys

LOWEST = 10000            # below: well-known services (6000, 8080, ...)
RANGE = 1000              # the RTP range's size


def ephemeral_low():
    """The first port the kernel hands out to unbound sockets."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


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


def main():
    n = int(sys.argv[1])
    high = ephemeral_low()
    if high - LOWEST < 4 * RANGE:
        high = 60000      # an odd kernel setting: fall back to the old span
    rnd = random.SystemRandom()
    out = []
    while len(out) < n:
        p = rnd.randrange(LOWEST, high) | 1
        if p < high and p not in out and free(p):
            out.append(p)
    while True:
        base = rnd.randrange(LOWEST, high - RANGE) & ~1
        if all(free(p, (socket.SOCK_DGRAM,)) for p in range(base, base + RANGE)) and \
                not any(base <= p < base + RANGE for p in out):
            break
    print(" ".join(str(p) for p in out + [base]))


main()
