#!/usr/bin/python3
# smtpd.py: real SMTP listeners on loopback for Envoi's tests (aiosmtpd 1.4.3)
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   /usr/bin/python3 tests/smtpd.py --dir DIR
#
# Makes a throw-away CA and certificates with openssl in DIR, starts every listener below on a
# free loopback port, writes DIR/env (VAR=value lines, sourced by tests/session.sh) and then
# creates DIR/ready. Runs until killed.
#
# Accounts: the AUTH listeners accept PLAIN and LOGIN for one user, USER below, with one
# password, PASSWORD below (the canary). Keep both in sync with tests/envoi-test-helpers.h
# (ENVOI_TEST_USER, ENVOI_TEST_PASSWORD). A wrong login gets "535 5.7.8".
#
# Variables written to DIR/env:
#   ENVOI_TEST_SMTP_DIR            DIR itself
#   ENVOI_TEST_SMTP_LOG            DIR/log: one line per command line received, AUTH data redacted:
#                                  "<listener> <connection-number> >> <line>"
#   ENVOI_TEST_SMTP_MESSAGES       DIR/messages: each accepted message is stored as
#                                  messages/<listener>/<n>.eml, its envelope beside it in
#                                  <n>.envelope ("MAIL FROM:<a>" then one "RCPT TO:<b>" per line);
#                                  both are written to a temporary name and renamed into place
#   ENVOI_TEST_CA_FILE             the throw-away CA (PEM) that signed the "localhost" certificate
#   ENVOI_SMTP_CA_FILE             the same file: the Envoi SMTP client reads this variable to
#                                  trust an extra CA (tests only), so every process of the test
#                                  session trusts the listeners below
#   ENVOI_TEST_SMTP_PLAIN_PORT     listener "plain": no TLS at all, AUTH required (offered
#                                  in clear: loopback only)
#   ENVOI_TEST_SMTP_STARTTLS_PORT  listener "starttls": STARTTLS required before MAIL and
#                                  AUTH, AUTH required, certificate for localhost from the CA
#   ENVOI_TEST_SMTP_TLS_PORT       listener "tls": implicit TLS, AUTH required, same certificate
#   ENVOI_TEST_SMTP_UNTRUSTED_PORT listener "untrusted": implicit TLS with a self-signed
#                                  certificate for localhost (not from the CA), AUTH required
#   ENVOI_TEST_SMTP_UNTRUSTED_PIN  sha256//<base64> of that certificate's public key (what
#                                  the account's pinned-key must hold to trust it)
#   ENVOI_TEST_SMTP_MISMATCH_PORT  listener "mismatch": implicit TLS, certificate from the CA
#                                  but for the name wrong.invalid only
#   ENVOI_TEST_SMTP_NOSTARTTLS_PORT listener "nostarttls": plain, does not offer STARTTLS,
#                                  offers AUTH in clear (a client must refuse to log in)
#   ENVOI_TEST_SMTP_STALL_PORT     listener "stall": accepts the TCP connection, never answers
#   ENVOI_TEST_SMTP_GREET421_PORT  listener "greet421": greets with 421 4.3.2 and hangs up
#   ENVOI_TEST_SMTP_OPEN_PORT      listener "open": plain, no AUTH offered, accepts anything
#   ENVOI_TEST_SMTP_RCPT451_PORT   listener "rcpt451": plain, no AUTH, 451 4.3.0 on every RCPT
#   ENVOI_TEST_SMTP_RCPT550_PORT   listener "rcpt550": plain, no AUTH, 550 5.1.1 on every RCPT
#   ENVOI_TEST_SMTP_RCPT452_PORT   listener "rcpt452": plain, no AUTH, 452 4.5.3 (a sending
#                                  rate limit) on every RCPT
#   ENVOI_TEST_SMTP_DATA552_PORT   listener "data552": plain, no AUTH, 552 5.3.4 after DATA

import argparse
import asyncio
import itertools
import os
import re
import ssl
import subprocess
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

USER = b"envoi-test"
PASSWORD = b"Canary-7Qz9-envoi-p4ss"

