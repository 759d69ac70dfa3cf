-- wrk script for scripts/bench/peers.sh: the same streaming chat POST as the other clients. wrk
-- reads each response to its end (chunked) but does not parse the SSE events. done() prints exact
-- totals as `wrk-summary requests=N bytes=B errors=E` (PEERS_TOKENS sets max_tokens, default 150).
local tokens = tonumber(os.getenv("PEERS_TOKENS") or "150")
wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"mock","messages":[{"role":"user","content":"' .. string.rep("word ", 99) .. 'word"}],'
  .. '"max_tokens":' .. tokens .. ',"stream":true,"stream_options":{"include_usage":true}}'

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("wrk-summary requests=%d bytes=%d errors=%d\n", summary.requests, summary.bytes,
    e.connect + e.read + e.write + e.status + e.timeout))
end
