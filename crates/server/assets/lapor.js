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

// ---- the installable app: service worker, drafts on the device, the
// offline queue, "as of" copies, and sign-out that forgets the user.
(function () {
  "use strict";
  var doc = document, html = doc.documentElement;
  var store = window.LaporAntrian;
  var text = doc.getElementById("teks-aplikasi");
  if (!store || !text) { return; }
  var staffPage = doc.body.classList.contains("ws");
  function say(key, values) {
    var s = text.getAttribute("data-" + key) || "";
    Object.keys(values || {}).forEach(function (k) { s = s.split("{" + k + "}").join(values[k]); });
    return s;
  }
  function when(d, withDate) {
    var opts = withDate ? { dateStyle: "medium", timeStyle: "short" } : { timeStyle: "short" };
    try { return new Intl.DateTimeFormat(html.lang || "id", opts).format(d); } catch (e) { return d.toISOString(); }
  }
  // A notice at the top of the page's main area (role status, or alert).
  function notice(id, kind, build) {
    var old = doc.getElementById(id);
    if (old) { old.remove(); }
    var box = doc.createElement("div");
    box.id = id;
    box.className = "alert" + (kind === "alert" ? "" : " info");
    box.setAttribute("role", kind);
    build(box);
    var main = doc.getElementById("konten");
    if (main) { main.insertBefore(box, main.firstChild); }
    return box;
  }
  function para(box, s) { var p = doc.createElement("p"); p.textContent = s; box.appendChild(p); return p; }
  function closeButton(box, onClose) {
    var b = doc.createElement("button");
    b.type = "button"; b.className = "secondary"; b.textContent = say("close");
    b.addEventListener("click", function () { box.remove(); if (onClose) { onClose(); } });
    box.appendChild(b);
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(function () {});
  }

  // A copy kept by the service worker: say how old it is, and (in the
  // workspace) that nothing can be decided from it.
  var kept = html.getAttribute("data-luring") === "1";
  if (kept) {
    var asOf = new Date(html.getAttribute("data-as-of"));
    notice("luring", "status", function (box) { para(box, say("offline", { t: when(asOf, true) })); });
  }
  function staffRefusal() {
    var box = notice("luring-aksi", "alert", function (b) { para(b, say("staff-offline")); });
    box.tabIndex = -1;
    box.focus();
  }
  if (staffPage) {
    all("form[method=post]").forEach(function (form) {
      if (/\/keluar$/.test(form.getAttribute("action") || "")) { return; }
      form.addEventListener("submit", function (ev) {
        if (kept || !navigator.onLine) { ev.preventDefault(); ev.stopImmediatePropagation(); staffRefusal(); }
      }, true);
    });
  }
  function all(sel, root) { return Array.prototype.slice.call((root || doc).querySelectorAll(sel)); }

  // ---- sign-out: send what is queued, then forget this user's pages,
  // drafts and receipts before the server ends the session.
  all("form").forEach(function (form) {
    if (!/\/keluar$/.test(form.getAttribute("action") || "")) { return; }
    form.addEventListener("submit", function (ev) {
      if (form.getAttribute("data-forgotten")) { return; }
      ev.preventDefault();
      var timeout = new Promise(function (r) { setTimeout(r, 3000); });
      // This device stops hearing of the account being signed out.
      var quiet = window.localStorage.getItem(PUSH_ID) && "serviceWorker" in navigator ? pushOff() : Promise.resolve();
      Promise.race([Promise.all([store.flush(), quiet.catch(function () {})]), timeout]).then(function () {
        var jobs = [store.store.clear("draf"), store.store.clear("hasil")];
        if (window.caches) { jobs.push(caches.delete("lapor-pribadi")); }
        if (navigator.serviceWorker && navigator.serviceWorker.controller) {
          navigator.serviceWorker.controller.postMessage({ type: "keluar" });
        }
        return Promise.all(jobs);
      }).catch(function () {}).then(function () {
        form.setAttribute("data-forgotten", "1");
        form.submit();
      });
    });
  });

  // ---- notifications on this device (Web Push): permission is asked for
  // only when the user presses the button.
  var PUSH_ID = "lapor-push-id";
  function pushSubscription() {
    return navigator.serviceWorker.ready.then(function (reg) { return reg.pushManager.getSubscription(); });
  }
  function pushOff() {
    var id = window.localStorage.getItem(PUSH_ID);
    return pushSubscription().then(function (sub) { return sub && sub.unsubscribe(); }).then(function () {
      window.localStorage.removeItem(PUSH_ID);
      if (id) { return fetch("/api/v1/push/subscriptions/" + encodeURIComponent(id), { method: "DELETE", credentials: "same-origin" }); }
    });
  }
  var pushBox = doc.querySelector("[data-push]");
  if (pushBox && "serviceWorker" in navigator && window.PushManager && window.Notification) {
    pushBox.hidden = false;
    var pushOn = pushBox.querySelector("[data-push-on]"), pushOffBtn = pushBox.querySelector("[data-push-off]");
    var pushStatus = pushBox.querySelector("[role=status]");
    var pushSay = function (k) { pushStatus.textContent = pushBox.getAttribute("data-" + k) || ""; };
    var pushShow = function (on) { pushOn.hidden = on; pushOffBtn.hidden = !on; pushSay(on ? "on" : "off"); };
    pushSubscription().then(function (sub) { pushShow(!!sub && !!window.localStorage.getItem(PUSH_ID)); }).catch(function () {});
    pushOn.addEventListener("click", function () {
      pushSay("asking");
      Notification.requestPermission().then(function (p) {
        if (p !== "granted") { throw new Error("denied"); }
        return Promise.all([navigator.serviceWorker.ready, fetch("/api/v1/push/key").then(function (r) { return r.json(); })]);
      }).then(function (got) {
        var raw = atob(got[1].public_key.replace(/-/g, "+").replace(/_/g, "/"));
        var key = new Uint8Array(raw.length);
        for (var i = 0; i < raw.length; i++) { key[i] = raw.charCodeAt(i); }
        return got[0].pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      }).then(function (sub) {
        return fetch("/api/v1/push/subscriptions", {
          method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
          body: JSON.stringify(sub.toJSON())
        }).then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); });
      }).then(function (v) {
        window.localStorage.setItem(PUSH_ID, v.id);
        pushShow(true);
      }).catch(function (e) { pushSay(e && e.message === "denied" ? "denied" : "failed"); });
    });
    pushOffBtn.addEventListener("click", function () {
      pushOff().then(function () { pushShow(false); }, function () { pushSay("failed"); });
    });
  }

  // ---- the report form's draft, kept on the device as it is typed
  var form = doc.getElementById("report-form");
  var status = null;
  function entries() {
    var out = [];
    new FormData(form).forEach(function (v, k) { out.push([k, v]); });
    return out;
  }
  function labels() {
    var l = {};
    all("select", form).forEach(function (s) { if (s.value && s.selectedOptions.length) { l[s.name] = s.selectedOptions[0].text; } });
    return l;
  }
  function snapshot() {
    var item = store.fromEntries(entries(), labels());
    return { id: "laporan", form_id: item.id, fields: item.fields, files: item.files, labels: item.labels, saved_at: Date.now() };
  }
  function saveDraft() {
    var d = snapshot();
    var blank = !d.files.length && d.fields.every(function (kv) {
      return !kv[1] || ["klasifikasi", "tanggal"].indexOf(kv[0]) >= 0;
    });
    if (blank) { return; }
    store.store.put("draf", d).then(function () {
      if (status) { status.textContent = say("draft-saved", { t: when(new Date(d.saved_at)) }); }
    }).catch(function () {});
  }
  function restore(d) {
    var byName = {};
    d.fields.forEach(function (kv) { (byName[kv[0]] = byName[kv[0]] || []).push(kv[1]); });
    all("input, select, textarea", form).forEach(function (el) {
      var vals = byName[el.name];
      if (el.type === "file" || el.type === "hidden" || el.type === "submit") { return; }
      if (el.type === "radio" || el.type === "checkbox") { el.checked = !!vals && vals.indexOf(el.value) >= 0; return; }
      if (!vals) { return; }
      if (el.tagName === "SELECT" && vals[0] && !Array.prototype.some.call(el.options, function (o) { return o.value === vals[0]; })) {
        // Offline, the lower region levels cannot be fetched: keep the
        // chosen one with its name as it was.
        var o = doc.createElement("option");
        o.value = vals[0]; o.textContent = (d.labels && d.labels[el.name]) || vals[0];
        el.appendChild(o);
      }
      el.value = vals[0];
    });
    var idField = form.querySelector("input[name=form_id]");
    if (idField) { idField.value = d.form_id; }
    var input = doc.getElementById("lampiran");
    if (input && d.files && d.files.length && window.DataTransfer) {
      var dt = new DataTransfer();
      d.files.forEach(function (f) { dt.items.add(f); });
      input.files = dt.files;
    }
  }
  function showDraftNotice(d) {
    notice("draf", d.errors ? "alert" : "status", function (box) {
      if (d.errors) {
        para(box, say("refused", { title: store.field(d, "judul") }));
        var ul = doc.createElement("ul");
        d.errors.forEach(function (e) { var li = doc.createElement("li"); li.textContent = e; ul.appendChild(li); });
        box.appendChild(ul);
      } else {
        para(box, say("draft-restored"));
      }
      var b = doc.createElement("button");
      b.type = "button"; b.className = "secondary"; b.textContent = say("draft-discard");
      b.addEventListener("click", function () {
        store.store.del("draf", "laporan").then(function () { window.location.replace("/lapor"); });
      });
      box.appendChild(b);
    });
  }
  if (form) {
    status = doc.createElement("p");
    status.className = "hint"; status.id = "draf-status"; status.setAttribute("aria-live", "polite");
    form.insertBefore(status, form.firstChild);
    var rerendered = !!doc.getElementById("errors");
    store.store.get("draf", "laporan").then(function (d) {
      // A form the server sent back with errors holds the newest input.
      if (d && !rerendered) { restore(d); showDraftNotice(d); }
      else if (kept) {
        // A kept copy carries the form id of the day it was kept: every
        // new report needs its own, or the server would take it for a resend.
        var idField = form.querySelector("input[name=form_id]");
        if (idField) { idField.value = store.newId(); }
      }
    }).catch(function () {});
    var later;
    var save = function () { clearTimeout(later); later = setTimeout(saveDraft, 400); };
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    form.addEventListener("submit", function (ev) {
      var action = ev.submitter && ev.submitter.value;
      if (action !== "kirim") { return; }
      if (navigator.onLine && !kept) { saveDraft(); return; }
      // Offline, or a kept copy: the queue sends it (with a fresh CSRF token).
      ev.preventDefault();
      ev.stopImmediatePropagation();
      var item = store.fromEntries(entries(), labels());
      store.store.put("draf", snapshot()).then(function () { return store.queue(item); }).then(function () {
        form.reset();
        var idField = form.querySelector("input[name=form_id]");
        if (idField) { idField.value = store.newId(); }
        var input = doc.getElementById("lampiran");
        if (input && window.DataTransfer) { input.files = new DataTransfer().files; }
        if (status) { status.textContent = ""; }
        var restored = doc.getElementById("draf");
        if (restored) { restored.remove(); }
        var box = notice("antre", "status", function (b) { para(b, say("queued")); });
        box.tabIndex = -1; box.focus();
        sendSoon();
      }).catch(function () {});
    }, true);
  }
  if (/[?&]antre=1/.test(window.location.search)) {
    notice("antre", "status", function (b) { para(b, say("queued")); });
  }
  // The receipt of a report sent the ordinary way: its draft is done.
  var receipt = doc.querySelector("[data-sent-form]");
  if (receipt) {
    store.store.get("draf", "laporan").then(function (d) {
      if (d && d.form_id === receipt.getAttribute("data-sent-form")) { return store.store.del("draf", "laporan"); }
    }).catch(function () {});
  }

  // ---- the queue: sent when the page opens, when the connection comes
  // back, and by the service worker's background sync; results shown here.
  function showResults() {
    store.store.all("hasil").then(function (results) {
      results.forEach(function (r) {
        notice("hasil-" + r.id, r.ok ? "status" : "alert", function (box) {
          if (r.ok) {
            para(box, say("sent", { title: r.title }));
            var dl = doc.createElement("dl"); dl.className = "secret";
            [[say("tracking"), r.tracking_id, "hasil-id"], [say("pin"), r.pin, "hasil-pin"]].forEach(function (row) {
              var div = doc.createElement("div"), dt = doc.createElement("dt"), dd = doc.createElement("dd");
              dt.textContent = row[0]; dd.textContent = row[1]; dd.className = row[2];
              div.appendChild(dt); div.appendChild(dd); dl.appendChild(div);
            });
            box.appendChild(dl);
            para(box, say("keep"));
            var a = doc.createElement("a"); a.href = "/lacak"; a.textContent = say("track");
            para(box, "").appendChild(a);
          } else {
            para(box, say("refused", { title: r.title }));
            var ul = doc.createElement("ul");
            (r.errors || []).forEach(function (e) { var li = doc.createElement("li"); li.textContent = e; ul.appendChild(li); });
            box.appendChild(ul);
            if (!form) { var o = doc.createElement("a"); o.href = "/lapor"; o.textContent = say("open-draft"); para(box, "").appendChild(o); }
          }
          closeButton(box, function () { store.store.del("hasil", r.id).catch(function () {}); });
        });
      });
    }).catch(function () {});
    store.store.all("antrean").then(function (q) {
      var box = doc.getElementById("menunggu");
      if (!q.length) {
        // Nothing waits any more: the "queued" notices are out of date.
        ["menunggu", "antre"].forEach(function (id) { var el = doc.getElementById(id); if (el) { el.remove(); } });
        return;
      }
      notice("menunggu", "status", function (b) { para(b, say("waiting", { n: q.length })); });
    }).catch(function () {});
  }
  var sending = false;
  function sendSoon() {
    if (sending || !navigator.onLine) { showResults(); return; }
    sending = true;
    store.flush().then(function () { sending = false; showResults(); }, function () { sending = false; });
    if (navigator.serviceWorker) {
      navigator.serviceWorker.ready.then(function (reg) { if (reg.sync) { return reg.sync.register("lapor-antrian"); } }).catch(function () {});
    }
  }
  if (window.BroadcastChannel) {
    new BroadcastChannel("lapor-antrian").onmessage = function () { showResults(); };
  }
  window.addEventListener("online", function () {
    var off = doc.getElementById("luring");
    if (off) { off.remove(); }
    sendSoon();
  });
  window.addEventListener("offline", function () {
    if (staffPage) { return; }
    notice("luring", "status", function (box) { para(box, say("offline-now")); });
  });
  setInterval(function () { store.store.all("antrean").then(function (q) { if (q.length) { sendSoon(); } }).catch(function () {}); }, 30000);
  if (!staffPage) { sendSoon(); }
})();