connection_counter = itertools.count(1)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certificates(d):
    """The CA, a localhost certificate, a wrong-name certificate, a self-signed one."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=Envoi Test CA", "-keyout", "ca.key", "-out", "ca.pem",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    for name, san in (("localhost", "DNS:localhost,IP:127.0.0.1"),
                      ("mismatch", "DNS:wrong.invalid")):
        cn = "localhost" if name == "localhost" else "wrong.invalid"
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
                    "extendedKeyUsage=serverAuth\n" % san)
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn,
                "-keyout", name + ".key", "-out", name + ".csr", cwd=d)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", name + ".ext",
                "-out", name + ".pem", cwd=d)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=localhost/O=Envoi Self-Signed", "-keyout", "untrusted.key",
            "-out", "untrusted.pem", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            cwd=d)
    # The public-key pin, as curl's CURLOPT_PINNEDPUBLICKEY wants it.
    pub = subprocess.run(["openssl", "x509", "-in", "untrusted.pem", "-pubkey", "-noout"],
                         cwd=d, check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         check=True, capture_output=True).stdout
    digest = subprocess.run(["openssl", "dgst", "-sha256", "-binary"], input=der,
                            check=True, capture_output=True).stdout
    import base64
    return "sha256//" + base64.b64encode(digest).decode()


def server_context(d, name):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(os.path.join(d, name + ".pem"), os.path.join(d, name + ".key"))
    return ctx


class Recorder:
    """Stores what the listeners receive: the command log and the messages."""

    def __init__(self, d):
        self.dir = d
        self.log = open(os.path.join(d, "log"), "a", buffering=1, encoding="utf-8",
                        errors="backslashreplace")
        self.counters = {}
        self.in_auth = set()

    def command(self, listener, conn, line):
        text = line.rstrip(b"\r\n").decode("utf-8", "backslashreplace")
        # A TLS ClientHello sent to a plain listener is "a line" too: keep the log text.
        text = "".join(c if c.isprintable() else "\\x%02x" % ord(c) for c in text)
        text = self.redact(listener, conn, text)
        self.log.write("%s %d >> %s\n" % (listener, conn, text))

    # Credentials never reach the log (tests/check-canary.py looks for the password there):
    # "AUTH PLAIN <response>" keeps its mechanism, and every line after an AUTH command up to
    # the next command (the base64 answers to 334 challenges) is replaced.
    COMMANDS = re.compile(r"^(?:EHLO|HELO|MAIL|RCPT|DATA|RSET|QUIT|NOOP|VRFY|HELP|STARTTLS|AUTH)\b",
                          re.IGNORECASE)

    def redact(self, listener, conn, text):
        key = (listener, conn)
        if text.upper().startswith("AUTH "):
            words = text.split(" ")
            self.in_auth.add(key)
            return " ".join(words[:2] + (["[redacted]"] if len(words) > 2 else []))
        if key in self.in_auth:
            if self.COMMANDS.match(text):
                self.in_auth.discard(key)
            else:
                return "[redacted]"
        return text

    def message(self, listener, envelope):
        folder = os.path.join(self.dir, "messages", listener)
        os.makedirs(folder, exist_ok=True)
        n = self.counters[listener] = self.counters.get(listener, 0) + 1
        base = os.path.join(folder, str(n))
        with open(base + ".envelope.tmp", "w", encoding="utf-8") as f:
            f.write("MAIL FROM:<%s>\n" % envelope.mail_from)
            for rcpt in envelope.rcpt_tos:
                f.write("RCPT TO:<%s>\n" % rcpt)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".envelope.tmp", base + ".envelope")
        os.rename(base + ".eml.tmp", base + ".eml")


class Handler:
    def __init__(self, recorder, listener, rcpt_reply=None, data_reply=None):
        self.recorder = recorder
        self.listener = listener
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        self.recorder.message(self.listener, envelope)
        return "250 2.0.0 OK: queued as %s-%d" % (self.listener,
                                                   self.recorder.counters[self.listener])


def authenticator(server, session, envelope, mechanism, auth_data):
    if (isinstance(auth_data, LoginPassword) and auth_data.login == USER
            and auth_data.password == PASSWORD):
        return AuthResult(success=True)
    # aiosmtpd 1.4.3: handled=False, or no 535 is sent and the client hangs.
    return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication failed")


class LoggingSMTP(SMTP):
    """aiosmtpd's SMTP, logging every command line (and AUTH continuation line) it reads."""

    def __init__(self, *args, recorder, listener, **kwargs):
        super().__init__(*args, **kwargs)
        self.recorder = recorder
        self.listener = listener
        self.conn = next(connection_counter)

    def connection_made(self, transport):
        super().connection_made(transport)
        reader = self._reader
        if getattr(reader, "envoi_logged", False):
            return
        reader.envoi_logged = True
        readuntil = reader.readuntil

        async def logged_readuntil(separator=b"\n"):
            line = await readuntil(separator)
            if separator == b"\n":  # command lines; DATA lines use b"\r\n"
                self.recorder.command(self.listener, self.conn, line)
            return line

        # StreamReader.readline() goes through readuntil() too: AUTH continuation lines
        # are logged as well.
        reader.readuntil = logged_readuntil


