#!/usr/bin/python3
"""A local HTTP service for the services tests (127.0.0.1, a free port).

Prints "PORT <n>" on stdout once it listens. Paths:
  /json...          200, a JSON document (agent, items, the query string)
  /delay/<sec>...   the same JSON after <sec> seconds
  /redirect         302 to /json?redirected=1
  /drop             closes the connection without answering
  /status/<code>    that status with a small JSON body
  /invalid          200, Content-Type application/json, not JSON
  /text             200, plain text
  /echo...          200, JSON of what was received
  /flaky/<n>...     503 to the first <n> requests carrying one
                    Idempotency-Key (or none), then 201 (durable jobs)
  /__log            every request received so far (not itself), as JSON:
                    [{"method", "path" (raw, still encoded), "headers",
                      "body", "port" (the client's port: connection reuse),
                      "time" (when it arrived, seconds since the epoch),
                      "status" (the answer's; absent when none was sent)}]
"""
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = []
LOG_LOCK = threading.Lock()
FLAKY = {}  # Idempotency-Key -> requests seen (under LOG_LOCK)

DOC = {
    "agent": {"extension": "101", "name": "Alice Smith", "tier": 3},
    "items": [{"name": "first"}, {"name": "second"}],
    "big": 123456789012345678,
    "ratio": 0.5,
    "ok": True,
    "nothing": None,
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        # Headers and body go out as two writes: without this, Nagle and
        # delayed ACKs add 40 ms to every answer on a reused connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _record(self, body):
        self._entry = {
            "method": self.command,
            "path": self.path,
            "headers": {k: v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
            "port": self.client_address[1],
            "time": time.time(),
        }
        with LOG_LOCK:
            LOG.append(self._entry)

    def _send(self, code, body, ctype="application/json"):
        if self._entry is not None:
            with LOG_LOCK:
                self._entry["status"] = code
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _handle(self):
        self._entry = None  # one handler serves every request of a connection
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        p = self.path
        if p == "/__log":
            with LOG_LOCK:
                self._send(200, json.dumps(LOG))
            return
        self._record(body)
        if p.startswith("/delay/"):
            secs = float(p.split("/")[2].split("?")[0])
            time.sleep(secs)
            self._send(200, json.dumps(DOC))
        elif p.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "/json?redirected=1")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif p.startswith("/drop"):
            self.close_connection = True
            self.connection.shutdown(2)
        elif p.startswith("/status/"):
            code = int(p.split("/")[2].split("?")[0])
            self._send(code, json.dumps({"error": "status %d" % code}))
        elif p.startswith("/invalid"):
            self._send(200, "{not json", "application/json")
        elif p.startswith("/text"):
            self._send(200, "hello", "text/plain")
        elif p.startswith("/flaky/"):
            fails = int(p.split("/")[2].split("?")[0])
            key = self.headers.get("Idempotency-Key", "")
            with LOG_LOCK:
                FLAKY[key] = FLAKY.get(key, 0) + 1
                n = FLAKY[key]
            if n <= fails:
                self._send(503, json.dumps({"error": "try again"}))
            else:
                self._send(201, json.dumps({"accepted": key, "request": n}))
        elif p.startswith("/echo"):
            self._send(200, json.dumps({"method": self.command, "path": p,
                                        "body": body.decode("utf-8", "replace")}))
        else:
            doc = dict(DOC)
            doc["query"] = p.partition("?")[2]
            self._send(200, json.dumps(doc))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # clients that time out or cancel close early: expected here


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    srv = Server(("127.0.0.1", port), Handler)
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
