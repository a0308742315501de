#!/usr/bin/python3
"""make-demo-sounds.py [DIR] — the prompts the demo (examples/demo.yaml)
plays that speech synthesis does not make: hold-music.wav, an 8 kHz mono
WAV (what callroute plays) of a short, soft arpeggio that loops cleanly.
DIR defaults to examples/sounds. Deterministic: the same bytes every run,
so the committed file can be checked against it."""
import math
import os
import struct
import sys
import wave

RATE = 8000
# C major - A minor - F major - G major, a bar each, as broken chords
CHORDS = [(261.63, 329.63, 392.00), (220.00, 261.63, 329.63), (174.61, 220.00, 261.63), (196.00, 246.94, 293.66)]
NOTE = 0.25   # seconds per note


def note(freq, secs):
    n = int(secs * RATE)
    out = []
    for i in range(n):
        t = i / RATE
        env = min(1.0, t / 0.02) * math.exp(-3.0 * t)   # quick attack, soft decay
        s = math.sin(2 * math.pi * freq * t) + 0.3 * math.sin(4 * math.pi * freq * t)
        out.append(int(5000 * env * s))
    return out


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "examples", "sounds")
    samples = []
    for chord in CHORDS:
        for _ in range(1):
            for f in chord + (chord[1],):
                samples += note(f, NOTE)
    path = os.path.join(out_dir, "hold-music.wav")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(struct.pack("<h", max(-32767, min(32767, s))) for s in samples))
    print(path, len(samples) / RATE, "s")


main()
