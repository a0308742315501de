#!/usr/bin/python3
"""slow.py PORT OUT SECONDS — an /events client that does not read: a
small receive buffer, the request sent, the stream's first bytes read
("OPEN" on stdout), then nothing read for SECONDS (or until OUT.go
exists). Then it reads what is left and writes "closed BYTES" to OUT when
the server had closed the stream, "open BYTES" when it had not."""
import os
import socket
import sys
import time


def main():
    port, out, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    s.settimeout(5)
    first = s.recv(1024)
    if b"text/event-stream" not in first:
        print("BAD", first[:200], flush=True)
        return 1
    print("OPEN", flush=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not os.path.exists(out + ".go"):
        time.sleep(0.05)
    total, state = 0, "open"
    s.settimeout(2)
    try:
        while True:
            b = s.recv(65536)
            if not b:
                state = "closed"
                break
            total += len(b)
    except socket.timeout:
        pass
    except ConnectionResetError:
        state = "closed"
    with open(out, "w") as f:
        f.write(f"{state} {total}\n")
    return 0


sys.exit(main())
