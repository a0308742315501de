#!/usr/bin/python3
"""tls_phone.py HOST PORT CA USER PASSWORD [--tcp|--udp] [--outbound] [--relayed] [--ping] — a
SIP phone over TLS (--tcp, --udp: over TCP or UDP, CA unused), as a
softphone behind NAT behaves: one TLS connection (the server's certificate
verified against CA, the name 127.0.0.1 checked), REGISTER with digest
authentication and a Contact it cannot be reached at directly
(198.51.100.1:5061, TEST-NET-2), then it waits on that same connection for
an INVITE, answers it (180, 200 with SDP), takes the ACK and the BYE.
Debian's sipp has no TLS, and a sipp client cannot take an INVITE with a
Call-ID of its own after its REGISTER: hence this small peer.

--outbound: the REGISTER asks for RFC 5626 outbound (Supported: outbound,
+sip.instance and reg-id on the Contact); "require outbound" is printed when
the 200 has Require: outbound. --relayed: the REGISTER carries a second Via,
as one relayed by a proxy would (outbound is then not the server's to give).
--ping: after registering, a CRLF keep-alive
("\r\n\r\n") is sent and "pong" printed when its CRLF comes back.
--refer: once the call is up (its ACK), the phone transfers it: a REFER in
the call's dialog; the Contact of the 202 and of the NOTIFY that follows
are printed ("refer-contact", "notify-contact"), as a phone takes them for
its next requests.
--subscribe: after registering, the phone subscribes to its own
message-summary (digest on a 401): the Contact of the 200 and of the NOTIFY
that follows are printed ("subscribe 200 contact ...", "notify-contact
..."), and it exits 0 after that NOTIFY.

Prints one line per step ("registered", "invite", "acked", "bye") and exits
0 after the BYE, 1 on anything unexpected or after 30 s."""
import hashlib
import re
import socket
import ssl
import sys
import time

HOST, PORT, CA, USER, PASSWORD = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
TCP, OUTBOUND, PING = "--tcp" in sys.argv[6:], "--outbound" in sys.argv[6:], "--ping" in sys.argv[6:]
UDP = "--udp" in sys.argv[6:]
REFER = "--refer" in sys.argv[6:]
SUBSCRIBE = "--subscribe" in sys.argv[6:]
RELAYED = "Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-phone1\n" if "--relayed" in sys.argv[6:] else ""
T = "tcp" if TCP else "udp" if UDP else "tls"
OB_PARAMS = ';+sip.instance="<urn:uuid:4a6b1c2d-0000-1000-8000-00a0c91e6bf6>";reg-id=1' if OUTBOUND else ""
DEADLINE = time.time() + 30


def say(s):
    print(s, flush=True)


if UDP:   # a connected socket: only the server's datagrams, each one message
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    raw.connect((HOST, PORT))
else:
    raw = socket.create_connection((HOST, PORT), timeout=5)
conn = raw if TCP or UDP else ssl.create_default_context(cafile=CA).wrap_socket(raw, server_hostname=HOST)
local = "%s:%d" % conn.getsockname()[:2]
buf = b""


def read_msg():
    """One SIP message (start line + headers dict + body) from the connection."""
    global buf
    while True:
        buf = buf.lstrip(b"\r\n")   # keep-alive CRLFs between messages
        head_end = buf.find(b"\r\n\r\n")
        if head_end >= 0:
            head = buf[:head_end].decode("utf-8", "replace")
            m = re.search(r"(?im)^content-length:\s*(\d+)", head)
            n = int(m.group(1)) if m else 0
            if len(buf) >= head_end + 4 + n:
                body = buf[head_end + 4:head_end + 4 + n]
                buf = buf[head_end + 4 + n:]
                lines = head.split("\r\n")
                hdrs = {}
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    hdrs.setdefault(k.strip().lower(), []).append(v.strip())
                return lines[0], hdrs, body
        fill()


def fill():
    global buf
    left = DEADLINE - time.time()
    if left <= 0:
        say("timeout")
        sys.exit(1)
    conn.settimeout(left)
    data = conn.recv(65536)
    if not data:
        say("connection closed")
        sys.exit(1)
    buf += data


def send(text):
    conn.sendall(text.replace("\n", "\r\n").encode())


def register(cseq, auth=""):
    send("REGISTER sip:%s SIP/2.0\n"
         "Via: SIP/2.0/%s %s;branch=z9hG4bK-reg-%d;rport\n%s"
         "From: <sip:%s@%s>;tag=reg1\n"
         "To: <sip:%s@%s>\n"
         "Call-ID: reg-%s@tls-phone\n"
         "CSeq: %d REGISTER\n"
         "Contact: <sip:%s@198.51.100.1:5061;transport=%s>%s\n"
         "Expires: 300\n%s%s"
         "Content-Length: 0\n\n" % (HOST, T.upper(), local, cseq, RELAYED, USER, HOST, USER, HOST, USER, cseq, USER, T,
                                     OB_PARAMS, "Supported: outbound\n" if OUTBOUND else "", auth))


