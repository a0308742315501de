#!/usr/bin/python3
"""A capturing SMTP server (python3-aiosmtpd) on 127.0.0.1.

  smtp_server.py DIR [PORT [DELAY]]

Recipients starting with "reject" are refused (550). Each accepted
message is written to DIR as <n>.eml (temp name, then
rename), with the envelope in X-Envelope-From / X-Envelope-To headers put
before the message. With DELAY (seconds) the 250 after DATA comes that long
after the message was stored, as from a slow server: a client that gives up
meanwhile has delivered it all the same. Prints "PORT <n>" once it listens; exits at once on SIGTERM.
"""
import asyncio
import os
import signal
import socket
import sys
import threading

from aiosmtpd.controller import Controller


class Capture:
    def __init__(self, outdir, delay=0.0):
        self.outdir = outdir
        self.delay = delay
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = len([f for f in os.listdir(self.outdir) if f.endswith(".eml")]) + 1
            tmp = os.path.join(self.outdir, ".%d.tmp" % n)
            with open(tmp, "wb") as f:
                f.write(b"X-Envelope-From: %s\r\n" % envelope.mail_from.encode())
                f.write(b"X-Envelope-To: %s\r\n" % ", ".join(envelope.rcpt_tos).encode())
                f.write(envelope.original_content or envelope.content)
            os.rename(tmp, os.path.join(self.outdir, "%d.eml" % n))
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    outdir = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 and int(sys.argv[2]) else free_port()
    # Stop at once: each captured message is already complete on disk
    # (written, then renamed), and a graceful Controller.stop() can hang.
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    signal.signal(signal.SIGINT, lambda *a: os._exit(0))
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    ctl = Controller(Capture(outdir, delay), hostname="127.0.0.1", port=port)
    ctl.start()
    print("PORT %d" % port, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
