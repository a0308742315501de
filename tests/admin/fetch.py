#!/usr/bin/python3
"""fetch.py METHOD URL OUT [BODY_FILE] — one HTTP request; prints the status
code, writes the body to OUT and the response headers to OUT.headers. With
FETCH_TOKEN in the environment it sends Authorization: Bearer FETCH_TOKEN;
FETCH_HEADERS adds more ("Name: value" lines). BODY_FILE (or "{}" for POST
and PUT without one) is the request body."""
import os
import sys
import urllib.error
import urllib.request


def main():
    method, url, out = sys.argv[1:4]
    body = None
    if len(sys.argv) > 4:
        body = open(sys.argv[4], "rb").read()
    elif method in ("POST", "PUT"):
        body = b"{}"
    req = urllib.request.Request(url, method=method, data=body)
    if os.environ.get("FETCH_TOKEN"):
        req.add_header("Authorization", "Bearer " + os.environ["FETCH_TOKEN"])
    for line in os.environ.get("FETCH_HEADERS", "").splitlines():
        if ":" in line:
            name, value = line.split(":", 1)
            req.add_header(name.strip(), value.strip())
    try:
        resp = urllib.request.urlopen(req, timeout=5)
    except urllib.error.HTTPError as e:
        resp = e
    with open(out, "wb") as f:
        f.write(resp.read())
    with open(out + ".headers", "w") as f:
        f.write(str(resp.headers))
    print(resp.status)


main()
