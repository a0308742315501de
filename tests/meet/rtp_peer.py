#!/usr/bin/python3
"""rtp_peer.py PORTFILE LOCAL_PORT HZ SECONDS OUT FREQS — the RTP of one
phone in tests/meet/suite.sh (sipp does its SIP): waits for the server's
address in PORTFILE ("IP PORT", written by the sipp scenario once the call
is up), then for SECONDS sends a PCMU sine of HZ (amplitude 6000; 0:
silence) every 20 ms from 127.0.0.1:LOCAL_PORT, and keeps what the server
sends (PCMU or PCMA, decoded). OUT gets JSON: "received" (packets) and,
for each second since the start ("chunks"), the amplitude of each of FREQS
(comma-separated Hz) in what was received in that second (Goertzel), and
its RMS. A tone the phone hears shows as its frequency's amplitude."""
import json
import math
import socket
import struct
import time
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from g711 import alaw_decode, ulaw, ulaw_decode  # noqa: E402  (tests/lib)

AMPLITUDE = 6000


ULAW = [ulaw_decode(i) for i in range(256)]
ALAW = [alaw_decode(i) for i in range(256)]


def goertzel_amplitude(xs, hz, rate=8000):
    n = len(xs)
    if n == 0:
        return 0.0
    k = 2 * math.cos(2 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for x in xs:
        s0 = x + k * s1 - s2
        s2, s1 = s1, s0
    power = s1 * s1 + s2 * s2 - k * s1 * s2
    return 2 * math.sqrt(max(power, 0.0)) / n


def main():
    portfile, lport, hz, secs, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    freqs = [float(f) for f in sys.argv[6].split(",")] if len(sys.argv) > 6 else []
    deadline = time.time() + 20
    server = None
    while time.time() < deadline and not server:
        try:
            ip, port = open(portfile).read().split()
            server = (ip, int(port))
        except (OSError, ValueError):
            time.sleep(0.02)
    if not server:
        json.dump({"error": "no server address"}, open(out, "w"))
        return 1
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", lport))
    s.setblocking(False)
    seq, ts, received = 0, 0, 0
    chunks = {}
    t0 = time.time()
    next_send = t0
    while time.time() - t0 < secs:
        now = time.time()
        if now >= next_send:
            payload = bytes(ulaw(AMPLITUDE * math.sin(2 * math.pi * hz * (ts + i) / 8000)) if hz else 0xFF
                            for i in range(160))
            s.sendto(struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, ts & 0xFFFFFFFF, 0x4321) + payload, server)
            seq += 1
            ts += 160
            next_send += 0.02
        try:
            while True:
                data, src = s.recvfrom(2048)
                if src != server or len(data) < 12:
                    continue
                pt = data[1] & 0x7F
                if pt not in (0, 8):
                    continue
                cc = data[0] & 0x0F
                body = data[12 + 4 * cc:]
                table = ULAW if pt == 0 else ALAW
                received += 1
                chunks.setdefault(int(time.time() - t0), []).extend(table[b] for b in body)
        except BlockingIOError:
            pass
        time.sleep(0.002)
    report = {"received": received, "chunks": []}
    for sec in sorted(chunks):
        xs = chunks[sec]
        rms = math.sqrt(sum(x * x for x in xs) / len(xs)) if xs else 0
        report["chunks"].append({"t": sec, "n": len(xs), "rms": round(rms),
                                 "amp": {str(int(f)): round(goertzel_amplitude(xs, f)) for f in freqs}})
    json.dump(report, open(out, "w"))
    return 0


sys.exit(main())
