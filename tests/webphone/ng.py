#!/usr/bin/python3
"""ng.py PORT COMMAND [CALL_ID] — asks the rtpengine on 127.0.0.1:PORT over
its NG control protocol (bencoded dictionaries over UDP, as Kamailio's
rtpengine module talks to it) and prints the answer as JSON:

    ng.py PORT list            the calls it holds ({"calls": [...]})
    ng.py PORT query CALL_ID   that call: its tags, each side's protocol

tests/webphone reads from it what callroute's side of a browser's call is
(plain RTP) and that the calls end with their dialogs."""
import json
import os
import socket
import sys


def encode(v):
    if isinstance(v, dict):
        return b"d" + b"".join(encode(k) + encode(v[k]) for k in sorted(v)) + b"e"
    if isinstance(v, list):
        return b"l" + b"".join(encode(x) for x in v) + b"e"
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    return b"%d:%s" % (len(v), v)


def decode(b, i=0):
    """The value at B[I:] and the index after it."""
    c = b[i:i + 1]
    if c == b"d":
        out, i = {}, i + 1
        while b[i:i + 1] != b"e":
            k, i = decode(b, i)
            out[k], i = decode(b, i)
        return out, i + 1
    if c == b"l":
        out, i = [], i + 1
        while b[i:i + 1] != b"e":
            x, i = decode(b, i)
            out.append(x)
        return out, i + 1
    if c == b"i":
        end = b.index(b"e", i)
        return int(b[i + 1:end]), end + 1
    colon = b.index(b":", i)
    n = int(b[i:colon])
    s = b[colon + 1:colon + 1 + n]
    return s.decode("utf-8", "replace"), colon + 1 + n


def main():
    port, command = int(sys.argv[1]), sys.argv[2]
    req = {"command": command}
    if command == "query":
        req["call-id"] = sys.argv[3]
    cookie = os.urandom(6).hex().encode()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(cookie + b" " + encode(req), ("127.0.0.1", port))
    data, _ = s.recvfrom(65536)
    got, _, body = data.partition(b" ")
    if got != cookie:
        sys.exit("ng.py: an answer to another request")
    print(json.dumps(decode(body)[0]))


if __name__ == "__main__":
    main()
