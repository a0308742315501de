#!/usr/bin/python3
"""torture.py SERVER_PORT LOCAL_PORT LOG NAME.sip — sends one RFC 4475
message (tests/hostile/torture/NAME.sip) in one UDP datagram to a live
`callroute serve` and checks the outcome written in NAME.expect beside it.

NAME.sip holds the message's exact bytes; @UAC@ becomes LOCAL_PORT (the
top Via's sent-by is 127.0.0.1:@UAC@, so every answer comes back here) and
@SIP@ becomes SERVER_PORT. NAME.expect says, one `key: value` per line:

  rfc:    the RFC 4475 section
  expect: the answer: a code (486), a class (4xx), `silence` (the message
          must be dropped), or alternatives (400|505, 400|silence)
  answer: a regular expression the final answer must match (a header)
  log:    a regular expression the serve log LOG must come to match
  xfail:  why today's callroute does not answer as a correct server does;
          only the answer is excused (the server must still live, answer
          the probe and send nothing else), and a right answer fails the
          case: take the line out

Answers are told apart by the top Via branch we sent. A non-2xx final
answer to an INVITE is acknowledged (RFC 3261 17.1.1.3), so the server
does not retransmit it into the next case. After the message an OPTIONS
probe must be answered 200: the server is alive, and since it handles
datagrams in order, nothing it sent before that 200 went unseen (silence
is proven by the probe, not by waiting). Exit 0 when the outcome is the
expected one, 2 when it is the expected failure, 3 when an expected
failure passes, 1 otherwise; the last line says what happened."""
import os
import re
import socket
import sys
import time

DEADLINE = 5.0   # seconds for an answer (a stalled server is a failure)


def parse_expect(path):
    exp = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, _, value = line.partition(":")
            exp.setdefault(key.strip(), []).append(value.strip())
    return exp


def header(msg, *names):
    """The first value of header NAME (any of its names) in MSG, unfolded."""
    head = msg.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    head = re.sub(r"\r\n[ \t]+", " ", head)
    for line in head.split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() in names:
            return value.strip()
    return None


def branch_of(msg):
    via = header(msg, "via", "v")
    m = re.search(r";\s*branch\s*=\s*([^;,\s]+)", via or "", re.I)
    return m.group(1) if m else None


def code_ok(code, alternatives):
    for alt in alternatives:
        if alt.endswith("xx") and code // 100 == int(alt[0]):
            return True
        if alt.isdigit() and code == int(alt):
            return True
    return False


def status(msg):
    """(code, first line) of a response, or (None, first line)."""
    line = msg.split(b"\r\n", 1)[0].decode("utf-8", "replace")
    m = re.match(r"SIP/2\.0 (\d{3}) ", line + " ")
    return (int(m.group(1)) if m else None), line