async def raw_listener(handle):
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    d = os.path.abspath(args.dir)
    os.makedirs(os.path.join(d, "messages"), exist_ok=True)
    pin = make_certificates(d)
    recorder = Recorder(d)
    loop = asyncio.get_running_loop()
    env = {
        "ENVOI_TEST_SMTP_DIR": d,
        "ENVOI_TEST_SMTP_LOG": os.path.join(d, "log"),
        "ENVOI_TEST_SMTP_MESSAGES": os.path.join(d, "messages"),
        "ENVOI_TEST_CA_FILE": os.path.join(d, "ca.pem"),
        "ENVOI_SMTP_CA_FILE": os.path.join(d, "ca.pem"),
        "ENVOI_TEST_SMTP_UNTRUSTED_PIN": pin,
    }
    servers = []

    async def smtp_listener(var, listener, auth=True, tls=None, starttls=None,
                            require_starttls=False, **handler_args):
        handler = Handler(recorder, listener, **handler_args)
        kwargs = dict(hostname="localhost", ident="Envoi test server")
        if auth:
            kwargs.update(authenticator=authenticator, auth_required=True,
                          auth_require_tls=starttls is not None)
        if starttls is not None:
            kwargs.update(tls_context=starttls, require_starttls=require_starttls)

        def factory():
            return LoggingSMTP(handler, recorder=recorder, listener=listener, **kwargs)

        server = await loop.create_server(factory, "127.0.0.1", 0, ssl=tls)
        servers.append(server)
        env[var] = str(server.sockets[0].getsockname()[1])

    good = lambda: server_context(d, "localhost")  # noqa: E731
    await smtp_listener("ENVOI_TEST_SMTP_PLAIN_PORT", "plain")
    await smtp_listener("ENVOI_TEST_SMTP_STARTTLS_PORT", "starttls", starttls=good(),
                        require_starttls=True)
    await smtp_listener("ENVOI_TEST_SMTP_TLS_PORT", "tls", tls=good())
    await smtp_listener("ENVOI_TEST_SMTP_UNTRUSTED_PORT", "untrusted",
                        tls=server_context(d, "untrusted"))
    await smtp_listener("ENVOI_TEST_SMTP_MISMATCH_PORT", "mismatch",
                        tls=server_context(d, "mismatch"))
    await smtp_listener("ENVOI_TEST_SMTP_NOSTARTTLS_PORT", "nostarttls")
    await smtp_listener("ENVOI_TEST_SMTP_OPEN_PORT", "open", auth=False)
    await smtp_listener("ENVOI_TEST_SMTP_RCPT451_PORT", "rcpt451", auth=False,
                        rcpt_reply="451 4.3.0 Temporary local problem, try again later")
    await smtp_listener("ENVOI_TEST_SMTP_RCPT550_PORT", "rcpt550", auth=False,
                        rcpt_reply="550 5.1.1 No such user here")
    await smtp_listener("ENVOI_TEST_SMTP_RCPT452_PORT", "rcpt452", auth=False,
                        rcpt_reply="452 4.5.3 Too many messages, sending rate limit exceeded")
    await smtp_listener("ENVOI_TEST_SMTP_DATA552_PORT", "data552", auth=False,
                        data_reply="552 5.3.4 Message size exceeds fixed limit")

    stalled = []

    async def stall(reader, writer):
        conn = next(connection_counter)
        recorder.command("stall", conn, b"(connection accepted, never answered)")
        stalled.append(writer)
        try:
            while await reader.read(4096):
                pass
        except ConnectionError:
            pass

    async def greet421(reader, writer):
        conn = next(connection_counter)
        recorder.command("greet421", conn, b"(connection accepted, greeted with 421)")
        writer.write(b"421 4.3.2 localhost Service not available, closing channel\r\n")
        await writer.drain()
        writer.close()

    for var, handle in (("ENVOI_TEST_SMTP_STALL_PORT", stall),
                        ("ENVOI_TEST_SMTP_GREET421_PORT", greet421)):
        server = await raw_listener(handle)
        servers.append(server)
        env[var] = str(server.sockets[0].getsockname()[1])

    with open(os.path.join(d, "env.tmp"), "w") as f:
        for var, value in env.items():
            f.write("%s=%s\n" % (var, value))
    os.rename(os.path.join(d, "env.tmp"), os.path.join(d, "env"))
    open(os.path.join(d, "ready"), "w").close()
    print("smtpd.py ready:", " ".join("%s=%s" % kv for kv in env.items()), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
