#!/usr/bin/python3
"""capture.py OUT DST_LO DST_HI SRC_LO SRC_HI — what a phone sends to the
server, seen on the wire: the RTP (version 2) in UDP datagrams on loopback
from a port SRC_LO..SRC_HI to a port DST_LO..DST_HI (the phone's RTP range
to the server's), read with an AF_PACKET socket (root) until SIGTERM.

OUT gets the PCMU packets (payload type 0) G.711-decoded in the format of
tests/sip/rtp_peer.py --record ("SECONDS S1 ... S160", the first 160
bytes of the payload: with SRTP they are ciphertext and decode to noise,
which tests/srtp/tone.py tells from a tone). OUT.events gets the payload
type 101 (RFC 4733) packets, one a line: "LENGTH HEX" of the payload.
Prints "ready" once listening, and at the end "pcmu N lengths {...}" and
"events N" (the payload lengths: 160 bytes of PCMU plus SRTP's 10-byte tag
is 170)."""
import os
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from g711 import ulaw_decode  # noqa: E402  (tests/lib)

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4       # loopback shows each packet twice: keep the received copy


def main():
    out, dlo, dhi, slo, shi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind(("lo", 0))
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    s.settimeout(0.1)
    pcmu = open(out, "w")
    events = open(out + ".events", "w")
    lengths, n_events = {}, 0
    t0 = time.time()
    print("ready", flush=True)
    while not stop:
        try:
            frame, addr = s.recvfrom(65535)
        except (socket.timeout, InterruptedError):
            continue
        if addr[2] == PACKET_OUTGOING or len(frame) < 14 + 20 + 8 + 12:
            continue
        ip = frame[14:]
        if struct.unpack("!H", frame[12:14])[0] != 0x0800 or ip[9] != 17:   # IPv4, UDP
            continue
        udp = ip[(ip[0] & 0x0F) * 4:]
        sport, dport = struct.unpack("!HH", udp[:4])
        rtp = udp[8:]
        if not (dlo <= dport <= dhi and slo <= sport <= shi) or len(rtp) < 12 or rtp[0] >> 6 != 2:
            continue
        pt = rtp[1] & 0x7F
        payload = rtp[12 + 4 * (rtp[0] & 0x0F):]
        if pt == 0:
            lengths[len(payload)] = lengths.get(len(payload), 0) + 1
            pcmu.write("%.3f %s\n" % (time.time() - t0, " ".join(str(ulaw_decode(b)) for b in payload[:160])))
        elif pt == 101:
            n_events += 1
            events.write("%d %s\n" % (len(payload), payload.hex()))
    pcmu.close()
    events.close()
    print("pcmu %d lengths %s" % (sum(lengths.values()), lengths))
    print("events %d" % n_events)
    return 0


sys.exit(main())
