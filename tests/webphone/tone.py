#!/usr/bin/python3
"""tone.py FILE SECONDS — writes a 440 Hz tone, 8 kHz mono 16-bit WAV: the
prompt tests/webphone's scenario plays to the browser."""
import math
import struct
import sys
import wave

path, seconds = sys.argv[1], float(sys.argv[2])
with wave.open(path, "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(8000)
    n = int(8000 * seconds)
    w.writeframes(b"".join(struct.pack("<h", int(12000 * math.sin(2 * math.pi * 440 * i / 8000))) for i in range(n)))
