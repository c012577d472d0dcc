#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for the S3 tests: forwards every request to an upstream S3
server (RGW) byte for byte (the Host header is kept, so SigV4 signatures stay valid) and, when
a rule matches, breaks the exchange on purpose.

Control it over HTTP on the same port (these requests are never forwarded):
  PUT  /__proxy/rules   {"rules": [RULE, ...]}   replaces the rules
  GET  /__proxy/stats   {"rules": [{..., "hits": n}], "requests": [[method, path, status, range], ...]}
  POST /__proxy/reset   clears rules and the request log

RULE = {"method": "GET", "path": "regex on path?query", "header": "regex on 'name: value' lines",
        "times": 1 (-1 = always), "action": ACTION, ...}
ACTION:
  status          answer `status` (default 503) with an S3 error body `code` (default SlowDown)
                  and `retry_after` (header, optional) without forwarding
  drop_request    read `after_bytes` of the request body, then reset the connection
  drop_response   forward, send the headers and `after_bytes` of the answer, wait `pause`
                  seconds (default 0.3, so the client reads them), then reset
  stall_response  forward, send the headers and `after_bytes` of the answer, then go silent
                  for `seconds` (default 30) and reset
  stall_request   read the whole request, then say nothing for `seconds`, then reset

Usage: fault_proxy.py --listen 127.0.0.1:PORT --upstream 127.0.0.1:PORT
Python 3 standard library only.
"""
import argparse
import http.client
import json
import re
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"rules": [], "requests": []}
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "expect", "te", "trailer", "upgrade",
              "transfer-encoding"}


class Reset(Exception):
    """Abort the connection with a TCP reset."""


def take_rule(method, target, header_text):
    with LOCK:
        for rule in STATE["rules"]:
            if rule.get("times", 1) == 0:
                continue
            if rule.get("method") and rule["method"] != method:
                continue
            if rule.get("path") and not re.search(rule["path"], target):
                continue
            if rule.get("header") and not re.search(rule["header"], header_text, re.I | re.M):
                continue
            if rule.get("times", 1) > 0:
                rule["times"] = rule.get("times", 1) - 1
            rule["hits"] = rule.get("hits", 0) + 1
            return dict(rule)
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = ("127.0.0.1", 7480)

    def log_message(self, fmt, *args):  # quiet; the stats endpoint tells what happened
        pass

    def reset(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        raise Reset()

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except Reset:
            try:
                self.connection.close()
            except OSError:
                pass
            self.close_connection = True
        except (ConnectionError, BrokenPipeError, socket.timeout):
            self.close_connection = True

    def read_body(self, limit=None):
        n = int(self.headers.get("Content-Length") or 0)
        want = n if limit is None else min(n, limit)
        data = b""
        while len(data) < want:
            chunk = self.rfile.read(min(1 << 20, want - len(data)))
            if not chunk:
                break
            data += chunk
        return data

    def record(self, status):
        with LOCK:
            STATE["requests"].append([self.command, self.path, status, self.headers.get("Range", "")])

    def send_raw(self, status, headers, body):
        self.send_response_only(status)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if body:
            self.wfile.write(body)
        self.wfile.flush()

    def control(self):
        if self.path == "/__proxy/rules" and self.command == "PUT":
            rules = json.loads(self.read_body() or b"{}").get("rules", [])
            with LOCK:
                STATE["rules"] = rules
            out = b"{}"
        elif self.path == "/__proxy/stats":
            with LOCK:
                out = json.dumps(STATE).encode()
        elif self.path == "/__proxy/reset":
            with LOCK:
                STATE["rules"] = []
                STATE["requests"] = []
            out = b"{}"
        else:
            self.send_raw(404, [("Content-Length", "0")], b"")
            return
        self.send_raw(200, [("Content-Type", "application/json"), ("Content-Length", str(len(out)))], out)

    def forward(self, body):
        conn = http.client.HTTPConnection(*self.upstream, timeout=120)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():
                if k.lower() not in HOP_BY_HOP:
                    conn.putheader(k, v)
            conn.endheaders(body if body else None)
            resp = conn.getresponse()
            data = resp.read()
            headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
            if self.command != "HEAD" and not any(k.lower() == "content-length" for k, _ in headers):
                headers.append(("Content-Length", str(len(data))))
            return resp.status, headers, data
        finally:
            conn.close()

    def proxy(self):
        if self.path.startswith("/__proxy/"):
            return self.control()
        header_text = "".join(f"{k}: {v}\n" for k, v in self.headers.items())
        rule = take_rule(self.command, self.path, header_text)
        action = rule.get("action") if rule else None
        if action == "drop_request":
            self.read_body(rule.get("after_bytes", 0))
            self.record("dropped-request")
            self.reset()
        body = self.read_body()
        if action == "status":
            status = rule.get("status", 503)
            xml = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{rule.get("code", "SlowDown")}</Code>'
                   f"<Message>injected by fault_proxy</Message></Error>").encode()
            headers = [("Content-Type", "application/xml"), ("Content-Length", str(len(xml)))]
            if rule.get("retry_after") is not None:
                headers.append(("Retry-After", str(rule["retry_after"])))
            self.record(status)
            self.send_raw(status, headers, xml if self.command != "HEAD" else b"")
            return
        if action == "stall_request":
            self.record("stalled-request")
            time.sleep(rule.get("seconds", 30))
            self.reset()
        status, headers, data = self.forward(body)
        if action in ("drop_response", "stall_response"):
            cut = min(rule.get("after_bytes", 0), len(data))
            self.send_raw(status, headers, data[:cut])
            if action == "stall_response":
                self.record(f"{status}-stalled")
                time.sleep(rule.get("seconds", 30))
            else:
                self.record(f"{status}-dropped")
                # Let the client read what was sent: a reset can discard unread data.
                time.sleep(rule.get("pause", 0.3))
            self.reset()
        self.record(status)
        self.send_raw(status, headers, data if self.command != "HEAD" else b"")

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = proxy


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--upstream", required=True)
    args = ap.parse_args()
    host, port = args.listen.rsplit(":", 1)
    uhost, uport = args.upstream.rsplit(":", 1)
    Handler.upstream = (uhost, int(uport))
    server = ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    print(f"listening {server.server_address[0]}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
