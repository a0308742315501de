#!/usr/bin/python3
"""rtp_peer.py PORTFILE LOCAL_PORT SECONDS [--tone HZ [--until T]] [--dtmf D@T,...] [--record OUT]

The RTP side of a caller in tests/sip and tests/contact (sipp does its SIP and
writes the server's RTP address to PORTFILE once answered). For SECONDS it
sends PCMU every 20 ms from 127.0.0.1:LOCAL_PORT: a sine tone of HZ (0, the
default: silence; with --until, silence from T seconds on); --dtmf sends RFC 4733 telephone-events (payload type
101) instead of audio at those times, each digit of D 300 ms after the one
before ("1234#@1.0,7@6.5": 1, 2, 3, 4, # from 1.0 s, then 7 at 6.5 s).
--record writes what the server sends, decoded: one line per packet,
"SECONDS-SINCE-START S1 S2 ... S160". Prints "received N" and, when the
server sent any, "rtcp M": packets that look like RTCP (RFC 5761 4: payload
type 72-76 in the RTP header's place), which it relays to nobody."""
import math
import socket
import struct
import time
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from g711 import alaw_decode, ulaw, ulaw_decode  # noqa: E402  (tests/lib)

EVENTS = {d: i for i, d in enumerate("0123456789*#")}


def parse_dtmf(spec):
    """[(time, digit), ...] from "1234#@1.0,7@6.5"."""
    out = []
    for item in filter(None, spec.split(",")):
        digits, at = item.rsplit("@", 1)
        t = float(at)
        for i, d in enumerate(digits):
            out.append((t + 0.3 * i, d))
    return sorted(out)


def main():
    args = sys.argv[1:]
    portfile, lport, secs = args[0], int(args[1]), float(args[2])
    hz, until, dtmf, record = 0.0, None, [], None
    i = 3
    while i < len(args):
        if args[i] == "--tone":
            hz = float(args[i + 1])
        elif args[i] == "--until":
            until = float(args[i + 1])
        elif args[i] == "--dtmf":
            dtmf = parse_dtmf(args[i + 1])
        elif args[i] == "--record":
            record = open(args[i + 1], "w")
        i += 2
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
    seq, ts, n, rtcp = 0, 0, 0, 0
    t0 = time.time()
    next_send = t0
    event = None          # (digit, timestamp, packets sent)
    while time.time() - t0 < secs:
        now = time.time()
        if now >= next_send:
            el = now - t0
            if event is None and dtmf and el >= dtmf[0][0]:
                event = (dtmf.pop(0)[1], ts, 0)
            if event is not None:
                digit, ets, k = event
                # 6 packets of a growing duration, then 3 end packets (E bit)
                end = k >= 6
                dur = 160 * min(k + 1, 6)
                payload = struct.pack("!BBH", EVENTS[digit], (0x80 if end else 0) | 10, dur)
                s.sendto(struct.pack("!BBHII", 0x80, (0x80 if k == 0 else 0) | 101, seq & 0xFFFF, ets, 0x1234)
                         + payload, server)
                event = (digit, ets, k + 1) if k < 8 else None
            else:
                loud = hz and (until is None or el < until)
                payload = bytes(ulaw(8000 * math.sin(2 * math.pi * hz * (ts + j) / 8000)) if loud else 0xFF
                                for j in range(160))
                s.sendto(struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, ts & 0xFFFFFFFF, 0x1234) + payload, server)
            seq += 1
            ts += 160
            next_send += 0.02
        try:
            while True:
                data, src = s.recvfrom(2048)
                if src != server or len(data) < 12:
                    continue
                n += 1
                pt = data[1] & 0x7F
                if 72 <= pt <= 76:
                    rtcp += 1
                if record and pt in (0, 8):
                    dec = ulaw_decode if pt == 0 else alaw_decode
                    record.write("%.3f %s\n" % (time.time() - t0, " ".join(str(dec(b)) for b in data[12:])))
        except BlockingIOError:
            pass
        time.sleep(0.002)
    print("received", n)
    if rtcp:
        print("rtcp", rtcp)
    if record:
        record.close()
    return 0


sys.exit(main())
