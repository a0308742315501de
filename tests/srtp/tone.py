#!/usr/bin/python3
"""tone.py FILE HZ — exits 0 when the audio in FILE is a tone of HZ.

FILE is a WAV file (16-bit, what baresip's sndfile module writes of the
audio it decoded) or a record of tests/sip/rtp_peer.py --record (one packet
a line: "SECONDS S1 ... S160", 8 kHz). The Goertzel power at HZ must be at
least 20 times the power at a few other frequencies and the audio
not silent: encrypted bytes decoded as G.711 are noise, silence has no
tone. For a pure tone the power at HZ is half the mean square; at least
a fifth of it is asked. Prints what it measured."""
import math
import sys
import wave


def samples(path):
    if path.endswith(".wav"):
        w = wave.open(path)
        if w.getsampwidth() != 2:
            raise SystemExit("16-bit WAV expected")
        n, ch, rate = w.getnframes(), w.getnchannels(), w.getframerate()
        raw = w.readframes(n)
        pcm = [int.from_bytes(raw[i:i + 2], "little", signed=True) for i in range(0, len(raw), 2 * ch)]
        return pcm, rate
    pcm = []
    for line in open(path):
        pcm.extend(int(v) for v in line.split()[1:])
    return pcm, 8000


def power(pcm, rate, hz):
    k = 2 * math.cos(2 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for x in pcm:
        s1, s2 = x + k * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - k * s1 * s2) / max(len(pcm), 1) ** 2


def main():
    path, hz = sys.argv[1], float(sys.argv[2])
    pcm, rate = samples(path)
    pcm = pcm[len(pcm) // 4:]   # past the start (jitter buffers filling)
    if len(pcm) < rate // 2:
        print("only %d samples" % len(pcm))
        return 1
    rms = math.sqrt(sum(x * x for x in pcm) / len(pcm))
    want = power(pcm, rate, hz)
    others = {f: power(pcm, rate, f) for f in (300, 440, 700, 1000, 1300, 1900, 2500, 3100) if abs(f - hz) > 100}
    worst = max(others.values())
    print("samples %d rms %.0f power@%g %.3g, strongest other %.3g" % (len(pcm), rms, hz, want, worst))
    return 0 if rms > 500 and want > 0.2 * rms * rms and want > 20 * worst else 1


sys.exit(main())
