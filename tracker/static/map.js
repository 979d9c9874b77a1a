// The map page: Leaflet over the tracker's own base layer (Natural Earth coastlines and borders as GeoJSON),
// the region, exercise areas drawn whole, open incidents as markers (clustered when they pile up, FLASH on
// top and first in the list), and a position search. Everything comes from this app: no tiles, no other host.
(function () {
  "use strict";

  var RANK = { Z: 0, O: 1, P: 2, R: 3 };
  var PRECEDENCE_NAMES = { Z: "FLASH", O: "IMMEDIATE", P: "PRIORITY", R: "ROUTINE" };
  var PHASES = { running: "under way", upcoming: "to come", past: "over" };
  var STYLES = {
    land: { color: "#6a7783", weight: 1, fillColor: "#252f38", fillOpacity: 1 },
    countryBorder: { color: "#8a96a3", weight: 1, dashArray: "4 3", fill: false },
    sector: { color: "#6f9a7e", weight: 1.5, fillColor: "#6f9a7e", fillOpacity: 0.1 },
    // A sector's part beyond a border line (the Coast's waters across the maritime boundary): ours to answer
    // for, not ours: outlined, hardly filled.
    sectorBeyond: { color: "#6f9a7e", weight: 1, dashArray: "3 5", fillColor: "#6f9a7e", fillOpacity: 0.03 },
    border: { color: "#ff6b9a", weight: 3, dashArray: "10 4 2 4", fill: false },
    running: { color: "#5aa9ff", weight: 2, dashArray: "6 4", fillColor: "#5aa9ff", fillOpacity: 0.18 },
    upcoming: { color: "#c39bff", weight: 2, dashArray: "2 5", fillColor: "#c39bff", fillOpacity: 0.12 },
    past: { color: "#a9b4bf", weight: 1.5, dashArray: "1 5", fillColor: "#a9b4bf", fillOpacity: 0.08 }
  };
  var REFRESH_MS = 60000;

  // The node's content made text: a text, or a list of texts and nodes (a name isolated among our words) one after
  // the other.
  function put(node, text) {
    node.textContent = "";
    if (Array.isArray(text)) {
      text.forEach(function (piece) { node.appendChild(typeof piece === "string" ? document.createTextNode(piece) : piece); });
    } else if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    return put(node, text);
  }

  // A name typed or configured (a sector, an exercise, a state) in a <bdi> of its own: beside our words, a name in
  // Arabic or Hebrew would draw them, the dots and the commas into its right-to-left run (as web/bidi.py on pages).
  function isolated(name) { return make("bdi", null, name); }

  function isolatedList(names) {
    return names.reduce(function (pieces, name, i) { return pieces.concat(i ? [", ", isolated(name)] : [isolated(name)]); }, []);
  }

  function line(parent, text) { parent.appendChild(make("div", null, text)); }

  function precedence(p) { return RANK.hasOwnProperty(p.precedence) ? p.precedence : "R"; }

  function word(code) { return String(code).replace(/[^a-z_]/g, ""); }

  // "Position 54.41200, 22.87100 = ... = MGRS ... · sector North · 12.3 km from the border", as the page says it.
  // The position read back, as pieces for make (the sector isolated).
  function readback(where) {
    var pieces = ["Position " + where.decimal + " = " + where.ddm + " = " + where.dms + " = MGRS " + where.mgrs];
    if (where.sector) { pieces.push(" · sector ", isolated(where.sector)); }
    else if (where.outside_sectors) { pieces.push(" · outside every sector"); }
    if (typeof where.border_km === "number") { pieces.push(" · " + where.border_km.toFixed(1) + " km from the border"); }
    return pieces;
  }

  function MapPage(root) {
    this.root = root;
    this.urls = { data: root.dataset.mapData, position: root.dataset.mapPosition, base: root.dataset.mapBase,
                  incident: root.dataset.incidentUrl };
    this.form = root.querySelector("form.map-controls");
    this.input = this.form.querySelector("[name=at]");
    this.when = this.form.querySelector("[name=exercises]");
    this.said = root.querySelector("#at-readback");
    this.status = root.querySelector(".map-status");
    this.popupOpen = false;
    this.fitted = false;
    // No view until the data says where to look: layers added before then wait for it, so the first
    // drawing happens once, at its final zoom (markers never cluster and uncluster as the map settles).
    this.map = L.map(root.querySelector("#map"), { zoomSnap: 0.5, minZoom: 2, maxZoom: 14, attributionControl: false });
    L.control.scale({ imperial: false }).addTo(this.map);
    L.control.attribution({ prefix: false }).addAttribution("Natural Earth · Leaflet").addTo(this.map);
    // Leaflet puts its controls after the panes, so the keyboard reached every marker before the zoom buttons:
    // first in the map's order now (they are placed absolutely, above the panes, wherever they stand).
    var box = this.map.getContainer(), controls = box.querySelector(".leaflet-control-container");
    if (controls) { box.insertBefore(controls, box.firstChild); }
    this.map.createPane("basePane");  // under the overlays whenever the base layer arrives (map.css)
    this.region = L.featureGroup().addTo(this.map);
    this.exercises = L.featureGroup().addTo(this.map);
    this.incidents = L.markerClusterGroup({ maxClusterRadius: 36, showCoverageOnHover: false,
                                            spiderfyOnMaxZoom: true, iconCreateFunction: clusterIcon }).addTo(this.map);
    this.probe = L.featureGroup().addTo(this.map);
    var page = this;
    this.map.on("popupopen", function (event) { page.popupOpen = true; page.enterPopup(event.popup); });
    this.map.on("popupclose", function (event) { page.popupOpen = false; page.leavePopup(event.popup); });
    // Escape closes the popup from wherever the focus is in the map (Leaflet's own Escape works only while the
    // map's box itself has the focus, never from a marker or the popup's links).
    this.map.getContainer().addEventListener("keydown", function (event) {
      if (event.key === "Escape" && page.popupOpen) { event.preventDefault(); page.map.closePopup(); }
    });
    this.form.addEventListener("submit", function (event) { event.preventDefault(); page.find(); });
    this.when.addEventListener("change", function () { page.remember(); page.load(); });
    this.fitButton = root.querySelector(".map-fit");
    this.fitButton.addEventListener("click", function () { page.fitEverything(); });
    this.loadBase();
    this.load().then(function () {
      if (root.dataset.probe) { page.placeProbe(JSON.parse(root.dataset.probe)); }
    });
    setInterval(function () { if (!page.popupOpen && !document.hidden) { page.load(); } }, REFRESH_MS);
  }

  // The cluster takes the colour of its most urgent incident, and a cluster holding a FLASH lies on top.
  function clusterIcon(cluster) {
    var urgent = cluster.getAllChildMarkers().reduce(function (best, marker) {
      return RANK[marker.options.precedence] < RANK[best] ? marker.options.precedence : best;
    }, "R");
    cluster.options.zIndexOffset = (3 - RANK[urgent]) * 1000;
    // Named by what it holds, its urgency said as well as coloured: a screen reader heard "4" alone.
    var count = make("span", null, [String(cluster.getChildCount()),
      make("span", "sr-only", " incidents, the most urgent " + PRECEDENCE_NAMES[urgent] + ": zoom in to see them")]);
    return L.divIcon({ html: count, className: "map-cluster prec-" + urgent, iconSize: L.point(36, 36) });
  }

  MapPage.prototype.loadBase = function () {
    var page = this;
    fetch(this.urls.base, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (world) {
        L.geoJSON(world, {
          pane: "basePane", interactive: false, renderer: L.canvas({ pane: "basePane", padding: 0.5 }),
          style: function (f) { return f.properties.kind === "land" ? STYLES.land : STYLES.countryBorder; }
        }).addTo(page.map);
      })
      .catch(function () { page.say("The base map (coastlines and borders) could not be loaded."); });
  };

  MapPage.prototype.load = function () {
    var page = this;
    return fetch(this.urls.data + "?exercises=" + encodeURIComponent(this.when.value), { credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 401 || r.redirected) { window.location.reload(); return null; }  // signed out
        if (!r.ok) { throw new Error(r.status); }
        return r.text();
      })
      .then(function (text) {
        if (text === null || text === page.last) { return; }  // unchanged: keep the popups, focus and list as they are
        page.last = text;
        page.draw(JSON.parse(text));
      })
      .catch(function () {
        page.say("The map data could not be loaded; it is asked for again in a minute.");
        if (!page.fitted) { page.fitted = true; page.map.setView([30, 10], 2); }
      });
  };

  MapPage.prototype.say = function (text) { this.status.textContent = text; };

  MapPage.prototype.draw = function (data) {
    var page = this, items = [], exercises = [];
    this.region.clearLayers();
    this.exercises.clearLayers();
    this.incidents.clearLayers();
    data.features.forEach(function (f) {
      var kind = f.properties.kind;
      // Names go in as text nodes: Leaflet reads a string given to a tooltip as HTML, and an exercise's
      // name is whatever a notice (or a CSV of the other side's calendar) said.
      if (kind === "sector" || kind === "border") {
        var beyond = kind === "sector" && f.properties.beyond_border === true;
        var name = beyond ? [isolated(f.properties.name), " (beyond the border)"] : [isolated(f.properties.name)];
        var said = (kind === "border" ? "Border: " : "Sector ") + f.properties.name + (beyond ? " (beyond the border)" : "");
        page.region.addLayer(page.shape(f, beyond ? STYLES.sectorBeyond : STYLES[kind], "map-" + kind + (beyond ? " map-sector-beyond" : ""), said)
          .bindTooltip(make("span", null, name), {
            permanent: kind === "sector", direction: "center", className: "map-label map-label-" + kind + (beyond ? " map-label-beyond" : "") }));
      } else if (kind === "exercise") {
        var phase = word(f.properties.phase);
        var layer = page.shape(f, STYLES[phase], "map-exercise map-exercise-" + phase, "Exercise " + f.properties.name + ", " + (PHASES[phase] || phase));
        layer.bindTooltip(make("span", null, [isolated(f.properties.name)]), { sticky: true }).bindPopup(exercisePopup(f.properties));
        page.exercises.addLayer(layer);
        exercises.push([f.properties, layer]);
      } else if (kind === "incident") {
        var marker = page.marker(f);
        page.incidents.addLayer(marker);
        items.push([f.properties, marker]);
      }
    });
    this.list(items, data.unplaced);
    this.listExercises(exercises);
    var n = items.length, m = exercises.length;
    this.say(n + " open incident" + (n === 1 ? "" : "s") + " with a position" +
             (data.unplaced.length ? ", " + data.unplaced.length + " without" : "") +
             (data.left_off ? ", " + data.left_off + " more not drawn (the least urgent)" : "") + "; " +
             m + " exercise" + (m === 1 ? "" : "s") + " (" + this.chosen() + ").");
    if (!this.fitted) {
      this.fitted = true;
      var first = data.region_configured ? boundsOf([this.region, this.exercises]) : this.everything();
      if (first) { this.map.fitBounds(first, { padding: [16, 16], maxZoom: 10 }); } else { this.map.setView([30, 10], 2); }
    }
    this.fitButton.hidden = false;
  };

  // named: what a screen reader calls the shape where the keyboard reaches it (an unnamed "graphics symbol" before).
  MapPage.prototype.shape = function (feature, style, className, named) {
    var shape = L.geoJSON(feature, { style: function () { return L.extend({ className: className }, style); } });
    if (named) {
      shape.on("add", function () {
        shape.eachLayer(function (layer) {
          var path = layer.getElement && layer.getElement();
          if (path) { path.setAttribute("aria-label", named); }
        });
      });
    }
    return shape;
  };

  function boundsOf(groups) {
    var bounds = L.latLngBounds([]);
    groups.forEach(function (g) { if (g.getLayers().length) { bounds.extend(g.getBounds()); } });
    return bounds.isValid() ? bounds : null;
  }

  MapPage.prototype.everything = function () {
    return boundsOf([this.region, this.exercises, this.incidents, this.probe]);
  };

  MapPage.prototype.fitEverything = function () {
    var all = this.everything();
    if (all) { this.map.fitBounds(all, { padding: [16, 16], maxZoom: 10 }); }
  };

  MapPage.prototype.incidentLink = function (reference) {
    var link = make("a", null, reference);
    link.href = this.urls.incident.replace("REFERENCE", encodeURIComponent(reference));
    return link;
  };

  MapPage.prototype.marker = function (f) {
    var p = f.properties, c = f.geometry.coordinates, prec = precedence(p);
    var said = p.reference + " · " + prec + " " + p.precedence_name + " · " + p.category_label;
    // The letter is shown; the reference, precedence and category are its name (a screen reader heard "Z").
    var shown = make("span", null, [make("span", null, prec), make("span", "sr-only", said)]);
    shown.firstChild.setAttribute("aria-hidden", "true");
    var marker = L.marker([c[1], c[0]], {
      icon: L.divIcon({ html: shown, iconSize: L.point(26, 26),
                        className: "map-marker prec-" + prec + " status-" + word(p.status) }),
      zIndexOffset: (3 - RANK[prec]) * 1000,  // FLASH over IMMEDIATE over PRIORITY over ROUTINE
      title: said,
      precedence: prec
    });
    marker.bindPopup(this.incidentPopup(p));
    marker.on("add", function () { var icon = marker.getElement(); if (icon) { icon.dataset.reference = p.reference; } });
    return marker;
  };

  // A popup opened with the focus on a marker (Enter) or on the list's "Show on map" takes the focus: its link, else
  // its text. Left on the marker, the keyboard went on to the next marker and a screen reader never reached the
  // popup (its pane comes after every marker). The opener is kept to give the focus back to (leavePopup).
  MapPage.prototype.enterPopup = function (popup) {
    var opener = document.activeElement, box = popup.getElement();
    this.opener = null;
    if (!box || !opener || opener === document.body || box.contains(opener)) { return; }  // not from the keyboard's place
    this.opener = opener;
    var content = box.querySelector(".leaflet-popup-content"), first = content.querySelector("a[href], button");
    if (!first) { content.tabIndex = -1; first = content; }
    first.focus({ preventScroll: true });  // Leaflet pans the popup into the map's view; scrolled, the map's box shifts
  };

  // The popup closed (Escape, its × or another popup) while the focus was in it: back to what opened it, else the
  // focus fell to the page's top as the popup's links went.
  MapPage.prototype.leavePopup = function (popup) {
    var opener = this.opener, box = popup.getElement(), active = document.activeElement;
    this.opener = null;
    if (!opener || !document.contains(opener)) { return; }
    if (active && active !== document.body && !(box && box.contains(active))) { return; }  // the focus moved on
    opener.focus({ preventScroll: true });
  };

  // Zoom in on the marker until it stands out of its cluster, then open its popup; markers at the very same
  // place are spread out (spiderfied). markercluster's own zoomToShowLayer does this too, but after an
  // animated zoom it sometimes misses the end of the animation and never opens the popup.
  MapPage.prototype.reveal = function (marker) {
    var map = this.map, group = this.incidents, zoom = map.getZoom();
    map.panTo(marker.getLatLng(), { animate: false });
    while (group.getVisibleParent(marker) !== marker && zoom < map.getMaxZoom()) {
      zoom += 1;
      map.setView(marker.getLatLng(), zoom, { animate: false });
    }
    var shown = group.getVisibleParent(marker);
    if (shown === marker) { marker.openPopup(); return; }
    if (!shown || !shown.spiderfy) { return; }
    function spread() {
      group.once("spiderfied", function () { marker.openPopup(); });
      shown.spiderfy();
    }
    // A cluster spreads nothing while the group still animates the zoom above into its clusters (markercluster's
    // spiderfy returns at once then): markers a few metres apart stayed a closed cluster, no facts shown.
    if (group._inZoomAnimation) { group.once("animationend", spread); } else { spread(); }
  };

  MapPage.prototype.incidentPopup = function (p) {
    var box = make("div", "map-popup"), head = make("div");
    head.appendChild(make("strong")).appendChild(this.incidentLink(p.reference));
    head.appendChild(document.createTextNode(" "));
    head.appendChild(make("span", "badge prec-" + precedence(p), precedence(p) + " " + p.precedence_name));
    box.appendChild(head);
    line(box, p.category_label + " · " + p.status_label);
    line(box, "Occurred " + p.occurred_dtg);
    line(box, p.position.decimal);
    line(box, p.position.dms);
    line(box, "MGRS " + p.position.mgrs);
    line(box, p.sector ? ["Sector ", isolated(p.sector)] : (p.outside_sectors ? "Outside every sector" : "No sector"));
    return box;
  };

  // Whether the other side was told: an exercise with no notification on record is not drawn as a notified one.
  function notified(p) {
    return p.notified_dtg ? "Notified " + p.notified_dtg : "No notification on record";
  }

  function exercisePopup(p) {
    var box = make("div", "map-popup");
    box.appendChild(make("strong", null, [isolated(p.name)]));
    line(box, ["Exercise " + (PHASES[p.phase] || p.phase)].concat(p.states.length ? [" · "].concat(isolatedList(p.states)) : []));
    line(box, p.starts_dtg + " to " + p.ends_dtg);
    line(box, notified(p));
    if (p.radius_km) { line(box, p.radius_km + " km around its centre"); }
    return box;
  }

  function locateButton(label, onClick, map) {
    var button = make("button", "link map-locate", "Show on map");
    button.type = "button";
    button.setAttribute("aria-label", "Show on map: " + label);  // begins with what it shows, for voice control
    button.addEventListener("click", function () {
      // On a phone the list stands below the map: what it shows opened off the screen, above, and the button
      // seemed to do nothing. The map comes into sight first (its popup opens inside it, the focus there).
      map.getContainer().scrollIntoView({ block: "start" });
      onClick();
    });
    return button;
  }

  MapPage.prototype.list = function (items, unplaced) {
    var page = this, list = this.root.querySelector(".map-incidents"), rest = this.root.querySelector(".map-unplaced");
    list.textContent = "";
    items.forEach(function (pair) {
      var p = pair[0], marker = pair[1], prec = precedence(p), item = make("li", "prec-" + prec);
      item.dataset.reference = p.reference;
      item.appendChild(page.incidentLink(p.reference));
      item.appendChild(document.createTextNode(" "));
      item.appendChild(make("span", "badge prec-" + prec, prec + " " + p.precedence_name));
      item.appendChild(make("small", null, " " + p.status_label));
      var where = p.sector ? ["sector ", isolated(p.sector)] : [p.outside_sectors ? "outside every sector" : p.position.decimal];
      item.appendChild(make("div", "map-item-facts", [p.category_label + " · " + p.occurred_dtg + " · "].concat(where)));
      item.appendChild(locateButton(p.reference, function () { page.reveal(marker); }, page.map));
      list.appendChild(item);
    });
    if (!items.length) { list.appendChild(make("li", "empty", "No open incident has a position.")); }
    rest.textContent = "";
    rest.hidden = !unplaced.length;
    if (unplaced.length) {
      rest.appendChild(document.createTextNode("No position given: "));
      unplaced.forEach(function (reference, i) {
        if (i) { rest.appendChild(document.createTextNode(", ")); }
        rest.appendChild(page.incidentLink(reference));
      });
    }
  };

  MapPage.prototype.listExercises = function (exercises) {
    var page = this, list = this.root.querySelector(".map-exercises");
    list.textContent = "";
    exercises.forEach(function (pair) {
      var p = pair[0], layer = pair[1], item = make("li", "map-exercise-item phase-" + word(p.phase));
      item.appendChild(make("strong", null, [isolated(p.name)]));
      item.appendChild(make("div", "map-item-facts",
                            (PHASES[p.phase] || p.phase) + " · " + p.starts_dtg + " to " + p.ends_dtg +
                            " · " + notified(p)));
      item.appendChild(locateButton(p.name, function () {
        page.map.fitBounds(layer.getBounds(), { padding: [24, 24] });
      }, page.map));
      list.appendChild(item);
    });
    if (!exercises.length) { list.appendChild(make("li", "empty", "None " + this.chosen() + ".")); }
  };

  // The time filter's choice in words: "under way", "over in the last 30 days".
  MapPage.prototype.chosen = function () { return this.when.selectedOptions[0].textContent.trim().toLowerCase(); };

  MapPage.prototype.remember = function () {
    var query = new URLSearchParams();
    if (this.input.value.trim()) { query.set("at", this.input.value.trim()); }
    query.set("exercises", this.when.value);
    window.history.replaceState(null, "", "?" + query.toString());
  };

  MapPage.prototype.find = function () {
    var page = this, typed = this.input.value.trim();
    this.remember();
    if (!typed) { this.probe.clearLayers(); this.tell("", false); return; }
    fetch(this.urls.position + "?q=" + encodeURIComponent(typed), { credentials: "same-origin" })
      .then(function (r) {
        if (r.status === 401 || r.redirected) { window.location.reload(); return null; }
        return r.json().then(function (body) { return { ok: r.ok, body: body }; });
      })
      .then(function (answer) {
        if (!answer) { return; }
        if (!answer.ok) { page.tell(answer.body.error.message, true); return; }
        page.placeProbe(answer.body);
      })
      .catch(function () { page.tell("The position could not be read back: the tracker did not answer.", true); });
  };

  MapPage.prototype.tell = function (text, wrong) {  // text: as make takes it
    put(this.said, text);
    this.said.classList.toggle("error", wrong);
    this.form.querySelector(".map-find").classList.toggle("has-error", wrong);
    if (wrong) { this.input.setAttribute("aria-invalid", "true"); } else { this.input.removeAttribute("aria-invalid"); }
  };

  MapPage.prototype.placeProbe = function (where) {
    var said = make("div", "map-popup", readback(where));
    this.tell(readback(where), false);
    this.probe.clearLayers();
    L.marker([where.latitude, where.longitude], {
      icon: L.divIcon({ className: "map-probe", iconSize: L.point(30, 30) }), zIndexOffset: 5000, title: said.textContent
    }).bindPopup(said).addTo(this.probe);
    this.map.setView([where.latitude, where.longitude], this.fitted ? Math.max(this.map.getZoom(), 8) : 8);
    this.fitted = true;  // the position asked for, not the region, is where to look
  };

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector(".map-page[data-map-data]");
    if (root && window.L) { new MapPage(root); }
  });
})();
