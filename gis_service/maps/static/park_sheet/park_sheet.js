/* The park page's working sheet (gis_service/maps/park_sheet.py builds its HTML).
 *
 * 合规审查: a boundary drawn on the map (click to add vertices) or uploaded as GeoJSON is
 * posted with a 四至 text to POST /sizhi/verify, the API's own check; the answer is tabulated.
 * 情景测算: the park's figure, its area and land released are posted to POST /metrics/whatif
 * (the API's what-if, nothing stored) whenever an input changes.
 * Served from this service (no CDN); loaded with `defer`, so the folium map exists when it runs.
 * Every text from an answer is put in with textContent (never innerHTML).
 */
(function () {
  "use strict";
  var sheet = document.getElementById("gis-sheet");
  if (!sheet) return;
  var map = window[sheet.dataset.map];
  var parkId = Number(sheet.dataset.parkId);
  var STATUS_COLOURS = { pass: "#1a9850", warn: "#f46d43", fail: "#d73027", unverifiable: "#737373" };
  var SIDES = ["east", "south", "west", "north"];

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body), credentials: "same-origin"
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) {
          var why = data.description || data.detail || r.statusText;
          throw new Error("HTTP " + r.status + ":" + (typeof why === "string" ? why : JSON.stringify(why)));
        }
        return data;
      });
    });
  }

  function unique(names) { return names.filter(function (n, i) { return names.indexOf(n) === i; }); }

  // ------------------------------------------------------------------ 合规审查 (draw / upload, verify)
  var review = document.getElementById("gis-review-result");
  if (review && map) {
    var vertices = [];
    var drawing = false;
    var sketch = L.layerGroup().addTo(map);
    var boundary = null;   // the GeoJSON geometry to check
    var shown = null;      // its layer on the map
    var startBtn = document.getElementById("gis-draw-start");
    var finishBtn = document.getElementById("gis-draw-finish");
    var state = document.getElementById("gis-review-state");

    function setBoundary(geometry) {
      boundary = geometry;
      if (shown) map.removeLayer(shown);
      shown = null;
      if (geometry) {
        shown = L.geoJSON(geometry, { style: { color: "#08519c", weight: 3, dashArray: "6 4", fillOpacity: 0.08 } }).addTo(map);
        map.fitBounds(shown.getBounds(), { paddingTopLeft: [60, 120], paddingBottomRight: [480, 40] });
      }
    }

    function redraw() {
      sketch.clearLayers();
      vertices.forEach(function (ll) { L.circleMarker(ll, { radius: 4, color: "#08519c" }).addTo(sketch); });
      if (vertices.length > 1) L.polyline(vertices.concat([vertices[0]]), { color: "#08519c", dashArray: "4 4" }).addTo(sketch);
      finishBtn.disabled = vertices.length < 3;
    }

    function onClick(e) { vertices.push(e.latlng); redraw(); }

    startBtn.addEventListener("click", function () {
      vertices = []; drawing = true; setBoundary(null); redraw();
      map.doubleClickZoom.disable();
      map.on("click", onClick);
      L.DomUtil.addClass(map.getContainer(), "gis-drawing");  // clicks on features go to the map
      state.textContent = "绘制中:在地图上单击添加顶点";
    });

    function stopDrawing() {
      drawing = false;
      map.off("click", onClick);
      map.doubleClickZoom.enable();
      L.DomUtil.removeClass(map.getContainer(), "gis-drawing");
    }

    finishBtn.addEventListener("click", function () {
      if (vertices.length < 3) return;
      var ring = vertices.map(function (ll) { return [ll.lng, ll.lat]; });
      ring.push(ring[0]);
      stopDrawing(); sketch.clearLayers(); finishBtn.disabled = true;
      setBoundary({ type: "Polygon", coordinates: [ring] });
      state.textContent = "已绘制边界(" + vertices.length + " 个顶点),可点“核查”";
    });

    document.getElementById("gis-draw-clear").addEventListener("click", function () {
      stopDrawing(); vertices = []; redraw(); setBoundary(null);
      review.textContent = ""; state.textContent = "";
    });

    document.getElementById("gis-review-file").addEventListener("change", function (e) {
      var file = e.target.files && e.target.files[0];
      if (!file) return;
      document.getElementById("gis-review-file-name").textContent = file.name;
      file.text().then(function (text) {
        var geometry = polygonOf(JSON.parse(text));
        setBoundary(geometry);
        state.textContent = "已读取 " + file.name + ",可点“核查”";
      }).catch(function (err) {
        setBoundary(null);
        state.textContent = "无法读取 " + file.name + ":" + err.message;
      });
    });

    document.getElementById("gis-review-run").addEventListener("click", function () {
      if (!boundary) { state.textContent = "请先绘制或上传边界"; return; }
      var text = document.getElementById("gis-review-text").value.trim();
      if (!text) { state.textContent = "请填写四至文本"; return; }
      var tol = Number(document.getElementById("gis-review-tol").value) || 150;
      state.textContent = "核查中…";
      post("/sizhi/verify", { text: text, geometry: boundary, tolerance_m: tol }).then(function (report) {
        state.textContent = "";
        showReport(report);
      }).catch(function (err) {
        review.textContent = "";
        state.textContent = "核查失败(" + err.message + ")";
      });
    });

    function showReport(report) {
      review.textContent = "";
      review.dataset.status = report.status;
      review.appendChild(el("div", "结果:" + report.status_label + "(容差 " + report.tolerance_m + " 米)",
        { "class": "gis-review-status", style: "color:" + STATUS_COLOURS[report.status] }));
      var table = el("table", null, { "class": "gis-sizhi-table" });
      var head = el("tr");
      ["侧", "结果", "覆盖", "最大偏离", "已找到", "未找到"].forEach(function (h) { head.appendChild(el("th", h)); });
      table.appendChild(head);
      report.parts.forEach(function (part) {
        SIDES.forEach(function (side) {
          var s = part.sides[side];
          var tr = el("tr", null, { "data-side": side, "data-status": s.status });
          tr.appendChild(el("th", (part.label ? part.label + ":" : "") + s.side_label));
          tr.appendChild(el("td", s.status_label, { style: "color:" + STATUS_COLOURS[s.status] }));
          tr.appendChild(el("td", s.coverage_pct === null ? "—" : s.coverage_pct.toFixed(1) + "%"));
          tr.appendChild(el("td", s.max_distance_m === null ? "—" : s.max_distance_m.toFixed(0) + " 米"));
          tr.appendChild(el("td", unique(s.found).join("、") || "—"));
          tr.appendChild(el("td", unique(s.missing).join("、") || "—", { "class": "gis-missing" }));
          table.appendChild(tr);
        });
      });
      review.appendChild(table);
      (report.notes || []).forEach(function (n) { review.appendChild(el("div", n, { "class": "gis-warn" })); });
      if (shown) shown.setStyle({ color: STATUS_COLOURS[report.status] || "#08519c" });
    }
  }

  // the first Polygon/MultiPolygon of a GeoJSON geometry, Feature or FeatureCollection
  function polygonOf(data) {
    if (!data || typeof data !== "object") throw new Error("不是 GeoJSON");
    if (data.type === "FeatureCollection") {
      var polys = (data.features || []).filter(function (f) {
        return f && f.geometry && (f.geometry.type === "Polygon" || f.geometry.type === "MultiPolygon");
      });
      if (polys.length !== 1) throw new Error("应恰含一个面要素,实际 " + polys.length + " 个");
      return polys[0].geometry;
    }
    if (data.type === "Feature") return polygonOf(data.geometry);
    if (data.type === "Polygon" || data.type === "MultiPolygon") return data;
    throw new Error("需要面(Polygon/MultiPolygon),实际为 " + data.type);
  }

  // ------------------------------------------------------------------ 情景测算 (what-if)
  var whatif = document.getElementById("gis-whatif");
  if (whatif) {
    var inputs = { value: "gis-whatif-value", area: "gis-whatif-area", release: "gis-whatif-release" };
    var initial = {};
    Object.keys(inputs).forEach(function (k) {
      inputs[k] = document.getElementById(inputs[k]);
      initial[k] = inputs[k].value;
    });
    var wstate = document.getElementById("gis-whatif-state");
    var timer = null;
    var asked = 0;

    function changes() {
      var out = [];
      var unitOfValue = whatif.dataset.unit;
      if (inputs.value.value !== "" && inputs.value.value !== initial.value) {
        out.push({ unit: parkId, field: sheet.dataset.numerator, value: Number(inputs.value.value), unit_of_value: unitOfValue, mode: "set" });
      }
      if (inputs.area.value !== "" && inputs.area.value !== initial.area) {
        out.push({ unit: parkId, field: sheet.dataset.basis, value: Number(inputs.area.value), unit_of_value: "km²", mode: "set" });
      }
      var release = Number(inputs.release.value || 0);
      if (release > 0) {
        out.push({ unit: parkId, field: sheet.dataset.basis, value: -release, unit_of_value: "km²", mode: "add" });
      }
      return out;
    }

    // the changes in the sheet's words (the API's scenario_changes names the fields by code)
    function described(list) {
      return list.map(function (c) {
        if (c.mode === "add") return "释放土地 " + (-c.value) + " " + c.unit_of_value;
        var what = c.field === sheet.dataset.numerator ? whatif.dataset.valueLabel : whatif.dataset.areaLabel;
        return what + "设为 " + c.value + " " + c.unit_of_value;
      }).join(";");
    }

    function cell(key, which) { return whatif.querySelector('tr[data-key="' + key + '"] .' + which); }

    function fill(which, row) {
      var money = whatif.dataset.money === "1";
      var density = money ? row.density_yi_per_km2 : row.count_per_km2;
      var values = {
        density: [density, density === null ? "无数据" : density.toFixed(2) + (money ? " 亿元/km²" : " " + whatif.dataset.unit + "/km²")],
        attainment: [row.attainment_pct, row.attainment_pct === null ? "—" : row.attainment_pct.toFixed(1) + "%"],
        gap: [row.gap_yi_per_km2, row.gap_yi_per_km2 === null ? "—" : row.gap_yi_per_km2.toFixed(2) + " 亿元/km²"],
        status: [row.status, row.status || "—"]
      };
      Object.keys(values).forEach(function (key) {
        var td = cell(key, which);
        td.textContent = values[key][1];
        td.dataset.value = values[key][0] === null || values[key][0] === undefined ? "" : String(values[key][0]);
      });
    }

    function rowOf(answer) {
      return answer.rows.filter(function (r) { return r.unit_id === parkId; })[0];
    }

    function ask() {
      var list = changes();
      if (!list.length) {
        wstate.textContent = "请修改产值、面积或填写释放土地";
        ["density", "attainment", "gap", "status"].forEach(function (k) { cell(k, "gis-scen").textContent = "—"; });
        return;
      }
      var body = { year: Number(sheet.dataset.year), numerator: sheet.dataset.numerator, basis: sheet.dataset.basis,
                   level: "park", changes: list };
      if (sheet.dataset.target) body.target = sheet.dataset.target;
      var mine = ++asked;
      wstate.textContent = "测算中…";
      post("/metrics/whatif", body).then(function (answer) {
        if (mine !== asked) return;  // a newer question was asked meanwhile
        fill("gis-base", rowOf(answer.baseline));
        fill("gis-scen", rowOf(answer.scenario));
        wstate.textContent = "情景:" + described(list) + "(未保存)";
        whatif.dataset.answered = String(mine);
      }).catch(function (err) {
        if (mine !== asked) return;
        wstate.textContent = "测算失败(" + err.message + ")";
        whatif.dataset.answered = String(mine);
      });
    }

    Object.keys(inputs).forEach(function (k) {
      inputs[k].addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(ask, 250);
      });
    });
  }
})();
