// The sandbox page: two editors, a replay on every edit, the timeline with
// its cursor, checks, verify, export and a shareable link.
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  function esc(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  var state = {
    group: 0,
    evalSeq: 0,       // replays answered
    verifySeq: 0,     // verifications answered
    inflight: null,   // AbortController of the replay under way
    verifyCtl: null,
    timer: 0,
    verifyTimer: 0,
    verifiedRules: null,
    lastView: null,
    examples: [],
  };

  var body = document.body;
  function setState(s) { body.dataset.state = s; }

  function status(kind, text) {
    var el = $("status");
    el.className = "status " + kind;
    el.querySelector(".text").textContent = text;
    el.title = text;
  }

  function banner(text) {
    var b = $("banner");
    if (!text) { b.hidden = true; b.textContent = ""; return; }
    b.hidden = false;
    b.textContent = text;
  }

  window.addEventListener("error", function (ev) {
    banner("Something went wrong in the page: " + (ev.message || ev.error) + ". The editors keep your text; reload to start again.");
  });
  window.addEventListener("unhandledrejection", function (ev) {
    banner("Something went wrong in the page: " + (ev.reason && ev.reason.message || ev.reason));
  });

  // ---- Theme ----
  var themes = ["auto", "dark", "light"];
  function applyTheme(t) {
    if (t === "auto") delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = t;
    $("theme").title = "Theme: " + t + " (click: " + themes[(themes.indexOf(t) + 1) % themes.length] + ")";
    try { localStorage.setItem("gotk-rules-theme", t); } catch (e) { /* private mode */ }
  }
  var theme = "auto";
  try { theme = localStorage.getItem("gotk-rules-theme") || "auto"; } catch (e) { /* ignore */ }
  if (themes.indexOf(theme) < 0) theme = "auto";
  applyTheme(theme);
  $("theme").addEventListener("click", function () {
    theme = themes[(themes.indexOf(theme) + 1) % themes.length];
    applyTheme(theme);
  });

  // ---- Editors ----
  var rules = new GotkEditor($("rules-editor"), { status: $("rules-status"), onChange: edited });
  var input = new GotkEditor($("input-editor"), { status: $("input-status"), onChange: edited });

  function edited() {
    if (!$("auto").checked) { status("", "Edited: press Run (Ctrl+Enter)"); return; }
    clearTimeout(state.timer);
    state.timer = setTimeout(run, 450);
    status("busy", "Editing…");
  }

  function counts(el, ps) {
    var n = { error: 0, warning: 0, info: 0 };
    ps.forEach(function (p) { n[p.severity] = (n[p.severity] || 0) + 1; });
    var h = "";
    ["error", "warning", "info"].forEach(function (s) {
      if (n[s]) h += '<span class="badge ' + s + '">' + n[s] + " " + s + (n[s] > 1 && s !== "info" ? "s" : "") + "</span>";
    });
    el.innerHTML = h;
  }

  function problemList(el, ed, ps) {
    el.innerHTML = "";
    ps.slice().sort(function (a, b) { return a.line - b.line || a.column - b.column; }).forEach(function (p) {
      var li = document.createElement("li");
      li.className = p.severity;
      var b = document.createElement("button");
      b.type = "button";
      b.title = p.message;
      b.innerHTML = '<span class="sev">' + esc(p.severity) + '</span><span class="pos">' + p.line + ":" + p.column +
        '</span><span class="msg">' + esc(p.message) + "</span>" + (p.check ? '<span class="chk">' + esc(p.check) + "</span>" : "");
      b.addEventListener("click", function () { ed.goTo(p.line, p.column); });
      li.appendChild(b);
      el.appendChild(li);
    });
  }

  function showProblems(res) {
    var all = (res.problems || []).concat(res.lint || []);
    var r = all.filter(function (p) { return p.editor === "rules"; });
    var i = all.filter(function (p) { return p.editor === "input"; });
    // A load error and the linter's report of it are one problem.
    var seen = {};
    r = r.filter(function (p) {
      var k = p.line + ":" + p.severity + ":" + p.message.slice(0, 60);
      if (seen[k]) return false;
      seen[k] = true;
      return true;
    });
    rules.setProblems(r);
    input.setProblems(i);
    problemList($("rules-problems"), rules, r);
    problemList($("input-problems"), input, i);
    counts($("rules-counts"), r);
    counts($("input-counts"), i);
    var g = all.filter(function (p) { return !p.editor; });
    $("global-problems").textContent = g.map(function (p) { return p.message; }).join("\n");
    if (res.lint_status && res.lint_status !== "ok") {
      $("rules-counts").insertAdjacentHTML("beforeend", '<span class="badge info" title="' + esc(res.lint_status) + '">no lint</span>');
    }
  }

  // ---- Replay ----
  function request() {
    var chart = $("chart");
    return { rules: rules.value(), input: input.value(), group: state.group, width: Math.max(chart.clientWidth - 2, 480) };
  }

  function post(url, data, signal) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(data),
      signal: signal,
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) throw new Error(j.error || ("the server answered " + r.status));
        return j;
      });
    });
  }

  function run() {
    clearTimeout(state.timer);
    if (state.inflight) state.inflight.abort();
    var ctl = new AbortController();
    state.inflight = ctl;
    setState("running");
    status("busy", "Replaying…");
    var req = request();
    return post("/api/eval", req, ctl.signal).then(function (res) {
      if (state.inflight !== ctl) return;
      state.inflight = null;
      banner("");
      render(res);
      state.evalSeq++;
      body.dataset.evalSeq = String(state.evalSeq);
      setState(res.ok ? "idle" : "error");
      saveHash(req);
      if (res.ok) scheduleVerify(req.rules);
    }).catch(function (err) {
      if (err.name === "AbortError") return;
      if (state.inflight === ctl) state.inflight = null;
      state.evalSeq++;
      body.dataset.evalSeq = String(state.evalSeq);
      setState("error");
      status("error", "No answer: " + err.message);
      banner("The sandbox server did not answer (" + err.message + "). Is gotk-rules serve still running? Your text is still here.");
      $("chart").classList.add("stale");
    });
  }

  function render(res) {
    showProblems(res);
    $("input-kind").textContent = res.kind || "";
    // Test group choice for promtool files with several.
    var gp = $("group-pick"), sel = $("group");
    if (res.groups && res.groups.length > 1) {
      gp.hidden = false;
      sel.innerHTML = res.groups.map(function (g, i) {
        return '<option value="' + i + '"' + (i === res.group ? " selected" : "") + ">" + esc((i + 1) + ". " + g) + "</option>";
      }).join("");
    } else {
      gp.hidden = true;
      state.group = 0;
    }
    $("notes").textContent = (res.notes || []).join(" · ");
    var chart = $("chart");
    if (res.ok && res.view) {
      state.lastView = res.view;
      chart.classList.remove("stale");
      chart.innerHTML = res.svg;
      var svg = chart.querySelector("svg");
      svg.setAttribute("aria-label", "Timeline of " + res.view.title + ": arrow keys move the time cursor");
      GotkTimeline.attach(svg, res.view);
      $("tl-title").textContent = res.view.title || "Timeline";
      $("tl-sub").textContent = res.view.subtitle || "";
      var s = res.stats;
      $("tl-stats").textContent = s.series + " series · " + s.samples + " samples · " + s.evals + " evaluations · " + s.elapsed_ms + " ms";
      var firing = res.view.alerts.filter(function (a) { return a.spans.some(function (x) { return x.state === "firing"; }); }).length;
      status("ok", "Replayed in " + s.elapsed_ms + " ms: " + res.view.alerts.length + " alert" + (res.view.alerts.length === 1 ? "" : "s") +
        " pending or firing, " + firing + " firing");
    } else {
      if (chart.querySelector("svg")) chart.classList.add("stale");
      else chart.innerHTML = '<p class="placeholder">Nothing to show until the rules and the input load: see the problems marked in the editors.</p>';
      var n = (res.problems || []).length;
      status("error", n === 1 ? "1 problem stops the replay" : n + " problems stop the replay");
    }
    if (res.ok) { renderChecks(res.checks || []); renderCoverage(res.coverage || []); }
    else {
      $("checks").innerHTML = '<li class="placeholder">The checks run once the rules and the input load.</li>';
      $("checks-counts").innerHTML = "";
    }
  }

  function renderChecks(checks) {
    var ul = $("checks");
    ul.innerHTML = "";
    var pass = checks.filter(function (c) { return c.passed; }).length;
    $("checks-counts").innerHTML = checks.length
      ? '<span class="badge ' + (pass === checks.length ? "ok" : "error") + '">' + pass + "/" + checks.length + " hold</span>" : "";
    if (!checks.length) {
      ul.innerHTML = '<li class="placeholder">The input has no expectations (scenario <code>expect:</code>) or assertions (promtool <code>alert_rule_test</code>, <code>promql_expr_test</code>).</li>';
      return;
    }
    checks.forEach(function (c) {
      var li = document.createElement("li");
      li.className = c.passed ? "pass" : "fail";
      li.innerHTML = '<span class="mark">' + (c.passed ? "✓" : "✗") + "</span>";
      var b = document.createElement("button");
      b.type = "button";
      b.className = "pos";
      b.textContent = "L" + c.line;
      b.title = "Go to line " + c.line + " of the input";
      b.addEventListener("click", function () { input.goTo(c.line, 1); });
      li.appendChild(b);
      var d = document.createElement("div");
      d.innerHTML = '<span class="name">' + esc(c.name) + "</span> " + (c.message ? '<span class="msg">' + esc(c.message) + "</span>" : "") +
        (c.expected && c.expected.length || c.got && c.got.length
          ? '<div class="exp">expected: ' + esc((c.expected || []).join("\n          ") || "nothing") + "\ngot:      " + esc((c.got || []).join("\n          ") || "nothing") + "</div>" : "");
      li.appendChild(d);
      ul.appendChild(li);
    });
  }

  // Coverage of the rules by the checks (docs/coverage.md): a badge, and
  // each rule no check covers, with why, linked to its line.
  function renderCoverage(rs) {
    if (!rs.length) return;
    var covered = rs.filter(function (r) { return r.covered; }).length;
    $("checks-counts").innerHTML += ' <span class="badge ' + (covered === rs.length ? "ok" : "warning") +
      '" title="rules the checks evaluate, see produce output and assert (docs/coverage.md)">' + covered + "/" + rs.length + " rules covered</span>";
    var ul = $("checks");
    rs.forEach(function (r) {
      if (r.covered) return;
      var why = !r.evaluated ? "not evaluated"
        : r.type === "alert" && !r.firing ? "never fires" + (r.asserted ? "" : ", no check asserts it firing")
        : r.type === "record" && !r.returned_samples ? "writes no series" + (r.asserted ? "" : ", no check reads it")
        : r.type === "alert" ? "no check asserts it firing" : "no check reads its series";
      var li = document.createElement("li");
      li.className = "uncovered";
      li.innerHTML = '<span class="mark" title="not covered">○</span>';
      var b = document.createElement("button");
      b.type = "button";
      b.className = "pos";
      b.textContent = "R" + r.line;
      b.title = "Go to line " + r.line + " of the rules";
      b.addEventListener("click", function () { rules.goTo(r.line, 1); });
      li.appendChild(b);
      var d = document.createElement("div");
      d.innerHTML = '<span class="name">' + esc(r.type + " " + r.name) + '</span> <span class="msg">not covered: ' + esc(why) + "</span>";
      li.appendChild(d);
      ul.appendChild(li);
    });
  }

  // ---- Verify ----
  function scheduleVerify(rulesText) {
    if (!$("auto-verify").checked || rulesText === state.verifiedRules) return;
    clearTimeout(state.verifyTimer);
    state.verifyTimer = setTimeout(function () { verify(); }, 1200);
  }

  function verify() {
    clearTimeout(state.verifyTimer);
    if (state.verifyCtl) state.verifyCtl.abort();
    var ctl = new AbortController();
    state.verifyCtl = ctl;
    var text = rules.value();
    var box = $("verify");
    box.setAttribute("aria-busy", "true");
    $("verify-sub").textContent = "verifying…";
    body.dataset.verify = "running";
    post("/api/verify", { rules: text }, ctl.signal).then(function (res) {
      if (state.verifyCtl !== ctl) return;
      state.verifyCtl = null;
      state.verifiedRules = text;
      renderVerify(res);
    }).catch(function (err) {
      if (err.name === "AbortError") return;
      state.verifyCtl = null;
      box.innerHTML = '<p class="placeholder">Verify did not answer: ' + esc(err.message) + "</p>";
      $("verify-sub").textContent = "verify failed";
    }).then(function () {
      if (state.verifyCtl === null) {
        box.removeAttribute("aria-busy");
        state.verifySeq++;
        body.dataset.verifySeq = String(state.verifySeq);
        body.dataset.verify = "done";
      }
    });
  }

  function renderVerify(res) {
    var box = $("verify");
    if (!res.ok || !res.results) {
      var msgs = (res.problems || []).map(function (p) { return (p.editor ? p.editor + " line " + p.line + ": " : "") + p.message; });
      box.innerHTML = '<p class="placeholder">' + esc(msgs.join("; ") || "Verify could not run.") + "</p>";
      $("verify-sub").textContent = "not verified";
      return;
    }
    $("verify-sub").textContent = res.runs + " random lives per era and scrape setup, seed " + res.seed + ", " + (res.elapsed_ms / 1000).toFixed(1) + " s";
    if (!res.results.length) {
      box.innerHTML = '<p class="placeholder">' + esc((res.problems || []).map(function (p) { return p.message; }).join("; ") || "Nothing to verify.") + "</p>";
      return;
    }
    var t = document.createElement("table");
    t.innerHTML = "<thead><tr><th>alert</th><th>era</th><th>scrape</th><th>verdict</th><th>real failures</th><th>fired</th><th>counterexample</th></tr></thead>";
    var tb = document.createElement("tbody");
    res.results.forEach(function (r) {
      var tr = document.createElement("tr");
      var verdict = r.verdict === "wrong"
        ? "wrong: " + [r.false_negatives ? r.false_negatives + " missed" : "", r.false_positives ? r.false_positives + " false" : ""].filter(Boolean).join(", ")
        : r.verdict === "no-data" ? "no data" : "clean";
      tr.innerHTML = '<td class="alert">' + esc(r.alert) + "</td><td>" + esc(r.era) + "</td><td>" + esc(r.scrape) + '</td><td><span class="verdict ' + esc(r.verdict) + '">' +
        esc(verdict) + "</span></td><td>" + r.real_failures + "</td><td>" + r.alerts_fired + "</td>";
      var td = document.createElement("td");
      if (r.counterexample) {
        td.innerHTML = '<div class="desc">' + esc(r.counterexample.description) + "</div>";
        var b = document.createElement("button");
        b.type = "button";
        b.className = "btn small";
        b.textContent = "Load into the input";
        b.title = "Replace the input with this counterexample (a scenario) and replay it";
        b.addEventListener("click", function () {
          input.setValue(r.counterexample.scenario);
          $("input-name").textContent = "counterexample.scenario.yml";
          state.group = 0;
          run();
          input.ta.focus({ preventScroll: true });
        });
        td.appendChild(b);
      } else {
        td.textContent = r.verdict === "no-data" ? "reads no metric of this era" : "–";
      }
      tr.appendChild(td);
      tb.appendChild(tr);
    });
    t.appendChild(tb);
    box.innerHTML = "";
    box.appendChild(t);
  }

  // ---- Export ----
  function download(name, text) {
    var url = URL.createObjectURL(new Blob([text], { type: "application/yaml" }));
    var a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }

  function exportFiles() {
    var dlg = $("export-dialog"), out = $("export-body");
    out.innerHTML = "<p>Replaying and writing the test file…</p>";
    if (!dlg.open) dlg.showModal();
    post("/api/export", request()).then(function (res) {
      if (!res.ok) {
        out.innerHTML = '<p class="verdict-line bad">Nothing to export yet: ' + esc((res.problems || []).map(function (p) {
          return (p.editor ? p.editor + " line " + p.line + ": " : "") + p.message;
        }).join("; ")) + "</p>";
        return;
      }
      out.innerHTML =
        '<p class="verdict-line ' + (res.passed ? "ok" : "bad") + '" id="export-verdict">' +
        (res.passed ? "✓ <code>gotk-rules test " + esc(res.test_name) + "</code> passes on these rules." : "✗ The test file does not pass: see the report.") + "</p>" +
        '<div class="downloads"><button type="button" class="btn primary" id="dl-rules">Download ' + esc(res.rules_name) +
        '</button><button type="button" class="btn primary" id="dl-test">Download ' + esc(res.test_name) + "</button></div>" +
        "<p>Put both in one directory and run <code>gotk-rules test " + esc(res.test_name) + "</code> (or <code>promtool test rules " + esc(res.test_name) +
        "</code>). The test pins the firing alerts where they change.</p>" +
        "<details><summary>" + esc(res.test_name) + "</summary><pre>" + esc(res.test) + "</pre></details>" +
        "<details" + (res.passed ? "" : " open") + "><summary>gotk-rules test report</summary><pre>" + esc(res.report) + "</pre></details>";
      $("dl-rules").addEventListener("click", function () { download(res.rules_name, res.rules); });
      $("dl-test").addEventListener("click", function () { download(res.test_name, res.test); });
      $("dl-rules").focus();
    }).catch(function (err) {
      out.innerHTML = '<p class="verdict-line bad">Export failed: ' + esc(err.message) + "</p>";
    });
  }

  // ---- Share: both editors, deflated, base64url, in the URL fragment ----
  function b64url(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function unb64url(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function pipe(bytes, stream) {
    return new Response(new Blob([bytes]).stream().pipeThrough(stream)).arrayBuffer().then(function (b) { return new Uint8Array(b); });
  }
  function encodeState(req) {
    var json = new TextEncoder().encode(JSON.stringify({ v: 1, r: req.rules, i: req.input, g: req.group || 0 }));
    if (window.CompressionStream) {
      return pipe(json, new CompressionStream("deflate-raw")).then(function (z) { return "s=" + b64url(z); });
    }
    return Promise.resolve("u=" + b64url(json));
  }
  function decodeState(hash) {
    var m = /^#?([su])=([A-Za-z0-9_-]+)$/.exec(hash);
    if (!m) return Promise.resolve(null);
    var bytes = unb64url(m[2]);
    var p = m[1] === "s" ? pipe(bytes, new DecompressionStream("deflate-raw")) : Promise.resolve(bytes);
    return p.then(function (b) {
      var o = JSON.parse(new TextDecoder().decode(b));
      return typeof o.r === "string" && typeof o.i === "string" ? o : null;
    });
  }
  function saveHash(req) {
    encodeState(req).then(function (h) {
      if (location.hash.slice(1) !== h) history.replaceState(null, "", "#" + h);
    }).catch(function () { /* the link is a convenience */ });
  }
  function share() {
    encodeState(request()).then(function (h) {
      history.replaceState(null, "", "#" + h);
      var url = location.href;
      $("share-url").value = url;
      var dlg = $("share-dialog");
      if (!dlg.open) dlg.showModal();
      $("share-url").select();
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(url).then(function () {
          $("share-msg").textContent = "Copied. This link holds both editors' contents (compressed, after the #, which is never sent to a server):";
        }, function () { /* select and copy by hand */ });
      }
    });
  }

  // ---- Examples and start ----
  function loadExample(ex) {
    rules.setValue(ex.rules);
    input.setValue(ex.input);
    $("rules-name").textContent = ex.rules_name || "rules.yml";
    $("input-name").textContent = ex.input_name || "input.yml";
    state.group = 0;
    state.verifiedRules = null;
    run();
  }

  $("examples").addEventListener("change", function (ev) {
    var ex = state.examples[+ev.target.value];
    if (ex) loadExample(ex);
  });
  $("group").addEventListener("change", function (ev) { state.group = +ev.target.value; run(); });
  $("run").addEventListener("click", function () { run(); });
  $("export").addEventListener("click", exportFiles);
  $("share").addEventListener("click", share);
  $("verify-run").addEventListener("click", verify);
  $("help").addEventListener("click", function () { $("help-dialog").showModal(); });
  $("auto").addEventListener("change", function () { if (this.checked) run(); });

  document.addEventListener("keydown", function (ev) {
    var mod = ev.ctrlKey || ev.metaKey;
    if (mod && ev.key === "Enter") { ev.preventDefault(); run(); return; }
    if (mod && (ev.key === "s" || ev.key === "S")) { ev.preventDefault(); exportFiles(); return; }
    if (ev.altKey && ev.key === "1") { ev.preventDefault(); rules.ta.focus(); return; }
    if (ev.altKey && ev.key === "2") { ev.preventDefault(); input.ta.focus(); return; }
    if (ev.altKey && ev.key === "3") { ev.preventDefault(); var s = $("chart").querySelector("svg"); if (s) s.focus(); return; }
    var inField = /^(TEXTAREA|INPUT|SELECT)$/.test(document.activeElement && document.activeElement.tagName);
    if (ev.key === "?" && !inField && !mod) { ev.preventDefault(); $("help-dialog").showModal(); }
  });

  var resizeTimer = 0, lastWidth = 0;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      var w = $("chart").clientWidth;
      if (Math.abs(w - lastWidth) > 40 && state.lastView) { lastWidth = w; run(); }
    }, 300);
  });

  function start() {
    var defaults = fetch("/api/defaults").then(function (r) {
      if (!r.ok) throw new Error("the server answered " + r.status);
      return r.json();
    });
    var shared = decodeState(location.hash).catch(function () {
      banner("The link's editor contents could not be read; the example is loaded instead.");
      return null;
    });
    Promise.all([defaults.catch(function (e) { return { error: e }; }), shared]).then(function (v) {
      var d = v[0], s = v[1];
      if (d && d.examples) {
        state.examples = d.examples;
        $("examples").innerHTML = d.examples.map(function (ex, i) {
          return '<option value="' + i + '">' + esc(ex.name) + "</option>";
        }).join("");
        if (d.example.name === "from the command line") {
          $("examples").insertAdjacentHTML("afterbegin", '<option value="-1" selected>from the command line</option>');
        }
        if (!d.limits.lint) $("rules-counts").title = "lint is off";
      } else {
        banner("The sandbox server did not give its examples (" + (d && d.error && d.error.message) + "). You can still type.");
      }
      lastWidth = $("chart").clientWidth;
      if (s) {
        rules.setValue(s.r);
        input.setValue(s.i);
        state.group = s.g || 0;
        $("rules-name").textContent = "rules.yml (from the link)";
        $("input-name").textContent = "input.yml (from the link)";
        run();
      } else if (d && d.example) {
        loadExample(d.example);
      } else {
        setState("error");
        status("error", "No server");
      }
    });
  }
  start();
})();
