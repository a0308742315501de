#!/usr/bin/python3
"""sync_doc.py --check|--fix TABLES DOC

TABLES is the output of `callroute schema --markdown` ('-' for stdin): blocks
between <!-- params:NAME --> and <!-- /params:NAME --> (and <!-- events -->
... <!-- /events -->). --check: every block is in DOC verbatim and DOC has no
block the binary does not print. --fix: replace DOC's blocks with the new
ones (a block DOC lacks is reported, not placed: where it goes is prose)."""
import re
import sys

BLOCK = re.compile(r"^<!-- (params:[\w-]+|events|ops) -->\n.*?^<!-- /\1 -->\n", re.M | re.S)


def blocks(text):
    return {m.group(1): m.group(0) for m in BLOCK.finditer(text)}


def main():
    mode, tables_path, doc_path = sys.argv[1:4]
    tables = blocks(sys.stdin.read() if tables_path == "-" else open(tables_path).read())
    doc = open(doc_path).read()
    have = blocks(doc)
    problems = []
    for name in have.keys() - tables.keys():
        problems.append(f"{doc_path}: block '{name}' is for nothing the binary knows")
    for name in tables.keys() - have.keys():
        problems.append(f"{doc_path}: no block '{name}' (add its markers where it belongs)")
    stale = [n for n in tables.keys() & have.keys() if tables[n] != have[n]]
    if mode == "--fix":
        doc = BLOCK.sub(lambda m: tables.get(m.group(1), m.group(0)), doc)
        open(doc_path, "w").write(doc)
    else:
        problems += [f"{doc_path}: block '{n}' is out of date" for n in sorted(stale)]
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
