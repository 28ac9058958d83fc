#!/usr/bin/python3
# xoauth2-smtpd.py: an SMTP server on loopback that signs in with XOAUTH2 only (aiosmtpd 1.4.3)
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   /usr/bin/python3 tests/xoauth2-smtpd.py --dir DIR --user USER --accept TOKEN [--accept TOKEN…]
#
# The tokens are secrets (tests/check-canary.py looks for ENVOI_TEST_OAUTH_TOKEN everywhere):
# each --accept TOKEN and each line of DIR/tokens is in ROT13, so that the scan finds only what
# Envoi itself wrote.
#
# Offers AUTH XOAUTH2 (and nothing else) on a free loopback port, without TLS. A bearer token
# given with --accept for USER signs in; any other token gets what Gmail answers to an expired
# one: a 334 challenge holding a base64 JSON error, then, after the client's empty reply,
# "535 5.7.8". Writes DIR/port, appends each token it receives to DIR/tokens (one a line, as
# "USER TOKEN" in ROT13), stores accepted messages as DIR/messages/<n>.eml, then creates DIR/ready.
# Runs until killed.
#
# With --hold-rejections, before refusing a token (libcurl gives up at the 334 challenge already)
# it creates DIR/held and waits until the test creates DIR/release, then removes both: the test
# can change something, such as the token GNOME Online Accounts hands out next, while the client
# waits for the answer.

import argparse
import codecs
import asyncio
import base64
import binascii
import json
import os
import sys

from aiosmtpd.controller import Controller  # noqa: F401  (the package must be importable)
from aiosmtpd.smtp import SMTP, AuthResult


class Handler:
    def __init__(self, d, user, accepted, hold):
        self.dir = d
        self.user = user
        self.accepted = set(accepted)
        self.hold = hold
        self.count = 0

    async def held(self):
        held = os.path.join(self.dir, "held")
        release = os.path.join(self.dir, "release")
        open(held, "w").close()
        while not os.path.exists(release):
            await asyncio.sleep(0.02)
        os.unlink(release)
        os.unlink(held)

    def record(self, user, token):
        with open(os.path.join(self.dir, "tokens"), "a", encoding="utf-8") as f:
            f.write(codecs.encode("%s %s" % (user, token), "rot13") + "\n")

    async def auth_XOAUTH2(self, server, args):
        if len(args) == 1:
            blob = await server.challenge_auth("")
            if not isinstance(blob, bytes):
                return AuthResult(success=False, handled=True)
        else:
            try:
                blob = base64.b64decode(args[1], validate=True)
            except binascii.Error:
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        # "user=" USER ^A "auth=Bearer " TOKEN ^A ^A
        fields = dict(part.split("=", 1) for part in blob.decode("utf-8", "replace").split("\x01")
                      if "=" in part)
        user = fields.get("user", "")
        auth = fields.get("auth", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        self.record(user, token)
        if user == self.user and token in self.accepted:
            return AuthResult(success=True, auth_data=user)
        if self.hold:
            await self.held()
        error = json.dumps({"status": "401", "schemes": "Bearer",
                            "scope": "https://mail.example.com/"}).encode()
        await server.push("334 " + base64.b64encode(error).decode())
        await server._reader.readline()  # the client's (empty) acknowledgement
        # aiosmtpd 1.4.3: handled=False, or no 535 is sent and the client hangs.
        return AuthResult(success=False, handled=False,
                          message="535 5.7.8 Username and Password not accepted")

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        folder = os.path.join(self.dir, "messages")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "%d.eml" % self.count)
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 OK: queued as xoauth2-%d" % self.count


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--accept", action="append", default=[])
    parser.add_argument("--hold-rejections", action="store_true")
    args = parser.parse_args()
    d = os.path.abspath(args.dir)
    os.makedirs(d, exist_ok=True)
    handler = Handler(d, args.user, [codecs.decode(t, "rot13") for t in args.accept],
                      args.hold_rejections)

    def factory():
        return SMTP(handler, hostname="localhost", ident="Envoi XOAUTH2 test server",
                    auth_required=True, auth_require_tls=False,
                    auth_exclude_mechanism=["PLAIN", "LOGIN"])

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", 0)
    with open(os.path.join(d, "port.tmp"), "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
    open(os.path.join(d, "ready"), "w").close()
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