def digest(challenge, method, uri):
    realm = re.search(r'realm="([^"]*)"', challenge).group(1)
    nonce = re.search(r'nonce="([^"]*)"', challenge).group(1)
    ha1 = hashlib.md5(("%s:%s:%s" % (USER, realm, PASSWORD)).encode()).hexdigest()
    ha2 = hashlib.md5(("%s:%s" % (method, uri)).encode()).hexdigest()
    cnonce, nc = "0a4f113b", "00000001"
    resp = hashlib.md5(("%s:%s:%s:%s:auth:%s" % (ha1, nonce, nc, cnonce, ha2)).encode()).hexdigest()
    return ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
            'algorithm=MD5, qop=auth, nc=%s, cnonce="%s"\n' % (USER, realm, nonce, uri, resp, nc, cnonce))


register(1)
start, hdrs, _ = read_msg()
if " 401 " in start:
    register(2, digest(hdrs["www-authenticate"][0], "REGISTER", "sip:" + HOST))
    start, hdrs, _ = read_msg()
if " 200 " not in start:
    say("register failed: " + start)
    sys.exit(1)
say("registered")
if any("outbound" in v.lower() for v in hdrs.get("require", [])):
    say("require outbound")
if PING:
    conn.sendall(b"\r\n\r\n")
    while not buf.startswith(b"\r\n"):
        fill()
    say("pong")


def reply(hdrs, status, extra="", body=""):
    via = "".join("Via: %s\n" % v for v in hdrs["via"])
    to = hdrs["to"][0] if ";tag=" in hdrs["to"][0] else hdrs["to"][0] + ";tag=phone1"
    body = body.replace("\n", "\r\n")
    head = ("SIP/2.0 %s\n%sFrom: %s\nTo: %s\nCall-ID: %s\nCSeq: %s\n%sContent-Length: %d\n\n"
            % (status, via, hdrs["from"][0], to, hdrs["call-id"][0], hdrs["cseq"][0], extra, len(body)))
    conn.sendall(head.replace("\n", "\r\n").encode() + body.encode())   # one datagram over UDP


def refer(inv):
    """REFER in the dialog of the INVITE INV (headers), as its callee."""
    send("REFER %s SIP/2.0\n"
         "Via: SIP/2.0/%s %s;branch=z9hG4bK-refer-1;rport\n"
         "From: %s;tag=phone1\nTo: %s\nCall-ID: %s\nCSeq: 1 REFER\n"
         "Contact: <sip:%s@198.51.100.1:5061;transport=%s>\n"
         "Refer-To: <sip:5550123@%s>\nContent-Length: 0\n\n"
         % (inv["contact"][0].strip("<>").split(">")[0], T.upper(), local, inv["to"][0], inv["from"][0],
            inv["call-id"][0], USER, T, HOST))


def subscribe(cseq, auth=""):
    send("SUBSCRIBE sip:%s@%s:%d SIP/2.0\n"
         "Via: SIP/2.0/%s %s;branch=z9hG4bK-sub-%d;rport\n"
         "From: <sip:%s@%s>;tag=sub1\nTo: <sip:%s@%s>\nCall-ID: sub-%s@tls-phone\nCSeq: %d SUBSCRIBE\n"
         "Contact: <sip:%s@198.51.100.1:5061;transport=%s>\n"
         "Event: message-summary\nAccept: application/simple-message-summary\nExpires: 60\n%s"
         "Content-Length: 0\n\n" % (USER, HOST, PORT, T.upper(), local, cseq, USER, HOST, USER, HOST, USER, cseq, USER,
                                     T, auth))


if SUBSCRIBE:
    subscribe(1)
invite = None
while True:
    start, hdrs, body = read_msg()
    method = start.split(" ", 1)[0]
    if method == "INVITE":
        invite = hdrs
        say("invite " + start.split(" ")[1])
        say("contact " + hdrs.get("contact", hdrs.get("m", [""]))[0])
        sdp = ("v=0\no=phone 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
               "m=audio 6000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n")  # reply() makes the line ends CRLF
        contact = "Contact: <sip:%s@198.51.100.1:5061;transport=%s>\n" % (USER, T)
        reply(hdrs, "180 Ringing", contact)
        reply(hdrs, "200 OK", contact + "Content-Type: application/sdp\n", sdp)
    elif method == "ACK":
        say("acked")
        if REFER and invite:
            refer(invite)
    elif method == "NOTIFY":
        say("notify-contact " + hdrs.get("contact", hdrs.get("m", [""]))[0])
        reply(hdrs, "200 OK")
        if SUBSCRIBE:
            sys.exit(0)
    elif method == "BYE":
        reply(hdrs, "200 OK")
        say("bye")
        sys.exit(0)
    elif method.startswith("SIP/"):
        if " REFER" in hdrs.get("cseq", [""])[0]:
            say("refer %s contact %s" % (start.split(" ")[1], hdrs.get("contact", hdrs.get("m", [""]))[0]))
        elif " SUBSCRIBE" in hdrs.get("cseq", [""])[0]:
            if start.split(" ")[1] == "401" and "2 SUBSCRIBE" not in hdrs["cseq"][0]:
                subscribe(2, digest(hdrs["www-authenticate"][0], "SUBSCRIBE", "sip:%s@%s:%d" % (USER, HOST, PORT)))
            else:
                say("subscribe %s contact %s" % (start.split(" ")[1], hdrs.get("contact", hdrs.get("m", [""]))[0]))
        continue
    else:
        reply(hdrs, "501 Not Implemented")
