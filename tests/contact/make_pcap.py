#!/usr/bin/python3
"""make_pcap.py OUT HZ SECONDS — a pcap of RTP (PCMU, payload type 0, a
packet every 20 ms) carrying a sine tone of HZ, for sipp's
play_pcap_audio: an agent whose voice is a known tone, so what a caller
hears can be told apart from music on hold."""
import math
import struct
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from g711 import ulaw  # noqa: E402  (tests/lib)


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main():
    out, hz, secs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    f = open(out, "wb")
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))   # Ethernet
    for k in range(int(secs / 0.02)):
        payload = bytes(ulaw(8000 * math.sin(2 * math.pi * hz * (k * 160 + j) / 8000)) for j in range(160))
        rtp = struct.pack("!BBHII", 0x80, 0, k & 0xFFFF, (k * 160) & 0xFFFFFFFF, 0x4321) + payload
        udp = struct.pack("!HHHH", 6000, 6002, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), k & 0xFFFF, 0, 64, 17, 0,
                         bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        frame = b"\0\1\2\3\4\5" + b"\0\1\2\3\4\6" + b"\x08\x00" + ip + udp
        t = k * 0.02
        f.write(struct.pack("<IIII", int(t), int((t - int(t)) * 1e6), len(frame), len(frame)) + frame)
    f.close()


main()
