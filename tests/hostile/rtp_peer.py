#!/usr/bin/python3
"""rtp_peer.py PORTFILE OP... — the RTP side of a phone (or of an attacker)
in tests/hostile/media.sh; sipp does the SIP side and, once answered,
writes the server's SDP address "IP PORT" to PORTFILE (waited for here).

OPs, run in order:
  sock:NAME:IP:PORT   a UDP socket bound to IP:PORT (PORT 0: any)
  audio:NAME:N        N PCMU packets from NAME, 20 ms apart (a phone's pace)
  dtmf:NAME:KEY       one RFC 4733 event from NAME: start, continuation,
                      three end packets, one timestamp (KEY 0-9 * # A-D)
  hear:NAME           an RTP packet from the server reaches NAME within 5 s
                      (else exit 1)
Prints what it did; exit 0 when every op succeeded."""
import random
import socket
import struct
import sys
import time

KEYS = "0123456789*#ABCD"


def main():
    portfile, ops = sys.argv[1], sys.argv[2:]
    deadline = time.time() + 15
    server = None
    while time.time() < deadline:
        try:
            ip, port = open(portfile).read().split()
            server = (ip, int(port))
            break
        except (OSError, ValueError):
            time.sleep(0.02)
    if not server:
        print("no server address in", portfile)
        return 1
    print("server RTP at %s:%d" % server)
    socks, state = {}, {}
    for op in ops:
        kind, name, arg = (op.split(":", 2) + [""])[:3]
        if kind == "sock":
            ip, port = arg.rsplit(":", 1)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((ip, int(port)))
            socks[name] = s
            state[name] = [random.randrange(65536), random.randrange(1 << 32), random.randrange(1 << 32)]
            print("sock %s on %s:%d" % ((name,) + s.getsockname()))
            continue
        s, st = socks[name], state[name]

        def send(pt, payload, marker=False, ts=None):
            seq, t, ssrc = st
            hdr = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                              (t if ts is None else ts) & 0xFFFFFFFF, ssrc)
            s.sendto(hdr + payload, server)
            st[0] = seq + 1

        if kind == "audio":
            for _ in range(int(arg)):
                send(0, b"\xff" * 160)
                st[1] += 160
                time.sleep(0.02)
            print("audio %s x%s" % (name, arg))
        elif kind == "dtmf":
            ev = KEYS.index(arg)
            ts = st[1]
            for i, dur in enumerate((160, 320, 480, 480, 480)):
                end = 0x80 if i >= 2 else 0
                send(101, struct.pack("!BBH", ev, end | 10, dur), marker=(i == 0), ts=ts)
                time.sleep(0.01)
            st[1] += 640
            print("dtmf %s %s" % (name, arg))
        elif kind == "hear":
            s.settimeout(5)
            try:
                while True:
                    data, src = s.recvfrom(2048)
                    if src == server and len(data) >= 12:
                        break
            except socket.timeout:
                print("hear %s: nothing from the server in 5 s" % name)
                return 1
            s.settimeout(None)
            print("hear %s: RTP from the server" % name)
        else:
            print("unknown op", op)
            return 2
    return 0


sys.exit(main())
