#!/usr/bin/python3
# autoconfig-httpd.py: a local web server answering autoconfiguration requests for Envoi's tests
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   /usr/bin/python3 tests/autoconfig-httpd.py --dir DIR
#
# Makes a throw-away CA and one certificate for every test host name below with openssl in
# DIR, starts an HTTPS and a plain HTTP listener on free loopback ports, writes DIR/env
# (VAR=value lines) and then creates DIR/ready. Runs until killed.
#
# The client reaches it through libcurl's CONNECT_TO (EnvoiAutoconfig:connect-to): the URLs
# stay the production ones (https://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=…,
# https://<domain>/.well-known/…, <ispdb-url><domain>) and the Host header picks the answer.
#
# Variables written to DIR/env:
#   AUTOCONFIG_HTTPS_PORT   the HTTPS listener
#   AUTOCONFIG_HTTP_PORT    the plain HTTP listener (same answers)
#   AUTOCONFIG_CA_FILE      the CA that signed the certificate
#   AUTOCONFIG_LOG          one line per request: "<host> <path>"; after a streamed answer
#                           (huge, chunked), "<host> streamed <bytes>": what the client took
#                           before it hung up (plus what the sockets' buffers held)
#
# Every request not listed below gets 404.

import argparse
import http.server
import os
import socketserver
import ssl
import subprocess
import sys
import threading
import time

DOMAINS = ["good", "wellknown", "ispdb-only", "mailhost", "mx", "malformed", "huge", "chunked",
           "redirect", "evil", "slow", "socket", "hop", "plainonly", "plainthensrv", "srv",
           "widget", "srv587", "srvdot", "probe", "cancel", "total", "quick", "quickstall",
           "quickfallback"]


def config(domain, servers, username="%EMAILADDRESS%", extra=""):
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<clientConfig version="1.1">',
           '  <emailProvider id="%s">' % domain,
           '    <domain>%s</domain>' % domain,
           '    <displayName>%s Mail</displayName>' % domain]
    for host, port, socket_type, auth in servers:
        out += ['    <outgoingServer type="smtp">',
                '      <hostname>%s</hostname>' % host,
                '      <port>%d</port>' % port,
                '      <socketType>%s</socketType>' % socket_type,
                '      <username>%s</username>' % username,
                '      <authentication>%s</authentication>' % auth,
                '    </outgoingServer>']
    out += [extra, '  </emailProvider>', '</clientConfig>', '']
    return "\n".join(out).encode()


# (host, path) -> body, or a callable(handler) for special answers.
ANSWERS = {
    # A good answer at autoconfig.<domain>: plain and STARTTLS listed before SSL, to be ranked.
    ("autoconfig.good.test", "/mail/config-v1.1.xml"):
        config("good.test", [("smtp.%EMAILDOMAIN%", 587, "STARTTLS", "password-cleartext"),
                             ("ssl.good.test", 465, "SSL", "password-cleartext")],
               username="%EMAILLOCALPART%"),
    ("wellknown.test", "/.well-known/autoconfig/mail/config-v1.1.xml"):
        config("wellknown.test", [("mail.wellknown.test", 587, "STARTTLS", "OAuth2")]),
    ("ispdb.test", "/v1.1/ispdb-only.test"):
        config("ispdb-only.test", [("smtp.ispdb-only.test", 465, "SSL", "password-encrypted")]),
    ("ispdb.test", "/v1.1/mailhost.test"):
        config("mailhost.test", [("smtp.mailhost.test", 465, "SSL", "password-cleartext")]),
    ("autoconfig.malformed.test", "/mail/config-v1.1.xml"):
        b'<?xml version="1.0"?>\n<clientConfig version="1.1">\n  <emailProvider id="x">\n'
        b'    <outgoingServer type="smtp"><hostname>a</hostname></outgoingServer\n',
    ("autoconfig.socket.test", "/mail/config-v1.1.xml"):
        config("socket.test", [("smtp.socket.test", 465, "TLS1.3", "password-cleartext")]),
    ("ispdb.test", "/v1.1/plainonly.test"):
        config("plainonly.test", [("smtp.plainonly.test", 25, "plain", "password-cleartext")]),
    ("ispdb.test", "/v1.1/plainthensrv.test"):
        config("plainthensrv.test", [("smtp.plainthensrv.test", 25, "plain", "none")]),
    ("ispdb.test", "/v1.1/redirect.test"):
        config("redirect.test", [("smtp.redirect.test", 587, "STARTTLS", "password-cleartext")]),
    ("autoconfig.evil.test", "/mail/config-v1.1.xml"):
        config("redirect.test", [("smtp.evil.test", 25, "plain", "password-cleartext")]),
    ("hop.test", "/.well-known/autoconfig/mail/config-v1.1.xml"):
        config("hop.test", [("smtp.hop.test", 465, "SSL", "password-cleartext")]),
    ("autoconfig.widget.test", "/mail/config-v1.1.xml"):
        config("widget.test", [("localhost", int(os.environ.get("ENVOI_TEST_SMTP_TLS_PORT", "465")),
                                "SSL", "password-cleartext")]),
}

# The quick setup (tests/test-quick-setup.c, tests/test-atspi-quick-setup.py): the session's SMTP
# listeners, with the test user as the address's local part. The app asks the ISPDB at
# http://127.0.0.1:PORT/v1.1/ (its `ispdb-url` setting), hence the second host.
def _smtp_port(name, default):
    return int(os.environ.get("ENVOI_TEST_SMTP_%s_PORT" % name, default))


