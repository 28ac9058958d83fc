#!/usr/bin/python3
# dovecot.py: a real, unprivileged dovecot (IMAP and POP3) on loopback for Envoi's tests, and a
# POP-before-SMTP mail server that trusts it
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   /usr/bin/python3 tests/dovecot.py --dir DIR --cert PEM --key KEY
#
# Writes a private dovecot configuration into DIR (runtime, state, logs, mail and the users'
# passwd-file all stay there), starts dovecot as the current user with every listener on a free
# loopback port, starts the "popauth" SMTP listener, writes DIR/env (VAR=value lines) and then
# creates DIR/ready. Runs until killed (SIGTERM), then stops dovecot.
#
# User: USER below, whose password is POP_PASSWORD below for POP3 and IMAP_PASSWORD for IMAP
# (ENVOI_TEST_POP_PASSWORD and ENVOI_TEST_IMAP_PASSWORD, canaries: keep them in sync with
# tests/envoi-test-helpers.h); each protocol refuses the other's. Mail is a maildir under DIR/mail/USER. The namespace has INBOX and
# a folder named SENT_NAME below that carries the \Sent special-use flag (its name is not
# "Sent", so that a client which finds it must have read the flag).
#
# Variables written to DIR/env:
#   ENVOI_TEST_DOVECOT_LOG        dovecot's log (logins appear as "imap-login: Login: ..."
#                                 and "pop3-login: Login: ...")
#   ENVOI_TEST_DOVECOT_MAILDIR    the user's maildir (a folder F is the directory ".F")
#   ENVOI_TEST_IMAP_PORT          IMAP, STARTTLS offered, plaintext login allowed (loopback)
#   ENVOI_TEST_IMAPS_PORT         IMAP over implicit TLS
#   ENVOI_TEST_POP3_PORT          POP3, STLS offered, plaintext login allowed (loopback)
#   ENVOI_TEST_POP3S_PORT         POP3 over implicit TLS
#   ENVOI_TEST_POPAUTH_PORT       SMTP, no AUTH: relays only for a client that logged in over
#                                 POP3 since the offset written in DIR/popauth-from (a byte
#                                 offset into the dovecot log; 0 when the file is missing), as
#                                 POP-before-SMTP servers do by following the POP server's log.
#                                 Otherwise "554 5.7.1 Relaying denied: log in with POP3 first".
#                                 Accepted messages are DIR/popauth/<n>.eml (renamed into place).
#   ENVOI_TEST_DOVECOT_SENT       SENT_NAME

import argparse
import asyncio
import base64
import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import grp
import pwd

from aiosmtpd.smtp import SMTP

