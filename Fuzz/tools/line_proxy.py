#!/usr/bin/env python3
"""A loopback TCP proxy that records every line of the cluster wire (scripts: Fuzz/tools/capture-wire.sh).

usage: line_proxy.py LISTEN_PORT UPSTREAM_PORT OUT_FILE

Accepts connections on 127.0.0.1:LISTEN_PORT, forwards each to 127.0.0.1:UPSTREAM_PORT, and appends
every complete line to OUT_FILE as JSON: {"conn": n, "dir": "w2c"|"c2w", "line": "..."}.
Runs until killed. Loopback only.
"""
import json
import socket
import sys
import threading

listen_port, upstream_port, out_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
out = open(out_path, "a", buffering=1)


def pump(conn_id, direction, src, dst):
    pending = b""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                with lock:
                    out.write(json.dumps({"conn": conn_id, "dir": direction, "line": line.decode("utf-8", "replace")}) + "\n")
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", listen_port))
server.listen(16)
print(f"proxy listening on 127.0.0.1:{listen_port} -> 127.0.0.1:{upstream_port}", flush=True)
conn_id = 0
while True:
    client, _ = server.accept()
    conn_id += 1
    upstream = socket.create_connection(("127.0.0.1", upstream_port))
    threading.Thread(target=pump, args=(conn_id, "w2c", client, upstream), daemon=True).start()
    threading.Thread(target=pump, args=(conn_id, "c2w", upstream, client), daemon=True).start()
