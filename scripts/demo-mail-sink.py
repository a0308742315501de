#!/usr/bin/python3
"""demo-mail-sink.py DIR [PORT] — the mail server of `make run`'s demo: an
SMTP sink (python3-aiosmtpd) on 127.0.0.1:PORT (default 2525) that keeps
each message as DIR/N.eml and prints one line for it (recipients, subject,
attachments), so the voicemail and hold e-mails the demo sends are seen."""
import email
import os
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, outdir):
        self.outdir = outdir
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content or envelope.content
        with self.lock:
            n = len([f for f in os.listdir(self.outdir) if f.endswith(".eml")]) + 1
            path = os.path.join(self.outdir, "%d.eml" % n)
            with open(path, "wb") as f:
                f.write(data)
        msg = email.message_from_bytes(data)
        files = ["%s (%d bytes)" % (p.get_filename(), len(p.get_payload(decode=True) or b""))
                 for p in msg.walk() if p.get_filename()]
        print("mail %s: to %s: %s%s" % (path, ", ".join(envelope.rcpt_tos), msg.get("Subject", ""),
                                        "; attached " + ", ".join(files) if files else ""), flush=True)
        return "250 Message accepted for delivery"


def main():
    outdir = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 2525
    os.makedirs(outdir, exist_ok=True)
    ctl = Controller(Sink(outdir), hostname="127.0.0.1", port=port)
    ctl.start()
    print("mail sink on smtp://127.0.0.1:%d, messages in %s" % (port, outdir), flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