def ack_for(request, response):
    """The ACK of a non-2xx final answer: the INVITE's Request-URI; the
    answer's Via (ours), From, To (with its tag), Call-ID and CSeq number."""
    ruri = request.split(b"\r\n", 1)[0].split()[1].decode("latin-1")
    cseq = (header(response, "cseq") or "0").split()[0]
    lines = [
        f"ACK {ruri} SIP/2.0",
        f"Via: {header(response, 'via', 'v')}",
        f"From: {header(response, 'from', 'f')}",
        f"To: {header(response, 'to', 't')}",
        f"Call-ID: {header(response, 'call-id', 'i')}",
        f"CSeq: {cseq} ACK",
        "Max-Forwards: 70",
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def probe(sock, server, port):
    branch = f"z9hG4bK-probe-{os.getpid()}"
    msg = (f"OPTIONS sip:probe@127.0.0.1:{server} SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch={branch}\r\n"
           f"From: <sip:torture@127.0.0.1:{port}>;tag=p{os.getpid()}\r\n"
           f"To: <sip:probe@127.0.0.1:{server}>\r\n"
           f"Call-ID: probe-{os.getpid()}@127.0.0.1\r\n"
           f"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
    sock.sendto(msg.encode(), ("127.0.0.1", server))
    return branch


def main():
    server, port, log, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    exp = parse_expect(re.sub(r"\.sip$", ".expect", path))
    alternatives = exp["expect"][0].split("|")
    silent_ok = "silence" in alternatives
    codes = [a for a in alternatives if a != "silence"]
    with open(path, "rb") as f:
        msg = f.read().replace(b"@UAC@", str(port).encode()).replace(b"@SIP@", str(server).encode())
    is_request = not msg.startswith(b"SIP/")
    is_invite = msg.startswith(b"INVITE ")
    branch = branch_of(msg)

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    t0 = time.monotonic()
    sock.sendto(msg, ("127.0.0.1", server))

    seen = []          # first lines of every answer to our message
    final = None       # (code, line, elapsed, datagram) of its final answer
    others = []        # datagrams that answer something else
    probe_branch, probe_ok = None, None

    def receive(until):
        nonlocal final, probe_ok
        while time.monotonic() < until:
            sock.settimeout(max(0.01, until - time.monotonic()))
            try:
                data, _ = sock.recvfrom(65535)
            except socket.timeout:
                return
            code, line = status(data)
            b = branch_of(data)
            if probe_branch and b == probe_branch:
                if code and code >= 200:
                    probe_ok = (code, line)
                    return
                continue
            if code is None or b != branch or not is_request:
                others.append(line)
                continue
            seen.append(line)
            if code >= 200 and final is None:
                final = (code, line, time.monotonic() - t0, data)
                if is_invite and code >= 300:
                    sock.sendto(ack_for(msg, data), ("127.0.0.1", server))
                if not probe_branch:
                    return

    # A message that may be dropped is followed by the probe at once: an
    # answer to it, if any, comes first. Else the answer is waited for.
    if not silent_ok:
        receive(t0 + DEADLINE)
    probe_branch = probe(sock, server, port)
    receive(time.monotonic() + DEADLINE)
    elapsed = time.monotonic() - t0

    wrong = []      # the answer is not an expected one
    if final is None:
        if seen or not silent_ok:
            wrong.append(f"no final answer within {DEADLINE:.0f}s (seen: {seen or 'nothing'})")
    elif not code_ok(final[0], codes):
        wrong.append(f"answered '{final[1]}', expected {exp['expect'][0]}")
    else:
        for rx in exp.get("answer", []):
            if not re.search(rx, final[3].decode("latin-1")):
                wrong.append(f"the answer does not match {rx}")
    problems = []   # the server is not well, whatever the answer
    if others:
        problems.append(f"unexpected datagrams: {others}")
    if probe_ok is None:
        problems.append("no answer to the OPTIONS probe afterwards: server dead or stalled")
    elif probe_ok[0] != 200:
        problems.append(f"the OPTIONS probe was answered '{probe_ok[1]}'")
    for rx in exp.get("log", []):
        ok = False
        log_deadline = time.monotonic() + 5
        while time.monotonic() < log_deadline:
            with open(log, encoding="utf-8", errors="replace") as f:
                if re.search(rx, f.read(), re.M):
                    ok = True
                    break
            time.sleep(0.05)
        if not ok:
            problems.append(f"the serve log never matched: {rx}")

    name = os.path.basename(path)
    got = final[1] if final else "silence"
    slow = f" (slow: {final[2]:.2f}s)" if final and final[2] > 1 else ""
    if problems:
        print(f"{name}: " + "; ".join(wrong + problems))
        return 1
    if exp.get("xfail"):
        if wrong:
            print(f"{name}: expected failure ({exp['xfail'][0]}): " + "; ".join(wrong))
            return 2
        print(f"{name}: answered as a correct server does ({got}): remove its xfail line")
        return 3
    if wrong:
        print(f"{name}: " + "; ".join(wrong))
        return 1
    print(f"{name}: {got}{slow}, then OPTIONS 200 after {elapsed:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