USER = "envoi-test"
POP_PASSWORD = "Canary-pop3-Wd5v-envoi"
IMAP_PASSWORD = "Canary-imap-Qm2j-envoi"
SENT_NAME = "Envoi Sent"
DOVECOT = "/usr/sbin/dovecot"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(d, run, cert, key, ports):
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    # Login processes refuse to run as root: as root (CI), they take Debian's unprivileged
    # dovenull, and every other process stays with the current user.
    login_user = "dovenull" if os.getuid() == 0 else user
    # Dovecot refuses uid 0 for mail: as root, mail belongs to nobody, in a directory that
    # nobody can reach (DIR's parents are private to the session).
    mail_uid, mail_gid = os.getuid(), os.getgid()
    mail_root = os.path.join(d, "mail")
    if os.getuid() == 0:
        nobody = pwd.getpwnam("nobody")
        mail_uid, mail_gid = nobody.pw_uid, nobody.pw_gid
        mail_root = os.path.join(run, "mail")
    for path in (os.path.join(d, "state"), mail_root, os.path.join(run, "base")):
        os.makedirs(path, mode=0o700, exist_ok=True)
    os.chown(mail_root, mail_uid, mail_gid)
    # The password files hold a hash of the canaries, never the canaries themselves: the suite's
    # canary scan looks for them in every file the session leaves. One per service (users.pop3,
    # users.imap: the passdb's path names the service); "users" is the userdb.
    for name, password in (("users", ""), ("users.pop3", POP_PASSWORD),
                           ("users.imap", IMAP_PASSWORD)):
        digest = base64.b64encode(hashlib.sha256(password.encode()).digest()).decode()
        fd = os.open(os.path.join(d, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("%s:%s:%d:%d::%s/%s::\n"
                    % (USER, "{SHA256}" + digest if password else "", mail_uid, mail_gid,
                       mail_root, USER))
    # No setting may share a line with "{".
    conf = """\
base_dir = {run}/base
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
debug_log_path = {d}/dovecot.log
log_timestamp = "%Y-%m-%d %H:%M:%S "
protocols = imap pop3
listen = 127.0.0.1
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {login_user}
disable_plaintext_auth = no
auth_mechanisms = plain login
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_dh = </usr/share/dovecot/dh.pem
mail_location = maildir:~/Maildir
first_valid_uid = 0
pop3_uidl_format = %08Xu%08Xv
passdb {{
  driver = passwd-file
  args = scheme=SHA256 {d}/users.%s
}}
userdb {{
  driver = passwd-file
  args = {d}/users
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox "{sent}" {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  chroot =
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {pop3s}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {user}
}}
service auth-worker {{
  user = {user}
}}
service stats {{
  unix_listener stats-reader {{
    user = {user}
  }}
  unix_listener stats-writer {{
    user = {user}
  }}
}}
""".format(d=d, run=run, user=user, group=group, login_user=login_user, cert=cert, key=key, sent=SENT_NAME, **ports)
    path = os.path.join(d, "dovecot.conf")
    with open(path, "w") as f:
        f.write(conf)
    return path, os.path.join(mail_root, USER, "Maildir")


class PopAuthHandler:
    """An SMTP server that relays only after a POP3 login, by reading dovecot's log."""

    def __init__(self, d):
        self.dir = d
        self.out = os.path.join(d, "popauth")
        os.makedirs(self.out, exist_ok=True)
        self.count = 0

    def authorized(self):
        start = 0
        try:
            with open(os.path.join(self.dir, "popauth-from")) as f:
                start = int(f.read().strip() or "0")
        except FileNotFoundError:
            pass
        with open(os.path.join(self.dir, "dovecot.log"), "rb") as f:
            f.seek(start)
            text = f.read().decode("utf-8", "replace")
        return any("pop3-login: Info: Login: user=<%s>" % USER in line and "rip=127.0.0.1" in line
                   for line in text.splitlines())

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        # Dovecot's log process writes a moment after the login: wait for it a little, as
        # real POP-before-SMTP daemons (which follow the log) lag behind it too.
        for _ in range(30):
            if self.authorized():
                break
            await asyncio.sleep(0.1)
        else:
            return "554 5.7.1 Relaying denied: log in with POP3 first"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.out, str(self.count))
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 OK popauth"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    args = parser.parse_args()
    d = os.path.abspath(args.dir)
    os.makedirs(d, mode=0o700, exist_ok=True)

    ports = {name: free_port() for name in ("imap", "imaps", "pop3", "pop3s")}
    # Sockets (and, as root, the test mail): outside DIR, whose parents only we may traverse.
    run = tempfile.mkdtemp(prefix="envoi-dovecot-")
    os.chmod(run, 0o755)
    conf, maildir = write_config(d, run, os.path.abspath(args.cert), os.path.abspath(args.key), ports)
    open(os.path.join(d, "dovecot.log"), "a").close()
    subprocess.run([DOVECOT, "-c", conf], check=True)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = PopAuthHandler(d)
    server = loop.run_until_complete(
        loop.create_server(lambda: SMTP(handler, hostname="localhost"), "127.0.0.1", 0))
    popauth_port = server.sockets[0].getsockname()[1]

    # Wait until dovecot listens.
    for port in ports.values():
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                loop.run_until_complete(asyncio.sleep(0.025))
        else:
            sys.exit("dovecot did not listen on %d" % port)

    with open(os.path.join(d, "env.tmp"), "w") as f:
        f.write("ENVOI_TEST_DOVECOT_LOG=%s\n" % os.path.join(d, "dovecot.log"))
        f.write("ENVOI_TEST_DOVECOT_MAILDIR=%s\n" % maildir)
        f.write("ENVOI_TEST_DOVECOT_SENT='%s'\n" % SENT_NAME)
        f.write("ENVOI_TEST_IMAP_PORT=%d\n" % ports["imap"])
        f.write("ENVOI_TEST_IMAPS_PORT=%d\n" % ports["imaps"])
        f.write("ENVOI_TEST_POP3_PORT=%d\n" % ports["pop3"])
        f.write("ENVOI_TEST_POP3S_PORT=%d\n" % ports["pop3s"])
        f.write("ENVOI_TEST_POPAUTH_PORT=%d\n" % popauth_port)
    os.rename(os.path.join(d, "env.tmp"), os.path.join(d, "env"))
    open(os.path.join(d, "ready"), "w").close()

    def stop(*_):
        loop.stop()

    loop.add_signal_handler(signal.SIGTERM, stop)
    loop.add_signal_handler(signal.SIGINT, stop)

    # A test that dies must not leave dovecot behind: stop with the parent.
    parent = os.getppid()

    def watch_parent():
        if os.getppid() != parent:
            loop.stop()
        else:
            loop.call_later(0.5, watch_parent)

    watch_parent()
    try:
        loop.run_forever()
    finally:
        server.close()
        subprocess.run([DOVECOT, "-c", conf, "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", run])


if __name__ == "__main__":
    main()