QUICK = config("quick.test", [("localhost", _smtp_port("TLS", "465"), "SSL", "password-cleartext")],
               username="%EMAILLOCALPART%")
QUICK_STALL = config("quickstall.test", [("localhost", _smtp_port("STALL", "465"), "SSL",
                                         "password-cleartext")], username="%EMAILLOCALPART%")
ANSWERS.update({
    ("ispdb.test", "/v1.1/quick.test"): QUICK,
    ("127.0.0.1", "/v1.1/quick.test"): QUICK,
    # Signing in never ends: the listener accepts and stays silent.
    ("ispdb.test", "/v1.1/quickstall.test"): QUICK_STALL,
    ("127.0.0.1", "/v1.1/quickstall.test"): QUICK_STALL,
    # A certificate of its own (self-signed): to be trusted by its key.
    ("127.0.0.1", "/v1.1/quickuntrusted.test"):
        config("quickuntrusted.test", [("localhost", _smtp_port("UNTRUSTED", "465"), "SSL",
                                        "password-cleartext")], username="%EMAILLOCALPART%"),
    # The most secure server is closed (port 1): the next one, STARTTLS, signs in.
    ("ispdb.test", "/v1.1/quickfallback.test"):
        config("quickfallback.test", [("localhost", _smtp_port("STARTTLS", "587"), "STARTTLS",
                                       "password-cleartext"),
                                      ("localhost", 1, "SSL", "password-cleartext")],
               username="%EMAILLOCALPART%"),
})


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_body(self, status, body, content_type="text/xml", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        path, _, query = self.path.partition("?")
        with open(self.server.log_path, "a") as log:
            log.write("%s %s\n" % (host, self.path))

        if host.startswith("autoconfig.") and path == "/mail/config-v1.1.xml":
            # Thunderbird's request carries the address; the answer must not depend on it.
            if not query.startswith("emailaddress="):
                self.send_body(400, b"no address\n", "text/plain")
                return

        if host == "autoconfig.huge.test":
            # 10 MB declared up front: refused by its length.
            size = 10 * 1024 * 1024
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            self.stream(host, size)
            return
        if host == "autoconfig.chunked.test":
            # 64 MiB with no length: refused as it arrives. A client that read on would take it
            # all, far beyond what the sockets' buffers hold.
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            self.stream(host, 64 * 1024 * 1024)
            return
        if host == "autoconfig.slow.test":
            time.sleep(30)
            self.send_body(200, config("slow.test", [("smtp.slow.test", 465, "SSL", "none")]))
            return
        if host == "autoconfig.redirect.test":
            self.send_body(302, b"", "text/plain",
                           [("Location", "https://autoconfig.evil.test/mail/config-v1.1.xml?"
                             "emailaddress=x%40redirect.test")])
            return
        if host == "autoconfig.hop.test":
            self.send_body(301, b"", "text/plain",
                           [("Location", "https://hop.test/.well-known/autoconfig/mail/"
                             "config-v1.1.xml")])
            return

        body = ANSWERS.get((host, path))
        if body is None:
            self.send_body(404, b"not here\n", "text/plain")
            return
        self.send_body(200, body)

    def stream(self, host, size):
        chunk = b"<!-- " + b"x" * 65526 + b" -->\n"
        sent = 0
        try:
            self.wfile.write(b'<?xml version="1.0"?>\n')
            while sent < size:
                self.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        with open(self.server.log_path, "a") as log:
            log.write("%s streamed %d\n" % (host, sent))


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # Clients that hang up on a slow or huge answer are the point of some tests.
        pass


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certificates(d):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=Envoi Autoconfig Test CA", "-keyout", "ca.key", "-out", "ca.pem",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    names = ["ispdb.test"]
    for domain in DOMAINS:
        names += ["%s.test" % domain, "autoconfig.%s.test" % domain]
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                % ",".join("DNS:" + n for n in names))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=autoconfig test",
            "-keyout", "server.key", "-out", "server.csr", cwd=d)
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.pem",
            cwd=d)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    d = args.dir
    os.makedirs(d, exist_ok=True)
    make_certificates(d)
    log_path = os.path.join(d, "log")
    open(log_path, "w").close()

    https = Server(("127.0.0.1", 0), Handler)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(os.path.join(d, "server.pem"), os.path.join(d, "server.key"))
    https.socket = ctx.wrap_socket(https.socket, server_side=True)
    plain = Server(("127.0.0.1", 0), Handler)
    for server in (https, plain):
        server.log_path = log_path
        threading.Thread(target=server.serve_forever, daemon=True).start()

    with open(os.path.join(d, "env.tmp"), "w") as f:
        f.write("AUTOCONFIG_HTTPS_PORT=%d\n" % https.server_address[1])
        f.write("AUTOCONFIG_HTTP_PORT=%d\n" % plain.server_address[1])
        f.write("AUTOCONFIG_CA_FILE=%s\n" % os.path.join(d, "ca.pem"))
        f.write("AUTOCONFIG_LOG=%s\n" % log_path)
    os.rename(os.path.join(d, "env.tmp"), os.path.join(d, "env"))
    open(os.path.join(d, "ready"), "w").close()
    # The test holds our stdin open; it closes when the test ends, however it ends.
    sys.stdin.buffer.read()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
