import StampedeReport

/// The dashboard page: one document served by the binary, with inline CSS (the report's) and inline script,
/// and no external reference. It reads `/events` (server-sent events) and swaps in the server-drawn pieces.
/// The token is never in it: a browser holds a session cookie (HttpOnly) instead.
enum DashboardPage {
    static let html = """
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Stampede dashboard</title>
    <style>
    \(HTMLLive.css)
    [hidden]{display:none!important}
    .bar{display:flex;flex-wrap:wrap;gap:8px;align-items:end;background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:10px;margin:8px 0}
    .bar label{display:flex;flex-direction:column;font-size:.8rem;color:#4b5563}
    .bar input{width:8em;padding:4px;font:inherit}
    button{padding:6px 14px;font:inherit;border-radius:6px;border:1px solid #9ca3af;background:#f3f4f6;cursor:pointer}
    button.primary{background:#1d4ed8;color:#fff;border-color:#1d4ed8}
    button:disabled{opacity:.45;cursor:default}
    #msg{min-height:1.4em;color:#b91c1c}
    #msg.ok{color:#15803d}
    .figs span{display:inline-block;margin-right:1.2em}
    #downloads a{margin-right:1em}
    #log{max-height:14em;overflow-y:auto}
    </style></head>
    <body><main>
    <h1>Stampede <span id="name"></span> <small id="phase" class="meta"></small></h1>
    <p class="figs meta"><span>time <b id="f-elapsed">-</b> s</span><span>users <b id="f-users">-</b></span>
    <span>requests/s <b id="f-rps">-</b></span><span>finished <b id="f-finished">-</b></span>
    <span>errors <b id="f-errors">-</b></span><span>in flight <b id="f-inflight">-</b></span><span>workers <b id="f-workers">-</b></span></p>
    <div class="bar" id="start-bar"><label>users<input id="start-users" type="number" min="1" value="10"></label>
    <label>spawn rate (users/s)<input id="start-rate" type="number" min="0.01" step="any" value="5"></label>
    <button class="primary" id="start">Start</button>
    <label>or requests/s<input id="start-arrivals" type="number" min="0.01" step="any" value="2"></label>
    <button id="start-open">Start at this rate</button></div>
    <div class="bar" id="run-bar"><label>users<input id="change-users" type="number" min="0" value="10"></label>
    <button id="change">Change users</button>
    <label>requests/s<input id="change-arrivals" type="number" min="0.01" step="any" value="2"></label>
    <button id="change-rate">Change rate</button><button id="stop">Stop</button></div>
    <p id="msg" role="status"></p>
    <p id="downloads" hidden>Download: <a id="dl-json" href="/download/results.json" download>results.json</a>
    <a id="dl-csv" href="/download/stats.csv" download>stats.csv (Locust)</a><a id="dl-html" href="/download/report.html" download>report.html</a></p>
    <div id="cards"></div>
    <h2>Charts</h2><div id="charts"><p>Charts appear after the first interval.</p></div>
    <h2>Statistics</h2><div id="stats"></div>
    <h2>Workers</h2><div id="workers"></div>
    <h2>Errors</h2><div id="errors"></div>
    <h2>Log</h2><pre id="log"></pre>
    </main>
    <script>
    "use strict";
    const $ = (id) => document.getElementById(id);
    let shown = -1;
    function fmt(v, d) { return v === null || v === undefined ? "-" : (d === undefined ? String(v) : Number(v).toFixed(d)); }
    function draw(f) {
      if (f.version === shown) return;
      shown = f.version;
      $("name").textContent = f.name || "";
      $("phase").textContent = f.phase === "waiting" ? "waiting for a start" : f.phase;
      document.body.dataset.phase = f.phase;
      $("f-elapsed").textContent = fmt(f.elapsed, 1);
      $("f-users").textContent = fmt(f.users);
      $("f-rps").textContent = fmt(f.rps, 1);
      $("f-finished").textContent = fmt(f.finished);
      $("f-errors").textContent = fmt(f.errors);
      $("f-inflight").textContent = fmt(f.inFlight);
      $("f-workers").textContent = fmt(f.workers);
      $("start-bar").hidden = f.phase !== "waiting";
      $("run-bar").hidden = f.phase !== "running";
      // Left enabled: an open-loop run or planned stages refuse the change, and the server's words say why.
      $("change").title = f.canChangeUsers ? "" : "this run's load is planned or open-loop: a change is refused";
      $("downloads").hidden = f.phase !== "finished";
      for (const k of ["cards", "charts", "stats"]) if (f[k]) $(k).innerHTML = f[k];
      if (f.workersTable) $("workers").innerHTML = f.workersTable;
      if (f.errorsTable) $("errors").innerHTML = f.errorsTable;
      $("log").textContent = (f.log || []).join("\\n");
    }
    async function call(path, body) {
      try {
        const r = await fetch(path, {method: "POST", credentials: "same-origin",
          headers: {"Content-Type": "application/json", "X-Stampede-Control": "1"}, body: JSON.stringify(body)});
        const j = await r.json();
        $("msg").className = r.ok ? "ok" : "";
        $("msg").textContent = r.ok ? j.message : (j.error || ("HTTP " + r.status));
      } catch (e) { $("msg").className = ""; $("msg").textContent = String(e); }
    }
    $("start").onclick = () => call("/api/start", {users: parseInt($("start-users").value, 10), spawn_rate: parseFloat($("start-rate").value)});
    $("start-open").onclick = () => call("/api/start", {rate: parseFloat($("start-arrivals").value)});
    $("change").onclick = () => call("/api/users", {users: parseInt($("change-users").value, 10)});
    $("change-rate").onclick = () => call("/api/rate", {rate: parseFloat($("change-arrivals").value)});
    $("stop").onclick = () => call("/api/stop", {});
    const source = new EventSource("/events");
    source.addEventListener("frame", (e) => draw(JSON.parse(e.data)));
    source.onerror = () => { if (document.body.dataset.phase === "finished") source.close(); };
    </script>
    </body></html>
    """

    /// The login form (off loopback): the token goes in a POST body, never in a URL.
    static func login(error: String?) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Stampede dashboard: sign in</title><style>\(HTMLLive.css)</style></head>
        <body><main><h1>Stampede dashboard</h1>
        <p>This dashboard is off loopback: enter the cluster token.</p>
        \(error.map { "<p class=\"bad\">\(HTMLLive.escape($0))</p>" } ?? "")
        <form method="post" action="/login"><input type="password" name="token" autocomplete="current-password" aria-label="cluster token">
        <button type="submit">Sign in</button></form></main></body></html>
        """
    }
}
