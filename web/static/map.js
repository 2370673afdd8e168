/* GeoArchive map behaviour: markers built from data, popups, "search this area", offline basemap.
 *
 * Loaded as a file (allowed by the CSP as 'self'); nothing here uses innerHTML with
 * archive text: names and headlines are set with textContent.
 */
(function () {
  "use strict";

  function container() {
    return document.querySelector(".ga-map");
  }

  function settings(el) {
    el = el || container();
    var d = el ? el.dataset : {};
    return {
      placeUrl: (d.placeUrl || "/place/0").replace(/0$/, ""),
      searchUrl: d.searchUrl || "/",
      apiUrl: d.apiUrl || "/api/search",
      query: d.query || "",
      most: Number(d.most || 1),
      countries: d.countries ? JSON.parse(d.countries) : {},
    };
  }

  function mapOf(el) {
    return el && el.dataset.map ? window[el.dataset.map] : null;
  }

  function radius(count) {
    return Math.round(Math.min(5 + 2.5 * Math.log2(Math.max(count, 1)), 20) * 10) / 10;
  }

  function shade(count, most) {
    var share = Math.log1p(count) / Math.log1p(Math.max(most, 1));
    var light = [158, 202, 225], dark = [8, 48, 107];
    var rgb = light.map(function (a, i) { return Math.round(a + (dark[i] - a) * share); });
    return "#" + rgb.map(function (v) { return v.toString(16).padStart(2, "0"); }).join("");
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function narrowUrl(s, id) {
    var params = new URLSearchParams(s.query);
    params.delete("page");
    params.set("place", id);
    return s.searchUrl + "?" + params.toString();
  }

  /* Popup for a marker built from a data row: [lat, lon, geonameid, name, count, country]. */
  function rowPopup(row) {
    var s = settings();
    var box = el("div", { "class": "ga-popup" });
    box.appendChild(el("a", { "class": "ga-popup-place", href: s.placeUrl + row[2] }, row[3]));
    if (row[5]) box.appendChild(el("span", { "class": "cc" }, " " + (s.countries[row[5]] || row[5])));
    box.appendChild(el("div", { "class": "count" }, row[4] + (row[4] === 1 ? " article" : " articles")));
    var list = el("ul");
    box.appendChild(list);
    var actions = el("div", { "class": "actions" });
    actions.appendChild(el("a", { "class": "ga-narrow", href: narrowUrl(s, row[2]) }, "Articles here"));
    actions.appendChild(document.createTextNode(" · "));
    actions.appendChild(el("a", { "class": "ga-search-area", href: "#" }, "Search this area"));
    box.appendChild(actions);
    var params = new URLSearchParams(s.query);
    params.delete("page");
    params.set("place", row[2]);
    params.set("per_page", "3");
    fetch(s.apiUrl + "?" + params.toString(), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (page) {
        page.results.forEach(function (hit) {
          var li = el("li");
          li.appendChild(el("a", { href: "/article/" + encodeURIComponent(hit.id) }, hit.title || "(untitled)"));
          list.appendChild(li);
        });
      })
      .catch(function () { /* the popup still links to the place */ });
    return box;
  }

  function placeMarker(row) {
    var s = settings();
    var marker = L.circleMarker([row[0], row[1]], {
      radius: radius(row[4]),
      color: "#08306b",
      weight: 1,
      fillColor: shade(row[4], s.most),
      fillOpacity: 0.85,
      className: "ga-place ga-place-" + row[2],
    });
    // Tooltip and popup are bound once on the cluster group (see init), not on 20,000 markers.
    marker.gaRow = row;
    return marker;
  }

  /* The heatmap's points: the busiest places' [lat, lon, weight], as web/maps.py draws them on small maps. */
  function heatPoints(rows, most) {
    return rows.slice()
      .sort(function (a, b) { return b[4] - a[4]; })
      .slice(0, most)
      .map(function (row) {
        return [Math.round(row[0] * 1000) / 1000, Math.round(row[1] * 1000) / 1000,
                Math.round(Math.log1p(row[4]) * 100) / 100];
      });
  }

  /* A fast map's places arrive as data (data-rows): markers for its cluster layer, points for its heatmap. */
  function addRows(box) {
    var rows = JSON.parse(box.dataset.rows || "[]");
    var cluster = box.dataset.cluster ? window[box.dataset.cluster] : null;
    if (cluster && rows.length) cluster.addLayers(rows.map(placeMarker));
    var heat = box.dataset.heat ? window[box.dataset.heat] : null;
    if (heat && rows.length) heat.setLatLngs(heatPoints(rows, Number(box.dataset.heatPlaces || 5000)));
  }

  function clamp(v, lo, hi) {
    return Math.max(lo, Math.min(hi, v));
  }

  /* Rerun the current search for the map's view: the same page with bbox=west,south,east,north. */
  function searchArea(map) {
    var b = map.getBounds();
    var bbox = [
      clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90),
      clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90),
    ].map(function (v) { return v.toFixed(4); }).join(",");
    var params = new URLSearchParams(window.location.search);
    params.delete("page");
    params.delete("place");
    params.set("bbox", bbox);
    window.location.assign(window.location.pathname + "?" + params.toString());
  }

  function eachPlaceLayer(map, fn) {
    map.eachLayer(function (layer) {
      if (typeof layer.getLayers === "function" && typeof layer.zoomToShowLayer === "function") {
        layer.getLayers().forEach(function (m) { fn(m, layer); });
      }
    });
  }

  /* Zoom in on one place until its marker is drawn on its own; calls back with the marker. */
  function reveal(geonameid, done) {
    var map = mapOf(container());
    var cls = "ga-place-" + geonameid;
    var marker = null, cluster = null;
    eachPlaceLayer(map, function (m, c) {
      if (!marker && (m.options.className || "").split(" ").indexOf(cls) >= 0) { marker = m; cluster = c; }
    });
    if (!marker) return false;
    var maxZoom = isFinite(map.getMaxZoom()) ? map.getMaxZoom() : 18;
    var tries = 0;
    function step() {
      if (map.hasLayer(marker) && map.getBounds().contains(marker.getLatLng())) {
        if (done) done(marker);
        return;
      }
      if (++tries > 30) return;
      if (map.getZoom() >= maxZoom) {
        var parent = cluster.getVisibleParent(marker);
        if (parent && parent !== marker && parent.spiderfy) {
          cluster.once("spiderfied", function () { setTimeout(step, 50); });
          parent.spiderfy();
        }
        return;
      }
      // markercluster re-clusters after each zoom (animated), so look again a moment later.
      map.once("moveend", function () { setTimeout(step, 400); });
      map.setView(marker.getLatLng(), Math.min(map.getZoom() + 2, maxZoom), { animate: false });
    }
    step();
    return true;
  }

  function offlineBasemap(map, url) {
    map.createPane("basemap");
    map.getPane("basemap").style.zIndex = 150;
    fetch(url)
      .then(function (r) { return r.json(); })
      .then(function (data) {
        L.geoJSON(data, {
          pane: "basemap",
          interactive: false,
          style: { color: "#8a8a8a", weight: 0.7, fillColor: "#f2efe6", fillOpacity: 1 },
        }).addTo(map);
        map.getContainer().classList.add("ga-basemap-ready");
      });
  }

  var TILES_FAILED = "geoarchive-tiles-failed";

  function remember(failed) {
    try {
      if (failed) window.sessionStorage.setItem(TILES_FAILED, "1");
      return window.sessionStorage.getItem(TILES_FAILED) === "1";
    } catch (e) {
      return false; /* storage disabled: every page finds out by itself */
    }
  }

  /* Online tiles that never arrive (no network, a locked-down newsroom) leave markers on a blank
     sea: after a few tile errors before any tile loaded, or no tile within the timeout, drop the
     tile layer, draw the offline basemap this app serves, and say so in the attribution line.
     The rest of the browser session skips the tile server. */
  function watchTiles(map, box) {
    var layers = [];
    map.eachLayer(function (layer) { if (layer instanceof L.TileLayer) layers.push(layer); });
    if (!layers.length || !box.dataset.fallbackBasemap) return;
    var loaded = false, errors = 0, switched = false;
    function fallBack() {
      if (switched || loaded) return;
      switched = true;
      remember(true);
      layers.forEach(function (layer) { map.removeLayer(layer); });
      map.attributionControl.addAttribution(box.dataset.fallbackAttribution || "Offline basemap");
      box.classList.add("ga-tiles-offline");
      offlineBasemap(map, box.dataset.fallbackBasemap);
    }
    if (remember(false)) {
      fallBack();
      return;
    }
    layers.forEach(function (layer) {
      layer.on("tileload", function () { loaded = true; });
      layer.on("tileerror", function () { if (++errors >= 3) fallBack(); });
    });
    setTimeout(fallBack, Number(box.dataset.tileTimeout || 10000));
  }

  function init() {
    document.querySelectorAll(".ga-map").forEach(function (box) {
      var map = mapOf(box);
      if (!map) return;
      if (box.dataset.attribution) map.attributionControl.addAttribution(box.dataset.attribution);
      if (box.dataset.basemap) offlineBasemap(map, box.dataset.basemap);
      watchTiles(map, box);
      if (box.dataset.fast) {
        addRows(box);
        map.eachLayer(function (layer) {
          if (typeof layer.zoomToShowLayer !== "function") return;
          layer.bindTooltip(function (m) { return el("span", {}, m.gaRow ? m.gaRow[3] : ""); });
          layer.bindPopup(function (m) { return m.gaRow ? rowPopup(m.gaRow) : el("div"); }, { maxWidth: 320 });
        });
      }
      box.classList.add("ga-ready");
    });
    document.addEventListener("click", function (event) {
      var target = event.target.closest ? event.target.closest(".ga-search-area") : null;
      if (!target) return;
      event.preventDefault();
      var box = target.closest(".ga-map") || container();
      var map = mapOf(box);
      if (map) searchArea(map);
    });
  }

  window.GeoArchive = { placeMarker: placeMarker, reveal: reveal, searchArea: searchArea };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
