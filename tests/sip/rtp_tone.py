#!/usr/bin/python3
"""rtp_tone.py PORTFILE LOCAL_PORT HZ SECONDS — the RTP of a caller in
tests/sip/suite.sh (sipp does its SIP with tests/hostile/media-call.xml):
waits for the server's address in PORTFILE, then for SECONDS sends a PCMU
sine tone of HZ (0: silence) every 20 ms from 127.0.0.1:LOCAL_PORT and
counts the packets the server sends. Prints "received N" and, per burst of
packets (a gap of 300 ms or more ends one), "burst N PACKETS"."""
import math
import socket
import struct
import time
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from g711 import ulaw  # noqa: E402  (tests/lib)


def main():
    portfile, lport, hz, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    deadline = time.time() + 15
    server = None
    while time.time() < deadline and not server:
        try:
            ip, port = open(portfile).read().split()
            server = (ip, int(port))
        except (OSError, ValueError):
            time.sleep(0.02)
    if not server:
        print("no server address")
        return 1
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", lport))
    s.setblocking(False)
    seq, ts, n = 0, 0, 0
    bursts, last = [], None
    t0 = time.time()
    next_send = t0
    while time.time() - t0 < secs:
        now = time.time()
        if now >= next_send:
            payload = bytes(ulaw(8000 * math.sin(2 * math.pi * hz * (ts + i) / 8000)) if hz else 0xFF
                            for i in range(160))
            s.sendto(struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, ts & 0xFFFFFFFF, 0x1234) + payload, server)
            seq += 1
            ts += 160
            next_send += 0.02
        try:
            while True:
                data, src = s.recvfrom(2048)
                if src == server and len(data) >= 12:
                    n += 1
                    t = time.time()
                    if last is None or t - last >= 0.3:
                        bursts.append(0)
                    bursts[-1] += 1
                    last = t
        except BlockingIOError:
            pass
        time.sleep(0.002)
    print("received", n)
    for b in bursts:
        print("burst", b)
    return 0


sys.exit(main())
