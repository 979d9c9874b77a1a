// Small helpers for the pages: live countdowns, the filing form (live.js keeps lists and the incident page fresh).
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

  // The server's clock, not this workstation's: a workstation minutes slow on an isolated network showed a deadline
  // passed now as minutes away. The page says when the server drew it (the footer's datetime); the difference
  // from this clock then is kept, and every countdown and the footer's clock count by the server's time.
  var skew = 0;
  function readSkew() {
    var clock = document.querySelector("[data-clock][datetime]"), drawn = clock && Date.parse(clock.getAttribute("datetime"));
    skew = drawn ? drawn - Date.now() : 0;
  }
  function serverNow() { return Date.now() + skew; }

  function tickCountdowns() {
    var now = serverNow();
    document.querySelectorAll("time.countdown[data-deadline]").forEach(function (el) {
      var left = Math.round((Date.parse(el.dataset.deadline) - now) / 1000);
      if (left <= 0) { el.textContent = "due now"; el.classList.add("due"); return; }
      el.textContent = "in " + duration(left);
      el.classList.remove("due");
    });
    var clock = document.querySelector("[data-clock]");
    if (clock) { clock.textContent = new Date(now).toISOString().slice(0, 19).replace("T", " ") + "Z"; }
  }

  function followDomain(form) {
    var map = JSON.parse(form.dataset.categories), domain = form.querySelector("[data-domain]"),
        category = form.querySelector("[data-category]");
    var all = Array.prototype.map.call(category.options, function (o) { return [o.value, o.textContent]; });
    function apply() {
      var allowed = map[domain.value] || [], chosen = category.value;
      category.innerHTML = "";
      all.forEach(function (pair) {  // the empty "Choose..." stays: a category of another domain is not kept
        if (pair[0] === "" || allowed.indexOf(pair[0]) >= 0) {
          var o = document.createElement("option"); o.value = pair[0]; o.textContent = pair[1];
          if (pair[0] === chosen) { o.selected = true; } category.appendChild(o);
        }
      });
    }
    domain.addEventListener("change", apply); apply();
    return apply;
  }

  // Whether the page was come back to with Back or Forward (from the browser's cache, or fetched again and refilled).
  function cameBack(event) {
    var nav = window.performance && performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    return event.persisted || Boolean(nav && nav.type === "back_forward");
  }

  // A filing form's one-time key (tracker/web/incidents.py): a form sent, come back to with Back and sent again,
  // files once and shows the incident it filed. The browser fetched the page afresh, under a new key, and refilled
  // what had been typed: sent again, that filed the same incident a second time.
  function keepFilingKey(form) {
    var key = form.querySelector("[name=filing_key]"), stored = "tracker.filing-key-sent";
    if (!key || !window.sessionStorage) { return; }
    // A form opened anew (not come back to) is no form sent: what the last one sent is forgotten, so that Back to
    // this one later gets neither that form's key (it would answer "filed already" with the other incident) nor
    // its category and position.
    if (!cameBack({ persisted: false })) {
      try { sessionStorage.removeItem(stored); sessionStorage.removeItem(REFILLED); } catch (e) {}
    }
    form.addEventListener("submit", function () {
      try {
        sessionStorage.setItem(stored, key.value);
        sessionStorage.setItem(REFILLED, JSON.stringify(REFILLS.reduce(function (kept, name) {
          var field = form.querySelector("[name=" + name + "]"); if (field) { kept[name] = field.value; } return kept;
        }, {})));
      } catch (e) {}
    });
    window.addEventListener("pageshow", function (event) {
      if (!cameBack(event)) { return; }
      var sent = null;
      try { sent = sessionStorage.getItem(stored); } catch (e) {}
      if (sent) { key.value = sent; }
    });
  }

  // What the browser does not refill when the form is come back to: the category (its options are the domain's,
  // rebuilt by followDomain before the browser refills) and the position (autocomplete="off"). Kept as sent, and
  // put back where the field came back empty, after the categories follow the domain refilled.
  var REFILLED = "tracker.filing-fields-sent", REFILLS = ["category", "position"];
  function refill(form) {
    var kept = null;
    try { kept = JSON.parse(sessionStorage.getItem(REFILLED) || "null"); } catch (e) {}
    if (!kept) { return; }
    REFILLS.forEach(function (name) {
      var field = form.querySelector("[name=" + name + "]");
      if (!field || field.value || !kept[name]) { return; }
      if (field.tagName === "SELECT" && !field.querySelector('option[value="' + CSS.escape(kept[name]) + '"]')) { return; }
      field.value = kept[name];
    });
  }

  // A sentence of ours naming what was typed or configured (a sector), each name in a <bdi> of its own: written in
  // as plain text, a name in Arabic or Hebrew draws the words and the full stop beside it into its right-to-left
  // run (tracker/web/bidi.py does the same on the pages). parts: {text, values}, as tracker.sentences keeps one.
  function fill(element, parts) {
    element.textContent = "";
    parts.text.split(/(\{\w+\})/).forEach(function (piece) {
      var name = /^\{(\w+)\}$/.exec(piece), bdi;
      if (name) { bdi = document.createElement("bdi"); bdi.textContent = parts.values[name[1]]; element.appendChild(bdi); }
      else if (piece) { element.appendChild(document.createTextNode(piece)); }
    });
  }

  // The filing form's sector follows the position's sector (read back) until chosen by hand; the line
  // under it says where the position lies, and warns when the sector chosen is another one.
  // While it follows, the hidden sector_followed says so: the sector is then derived, and follows the position
  // when it is amended; one chosen otherwise was given by hand, and stays.
  function followSector(select) {
    var hint = select.form.querySelector('[data-hint-for="' + select.id + '"]'), derived = null,
        flag = select.form.querySelector('input[name="sector_followed"]'),
        following = !select.value || (flag !== null && flag.value === "1");
    function mark() { if (flag) { flag.value = following ? "1" : ""; } }
    function has(value) { return Array.prototype.some.call(select.options, function (o) { return o.value === value; }); }
    function say() {
      var chosen = select.value, text = "", warn = false;
      if (derived === null) { text = ""; }
      else if (!chosen || chosen === derived) {
        text = derived ? "The position lies in {derived}." : "The position lies outside every sector of the region.";
      } else {
        warn = true;
        text = "The position lies " + (derived ? "in {derived}" : "outside every sector") + ", not in {chosen}" +
               ": routing takes the sector chosen here.";
      }
      if (hint) { fill(hint, { text: text, values: { derived: derived, chosen: chosen } }); hint.classList.toggle("warning", warn); }
    }
    select.addEventListener("change", function () { following = !select.value || select.value === derived; mark(); say(); });
    mark();
    return function (sector) {  // the read-back's sector of the position (undefined: no position read)
      derived = sector === undefined ? null : sector;
      if (following || select.value === derived) {
        following = true;
        select.value = derived && has(derived) ? derived : "";
      }
      mark();
      say();
    };
  }

  function readBack(form) {
    var url = form.dataset.readback, timer = null, initial = true, sector = form.querySelector("select[data-sector]"),
        tellSector = sector ? followSector(sector) : null, asked = 0;
    function ask() {
      // Each answer is shown only while it answers the latest question: on a slow network the answer for a
      // position replaced since came last and read back, with its sector, the position no longer typed.
      var query = new URLSearchParams(), first = initial, mine = ++asked;
      initial = false;
      ["occurred_at", "position"].forEach(function (name) {
        var input = form.querySelector("[name=" + name + "]"); if (input) { query.set(name, input.value); }
      });
      fetch(url + "?" + query.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : {}; })
        .then(function (answer) {
          if (mine !== asked) { return; }  // a later question was asked meanwhile: its answer speaks
          ["occurred_at", "position"].forEach(function (name) {  // only what was typed: nothing typed, no line
            var input = form.querySelector("[name=" + name + "]"),
                hint = input && form.querySelector('[data-hint-for="' + input.id + '"]');
            if (!hint || (first && input.closest(".has-error"))) { return; }  // a returned form says what is wrong
            if (answer[name + "_parts"]) { fill(hint, answer[name + "_parts"]); } else { hint.textContent = answer[name] || ""; }
          });
          if (tellSector) { tellSector(answer.sector); }
        }).catch(function () {});
    }
    form.addEventListener("input", function (event) {
      if (["occurred_at", "position"].indexOf(event.target.name) < 0) { return; }
      clearTimeout(timer); timer = setTimeout(ask, 300);
    });
    ask();
    return ask;
  }

  document.addEventListener("DOMContentLoaded", function () {
    readSkew();
    tickCountdowns();
    setInterval(tickCountdowns, 1000);
    document.addEventListener("tracker:updated", tickCountdowns);  // live.js swapped fresh HTML in
    var filing = document.querySelector("form[data-categories]");
    if (filing) {
      var followAgain = followDomain(filing), readAgain = readBack(filing);
      keepFilingKey(filing);
      // Come back to with Back, the page is refilled with what was typed after this ran: the categories and the
      // read-backs follow what it holds then, not what it held when it was served.
      window.addEventListener("pageshow", function (event) {
        if (cameBack(event)) { followAgain(); refill(filing); readAgain(); }
      });
    }
    // Optional parts of a form (observed forces) stay folded on a phone and open on a wider screen.
    if (window.matchMedia && window.matchMedia("(min-width: 761px)").matches) {
      document.querySelectorAll("details[data-open-wide]").forEach(function (d) { d.open = true; });
    }
    // A link to a field (#narrative_addendum, from the incident page or the amend page's top): the field takes the
    // focus, its label in sight, so that a phone's keyboard opens on it at once.
    function goToField() {
      var target = named();
      if (target && target.matches("input, textarea, select")) {
        target.focus({ preventScroll: true });
        (target.closest(".field") || target).scrollIntoView({ block: "start" });
      }
    }
    window.addEventListener("hashchange", goToField);
    document.addEventListener("click", function (event) {  // the same link again: no hashchange
      if (event.target.closest && event.target.closest('a[href^="#"]')) { setTimeout(goToField, 0); }
    });
    goToField();
    // On a phone the sections scroll sideways in one row: the one this page is in is brought into sight there
    // (nav's own scroll only: scrollIntoView would also move the page off an anchor it was opened at).
    var nav = document.querySelector("header.top nav"), here = nav && nav.querySelector("[aria-current]");
    if (here && nav.scrollWidth > nav.clientWidth) {
      nav.scrollLeft = here.offsetLeft - nav.offsetLeft - (nav.clientWidth - here.offsetWidth) / 2;
    }
    land();
  });

  // Where the keyboard's focus goes when a page comes back from a form (POST, then redirect or a 422): not the
  // page's top, which left a keyboard user to Tab through the header again to where they were.
  //  - A field refused (a form returned with a problem far down a long page, the incident page's exchange forms):
  //    that field, which names its error.
  //  - Refused otherwise (a 409 told by a flash line, a form's problem that is no field's): the message saying why,
  //    the refused form's own, else the flash line.
  //  - Done: what was acted on, which the redirect named (#incident-<reference>, the link of its row on the board or
  //    My queue; #exchange-<id>-heading, an exchange opened or moved; #message-<id>, #summary-<id>; a call's
  //    #call-<id>, its heading, and #action-<id>). Refused, a redirect names nothing: Chromium moves the focus to a
  //    fragment's target (or off anything, when it cannot take it) after this script ran.
  //  - Else the flash line that says what was done (the row left My queue; the incident page's own Acknowledge).
  // A page that chose a field itself (autofocus) keeps it. Without this script a fragment still scrolls to what was
  // acted on, and the browser's Tab goes on from there.
  function land() {
    if (document.querySelector("[autofocus]")) { return; }
    var wrong = document.querySelector('[aria-invalid="true"]');
    if (wrong && wrong.matches("fieldset")) {  // a group of checkboxes: its first box
      wrong = wrong.querySelector("input, select, textarea") || wrong;
    }
    if (wrong) {
      var fold = wrong.closest("details");
      if (fold) { fold.open = true; }
      wrong.focus();
      return;
    }
    var flashes = document.querySelectorAll("[data-flashes] > .flash"),
        refused = Array.prototype.filter.call(flashes, function (f) { return f.classList.contains("error"); })[0] ||
          // A page's own refusal above its form (amend). A standing notice (a summary that would be refused, a desk
          // watched twice) is role="note": focused on every load, it took the page past its heading and the focus
          // from where a redirect sent it.
          document.querySelector('.flash.error[role="alert"]');
    if (refused) {
      focusOn(document.querySelector('form p.error[role="alert"]') || refused);
      return;
    }
    var target = named();
    if (target && target.matches("input, textarea, select")) { return; }  // goToField's
    if (target && flashes.length) {
      focusOn(target);
    } else if (flashes.length) {
      focusOn(flashes[0]);
    }
  }

  // A page drawn as the answer to a POST (the confirm step of a resolve or a delete: web/acting.py ask_first) stands in
  // the history as that POST: Back to it from the page the step led to asked the browser to send the form again
  // ("Confirm form resubmission"; an error page on a phone). Once the step is confirmed its history entry becomes the
  // page it cancels to, a GET; Cancel puts that page in its place. Until then it stays what it is: a reload asks to
  // send the form again and keeps what was typed, where loading the page it cancels to lost it without a word.
  var asked = document.querySelector("[data-history-as]");
  if (asked && window.history && window.history.replaceState) {
    var back = asked.getAttribute("data-history-as");
    asked.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function () { window.history.replaceState(null, "", back); });
    });
    asked.querySelectorAll("a[data-cancel]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) { return; }
        event.preventDefault();
        window.location.replace(link.href);  // a load, never a jump within this page: its address is the POST's
      });
    });
  }

  // The element the address's fragment names, if any: a fragment that is no valid percent-encoding (#%E0, typed
  // by hand) names none, where decodeURIComponent's URIError stopped the script.
  function named() {
    if (!window.location.hash) { return null; }
    try {
      return document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
    } catch (e) {
      return null;
    }
  }

  function focusOn(element) {
    if (element.tabIndex < 0 && !element.hasAttribute("tabindex")) { element.setAttribute("tabindex", "-1"); }
    element.focus();
  }
})();
