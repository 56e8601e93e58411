// A small YAML editor: a textarea over a highlighted copy of its text, with
// line numbers, problems marked in the gutter, underlined at their column and
// written after their line, and the problem under the caret in a status line.
// The textarea grows with its text and the surrounding box scrolls, so the
// copy wraps exactly as the textarea does.
(function () {
  "use strict";

  function esc(s) {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  var rank = { error: 3, warning: 2, info: 1 };

  // classify gives each character of each line a token class: k key,
  // s string, n number or constant, c comment, t template, p punctuation.
  function classify(lines) {
    var out = [];
    var block = -1; // indentation of the key opening a block scalar, or -1
    for (var li = 0; li < lines.length; li++) {
      var line = lines[li];
      var cls = new Array(line.length).fill("");
      var indent = line.search(/\S/);
      if (block >= 0) {
        if (indent === -1 || indent > block) {
          for (var i = 0; i < line.length; i++) cls[i] = "s";
          templates(line, cls, 0);
          out.push(cls);
          continue;
        }
        block = -1;
      }
      // Comment: a # at the start or after a space, outside quotes.
      var q = "", com = -1;
      for (var j = 0; j < line.length; j++) {
        var ch = line[j];
        if (q) { if (ch === q) q = ""; continue; }
        if (ch === "'" || ch === '"') { q = ch; continue; }
        if (ch === "#" && (j === 0 || /\s/.test(line[j - 1]))) { com = j; break; }
      }
      var end = com >= 0 ? com : line.length;
      if (com >= 0) for (var c = com; c < line.length; c++) cls[c] = "c";
      var body = line.slice(0, end);
      var pos = 0;
      var dash = /^(\s*)(-\s+)/.exec(body);
      while (dash) {
        for (var d = dash[1].length; d < dash[1].length + 1; d++) cls[pos + d] = "p";
        pos += dash[0].length;
        dash = /^(\s*)(-\s+)/.exec(body.slice(pos));
      }
      if (/^\s*(---|\.\.\.)\s*$/.test(body)) { for (var z = 0; z < body.length; z++) cls[z] = "p"; out.push(cls); continue; }
      var key = /^(\s*)("[^"]*"|'[^']*'|[^\s#'"{\[][^#]*?)(\s*:)(?=\s|$)/.exec(body.slice(pos));
      var vstart = pos;
      var keyIndent = indent;
      if (key) {
        var ks = pos + key[1].length;
        for (var a = ks; a < ks + key[2].length; a++) cls[a] = "k";
        var colon = ks + key[2].length + key[3].length - 1;
        cls[colon] = "p";
        vstart = colon + 1;
        keyIndent = ks;
      }
      var value = body.slice(vstart);
      var vs = vstart + (value.length - value.replace(/^\s+/, "").length);
      var v = body.slice(vs).replace(/\s+$/, "");
      if (v.length) {
        if (/^[|>][-+0-9]*$/.test(v)) {
          for (var b = vs; b < vs + v.length; b++) cls[b] = "p";
          block = key ? keyIndent : indent;
        } else if (v[0] === '"' || v[0] === "'") {
          for (var s = vs; s < vs + v.length; s++) cls[s] = "s";
        } else if (/^(-?\d+(\.\d+)?([eE][-+]?\d+)?|(\d+(ms|[smhdwy]))+|true|false|null|~)$/.test(v)) {
          for (var n = vs; n < vs + v.length; n++) cls[n] = "n";
        } else if (v[0] === "[" || v[0] === "{") {
          for (var f = vs; f < vs + v.length; f++) cls[f] = /[\[\]{},:]/.test(body[f]) ? "p" : "";
          var m, re = /"[^"]*"|'[^']*'/g;
          while ((m = re.exec(v))) for (var g = 0; g < m[0].length; g++) cls[vs + m.index + g] = "s";
        }
        templates(line, cls, vs);
      }
      out.push(cls);
    }
    return out;
  }

  // templates marks {{ ... }} from `from` on.
  function templates(line, cls, from) {
    var re = /\{\{.*?\}\}/g, m;
    re.lastIndex = from;
    while ((m = re.exec(line))) for (var i = 0; i < m[0].length; i++) cls[m.index + i] = "t";
  }

  function Editor(root, opts) {
    this.root = root;
    this.opts = opts || {};
    this.ta = root.querySelector("textarea");
    this.hl = root.querySelector(".ed-highlight");
    this.gutter = root.querySelector(".ed-gutter");
    this.scroller = root.querySelector(".ed-scroll");
    this.problems = [];
    this.escaped = false;
    var self = this;
    this.ta.addEventListener("input", function () {
      self.render();
      self.reveal();
      self.status();
      if (self.opts.onChange) self.opts.onChange(self.ta.value);
    });
    this.ta.addEventListener("keydown", function (ev) { self.key(ev); });
    ["keyup", "click", "select", "focus"].forEach(function (t) {
      self.ta.addEventListener(t, function () { self.status(); self.currentLine(); });
    });
    this.gutter.addEventListener("click", function (ev) {
      var gl = ev.target.closest(".gl");
      if (gl) self.goTo(+gl.dataset.line, 1);
    });
    if (window.ResizeObserver) {
      var w = 0;
      new ResizeObserver(function () {
        if (self.hl.clientWidth !== w) { w = self.hl.clientWidth; self.syncGutter(); }
      }).observe(this.hl);
    }
  }

  Editor.prototype.value = function () { return this.ta.value; };

  Editor.prototype.setValue = function (text) {
    this.ta.value = text;
    this.ta.setSelectionRange(0, 0);
    this.problems = [];
    this.render();
    this.scroller.scrollTop = 0;
    this.status();
  };

  Editor.prototype.setProblems = function (problems) {
    this.problems = problems || [];
    this.render();
    this.status();
  };

  // render redraws the highlighted copy and the gutter.
  Editor.prototype.render = function () {
    var text = this.ta.value;
    var lines = text.split("\n");
    var classes = classify(lines);
    var byLine = {};
    this.problems.forEach(function (p) {
      var l = Math.min(Math.max(p.line || 1, 1), lines.length);
      (byLine[l] = byLine[l] || []).push(p);
    });
    var html = [];
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i], cls = classes[i];
      var ps = byLine[i + 1] || [];
      var worst = "";
      var sq = new Array(line.length).fill("");
      ps.forEach(function (p) {
        if (!worst || rank[p.severity] > rank[worst]) worst = p.severity;
        var from = Math.min(Math.max((p.column || 1) - 1, 0), Math.max(line.length - 1, 0));
        while (from < line.length - 1 && /\s/.test(line[from])) from++;
        var m = /^[\w$.:-]+|^\S/.exec(line.slice(from));
        var to = from + (m ? m[0].length : 1);
        for (var k = from; k < Math.min(to, line.length); k++) {
          if (!sq[k] || rank[p.severity] > rank[sq[k]]) sq[k] = p.severity;
        }
      });
      var h = "";
      var j = 0;
      while (j < line.length) {
        var c = cls[j], s = sq[j], k2 = j;
        while (k2 < line.length && cls[k2] === c && sq[k2] === s) k2++;
        var chunk = esc(line.slice(j, k2));
        var cl = (c ? c : "") + (s ? " sq " + s : "");
        h += cl ? '<span class="' + cl.trim() + '">' + chunk + "</span>" : chunk;
        j = k2;
      }
      if (ps.length) {
        var first = ps.slice().sort(function (a, b) { return rank[b.severity] - rank[a.severity]; })[0];
        var msg = first.message.split("\n")[0];
        if (msg.length > 140) msg = msg.slice(0, 137) + "…";
        if (ps.length > 1) msg += "  (+" + (ps.length - 1) + ")";
        h += '<span class="lens ' + first.severity + '">' + esc(msg) + "</span>";
      }
      html.push('<div class="ln' + (worst ? " " + worst : "") + '">' + (h || "") + "</div>");
    }
    this.hl.innerHTML = html.join("");
    this.byLine = byLine;
    this.lineCount = lines.length;
    this.syncGutter();
  };

  // syncGutter writes line numbers as tall as their (wrapped) lines.
  Editor.prototype.syncGutter = function () {
    var lns = this.hl.children;
    var out = [];
    for (var i = 0; i < lns.length; i++) {
      var ps = (this.byLine && this.byLine[i + 1]) || [];
      var worst = "";
      ps.forEach(function (p) { if (!worst || rank[p.severity] > rank[worst]) worst = p.severity; });
      var title = ps.map(function (p) { return p.severity + (p.check ? " " + p.check : "") + ": " + p.message; }).join("\n");
      out.push('<div class="gl' + (worst ? " " + worst : "") + '" data-line="' + (i + 1) + '"' +
        (title ? ' title="' + esc(title) + '"' : "") + ">" + (i + 1) + "</div>");
    }
    this.gutter.innerHTML = out.join("");
    var gls = this.gutter.children;
    for (var k = 0; k < lns.length; k++) gls[k].style.height = lns[k].offsetHeight + "px";
    this.currentLine();
  };

  Editor.prototype.caretLine = function () {
    return this.ta.value.slice(0, this.ta.selectionStart).split("\n").length;
  };

  Editor.prototype.currentLine = function () {
    var n = this.caretLine();
    var prev = this.gutter.querySelector(".gl.current");
    if (prev) prev.classList.remove("current");
    var gl = this.gutter.children[n - 1];
    if (gl) gl.classList.add("current");
  };

  // status says where the caret is, and the problem on its line.
  Editor.prototype.status = function () {
    if (!this.opts.status) return;
    var before = this.ta.value.slice(0, this.ta.selectionStart).split("\n");
    var line = before.length, col = before[before.length - 1].length + 1;
    var ps = (this.byLine && this.byLine[line]) || [];
    var s = "Ln " + line + ", Col " + col;
    if (ps.length) {
      var p = ps[0];
      this.opts.status.innerHTML = esc(s) + ' · <span class="' + p.severity + '">' + esc(p.severity + (p.check ? " " + p.check : "") + ": " + p.message) + "</span>";
      this.opts.status.title = ps.map(function (x) { return x.message; }).join("\n");
    } else {
      this.opts.status.textContent = s;
      this.opts.status.title = "";
    }
  };

  // reveal scrolls the caret's line into view.
  Editor.prototype.reveal = function () {
    var ln = this.hl.children[this.caretLine() - 1];
    if (!ln) return;
    var top = ln.offsetTop, bottom = top + ln.offsetHeight, sc = this.scroller;
    if (top < sc.scrollTop + 4) sc.scrollTop = Math.max(top - 8, 0);
    else if (bottom > sc.scrollTop + sc.clientHeight - 4) sc.scrollTop = bottom - sc.clientHeight + 28;
  };

  Editor.prototype.goTo = function (line, col) {
    var lines = this.ta.value.split("\n");
    line = Math.min(Math.max(line, 1), lines.length);
    var pos = 0;
    for (var i = 0; i < line - 1; i++) pos += lines[i].length + 1;
    pos += Math.min(Math.max((col || 1) - 1, 0), lines[line - 1].length);
    this.ta.focus();
    this.ta.setSelectionRange(pos, pos);
    this.reveal();
    this.status();
    this.currentLine();
  };

  // insert replaces the selection, keeping the browser's undo history.
  Editor.prototype.insert = function (text) {
    if (!document.execCommand || !document.execCommand("insertText", false, text)) {
      var t = this.ta, s = t.selectionStart;
      t.setRangeText(text, s, t.selectionEnd, "end");
      t.dispatchEvent(new Event("input"));
    }
  };

  // selectLines selects whole lines around the selection and returns them.
  Editor.prototype.selectLines = function () {
    var t = this.ta, v = t.value;
    var s = v.lastIndexOf("\n", t.selectionStart - 1) + 1;
    var e = v.indexOf("\n", Math.max(t.selectionEnd - (t.selectionEnd > t.selectionStart ? 1 : 0), t.selectionStart));
    if (e < 0) e = v.length;
    t.setSelectionRange(s, e);
    return v.slice(s, e).split("\n");
  };

  Editor.prototype.key = function (ev) {
    var t = this.ta;
    if (ev.key === "Escape") { this.escaped = true; return; }
    if (ev.key === "Tab" && !ev.ctrlKey && !ev.altKey && !ev.metaKey) {
      if (this.escaped) { this.escaped = false; return; } // let focus move on
      ev.preventDefault();
      if (ev.shiftKey || t.selectionStart !== t.selectionEnd) {
        var lines = this.selectLines();
        var out = lines.map(function (l) { return ev.shiftKey ? l.replace(/^ {1,2}/, "") : "  " + l; });
        var start = t.selectionStart;
        this.insert(out.join("\n"));
        t.setSelectionRange(start, start + out.join("\n").length);
      } else {
        this.insert("  ");
      }
      return;
    }
    this.escaped = false;
    if (ev.key === "Enter" && !ev.ctrlKey && !ev.metaKey && !ev.shiftKey && !ev.altKey) {
      var v = t.value, s = v.lastIndexOf("\n", t.selectionStart - 1) + 1;
      var cur = v.slice(s, t.selectionStart);
      var ind = /^\s*/.exec(cur)[0];
      if (/^\s*- /.test(cur)) ind += "  ";
      if (/:\s*(\||>)?[-+]?\s*$/.test(cur) && !/#/.test(cur)) ind += "  ";
      ev.preventDefault();
      this.insert("\n" + ind);
      return;
    }
    if (ev.key === "/" && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      var ls = this.selectLines();
      var all = ls.every(function (l) { return /^\s*#/.test(l) || !l.trim(); });
      var st = t.selectionStart;
      var res = ls.map(function (l) {
        if (!l.trim()) return l;
        return all ? l.replace(/^(\s*)# ?/, "$1") : l.replace(/^(\s*)/, "$1# ");
      }).join("\n");
      this.insert(res);
      t.setSelectionRange(st, st + res.length);
      return;
    }
    if (ev.key === "F8") {
      ev.preventDefault();
      var lines2 = Object.keys(this.byLine || {}).map(Number).sort(function (a, b) { return a - b; });
      if (!lines2.length) return;
      var curLine = this.caretLine();
      var next = lines2.filter(function (l) { return ev.shiftKey ? l < curLine : l > curLine; });
      var target = next.length ? (ev.shiftKey ? next[next.length - 1] : next[0]) : (ev.shiftKey ? lines2[lines2.length - 1] : lines2[0]);
      var p = this.byLine[target][0];
      this.goTo(target, p.column);
    }
  };

  window.GotkEditor = Editor;
})();
