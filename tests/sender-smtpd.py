#!/usr/bin/python3
# sender-smtpd.py: SMTP listeners for the background sender's tests (aiosmtpd 1.4.3)
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   /usr/bin/python3 tests/sender-smtpd.py --dir DIR
#
# Plain listeners on loopback, no AUTH, each storing what it accepts as
# DIR/<listener>/<n>.eml and <n>.envelope ("MAIL FROM:<a>" then one "RCPT TO:<b>" per line),
# written to a temporary name and renamed. When all listen it writes DIR/ports
# ("<listener> <port>" lines) and then DIR/ready. Runs until killed.
#
#   sink    accepts everything
#   slow    accepts everything, 20 ms after each DATA (a burst takes long enough to interrupt);
#           while DIR/slow/hold holds a number N and N messages are saved, every further DATA
#           waits until the file is removed, so a test can stop a burst at an exact point
#   flaky   answers 451 4.3.0 to the first RCPT it ever gets, then accepts everything
#   reject  answers 550 5.1.1 to recipients whose local part starts with "bad", accepts others
#   defer   answers 451 4.3.0 to every RCPT, and appends the time of each (seconds since the
#           epoch, to the microsecond) to DIR/defer/attempts: the attempts as the server saw them

import argparse
import asyncio
import os
import sys
import time

from aiosmtpd.smtp import SMTP


class Handler:
    def __init__(self, d, name, delay=0.0, first_451=False, reject_bad=False, always_451=False):
        self.dir = os.path.join(d, name)
        os.makedirs(self.dir, exist_ok=True)
        self.count = 0
        self.delay = delay
        self.first_451 = first_451
        self.reject_bad = reject_bad
        self.always_451 = always_451

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.always_451:
            with open(os.path.join(self.dir, "attempts"), "a", encoding="ascii") as f:
                f.write("%.6f\n" % time.time())
            return "451 4.3.0 Temporary local problem, try again later"
        if self.first_451:
            self.first_451 = False
            return "451 4.3.0 Temporary local problem, try again later"
        if self.reject_bad and address.lower().startswith("bad"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    def held(self):
        try:
            with open(os.path.join(self.dir, "hold"), encoding="ascii") as f:
                limit = int(f.read().strip() or "0")
        except (FileNotFoundError, ValueError):
            return False
        saved = sum(1 for name in os.listdir(self.dir) if name.endswith(".eml"))
        return saved >= limit

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        while self.held():
            await asyncio.sleep(0.01)
        self.count += 1
        base = os.path.join(self.dir, str(self.count))
        with open(base + ".envelope.tmp", "w", encoding="utf-8") as f:
            # aiosmtpd keeps the null sender as "<>"
            sender = "" if envelope.mail_from == "<>" else envelope.mail_from
            f.write("MAIL FROM:<%s>\n" % sender)
            for rcpt in envelope.rcpt_tos:
                f.write("RCPT TO:<%s>\n" % rcpt)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".envelope.tmp", base + ".envelope")
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 OK: queued as %d" % self.count


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    d = os.path.abspath(args.dir)
    os.makedirs(d, exist_ok=True)
    loop = asyncio.get_running_loop()
    ports = []
    servers = []

    for name, kwargs in (("sink", {}), ("slow", {"delay": 0.02}),
                         ("flaky", {"first_451": True}), ("reject", {"reject_bad": True}),
                         ("defer", {"always_451": True})):
        handler = Handler(d, name, **kwargs)

        def factory(handler=handler):
            return SMTP(handler, hostname="localhost", ident="Envoi sender test server")

        server = await loop.create_server(factory, "127.0.0.1", 0)
        servers.append(server)
        ports.append("%s %d\n" % (name, server.sockets[0].getsockname()[1]))

    with open(os.path.join(d, "ports.tmp"), "w") as f:
        f.writelines(ports)
    os.rename(os.path.join(d, "ports.tmp"), os.path.join(d, "ports"))
    open(os.path.join(d, "ready"), "w").close()

    # Never outlive the test that started us, even when it aborts.
    parent = os.getppid()
    while os.getppid() == parent:
        await asyncio.sleep(0.2)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
