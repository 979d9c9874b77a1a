// Pages that never go stale (issue 16). The board's and My queue's tables and the live parts of the incident
// page ([data-live]: state and countdown, the Acknowledge and Resolve buttons, facts and ladder, timeline, the
// exchange panel) poll their fragment every LIVE_REFRESH_SECONDS (3 s by default; base.html puts it on this
// script's tag) with If-None-Match; the server answers 304 while nothing changed (web/etags.py). Fresh HTML
// replaces what changed but for the row or form the person types in (or a refused note or field came back in):
// that one stays as it is, never moved, and says so; every other row and part still refreshes. No reload, so
// focus and typed text stay.
// On the board and My queue a new FLASH or exhausted incident counts in the tab title, and beeps if the
// person switched the sound on (kept in localStorage; a Web Audio tone, no sound file). What changed is also said in
// one sentence in the page's polite status line ([data-news]), for a screen reader: the parts themselves are not
// live regions, since their countdowns tick every second.
(function () {
  "use strict";
  // The setting, from this script's own tag (base.html): read now, while the script runs (currentScript is null later).
  var POLL_MS = Number(document.currentScript && document.currentScript.dataset.refreshSeconds) * 1000 || 3000,
      tags = {}, inFlight = {}, applied = {}, heard = [], sentAt = 0, SENDING_MS = 10000;

  // A form sent: the polls on their way are given up, and none is asked for while the browser goes where the form's
  // answer sends it (for SENDING_MS, should it stay: a download). An answer that writes the session cookie writes it
  // as its request carried it, and a poll answered after the form's answer wrote back the cookie of before, with it the
  // line the next page was to say of what the form did (a flash, kept in the cookie till shown). The server writes it
  // for a poll only when the poll changed the session (web/session_cookie.py, for every tab: Flask-Login marking it
  // not fresh once the browser's address changed, a phone gone from Wi-Fi to its mobile network): this covers that.
  document.addEventListener("submit", function (event) {
    if (event.defaultPrevented) { return; }
    sentAt = Date.now();
    Object.keys(inFlight).forEach(function (url) { if (inFlight[url]) { inFlight[url].abort(); } });
  });
  window.addEventListener("pageshow", function (event) { if (event.persisted) { sentAt = 0; } });  // back again

  // Ask for url's fragment; resolve to {html, tag}, or null when unchanged (304), failed, given up or offline.
  function poll(url) {
    if (inFlight[url] || Date.now() - sentAt < SENDING_MS) { return Promise.resolve(null); }
    var headers = { "X-Requested-With": "fetch" }, asked = new AbortController();
    if (tags[url]) { headers["If-None-Match"] = tags[url]; }
    inFlight[url] = asked;
    return fetch(url, { headers: headers, credentials: "same-origin", cache: "no-store", signal: asked.signal })
      .then(function (r) {
        if (r.status === 401 || r.redirected) { window.location.reload(); return null; }  // signed out
        if (!r.ok) { return null; }  // 304: nothing new
        return r.text().then(function (html) { return { html: html, tag: r.headers.get("ETag") }; });
      })
      .catch(function () { return null; })  // offline for a moment (or given up): the next poll tries again
      .then(function (got) { inFlight[url] = null; return got; });
  }

  function updated(where) { where.dispatchEvent(new CustomEvent("tracker:updated", { bubbles: true })); }

  function tell(sentences) {
    var news = document.querySelector("[data-news]");
    if (news && sentences.length) { news.textContent = sentences.join(" "); }
  }

  // Each row's precedence and state in words, by reference.
  function rowStates(body) {
    var states = {};
    body.querySelectorAll("tr[data-reference]").forEach(function (row) {
      var badge = row.querySelector(".badge");
      states[row.dataset.reference] = {
        precedence: badge ? badge.title : "",
        state: Array.prototype.map.call(row.querySelectorAll(".state"), function (s) { return s.textContent.trim(); }).join(", ")
      };
    });
    return states;
  }

  function rowChanges(before, after) {
    var said = [];
    Object.keys(after).forEach(function (reference) {
      var was = before[reference], now = after[reference];
      if (!was) { said.push(reference + " new: " + [now.precedence, now.state].filter(Boolean).join(", ") + "."); }
      else if (was.state !== now.state) { said.push(reference + " now " + now.state + "."); }
    });
    Object.keys(before).forEach(function (reference) { if (!after[reference]) { said.push(reference + " left the list."); } });
    return said;
  }

  // A field holding something typed and not sent yet.
  function dirty(field) {
    if (field.type === "hidden" || field.type === "submit" || field.type === "button") { return false; }
    if (field.type === "checkbox" || field.type === "radio") { return field.checked !== field.defaultChecked; }
    if (field.tagName === "SELECT") {
      var chosen = Array.prototype.filter.call(field.options, function (o) { return o.defaultSelected; });
      if (!field.multiple && !chosen.length) { return field.selectedIndex > 0; }
      return Array.prototype.some.call(field.options, function (o) { return o.selected !== o.defaultSelected; });
    }
    return field.value !== field.defaultValue;
  }

  // Someone works in this part: a form came back with a problem, the focus is in a field (or on a folded part's
  // summary), or a field holds typed text.
  function busy(part) {
    if (part.querySelector(".has-error, .error[role=alert]")) { return true; }  // a form returned with a problem
    var active = document.activeElement;
    if (active && part.contains(active) && active.matches("input:not([type=hidden]), textarea, select, summary")) {
      return true;
    }
    return Array.prototype.some.call(part.querySelectorAll("input, textarea, select"), dirty);
  }

  // --- keeping what someone works in, refreshing the rest ----------------------------------------------------

  function holding(node, kept) { return kept.some(function (k) { return node === k || node.contains(k); }); }

  // Put fresh's children into old but for the kept nodes (a row or form someone works in) and what holds them:
  // those stay where they are, untouched and never moved (a moved field loses the focus, the half-typed word of
  // an input method), and their twins in fresh (twins.get(kept node)) are left out. A kept node whose twin is
  // gone (the incident left the list) stays where it was among its neighbours. morphdom was looked at (its
  // onBeforeElUpdated skips a node, getNodeKey keys rows by reference): one more vendored file for some thirty
  // lines, and it moves a keyed node to its new place, where a moved field loses the focus.
  function mergeAround(old, fresh, kept, twins) {
    var olds = Array.prototype.slice.call(old.childNodes), news = Array.prototype.slice.call(fresh.childNodes),
        holders = olds.filter(function (child) { return holding(child, kept); }), target = [], last = -1;
    var matched = holders.map(function (child) {
      var twin = null;
      kept.some(function (k) { twin = holding(child, [k]) ? twins.get(k) : null; return twin; });
      var into = twin && news.filter(function (f) { return f === twin || f.contains(twin); })[0];
      return into || null;
    });
    matched.forEach(function (f, n) { if (f && matched.indexOf(f) < n) { matched[n] = null; } });  // one old each
    news.forEach(function (f) {
      var n = matched.indexOf(f);
      if (n < 0) { target.push(document.importNode(f, true)); return; }
      if (kept.indexOf(holders[n]) < 0) { mergeAround(holders[n], f, kept, twins); }
      target.push(holders[n]);
    });
    holders.forEach(function (child, n) {  // its twin gone: after the kept one before it, else first
      if (matched[n]) { last = target.indexOf(child); } else { target.splice(last + 1, 0, child); last += 1; }
    });
    olds.forEach(function (child) { if (target.indexOf(child) < 0) { old.removeChild(child); } });
    var at = old.firstChild;
    target.forEach(function (node) {
      if (node === at) { at = at.nextSibling; } else { old.insertBefore(node, at); }
    });
  }

  // Say on a kept row or form, visibly, that it is not refreshed while it holds what was typed.
  function markHeld(node, said) {
    var mark = node.querySelector("[data-held]");
    if (!mark) {
      mark = document.createElement("small");
      mark.className = "held";
      mark.setAttribute("data-held", "");
      (node.tagName === "TR" ? (node.querySelector("form") || node.lastElementChild) : node).appendChild(mark);
    }
    if (mark.textContent !== said) { mark.textContent = said; }
  }

  // --- the board's and My queue's tables -------------------------------------------------------------------

  function refreshTable(body) {
    var url = body.dataset.refresh;
    poll(url).then(function (got) {
      if (!got) { return; }
      // A row holding a note (typed, or refused by the server) is held as it is; the others are refreshed.
      var held = Array.prototype.filter.call(body.querySelectorAll("tr[data-reference]"), busy),
          focused = document.activeElement, row = null, kind = "a", place = -1,
          opened = Array.prototype.map.call(body.querySelectorAll("tr[data-reference] details[open]"), function (d) {
            return d.closest("tr[data-reference]").dataset.reference;
          });
      if (focused && body.contains(focused)) {
        row = focused.closest("tr[data-reference]");
        kind = focused.tagName === "BUTTON" ? "button" : "a";
        place = Array.prototype.indexOf.call(body.querySelectorAll("tr[data-reference]"), row);
      }
      var before = rowStates(body);
      updateRows(body, got.html, held);
      if (!held.length) { tags[url] = got.tag; }  // else the next poll brings it all again, for the rows held
      if (body.closest("table.incidents:not(.exchanges-board)")) { tell(rowChanges(before, rowStates(body))); }
      opened.forEach(function (reference) {  // a row's note someone opened stays open
        var fold = body.querySelector('tr[data-reference="' + reference + '"] details');
        if (fold) { fold.open = true; }
      });
      if (row && held.indexOf(row) < 0) {  // the keyboard stays on the same row (its link, or its Acknowledge button)
        var same = body.querySelector('tr[data-reference="' + row.dataset.reference + '"]'),
            again = same && (same.querySelector(kind) || same.querySelector("a"));  // its button gone: its link
        if (!same) {  // the row left the list: the row now in its place (else the table), never back to the page's top
          // Its link, never its Acknowledge button: the Enter meant for the row that left would acknowledge this one.
          var rows = body.querySelectorAll("tr[data-reference]"), next = rows[Math.min(place, rows.length - 1)];
          again = next ? next.querySelector("a") : body.closest("table");
          if (again.tagName === "TABLE") { again.tabIndex = -1; }
        }
        again.focus();
      }
      updated(body);
    });
  }

  // The fresh rows in the table but for the rows held (a note typed, or refused, on them), kept as they are.
  function updateRows(body, html, held) {
    if (!held.length) { body.innerHTML = html; return; }
    var fresh = document.createElement("tbody"), twins = new Map();
    fresh.innerHTML = html;
    fresh.querySelectorAll("tr:not([data-reference])").forEach(function (row) { row.remove(); });  // "No incidents"
    held.forEach(function (row) {
      var twin = fresh.querySelector('tr[data-reference="' + row.dataset.reference + '"]');
      twins.set(row, twin);
      markHeld(row, twin ? "This row is not refreshed while it holds your note; the other rows are."
        : "This incident has left the list since; its row stays while it holds your note.");
    });
    mergeAround(body, fresh, held, twins);
  }

  // --- the incident page's live parts ----------------------------------------------------------------------

  // What the server changes on every drawing without meaning anything: the countdowns' text (ticked here) and
  // the CSRF tokens' signatures (web/etags.py takes out the same).
  function steady(html) {
    return html
      .replace(/<time class="countdown due"/g, '<time class="countdown"')
      .replace(/(<time class="countdown"[^>]*>)[^<]*/g, "$1")
      .replace(/(csrf_token" type="hidden" value=")[^"]*/g, "$1");
  }

  // The live parts directly inside root (a part, or the whole document).
  function partsOf(root) {
    return Array.prototype.filter.call(root.querySelectorAll("[data-live]"), function (el) {
      var up = el.parentElement && el.parentElement.closest("[data-live]");
      return root.nodeType === 9 ? !up : up === root;
    });
  }

  function find(root, key) { return root.querySelector('[data-live="' + key.replace(/"/g, '\\"') + '"]'); }

  // Describe the focused button or link so that its twin in the fresh HTML can take the focus back.
  function sameControl(a, b) {
    return a.tagName === b.tagName && a.textContent.trim() === b.textContent.trim() &&
           (a.getAttribute("href") || "") === (b.getAttribute("href") || "") &&
           ((a.form && a.form.getAttribute("action")) || "") === ((b.form && b.form.getAttribute("action")) || "");
  }

  function replace(part, fresh) {
    var focused = document.activeElement, hadFocus = focused && part.contains(focused) ? focused : null,
        wasOpen = Array.prototype.map.call(part.querySelectorAll("details"), function (d) { return d.open; });
    part.innerHTML = fresh.innerHTML;
    if (part.className !== fresh.className) { part.className = fresh.className; }
    // A list's first number (the timeline's, counted in the whole: web/incidents.py TIMELINE_SHOWN) follows its items.
    if (fresh.hasAttribute("start") && part.getAttribute("start") !== fresh.getAttribute("start")) {
      part.setAttribute("start", fresh.getAttribute("start"));
    }
    part.querySelectorAll("[data-announce]").forEach(function (el) {  // the new state, what comes next: said once swapped
      heard.push(el.textContent.replace(/\s+/g, " ").trim().replace(/([^.])$/, "$1."));
    });
    var folds = part.querySelectorAll("details");
    if (folds.length === wasOpen.length) { wasOpen.forEach(function (open, n) { if (open) { folds[n].open = true; } }); }
    refocus(part, hadFocus);
  }

  // Give the focus back after part was redrawn: to hadFocus's twin (hadFocus itself when it was kept), else the part.
  // Its twin is the element of the same id, else the same control. What static/app.js's land() gave the focus to after
  // a form (a message's row, an exchange's heading) takes it only by its tabindex="-1", which the fresh HTML has not:
  // its twin is given one too, else the focus fell to the page's body at the first refresh, seconds after landing.
  function refocus(part, hadFocus) {
    if (hadFocus && hadFocus !== document.activeElement) {
      var named = hadFocus.id && part.querySelector("#" + CSS.escape(hadFocus.id)),
          twin = (named && named.tagName === hadFocus.tagName && named) ||
            Array.prototype.find.call(part.querySelectorAll(hadFocus.tagName), function (el) { return sameControl(el, hadFocus); });
      if (twin && hadFocus.getAttribute("tabindex") === "-1" && !twin.hasAttribute("tabindex")) {
        twin.setAttribute("tabindex", "-1");
      }
      // Its control gone (acknowledged elsewhere): the part, or what holds it when it is hidden once empty, keeps the
      // focus, as the board's table does: the keyboard goes on from there and a screen reader keeps its place, where
      // on the body both started again at the top.
      var place = twin || part;
      while (!twin && !place.getClientRects().length && place.parentElement) { place = place.parentElement; }  // empty, hidden
      if (!twin && !place.hasAttribute("tabindex")) { place.setAttribute("tabindex", "-1"); }
      place.focus();
    }
  }

  // The forms (or a folded part's summary outside one) someone works in, and their twins in fresh: the same
  // action, the same place among the forms sending there.
  function heldForms(part, fresh, twins) {
    var held = [];
    part.querySelectorAll("form").forEach(function (form) { if (busy(form)) { held.push(form); } });
    part.querySelectorAll("details").forEach(function (fold) {
      var near = held.some(function (node) { return node.contains(fold) || fold.contains(node); });
      if (!near && busy(fold)) { held.push(fold); }
    });
    var summary = function (el) { var s = el.querySelector("summary"); return s ? s.textContent : ""; };
    held.forEach(function (node) {
      var same = function (el) {
        return node.tagName === "FORM" ? el.getAttribute("action") === node.getAttribute("action") : summary(el) === summary(node);
      };
      var olds = Array.prototype.filter.call(part.querySelectorAll(node.tagName), same),
          news = Array.prototype.filter.call(fresh.querySelectorAll(node.tagName), same);
      twins.set(node, news[olds.indexOf(node)] || null);
    });
    return held;
  }

  // Bring part up to date with fresh; true when all of it is (false: a form someone types in kept its old state).
  function swap(part, fresh) {
    var key = part.dataset.live, html = steady(fresh.innerHTML);
    if (applied[key] === html) { return true; }
    var twins = new Map(), held = busy(part) ? heldForms(part, fresh, twins) : null;
    if (!held) {
      replace(part, fresh);
      applied[key] = html;
      return true;
    }
    if (!held.length) {  // busy with no form to keep (a field of no form): the part stays, its inner parts refresh
      partsOf(part).forEach(function (inner) {
        var match = find(fresh, inner.dataset.live);
        if (match) { swap(inner, match); }
      });
      return false;
    }
    held.forEach(function (node) {
      markHeld(node, twins.get(node) ? "Not refreshed while it holds what you typed; the rest of the page is."
        : "No longer offered since (the incident changed); kept while it holds what you typed.");
    });
    var focused = document.activeElement;
    mergeAround(part, fresh, held, twins);
    refocus(part, focused && part.contains(focused) ? focused : null);
    return false;
  }

  function refreshIncident(source) {
    var url = source.dataset.liveSource;
    poll(url).then(function (got) {
      if (!got) { return; }
      var fresh = new DOMParser().parseFromString(got.html, "text/html"), whole = true;
      partsOf(document).forEach(function (part) {
        var match = find(fresh, part.dataset.live);
        if (match) { whole = swap(part, match) && whole; }
      });
      if (whole) { tags[url] = got.tag; }  // else the next poll brings it all again, to finish once typing ends
      tell(heard.splice(0));
      updated(document);
    });
  }

  // --- the alarm: a count in the tab title, an optional beep ------------------------------------------------

  var SOUND_KEY = "tracker.sound", baseTitle = document.title, seen = [], counted = 0, audio = null;

  function soundOn() {
    try { return window.localStorage.getItem(SOUND_KEY) === "on"; } catch (e) { return false; }
  }

  function beep() {
    var toggle = document.querySelector("[data-sound-toggle]");
    if (toggle) { toggle.dataset.beeps = String(Number(toggle.dataset.beeps || 0) + 1); }
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      audio = audio || new Context();
      if (audio.state === "suspended") { audio.resume(); }
      var at = audio.currentTime, tone = audio.createOscillator(), volume = audio.createGain();
      tone.type = "square";
      tone.frequency.value = 880;
      volume.gain.setValueAtTime(0.0001, at);
      volume.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
      volume.gain.exponentialRampToValueAtTime(0.0001, at + 0.35);
      tone.connect(volume);
      volume.connect(audio.destination);
      tone.start(at);
      tone.stop(at + 0.4);
    } catch (e) { /* no audio output: the title still counts */ }
  }

  // The FLASH rows still waiting and the exhausted rows of the incident tables.
  function alarms() {
    var keys = [];
    document.querySelectorAll("table.incidents:not(.exchanges-board) tr[data-reference]").forEach(function (row) {
      if (row.classList.contains("status-exhausted")) { keys.push("exhausted " + row.dataset.reference); }
      else if (row.classList.contains("prec-Z") && row.classList.contains("status-open")) { keys.push("flash " + row.dataset.reference); }
    });
    return keys;
  }

  // My queue says how many wait in its heading and tab title (web/queue.html): counted again as the rows change;
  // "Acknowledge all mine" is offered while a row has an Acknowledge of its own.
  function recountWaiting() {
    var said = document.querySelector("[data-waiting]"), all = document.querySelector(".ack-all");
    if (!said) { return; }
    if (all) { all.hidden = !document.querySelector("table.incidents:not(.exchanges-board) tr[data-reference] form.row-ack"); }
    var n = document.querySelectorAll("table.incidents:not(.exchanges-board) tr[data-reference]").length,
        words = (n ? String(n) : "none") + " awaiting acknowledgement";
    baseTitle = baseTitle.replace(said.textContent, words);
    document.title = document.title.replace(said.textContent, words);
    said.textContent = words;
  }

  function countAlarms() {
    recountWaiting();
    var fresh = alarms().filter(function (key) { return seen.indexOf(key) < 0; });
    document.title = (fresh.length ? "(" + fresh.length + ") " : "") + baseTitle;
    if (fresh.length > counted && soundOn()) { beep(); }
    counted = fresh.length;
  }

  function looked() { seen = alarms(); counted = 0; document.title = baseTitle; }

  function watchAlarms() {
    looked();
    document.addEventListener("tracker:updated", function (event) {
      if (event.target.closest && event.target.closest("table.incidents:not(.exchanges-board)")) { countAlarms(); }
    });
    ["click", "keydown"].forEach(function (name) { document.addEventListener(name, looked); });
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { looked(); } });
    var toggle = document.querySelector("[data-sound-toggle]");
    if (toggle) {
      toggle.checked = soundOn();
      toggle.addEventListener("change", function () {
        try { window.localStorage.setItem(SOUND_KEY, toggle.checked ? "on" : "off"); } catch (e) { /* private mode */ }
        if (toggle.checked) { beep(); }  // a sample, and the tap lets the browser play the next ones
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var tables = document.querySelectorAll("tbody[data-refresh]"), source = document.querySelector("[data-live-source]");
    if (source) {
      partsOf(document).forEach(function (part) { applied[part.dataset.live] = steady(part.innerHTML); });
    }
    if (document.querySelector("table.incidents:not(.exchanges-board) tbody[data-refresh]")) { watchAlarms(); }
    if (!tables.length && !source) { return; }
    setInterval(function () {
      tables.forEach(refreshTable);
      if (source) { refreshIncident(source); }
    }, POLL_MS);
  });
})();
