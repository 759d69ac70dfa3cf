"""Locust FastHttpUser for scripts/bench/peers.sh: closed loop, no wait, one streaming chat request at
a time per user; the whole SSE body is read (Locust does not parse or time the chunks). The first
response of the process is checked (content chunks and [DONE]) and the result written to stderr as
`locust-check: ...`. PEERS_TOKENS sets max_tokens (default 150)."""
import os
import sys

from locust import FastHttpUser, constant, task

TOKENS = int(os.environ.get("PEERS_TOKENS", "150"))
BODY = {
    "model": "mock",
    "messages": [{"role": "user", "content": " ".join(["word"] * 100)}],
    "max_tokens": TOKENS,
    "stream": True,
    "stream_options": {"include_usage": True},
}
checked = False


class Streamer(FastHttpUser):
    wait_time = constant(0)

    @task
    def chat(self):
        global checked
        response = self.client.post("/v1/chat/completions", json=BODY)
        if not checked and response.status_code == 200:
            checked = True
            body = response.content
            chunks = body.count(b'"delta":{"content"')
            print(f"locust-check: {chunks} content chunks, done={b'data: [DONE]' in body}",
                  file=sys.stderr, flush=True)
