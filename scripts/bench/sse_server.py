#!/usr/bin/env python3
"""A small OpenAI-compatible streaming server that closes the connection after each response.

Standard library only (http.server.ThreadingHTTPServer). POST /v1/chat/completions streams, with
`Transfer-Encoding: chunked` and `Connection: close`, a role chunk, `max_tokens` content chunks (one
token each, default --tokens), a finish chunk, a usage chunk when `stream_options.include_usage`
is set, then `data: [DONE]`. No delays: it is a target for measuring clients, in the shape of a
server that does not keep connections alive (peers.sh's "new connection per response" case).

    python3 scripts/bench/sse_server.py [--port 0] [--tokens 150]
Prints `listening on http://127.0.0.1:PORT` once it accepts connections. Binds to loopback only.
"""
import argparse
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "and", "runs"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    default_tokens = 150

    def log_message(self, *args):  # no access log: it would cost the server CPU per request
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = {}
        tokens = int(body.get("max_tokens") or self.default_tokens)
        usage = bool((body.get("stream_options") or {}).get("include_usage"))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        prefix = ('{"id":"chatcmpl-%x","object":"chat.completion.chunk","created":%d,"model":%s,'
                  % (id(self), int(time.time()), json.dumps(body.get("model") or "mock")))

        def send(event):
            data = b"data: " + event.encode() + b"\n\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

        send(prefix + '"choices":[{"index":0,"delta":{"role":"assistant","content":""},'
                      '"logprobs":null,"finish_reason":null}]}')
        for i in range(tokens):
            send(prefix + '"choices":[{"index":0,"delta":{"content":%s},"logprobs":null,"finish_reason":null}]}'
                 % json.dumps(" " + WORDS[i % len(WORDS)]))
        send(prefix + '"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}]}')
        if usage:
            send(prefix + '"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":%d,"total_tokens":%d}}'
                 % (tokens, tokens + 100))
        self.wfile.write(b"e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tokens", type=int, default=150, help="tokens when the request gives no max_tokens")
    args = parser.parse_args()
    Handler.default_tokens = args.tokens
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 1024
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("listening on http://127.0.0.1:%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
