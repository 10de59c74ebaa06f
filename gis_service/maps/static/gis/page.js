/* The page frame of the maps (overview and park pages): panes, metric scale, north arrow,
 * Chinese search, polygon labels, the drawer on phones, sortable tables, print.
 * Served from this service (no CDN); called from each page's own (nonce'd) inline script. */
(function () {
  "use strict";
  // z-order of the overlays, whatever is toggled: a layer's pane decides, never its add order
  var PANES = { gisReference: 405, gisZones: 410, gisLand: 420, gisParks: 440, gisParent: 445, gisLabels: 450 };
  // above every panel (.gis-panel z-index 1000) and control (1000): popups and tooltips
  var TOP_PANES = { gisTips: 1150, gisPopups: 1200 };

  function panes(map) {
    Object.keys(PANES).forEach(function (name) { map.createPane(name).style.zIndex = PANES[name]; });
    map.getPane("gisLabels").style.pointerEvents = "none";
    // Panes inside the map pane share its stacking context (under the panels); these two live
    // in the map container, above them, and follow the map pane's offset.
    var container = map.getContainer();
    Object.keys(TOP_PANES).forEach(function (name) {
      var pane = map.createPane(name, container);
      pane.style.zIndex = TOP_PANES[name];
      pane.classList.add("gis-top-pane");
    });
    function follow() {
      var pos = L.DomUtil.getPosition(map.getPane("mapPane"));
      Object.keys(TOP_PANES).forEach(function (name) { L.DomUtil.setPosition(map.getPane(name), pos); });
    }
    map.on("move zoom viewreset zoomend moveend resize", follow);
    follow();
  }

  function controls(map) {
    L.control.scale({ metric: true, imperial: false, position: "bottomleft" }).addTo(map);
    var North = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function () {
        var div = L.DomUtil.create("div", "gis-north leaflet-control");
        div.title = "指北针";
        div.innerHTML = '<svg width="26" height="40" viewBox="0 0 26 40" aria-label="北"><path d="M13 2 L22 30 L13 24 L4 30 Z" fill="#222"/>' +
          '<text x="13" y="39" font-size="11" text-anchor="middle" fill="#222">北</text></svg>';
        return div;
      }
    });
    new North().addTo(map);
    var zin = document.querySelector(".leaflet-control-zoom-in"), zout = document.querySelector(".leaflet-control-zoom-out");
    if (zin) { zin.title = "放大"; zin.setAttribute("aria-label", "放大"); }
    if (zout) { zout.title = "缩小"; zout.setAttribute("aria-label", "缩小"); }
  }

  function features(layers) {
    var out = [];
    layers.forEach(function (group) { if (group) group.eachLayer(function (l) { if (l.feature) out.push(l); }); });
    return out;
  }

  function labels(map, layers) {
    var group = L.layerGroup();
    features(layers).forEach(function (l) {
      var text = l.feature.properties.label;
      if (!text || !l.getBounds) return;
      L.tooltip({ permanent: true, direction: "center", className: "gis-label", pane: "gisLabels", interactive: false })
        .setLatLng(l.getBounds().getCenter()).setContent(text).addTo(group);
    });
    group.addTo(map);
    return group;
  }

  function search(map, layers) {
    var Search = L.Control.extend({
      options: { position: "topright" },
      onAdd: function () {
        var div = L.DomUtil.create("div", "leaflet-control leaflet-control-search gis-search");
        div.innerHTML = '<input type="search" placeholder="按园区名称或代码搜索" aria-label="按园区名称或代码搜索">' +
          '<button type="button">搜索</button><div class="gis-search-msg" role="status"></div>';
        L.DomEvent.disableClickPropagation(div);
        var input = div.querySelector("input"), msg = div.querySelector(".gis-search-msg");
        function run() {
          var q = input.value.trim().toLowerCase();
          msg.textContent = "";
          if (!q) return;
          var all = features(layers), hit = null;
          ["exact", "part"].forEach(function (mode) {
            all.forEach(function (l) {
              if (hit) return;
              var p = l.feature.properties, keys = [String(p.name || ""), String(p.code || "")].map(function (s) { return s.toLowerCase(); });
              if (keys.some(function (k) { return k && (mode === "exact" ? k === q : k.indexOf(q) >= 0); })) hit = l;
            });
          });
          if (!hit) { msg.textContent = "未找到该园区"; return; }
          map.fitBounds(hit.getBounds(), { maxZoom: 14, animate: false });
          // the popup is bound on the layer group: a click propagated from the feature opens it
          hit.fire("click", { latlng: hit.getBounds().getCenter() }, true);
        }
        div.querySelector("button").addEventListener("click", run);
        input.addEventListener("keydown", function (e) { if (e.key === "Enter") run(); });
        return div;
      }
    });
    new Search().addTo(map);
  }

  var phone = window.matchMedia("(max-width: 700px)");

  function drawer(map, layerControl) {
    var button = document.getElementById("gis-drawer-toggle");
    function fit() {
      if (layerControl) { if (phone.matches) layerControl.collapse(); else layerControl.expand(); }
      map.invalidateSize();
    }
    if (button) {
      button.addEventListener("click", function () {
        var open = document.body.classList.toggle("gis-drawer-open");
        button.setAttribute("aria-expanded", open ? "true" : "false");
        button.textContent = open ? "收起图例与数据" : "图例与数据";
      });
    }
    phone.addEventListener("change", fit);
    fit();
    ["gis-figures", "gis-ranking", "gis-legend"].forEach(function (id) {
      var panel = document.getElementById(id);
      if (!panel || panel.querySelector(".gis-collapse")) return;
      var b = document.createElement("button");
      b.type = "button"; b.className = "gis-collapse"; b.textContent = "收起";
      panel.insertBefore(b, panel.firstChild);
    });
    document.querySelectorAll(".gis-collapse").forEach(function (b) {
      b.addEventListener("click", function () {
        var panel = b.closest(".gis-panel");
        var closed = panel.classList.toggle("gis-collapsed");
        b.textContent = closed ? "展开" : "收起";
      });
    });
    var printing = window.matchMedia("print"), framed = map.getBounds();
    // the printed map is another size: show what the screen framed, then the screen's view again
    function printed() { map.invalidateSize(); if (printing.matches) map.fitBounds(framed, { animate: false }); }
    printing.addEventListener("change", printed);
    window.addEventListener("beforeprint", printed);
    window.addEventListener("afterprint", printed);
    var date = document.getElementById("gis-print-date");
    if (date && !date.textContent) {
      var d = new Date();
      date.textContent = "打印日期:" + d.getFullYear() + "年" + (d.getMonth() + 1) + "月" + d.getDate() + "日";
    }
  }

  function sortable() {
    document.querySelectorAll("table.gis-sortable").forEach(function (table) {
      table.querySelectorAll("th[data-col]").forEach(function (th, col) {
        th.addEventListener("click", function () {
          var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
          var asc = th.getAttribute("aria-sort") !== "ascending";
          table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
          th.setAttribute("aria-sort", asc ? "ascending" : "descending");
          rows.sort(function (a, b) {
            var x = a.cells[col].getAttribute("data-v"), y = b.cells[col].getAttribute("data-v");
            var nx = parseFloat(x), ny = parseFloat(y), missing = (asc ? 1 : -1) * 1e300;
            if (th.getAttribute("data-num")) {
              nx = isNaN(nx) ? missing : nx; ny = isNaN(ny) ? missing : ny;
              return asc ? nx - ny : ny - nx;
            }
            return asc ? String(x).localeCompare(String(y), "zh") : String(y).localeCompare(String(x), "zh");
          });
          rows.forEach(function (r) { body.appendChild(r); });
        });
      });
    });
  }

  window.gisFrame = {
    panes: panes,
    /* after every layer is on the map: ``layers`` are the parks' GeoJSON layers (may be empty) */
    finish: function (map, opts) {
      opts = opts || {};
      controls(map);
      var parks = opts.parks || [];
      if (parks.length) labels(map, parks);
      if (features(parks).length > 1) search(map, parks);  // a park page has one park: nothing to search
      drawer(map, opts.layerControl);
      if (phone.matches && parks.length) {  // the desktop framing leaves room for panels a phone has not
        var bounds = L.featureGroup(parks).getBounds();
        if (bounds.isValid() && !(isFinite(map.getZoom()) && map.getBounds().contains(bounds))) {
          if (!isFinite(map.getZoom())) map.setView(bounds.getCenter(), 10, { animate: false });
          map.fitBounds(bounds, { padding: [10, 10], animate: false });
        }
      }
      sortable();
    }
  };
})();
