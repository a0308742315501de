#!/usr/bin/python3
"""hears.py REPORT FROM TO HEARD NOT_HEARD — what a phone of
tests/meet/suite.sh heard, from its rtp_peer.py REPORT: in every second
FROM..TO (inclusive, seconds since its RTP started) each frequency of HEARD
(comma-separated Hz; "" for none) is there (amplitude over 1500: a tone
sent at 6000 and mixed with others) and each of NOT_HEARD is not (under
400). Prints what it saw; exit 1 when it does not hold."""
import json
import sys

HEARD_MIN = 1500
ABSENT_MAX = 400


def main():
    report, lo, hi, heard, not_heard = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    heard = [f for f in heard.split(",") if f]
    not_heard = [f for f in not_heard.split(",") if f]
    d = json.load(open(report))
    chunks = [c for c in d.get("chunks", []) if lo <= c["t"] <= hi]
    print("received", d.get("received"), "chunks", [(c["t"], c["n"], c["rms"], c["amp"]) for c in chunks])
    if len(chunks) < hi - lo + 1 or any(c["n"] < 4000 for c in chunks):
        print("not enough audio in seconds %d-%d" % (lo, hi))
        return 1
    ok = True
    for c in chunks:
        for f in heard:
            if c["amp"].get(f, 0) < HEARD_MIN:
                print("second %d: %s Hz not heard (%d)" % (c["t"], f, c["amp"].get(f, 0)))
                ok = False
        for f in not_heard:
            if c["amp"].get(f, 0) > ABSENT_MAX:
                print("second %d: %s Hz heard (%d) but should not be" % (c["t"], f, c["amp"].get(f, 0)))
                ok = False
    return 0 if ok else 1


sys.exit(main())
