"""tests/admin/trace_matches_events.py EVENTS CALL_BODY CALL_ID: the trace
GET /calls/CALL_ID returns (records packed when they came, unpacked and
formatted when read) is byte for byte the records /events streamed as they
came (formatted from the engine's record itself), in order. Exit 0 when
they match; else what differs on stderr."""
import json
import sys

events_path, body_path, call_id = sys.argv[1:4]
streamed = []
with open(events_path, encoding="utf-8") as f:
    for line in f:
        if not line.startswith("data: "):
            continue
        text = line[len("data: "):].rstrip("\n")
        rec = json.loads(text)
        if rec.get("call") == call_id and rec.get("kind") not in ("call_start", "call_end"):
            streamed.append(text)
body = open(body_path, encoding="utf-8").read().rstrip("\n")
head = ',"trace":['
at = body.find(head)
if at < 0 or not body.endswith("]}"):
    sys.exit("no trace in the GET /calls/ID body")
kept = body[at + len(head):-2]
if len(streamed) < 5:
    sys.exit(f"only {len(streamed)} records streamed")
if kept != ",".join(streamed):
    sys.exit(f"trace differs from the streamed records:\n  kept:     {kept}\n  streamed: {','.join(streamed)}")
