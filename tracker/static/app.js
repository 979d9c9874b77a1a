// Small helpers for the pages: live countdowns, self-refreshing tables, the filing form.
(function () {
  "use strict";

  // A span in words, as the server writes it (tracker.timeutil.duration): "6 min 5 s", "2 h 30 min", "1 d 2 h".
  // Never "06:05", which reads as a clock time.
  function duration(seconds) {
    var d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600),
        m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    function two(big, bigUnit, small, smallUnit) { return big + " " + bigUnit + (small ? " " + small + " " + smallUnit : ""); }
    if (d) { return two(d, "d", h, "h"); }
    if (h) { return two(h, "h", m, "min"); }
    if (m) { return two(m, "min", s, "s"); }
    return s + " s";
  }

  function tickCountdowns() {
    var now = Date.now();
    document.querySelectorAll("time.countdown[data-deadline]").forEach(function (el) {
      var left = Math.round((Date.parse(el.dataset.deadline) - now) / 1000);
      if (left <= 0) { el.textContent = "due now"; el.classList.add("due"); return; }
      el.textContent = "in " + duration(left);
      el.classList.remove("due");
    });
    var clock = document.querySelector("[data-clock]");
    if (clock) { clock.textContent = new Date().toISOString().slice(0, 19).replace("T", " ") + "Z"; }
  }

  function refreshTables() {
    document.querySelectorAll("tbody[data-refresh]").forEach(function (body) {
      fetch(body.dataset.refresh, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
        .then(function (r) {
          if (r.status === 401 || r.redirected) { window.location.reload(); return null; }  // signed out
          return r.ok ? r.text() : null;
        })
        .then(function (html) {
          if (html === null || html === body.dataset.last) { return; }  // unchanged: keep focus and place
          var focused = document.activeElement, row = focused && focused.closest && focused.closest("tr[data-reference]");
          body.innerHTML = html;
          body.dataset.last = html;
          if (row) {
            var again = body.querySelector('tr[data-reference="' + row.dataset.reference + '"] a');
            if (again) { again.focus(); }
          }
          tickCountdowns();
        })
        .catch(function () { /* offline for a moment: try again at the next tick */ });
    });
  }

  function followDomain(form) {
    var map = JSON.parse(form.dataset.categories), domain = form.querySelector("[data-domain]"),
        category = form.querySelector("[data-category]");
    var all = Array.prototype.map.call(category.options, function (o) { return [o.value, o.textContent]; });
    function apply() {
      var allowed = map[domain.value] || [], chosen = category.value;
      category.innerHTML = "";
      all.forEach(function (pair) {
        if (allowed.indexOf(pair[0]) >= 0) {
          var o = document.createElement("option"); o.value = pair[0]; o.textContent = pair[1];
          if (pair[0] === chosen) { o.selected = true; } category.appendChild(o);
        }
      });
    }
    domain.addEventListener("change", apply); apply();
  }

  function readBack(form) {
    var url = form.dataset.readback, timer = null;
    function ask() {
      var query = new URLSearchParams();
      ["occurred_at", "position"].forEach(function (name) {
        var input = form.querySelector("[name=" + name + "]"); if (input) { query.set(name, input.value); }
      });
      fetch(url + "?" + query.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : {}; })
        .then(function (answer) {
          Object.keys(answer).forEach(function (name) {
            var input = form.querySelector("[name=" + name + "]"),
                hint = input && form.querySelector('[data-hint-for="' + input.id + '"]');
            if (hint) { hint.textContent = answer[name]; }
          });
        }).catch(function () {});
    }
    form.addEventListener("input", function (event) {
      if (["occurred_at", "position"].indexOf(event.target.name) < 0) { return; }
      clearTimeout(timer); timer = setTimeout(ask, 300);
    });
    if (!form.querySelector("small.error")) { ask(); }  // a returned form already says what is wrong
  }

  document.addEventListener("DOMContentLoaded", function () {
    tickCountdowns();
    setInterval(tickCountdowns, 1000);
    if (document.querySelector("tbody[data-refresh]")) { setInterval(refreshTables, 3000); }
    var filing = document.querySelector("form[data-categories]");
    if (filing) { followDomain(filing); readBack(filing); }
    // Optional parts of a form (observed forces) stay folded on a phone and open on a wider screen.
    if (window.matchMedia && window.matchMedia("(min-width: 761px)").matches) {
      document.querySelectorAll("details[data-open-wide]").forEach(function (d) { d.open = true; });
    }
  });
})();
