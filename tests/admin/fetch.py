#!/usr/bin/python3
"""fetch.py METHOD URL OUT — one HTTP request; prints the status code, writes
the body to OUT and the response headers to OUT.headers."""
import sys
import urllib.error
import urllib.request


def main():
    method, url, out = sys.argv[1:4]
    req = urllib.request.Request(url, method=method, data=b"{}" if method in ("POST", "PUT") else None)
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
