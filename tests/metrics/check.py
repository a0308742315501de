#!/usr/bin/python3
"""check.py FILE [EXPR] — FILE is what GET /metrics answered. It is parsed
with prometheus_client's parser (text_string_to_metric_families), and what
any scrape must be is checked: every sample in a family with HELP and TYPE
(the parser leaves a stray sample "untyped"), counters named *_total, no
series twice, names and labels in Prometheus' character set, histogram
buckets cumulative with +Inf equal to _count and a _sum. Then the Python
expression EXPR must hold, with:

  v(NAME, **labels)  the value of the sample NAME with exactly those labels
                     (a label that is not a Python name: v(NAME, **{"le": "1"}))
  has(NAME)          a sample NAME exists
  total(NAME, **l)   the sum over the samples NAME whose labels include L
  series(NAME)       {frozenset(labels.items()): value} of the samples NAME

Prints what is wrong and exits 1; exits 0 when all holds."""
import math
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def fail(msg):
    print(msg)
    sys.exit(1)


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    families = list(text_string_to_metric_families(text))
    samples = []
    for f in families:
        if f.type == "untyped":
            fail(f"family {f.name} has no TYPE line (or a sample outside its family)")
        if not f.documentation:
            fail(f"family {f.name} has no HELP text")
        if not NAME.match(f.name) or not (f.name.startswith("callroute_") or f.name.startswith("process_")):
            fail(f"family name {f.name!r}")
        for s in f.samples:
            for k in s.labels:
                if not LABEL.match(k):
                    fail(f"label name {k!r} in {s.name}")
            samples.append(s)
    for line in text.splitlines():
        m = re.match(r"# TYPE (\S+) counter$", line)
        if m and not m.group(1).endswith("_total"):
            fail(f"counter {m.group(1)} is not named *_total")
    seen = set()
    for s in samples:
        key = (s.name, frozenset(s.labels.items()))
        if key in seen:
            fail(f"series twice: {s.name} {s.labels}")
        seen.add(key)
    for f in families:
        if f.type != "histogram":
            continue
        groups = {}
        for s in f.samples:
            rest = frozenset((k, x) for k, x in s.labels.items() if k != "le")
            groups.setdefault(rest, {"buckets": [], "sum": None, "count": None})
            g = groups[rest]
            if s.name.endswith("_bucket"):
                g["buckets"].append((float(s.labels["le"]), s.value))
            elif s.name.endswith("_sum"):
                g["sum"] = s.value
            elif s.name.endswith("_count"):
                g["count"] = s.value
        for rest, g in groups.items():
            b = sorted(g["buckets"])
            where = f"{f.name}{dict(rest)}"
            if not b or b[-1][0] != math.inf:
                fail(f"{where}: no +Inf bucket")
            if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
                fail(f"{where}: buckets not cumulative: {b}")
            if g["count"] is None or g["sum"] is None:
                fail(f"{where}: no _count or _sum")
            if b[-1][1] != g["count"]:
                fail(f"{where}: +Inf bucket {b[-1][1]} != _count {g['count']}")
            if g["count"] == 0 and g["sum"] != 0:
                fail(f"{where}: nothing counted but _sum {g['sum']}")
    if len(sys.argv) < 3:
        return

    def v(name, **labels):
        for s in samples:
            if s.name == name and s.labels == labels:
                return s.value
        raise KeyError(f"no sample {name}{labels}")

    def has(name):
        return any(s.name == name for s in samples)

    def total(name, **labels):
        return sum(s.value for s in samples if s.name == name and labels.items() <= s.labels.items())

    def series(name):
        return {frozenset(s.labels.items()): s.value for s in samples if s.name == name}

    try:
        ok = eval("(" + sys.argv[2] + "\n)", {"v": v, "has": has, "total": total, "series": series, "math": math})
    except KeyError as e:
        fail(f"missing: {e}")
    if not ok:
        fail(f"does not hold: {sys.argv[2]}")


main()
