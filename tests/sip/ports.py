#!/usr/bin/python3
"""ports.py N — prints N free ports (each free for both UDP and TCP on
127.0.0.1), then the start of a free range of 1000 UDP ports for RTP, so
parallel runs of the SIP suite do not collide. Ports are picked at random
from 20000-59999 and checked by binding them."""
import random
import socket
import sys


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
    rnd = random.SystemRandom()
    out = []
    while len(out) < n:
        p = rnd.randrange(20000, 60000)
        if p not in out and free(p):
            out.append(p)
    while True:
        base = rnd.randrange(20000, 59000) & ~1
        if all(free(p, (socket.SOCK_DGRAM,)) for p in range(base, base + 1000)) and \
                not any(base <= p < base + 1000 for p in out):
            break
    print(" ".join(str(p) for p in out + [base]))


main()
