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
#   hostile a hand-written SMTP server that logs every command line it reads, as received, to
#           DIR/hostile/commands.log (one "<connection>: <line>" a line, "<connection>: CONNECT"
#           when a client connects) and misbehaves once as DIR/hostile/mode says (the file is
#           removed when the fault has happened; without it the server behaves):
#             drop-mid-data  closes the connection once half the body (MAIL FROM's SIZE=) is in
#             early-reply    answers "250" once half the body is in, then "554" after its end
#                            (and logs "LATE REPLY SENT")
#             double-reply   answers the end of a body with "250" and "554" in one write, as
#                            a client reads them when the early one was late on its way
#                            (and logs "DOUBLE REPLY SENT")
#             bad-utf8       answers RCPT with a 451 whose text is not valid UTF-8
#             huge-ehlo      answers EHLO with a 10 MB line

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


class Hostile:
    """A raw SMTP server, so that it can do what aiosmtpd will not."""

    def __init__(self, d):
        self.dir = os.path.join(d, "hostile")
        os.makedirs(self.dir, exist_ok=True)
        self.count = 0
        self.connections = 0

    def log(self, connection, line):
        with open(os.path.join(self.dir, "commands.log"), "ab") as f:
            f.write(b"%d: %s\n" % (connection, line))

    def take_fault(self, name):
        path = os.path.join(self.dir, "mode")
        try:
            with open(path, encoding="ascii") as f:
                mode = f.read().strip()
        except FileNotFoundError:
            return False
        if mode != name:
            return False
        os.unlink(path)
        return True

    def save(self, sender, recipients, body):
        self.count += 1
        base = os.path.join(self.dir, str(self.count))
        with open(base + ".envelope.tmp", "wb") as f:
            f.write(b"MAIL FROM:<%s>\n" % sender)
            for rcpt in recipients:
                f.write(b"RCPT TO:<%s>\n" % rcpt)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(body)
        os.rename(base + ".envelope.tmp", base + ".envelope")
        os.rename(base + ".eml.tmp", base + ".eml")

    async def serve(self, reader, writer):
        self.connections += 1
        connection = self.connections
        self.log(connection, b"CONNECT")
        sender, recipients, size = b"", [], 0

        def say(text):
            writer.write(text + b"\r\n")

        say(b"220 localhost hostile test server")
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                self.log(connection, line.rstrip(b"\r\n"))
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    if self.take_fault("huge-ehlo"):
                        say(b"250-" + b"x" * (10 * 1024 * 1024))
                    say(b"250-localhost\r\n250-8BITMIME\r\n250 SIZE 100000000")
                elif verb == b"MAIL":
                    arg = line[10:].strip()
                    sender = arg[1:arg.index(b">")] if b">" in arg else arg
                    size = 0
                    for param in arg.split()[1:]:
                        if param.upper().startswith(b"SIZE="):
                            size = int(param[5:])
                    recipients = []
                    say(b"250 2.1.0 OK")
                elif verb == b"RCPT":
                    if self.take_fault("bad-utf8"):
                        say(b"451 4.3.0 Temporarily unavailable \xff\xfe caf\xe9 \x1b[31m")
                        continue
                    arg = line[8:].strip()
                    recipients.append(arg[1:arg.index(b">")] if b">" in arg else arg)
                    say(b"250 2.1.5 OK")
                elif verb == b"DATA":
                    say(b"354 go ahead")
                    await writer.drain()
                    body = bytearray()
                    early = False
                    drop = self.take_fault("drop-mid-data")
                    late = self.take_fault("early-reply")
                    double = self.take_fault("double-reply")
                    while True:
                        chunk = await reader.readline()
                        if not chunk:
                            return
                        if chunk == b".\r\n":
                            break
                        body += chunk[1:] if chunk.startswith(b"..") else chunk
                        if size and len(body) >= size // 2:
                            if drop:
                                self.log(connection, b"DROPPED")
                                writer.transport.abort()
                                return
                            if late and not early:
                                early = True
                                say(b"250 2.0.0 OK early")
                                await writer.drain()
                    if double:
                        writer.write(b"250 2.0.0 OK\r\n554 5.0.0 Rejected late\r\n")
                        await writer.drain()
                        self.log(connection, b"DOUBLE REPLY SENT")
                    elif late:
                        say(b"554 5.0.0 Rejected late")
                        await writer.drain()
                        self.log(connection, b"LATE REPLY SENT")
                    else:
                        self.save(sender, recipients, bytes(body))
                        say(b"250 2.0.0 OK: queued as %d" % self.count)
                elif verb == b"RSET":
                    sender, recipients = b"", []
                    say(b"250 2.0.0 OK")
                elif verb == b"NOOP":
                    say(b"250 2.0.0 OK")
                elif verb == b"QUIT":
                    say(b"221 2.0.0 Bye")
                    await writer.drain()
                    writer.close()
                    return
                else:
                    say(b"502 5.5.2 Command not recognized")
                await writer.drain()
        except (ConnectionError, ValueError):
            return


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    d = os.path.abspath(args.dir)
    os.makedirs(d, exist_ok=True)
    loop = asyncio.get_running_loop()
    ports = []
    servers = []

    for name, kwargs in (("sink", {}), ("slow", {"delay": 0.02}), ("lagging", {"delay": 0.3}),
                         ("flaky", {"first_451": True}), ("reject", {"reject_bad": True}),
                         ("defer", {"always_451": True})):
        handler = Handler(d, name, **kwargs)

        def factory(handler=handler):
            return SMTP(handler, hostname="localhost", ident="Envoi sender test server")

        server = await loop.create_server(factory, "127.0.0.1", 0)
        servers.append(server)
        ports.append("%s %d\n" % (name, server.sockets[0].getsockname()[1]))

    hostile = Hostile(d)
    server = await asyncio.start_server(hostile.serve, "127.0.0.1", 0, limit=1 << 20)
    servers.append(server)
    ports.append("hostile %d\n" % server.sockets[0].getsockname()[1])

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
