#!/usr/bin/python3
# http-sink.py: a local HTTPS server for the HTTP transport's tests
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   /usr/bin/python3 tests/http-sink.py --dir DIR --cert PEM --key KEY
#
# Listens on a free loopback port over TLS, writes DIR/port and then DIR/ready, runs until
# killed. Every request that is accepted is stored as DIR/<n>.body (the message as received),
# DIR/<n>.meta (lines "path P", "to ADDR" / "rcpt ADDR", "from ADDR", "type CONTENT-TYPE"),
# written to temporary names and renamed.
#
# The only key accepted is KEY below (ENVOI_TEST_API_KEY, a canary; tests/envoi-test-helpers.h).
#   POST /v3/<domain>/messages.mime   Mailgun's raw-MIME shape: basic auth "api:KEY",
#                                     multipart/form-data with "to" fields and the file
#                                     field "message"; 200 {"id": ..., "message": "Queued"}
#   POST /post/ok                     message/rfc822 body, "Authorization: Bearer KEY"
#   POST /post/429-once               429 the first time (per path), then like /post/ok
#   POST /post/500-once               500 the first time (per path), then like /post/ok
#   POST /post/400                    always 400
# A wrong or missing key gets 401 everywhere.

import argparse
import base64
import email.parser
import email.policy
import itertools
import json
import os
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEY = "Canary-apikey-Hx3m-envoi"

counter = itertools.count(1)
seen = set()
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    out_dir = None

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, payload):
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def store(self, body, meta):
        n = next(counter)
        base = os.path.join(self.out_dir, str(n))
        with open(base + ".body.tmp", "wb") as f:
            f.write(body)
        with open(base + ".meta.tmp", "w") as f:
            f.write("path %s\n" % self.path)
            for k, v in meta:
                f.write("%s %s\n" % (k, v))
        os.rename(base + ".body.tmp", base + ".body")
        os.rename(base + ".meta.tmp", base + ".meta")
        return n

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(length)
        auth = self.headers.get("Authorization", "")

        if self.path.startswith("/v3/") and self.path.endswith("/messages.mime"):
            expected = "Basic " + base64.b64encode(("api:" + KEY).encode()).decode()
            if auth != expected:
                return self.reply(401, {"message": "Invalid private key"})
            ctype = self.headers.get("Content-Type", "")
            if not ctype.startswith("multipart/form-data"):
                return self.reply(400, {"message": "multipart/form-data expected"})
            parsed = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + data)
            to, message = [], None
            for part in parsed.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if name == "to":
                    to.append(part.get_payload(decode=True).decode())
                elif name == "message":
                    message = part.get_payload(decode=True)
                    if message is None:  # a message/rfc822 part comes back parsed
                        message = part.get_payload()[0].as_bytes(policy=email.policy.HTTP)
            if message is None or not to:
                return self.reply(400, {"message": "to and message are required"})
            n = self.store(message, [("to", t) for t in to])
            return self.reply(200, {"id": "<%d@sink>" % n, "message": "Queued. Thank you."})

        if self.path.startswith("/post/"):
            if auth != "Bearer " + KEY:
                return self.reply(401, {"error": "unauthorized"})
            with lock:
                first = self.path not in seen
                seen.add(self.path)
            if self.path == "/post/400":
                return self.reply(400, {"error": "bad message"})
            if self.path == "/post/429-once" and first:
                return self.reply(429, {"error": "slow down"})
            if self.path == "/post/500-once" and first:
                return self.reply(500, {"error": "internal"})
            meta = [("type", self.headers.get("Content-Type", ""))]
            meta += [("from", v) for v in self.headers.get_all("X-Envoi-Mail-From", [])]
            meta += [("rcpt", v) for v in self.headers.get_all("X-Envoi-Rcpt-To", [])]
            n = self.store(data, meta)
            return self.reply(200, {"id": n})

        return self.reply(404, {"error": "no such endpoint"})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    Handler.out_dir = args.dir

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.cert, args.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)

    with open(os.path.join(args.dir, "port"), "w") as f:
        f.write(str(server.server_address[1]))
    open(os.path.join(args.dir, "ready"), "w").close()
    server.serve_forever()


if __name__ == "__main__":
    main()
