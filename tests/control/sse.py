#!/usr/bin/python3
"""sse.py URL OUT SECONDS [UNTIL] — reads a Server-Sent Events stream with
http.client: checks the answer is 200 text/event-stream, prints "OPEN" once
the stream has begun (its first comment line), and writes each `data:`
line's JSON to OUT, one a line, as it comes. Stops after SECONDS, or once a
call_end event for call UNTIL (a comma list: all of them) has come."""
import http.client
import json
import sys
import time
import urllib.parse


def main():
    url, out, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    until = set(sys.argv[4].split(",")) if len(sys.argv) > 4 else set()
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=seconds)
    conn.request("GET", u.path + ("?" + u.query if u.query else ""))
    resp = conn.getresponse()
    ctype = resp.getheader("Content-Type", "")
    if resp.status != 200 or not ctype.startswith("text/event-stream"):
        print(f"BAD {resp.status} {ctype}", flush=True)
        return 1
    deadline = time.monotonic() + seconds
    opened = False
    with open(out, "w") as f:
        while time.monotonic() < deadline:
            try:
                line = resp.readline()
            except (TimeoutError, OSError):
                break
            if not line:
                break
            line = line.decode("utf-8").rstrip("\n")
            if line.startswith(":") and not opened:
                opened = True
                print("OPEN", flush=True)
            if not line.startswith("data: "):
                continue
            ev = json.loads(line[6:])   # one JSON object per data: line
            f.write(json.dumps(ev) + "\n")
            f.flush()
            if ev.get("kind") == "call_end":
                until.discard(ev.get("call"))
                if len(sys.argv) > 4 and not until:
                    break
    print("DONE", flush=True)
    return 0


sys.exit(main())
