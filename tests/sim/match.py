#!/usr/bin/python3
"""match.py EXPECT TRACE.jsonl TEXT.txt EXIT — checks a simulate run.

EXPECT lines (blank lines and # comments ignored):
  {json}        a trace line containing these fields, after the previous match
  !{json}       no trace line at all contains these fields
  ~ text        the readable trace contains this text
  exit N        simulate exited with N
Field values compare as JSON values; a number matches within 1e-6.
"""
import json
import sys


def sub(want, got):
    if isinstance(want, dict):
        return isinstance(got, dict) and all(k in got and sub(v, got[k]) for k, v in want.items())
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        return isinstance(got, (int, float)) and not isinstance(got, bool) and abs(want - got) < 1e-6
    return want == got


def main():
    expect_file, trace_file, text_file, code = sys.argv[1:5]
    lines = []
    for raw in open(trace_file, encoding="utf-8"):
        raw = raw.strip()
        if not raw:
            continue
        try:
            lines.append(json.loads(raw))
        except ValueError:
            print(f"    not JSON: {raw}")
            return 1
    text = open(text_file, encoding="utf-8").read()
    pos = 0
    bad = 0
    for n, e in enumerate(open(expect_file, encoding="utf-8"), 1):
        e = e.strip()
        if not e or e.startswith("#"):
            continue
        if e.startswith("exit "):
            if int(e[5:]) != int(code):
                print(f"    line {n}: expected exit {e[5:]}, got {code}")
                bad += 1
        elif e.startswith("~"):
            if e[1:].strip() not in text:
                print(f"    line {n}: text trace lacks: {e[1:].strip()}")
                bad += 1
        elif e.startswith("!"):
            want = json.loads(e[1:])
            hits = [l for l in lines if sub(want, l)]
            if hits:
                print(f"    line {n}: unexpected: {json.dumps(hits[0])}")
                bad += 1
        else:
            want = json.loads(e)
            found = next((i for i in range(pos, len(lines)) if sub(want, lines[i])), None)
            if found is None:
                earlier = next((l for l in lines[:pos] if sub(want, l)), None)
                where = " (it appears earlier, out of order)" if earlier else ""
                print(f"    line {n}: not found after trace line {pos}{where}: {e}")
                bad += 1
            else:
                pos = found + 1
    return 1 if bad else 0


sys.exit(main())
