#!/usr/bin/env python3
"""Checks a `--web` server that requires the cluster token (off loopback, or --web-require-token): requests
without it get 401, with it 200; cross-site control calls get 403 even with it; the token is never in a page.
Prints `access-ok` on success.

usage: check_access.py BASE_URL TOKEN_FILE   (a file, so that the token is not on a command line)
"""
import os
import sys
import urllib.error
import urllib.request


def fetch(base, path, method="GET", headers=None, body=None):
    request = urllib.request.Request(base + path, method=method, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace"), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace"), dict(error.headers)


def main():
    base, token = sys.argv[1], open(sys.argv[2]).read().strip()
    bearer = {"Authorization": "Bearer " + token}
    control = {"Content-Type": "application/json", "X-Stampede-Control": "1"}
    failures = []

    def expect(label, got, want, body=""):
        print(f"{label}: {got} (want {want})")
        if got != want:
            failures.append(f"{label} {body[:200]}")
        if token in body:
            failures.append(f"{label}: the token is in the response")

    status, body, _ = fetch(base, "/metrics")
    expect("GET /metrics without a token", status, 401, body)
    status, body, _ = fetch(base, "/metrics", headers={"Authorization": "Bearer wrong-" + token[:3]})
    expect("GET /metrics with a wrong token", status, 401, body)
    status, body, _ = fetch(base, "/metrics", headers=bearer)
    expect("GET /metrics with the token", status, 200, body)
    status, body, _ = fetch(base, "/", headers={})
    expect("GET / without a token (login form)", status, 401, body)
    if 'name="token"' not in body:
        failures.append("the login form is missing")
    status, body, _ = fetch(base, "/", headers=bearer)
    expect("GET / with the token", status, 200, body)
    status, body, _ = fetch(base, "/events?x=1", headers={})
    expect("GET /events without a token", status, 401, body)
    status, body, _ = fetch(base, "/api/users", "POST", {**bearer, **control, "Origin": "http://evil.example"}, b'{"users":1}')
    expect("cross-site POST (Origin)", status, 403, body)
    status, body, _ = fetch(base, "/api/users", "POST", {**bearer, **control, "Sec-Fetch-Site": "cross-site"}, b'{"users":1}')
    expect("cross-site POST (Sec-Fetch-Site)", status, 403, body)
    status, body, _ = fetch(base, "/api/users", "POST", {**bearer, "Content-Type": "text/plain"}, b'{"users":1}')
    expect("POST without the control header", status, 403, body)
    status, body, _ = fetch(base, "/api/users", "POST", {**bearer, "X-Stampede-Control": "1", "Content-Type": "application/x-www-form-urlencoded"}, b"users=1")
    expect("POST with a form body", status, 403, body)
    status, body, _ = fetch(base, "/login", "POST", {"Content-Type": "application/x-www-form-urlencoded"}, b"token=not-it")
    expect("login with a wrong token", status, 401, body)
    # A right login answers 303 with an HttpOnly, SameSite=Strict cookie that is not the token.
    opener = urllib.request.build_opener(NoRedirect)
    try:
        response = opener.open(urllib.request.Request(base + "/login", method="POST", data=("token=" + urllib.parse.quote(token)).encode(),
                                                      headers={"Content-Type": "application/x-www-form-urlencoded"}), timeout=10)
        status, cookie = response.status, response.headers.get("Set-Cookie", "")
    except urllib.error.HTTPError as error:
        status, cookie = error.code, error.headers.get("Set-Cookie", "")
    expect("login with the token", status, 303)
    if "HttpOnly" not in cookie or "SameSite=Strict" not in cookie or token in cookie:
        failures.append(f"bad session cookie: {cookie!r}")
    session = cookie.split(";")[0]
    status, body, _ = fetch(base, "/state", headers={"Cookie": session})
    expect("GET /state with the session cookie", status, 200, body)
    if failures:
        print("FAILED:", "; ".join(failures))
        sys.exit(1)
    print("access-ok")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


if __name__ == "__main__":
    import urllib.parse
    main()
