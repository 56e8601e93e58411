// The time cursor of the timeline picture, shared by the sandbox page and
// the HTML file of `gotk-rules replay --html`. attach(svg, view) follows the
// pointer (or the arrow keys once the picture has focus) and writes, in the
// right-hand column, each series' value and each alert's and object's state
// at that instant.
(function () {
  "use strict";

  var NS = "http://www.w3.org/2000/svg";

  // fmtDur prints milliseconds as Prometheus prints durations: 1h30m, 45s.
  function fmtDur(ms) {
    if (ms === 0) return "0s";
    var neg = ms < 0;
    if (neg) ms = -ms;
    var units = [["y", 31536000000], ["w", 604800000], ["d", 86400000], ["h", 3600000], ["m", 60000], ["s", 1000], ["ms", 1]];
    var out = "";
    for (var i = 0; i < units.length; i++) {
      var n = Math.floor(ms / units[i][1]);
      if (n > 0) {
        out += n + units[i][0];
        ms -= n * units[i][1];
      }
    }
    return (neg ? "-" : "") + out;
  }

  function fmtVal(v) {
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
    return Number(v.toPrecision(4)).toString();
  }

  // seriesAt is the value drawn at t: the last sample at or before t, held
  // until the next one when they are close, else for two thirds of a scrape.
  function seriesAt(s, t) {
    var lo = 0, hi = s.t.length - 1, i = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (s.t[mid] <= t) { i = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    var lastStale = -1;
    for (var k = 0; k < s.stale.length; k++) if (s.stale[k] <= t) lastStale = s.stale[k];
    if (i < 0) return lastStale >= 0 ? "stale" : "–";
    if (lastStale > s.t[i]) return "stale";
    var until = s.t[i] + Math.floor(s.gap_ms * 2 / 3);
    if (i + 1 < s.t.length && s.t[i + 1] - s.t[i] <= s.gap_ms) until = s.t[i + 1];
    return t < until ? fmtVal(s.v[i]) : "–";
  }

  function spanAt(spans, t, dflt) {
    for (var i = 0; i < spans.length; i++) {
      if (spans[i].start <= t && t < spans[i].end) return spans[i].state;
    }
    return dflt;
  }

  function attach(svg, view, opts) {
    opts = opts || {};
    if (!svg || !view) return null;
    var x0 = +svg.dataset.x0, x1 = +svg.dataset.x1, top = +svg.dataset.top, bottom = +svg.dataset.bottom;
    var domain = +svg.dataset.domain, step = view.step_ms || 60000;
    var vals = svg.querySelectorAll("text.tl-val");
    vals.forEach(function (el) { el.dataset.summary = el.textContent; el.dataset.cls = el.getAttribute("class"); });

    var g = document.createElementNS(NS, "g");
    g.setAttribute("class", "tl-cursor");
    g.setAttribute("visibility", "hidden");
    g.setAttribute("pointer-events", "none");
    var line = document.createElementNS(NS, "line");
    line.setAttribute("class", "tl-cline");
    line.setAttribute("y1", top);
    line.setAttribute("y2", bottom);
    var box = document.createElementNS(NS, "rect");
    box.setAttribute("class", "tl-cbox");
    box.setAttribute("rx", 2);
    box.setAttribute("height", 16);
    box.setAttribute("y", bottom + 3);
    var label = document.createElementNS(NS, "text");
    label.setAttribute("class", "tl-ctext");
    label.setAttribute("y", bottom + 15);
    label.setAttribute("text-anchor", "middle");
    g.appendChild(line);
    g.appendChild(box);
    g.appendChild(label);
    svg.appendChild(g);
    if (!svg.hasAttribute("tabindex")) svg.setAttribute("tabindex", "0");
    svg.setAttribute("aria-description", "Time cursor: arrow keys move it one evaluation (with Shift ten), Home and End jump, Escape hides it.");

    var current = null;

    function xOf(t) { return x0 + (x1 - x0) * Math.min(Math.max(t, 0), domain) / domain; }

    function show(t) {
      t = Math.max(0, Math.min(t, view.end_ms));
      current = t;
      var x = xOf(t);
      line.setAttribute("x1", x);
      line.setAttribute("x2", x);
      var text = fmtDur(Math.round(t / 1000) * 1000);
      label.textContent = text;
      var w = text.length * 7 + 12;
      var bx = Math.max(x0 - 4, Math.min(x - w / 2, x1 + 4 - w));
      box.setAttribute("x", bx);
      box.setAttribute("width", w);
      label.setAttribute("x", bx + w / 2);
      g.setAttribute("visibility", "visible");
      vals.forEach(function (el) {
        var i = +el.dataset.i, k = el.dataset.k, cls = "tl-val", txt = "";
        if (k === "s") {
          txt = seriesAt(view.series[i], t);
        } else if (k === "a") {
          txt = spanAt(view.alerts[i].spans, t, "inactive");
          if (txt === "firing") cls += " tl-firing-t";
          if (txt === "pending") cls += " tl-pending-t";
          if (txt === "inactive") cls += " tl-muted";
        } else if (k === "o") {
          txt = spanAt(view.objects[i].spans, t, "");
        }
        el.textContent = txt;
        el.setAttribute("class", cls);
      });
      svg.dataset.cursor = String(t);
      if (opts.onMove) opts.onMove(t);
    }

    function hide() {
      current = null;
      g.setAttribute("visibility", "hidden");
      vals.forEach(function (el) { el.textContent = el.dataset.summary; el.setAttribute("class", el.dataset.cls); });
      delete svg.dataset.cursor;
      if (opts.onMove) opts.onMove(null);
    }

    function fromEvent(ev) {
      var ctm = svg.getScreenCTM();
      if (!ctm) return null;
      var p = svg.createSVGPoint();
      p.x = ev.clientX;
      p.y = ev.clientY;
      var q = p.matrixTransform(ctm.inverse());
      if (q.x < x0 || q.x > x1) return null;
      return (q.x - x0) / (x1 - x0) * domain;
    }

    svg.addEventListener("pointermove", function (ev) {
      var t = fromEvent(ev);
      if (t === null) { hide(); return; }
      show(t);
    });
    svg.addEventListener("pointerleave", hide);
    svg.addEventListener("keydown", function (ev) {
      var base = current === null ? 0 : Math.round(current / step) * step;
      var n = ev.shiftKey ? 10 : 1;
      switch (ev.key) {
        case "ArrowRight": show(current === null ? 0 : base + n * step); break;
        case "ArrowLeft": show(current === null ? view.end_ms : base - n * step); break;
        case "Home": show(0); break;
        case "End": show(view.end_ms); break;
        case "Escape": hide(); return;
        default: return;
      }
      ev.preventDefault();
    });
    return { show: show, hide: hide, current: function () { return current; } };
  }

  window.GotkTimeline = { attach: attach, fmtDur: fmtDur };
})();
