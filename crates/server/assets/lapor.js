// Lapor: progressive enhancement for the citizen pages. Every page works
// without this script; it only saves round trips (cascading selects,
// suggestions while typing, the personal-data preview) and adds the map.
(function () {
  "use strict";
  var doc = document;
  doc.documentElement.classList.add("js");
  Array.prototype.forEach.call(doc.querySelectorAll(".js-only"), function (el) { el.hidden = false; });

  function $(sel, root) { return (root || doc).querySelector(sel); }
  function all(sel, root) { return Array.prototype.slice.call((root || doc).querySelectorAll(sel)); }
  function debounce(fn, ms) {
    var t;
    return function () { var a = arguments, self = this; clearTimeout(t); t = setTimeout(function () { fn.apply(self, a); }, ms); };
  }
  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r; });
  }
  // Answers can arrive out of order; only the latest request per target counts.
  var latest = {};
  function getLatest(key, url) {
    var n = (latest[key] || 0) + 1;
    latest[key] = n;
    return get(url).then(function (r) { return r.text(); }).then(function (text) {
      if (latest[key] !== n) { throw new Error("superseded"); }
      return text;
    });
  }

  // ---- a re-rendered form: take the user to the list of what to fix
  var errorSummary = doc.getElementById("errors");
  if (errorSummary) { errorSummary.focus(); }

  // ---- cascading region selects and the institution suggestion
  var chain = ["provinsi", "kabkota", "kecamatan", "desa"];
  function regionCode() {
    var code = "";
    chain.forEach(function (id) { var el = doc.getElementById(id); if (el && el.value && (!code || el.value.indexOf(code + ".") === 0)) { code = el.value; } });
    return code;
  }
  function clearBelow(id) {
    var i = chain.indexOf(id);
    chain.slice(i + 1).forEach(function (below) {
      var el = doc.getElementById(below);
      if (el) { el.length = 1; el.value = ""; latest[below] = (latest[below] || 0) + 1; }
    });
  }
  function loadChildren(select, then) {
    var nextId = select.getAttribute("data-cascade");
    var next = nextId && doc.getElementById(nextId);
    clearBelow(select.id);
    if (!next || !select.value) { suggest(); if (then) { then(); } return; }
    getLatest(next.id, "/fragmen/wilayah?induk=" + encodeURIComponent(select.value))
      .then(function (html) { next.innerHTML = html; suggest(); if (then) { then(); } })
      .catch(function () {});
  }
  all("select[data-cascade]").forEach(function (s) {
    s.addEventListener("change", function () { loadChildren(s); });
  });
  var inst = $("select[data-suggest]");
  function suggest() {
    if (!inst) { return; }
    var chosen = inst.value;
    var wasSuggested = inst.selectedOptions.length && / \(/.test(inst.selectedOptions[0].text) && inst.selectedIndex === 1;
    getLatest("suggest", inst.getAttribute("data-suggest") + "?wilayah=" + encodeURIComponent(regionCode()))
      .then(function (html) {
        inst.innerHTML = html;
        // Keep a choice the user made themselves.
        if (chosen && !wasSuggested) { inst.value = chosen; }
      })
      .catch(function () {});
  }

  // ---- similar reports while typing the title
  all("[data-similar]").forEach(function (input) {
    var target = doc.getElementById(input.getAttribute("data-similar-target"));
    var last = "";
    input.addEventListener("input", debounce(function () {
      var q = input.value.trim();
      if (q === last || !target) { return; }
      last = q;
      if (q.length < 4) { target.innerHTML = ""; return; }
      get(input.getAttribute("data-similar") + "?q=" + encodeURIComponent(q))
        .then(function (r) { return r.text(); })
        .then(function (html) { if (q === last) { target.innerHTML = html; } })
        .catch(function () {});
    }, 350));
  });

  // ---- personal data preview (title and body together)
  all("[data-pii]").forEach(function (area) {
    var target = doc.getElementById(area.getAttribute("data-pii-target"));
    var title = doc.getElementById("judul");
    var sent = 0;
    var run = debounce(function () {
      var text = (title ? title.value + "\n" : "") + area.value;
      var n = ++sent;
      if (!target) { return; }
      if (text.trim().length < 6) { target.innerHTML = ""; return; }
      fetch(area.getAttribute("data-pii"), {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "teks=" + encodeURIComponent(text)
      }).then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) { if (n === sent) { target.innerHTML = html; } })
        .catch(function () {});
    }, 500);
    area.addEventListener("input", run);
    if (title) { title.addEventListener("input", run); }
  });

  // ---- attachments: the same limits the server enforces, told earlier
  all("input[type=file][data-max-files]").forEach(function (input) {
    input.addEventListener("change", function () {
      var maxFiles = +input.getAttribute("data-max-files");
      var maxBytes = +input.getAttribute("data-max-mb") * 1024 * 1024;
      var msg = "";
      if (input.files.length > maxFiles) { msg = doc.documentElement.lang === "en" ? "At most " + maxFiles + " files." : "Paling banyak " + maxFiles + " berkas."; }
      Array.prototype.forEach.call(input.files, function (f) {
        if (f.size > maxBytes) { msg = (doc.documentElement.lang === "en" ? "Too large: " : "Terlalu besar: ") + f.name; }
      });
      input.setCustomValidity(msg);
      if (msg) { input.reportValidity(); }
    });
  });

  // ---- one submission per form (the server also de-duplicates)
  all("form[data-submit-once]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (form.getAttribute("data-sent")) { ev.preventDefault(); return; }
      var action = ev.submitter && ev.submitter.value;
      if (action !== "kirim") { return; }
      form.setAttribute("data-sent", "1");
      setTimeout(function () { all("button[type=submit]", form).forEach(function (b) { b.disabled = true; }); }, 0);
    });
  });

  // ---- map picker: a small slippy map over the configured tiles
  var wrap = $("[data-map]");
  var latIn = doc.getElementById("lat"), lonIn = doc.getElementById("lon");
  var place = doc.getElementById("map-place");
  function located(lat, lon) {
    if (!place) { return; }
    get("/fragmen/lokasi?lat=" + lat + "&lon=" + lon)
      .then(function (r) { return r.json(); })
      .then(function (p) {
        place.textContent = place.getAttribute("data-located-in") + " " + p.regency_name + ".";
        var prov = doc.getElementById("provinsi"), kab = doc.getElementById("kabkota");
        if (prov && kab && kab.value !== p.regency_code) {
          prov.value = p.province_code;
          loadChildren(prov, function () { kab.value = p.regency_code; loadChildren(kab); });
        }
      })
      .catch(function () { place.textContent = place.getAttribute("data-located-none"); });
  }
  var setPoint = function (lat, lon) {
    latIn.value = lat.toFixed(6); lonIn.value = lon.toFixed(6);
    located(latIn.value, lonIn.value);
  };
  if (wrap && latIn && lonIn) {
    wrap.hidden = false;
    var el = doc.getElementById("map");
    var tiles = wrap.getAttribute("data-tiles");
    var T = 256, z = 4, cx, cy;
    var pin = doc.createElement("div"); pin.className = "pin"; pin.hidden = true;
    var layer = doc.createElement("div");
    var zoom = doc.createElement("div"); zoom.className = "zoom";
    [["+", "data-zoom-in", 1], ["\u2212", "data-zoom-out", -1]].forEach(function (b) {
      var btn = doc.createElement("button"); btn.type = "button"; btn.textContent = b[0];
      btn.setAttribute("aria-label", wrap.getAttribute(b[1]));
      btn.addEventListener("click", function (e) { e.stopPropagation(); setZoom(z + b[2]); });
      zoom.appendChild(btn);
    });
    el.appendChild(layer); el.appendChild(pin); el.appendChild(zoom);
    if (wrap.getAttribute("data-attribution")) {
      var attr = doc.createElement("div"); attr.className = "attr"; attr.textContent = wrap.getAttribute("data-attribution"); el.appendChild(attr);
    }
    var px = function (lon, lat, zz) {
      var s = T * Math.pow(2, zz), r = lat * Math.PI / 180;
      return [(lon + 180) / 360 * s, (1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * s];
    };
    var ll = function (x, y, zz) {
      var s = T * Math.pow(2, zz), n = Math.PI - 2 * Math.PI * y / s;
      return [x / s * 360 - 180, 180 / Math.PI * Math.atan(0.5 * (Math.exp(n) - Math.exp(-n)))];
    };
    var draw = function () {
      var w = el.clientWidth, h = el.clientHeight, n = Math.pow(2, z);
      var x0 = cx - w / 2, y0 = cy - h / 2;
      layer.innerHTML = "";
      for (var tx = Math.floor(x0 / T); tx <= Math.floor((x0 + w) / T); tx++) {
        for (var ty = Math.floor(y0 / T); ty <= Math.floor((y0 + h) / T); ty++) {
          if (ty < 0 || ty >= n) { continue; }
          var img = doc.createElement("img");
          img.alt = ""; img.draggable = false;
          img.src = tiles.replace("{z}", z).replace("{x}", ((tx % n) + n) % n).replace("{y}", ty).replace("{s}", "a");
          img.style.left = (tx * T - x0) + "px"; img.style.top = (ty * T - y0) + "px";
          layer.appendChild(img);
        }
      }
      var lat = parseFloat(latIn.value), lon = parseFloat(lonIn.value);
      if (isFinite(lat) && isFinite(lon)) {
        var p = px(lon, lat, z);
        pin.hidden = false; pin.style.left = (p[0] - x0) + "px"; pin.style.top = (p[1] - y0) + "px";
      } else { pin.hidden = true; }
    };
    var setZoom = function (nz) {
      nz = Math.max(3, Math.min(18, nz));
      var c = ll(cx, cy, z), p = px(c[0], c[1], nz);
      z = nz; cx = p[0]; cy = p[1]; draw();
    };
    var start = (function () {
      var lat = parseFloat(latIn.value), lon = parseFloat(lonIn.value);
      if (isFinite(lat) && isFinite(lon)) { z = 13; return px(lon, lat, z); }
      return px(118, -2.5, z);
    })();
    cx = start[0]; cy = start[1];
    var drag = null;
    el.addEventListener("pointerdown", function (e) {
      if (e.target.closest && e.target.closest(".zoom")) { return; }
      drag = { x: e.clientX, y: e.clientY, cx: cx, cy: cy, moved: false };
      el.setPointerCapture(e.pointerId);
    });
    el.addEventListener("pointermove", function (e) {
      if (!drag) { return; }
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 5) { drag.moved = true; }
      if (drag.moved) { cx = drag.cx - dx; cy = drag.cy - dy; draw(); }
    });
    el.addEventListener("pointerup", function (e) {
      if (!drag) { return; }
      var moved = drag.moved; drag = null;
      if (moved) { return; }
      var r = el.getBoundingClientRect();
      var p = ll(cx - r.width / 2 + (e.clientX - r.left), cy - r.height / 2 + (e.clientY - r.top), z);
      setPoint(p[1], p[0]); draw();
    });
    el.addEventListener("keydown", function (e) {
      var step = 64, k = e.key;
      if (k === "ArrowLeft") { cx -= step; } else if (k === "ArrowRight") { cx += step; }
      else if (k === "ArrowUp") { cy -= step; } else if (k === "ArrowDown") { cy += step; }
      else if (k === "+" || k === "=") { setZoom(z + 1); } else if (k === "-") { setZoom(z - 1); }
      else if (k === "Enter" || k === " ") { var c = ll(cx, cy, z); setPoint(c[1], c[0]); }
      else { return; }
      e.preventDefault(); draw();
    });
    [latIn, lonIn].forEach(function (i) { i.addEventListener("change", function () {
      var lat = parseFloat(latIn.value), lon = parseFloat(lonIn.value);
      if (isFinite(lat) && isFinite(lon)) { var p = px(lon, lat, z); cx = p[0]; cy = p[1]; located(lat, lon); }
      draw();
    }); });
    window.addEventListener("resize", debounce(draw, 100));
    draw();
    var redraw = draw;
    setPoint = (function (inner) { return function (lat, lon) { inner(lat, lon); redraw(); }; })(setPoint);
  } else if (latIn && lonIn) {
    [latIn, lonIn].forEach(function (i) { i.addEventListener("change", function () {
      var lat = parseFloat(latIn.value), lon = parseFloat(lonIn.value);
      if (isFinite(lat) && isFinite(lon)) { located(lat, lon); }
    }); });
  }
  var geoBtn = $("[data-geolocate]");
  if (geoBtn && latIn && navigator.geolocation) {
    geoBtn.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (p) { setPoint(p.coords.latitude, p.coords.longitude); });
    });
  } else if (geoBtn) { geoBtn.parentNode.hidden = true; }
  // ---- institution workspace: keyboard triage and reply templates
  function typing(t) {
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }
  var queue = $("table[data-queue]");
  var rows = queue ? all("tbody tr", queue).filter(function (tr) { return $(".row-link", tr); }) : [];
  var cur = -1;
  function move(to) {
    if (!rows.length) { return; }
    if (cur >= 0) { rows[cur].classList.remove("current"); }
    cur = Math.max(0, Math.min(rows.length - 1, to));
    rows[cur].classList.add("current");
    var link = $(".row-link", rows[cur]);
    link.focus();
    if (rows[cur].scrollIntoView) { rows[cur].scrollIntoView({ block: "nearest" }); }
  }
  // A row whose link gets focus by Tab or a click becomes the current one.
  rows.forEach(function (tr, i) {
    $(".row-link", tr).addEventListener("focus", function () {
      if (cur !== i) { if (cur >= 0) { rows[cur].classList.remove("current"); } cur = i; tr.classList.add("current"); }
    });
  });
  // Buttons marked data-key="v" etc. on the report page: the key opens the
  // form's <details> and puts the cursor in its first field.
  function pressKey(k) {
    var target = $('[data-key="' + k + '"]');
    if (!target) { return false; }
    var det = target.closest ? target.closest("details") : null;
    if (det) { det.open = true; }
    var form = target.form || target.closest("form");
    var first = form ? $("input:not([type=hidden]):not([disabled]), select, textarea", form) : null;
    (target.tagName === "INPUT" ? target : first || target).focus();
    return true;
  }
  doc.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) { return; }
    var k = e.key;
    if (queue && (k === "j" || k === "k")) { move(cur < 0 ? 0 : cur + (k === "j" ? 1 : -1)); }
    else if (queue && k === "x" && cur >= 0) {
      var box = $("input[type=checkbox]", rows[cur]);
      if (box) { box.checked = !box.checked; }
    }
    else if (queue && k === "Enter" && cur >= 0 && e.target === doc.body) { $(".row-link", rows[cur]).click(); }
    else if (k === "/" || k === "v" || k === "h" || k === "a") { if (!pressKey(k)) { return; } }
    else { return; }
    e.preventDefault();
  });
  var replyBox = doc.getElementById("fu-body");
  all("a[data-template]").forEach(function (a) {
    a.addEventListener("click", function (e) {
      if (!replyBox) { return; }
      e.preventDefault();
      if (replyBox.value.trim() && replyBox.value !== a.getAttribute("data-template") &&
          !window.confirm(a.getAttribute("data-confirm") || "Ganti isi jawaban? / Replace the answer?")) { return; }
      replyBox.value = a.getAttribute("data-template");
      replyBox.focus();
    });
  });
})();
