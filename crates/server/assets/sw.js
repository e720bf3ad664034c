// Lapor's service worker (decision 0020). It keeps the app shell so the apps
// open with no connection, keeps the pages a signed-in user opened so they
// can be read offline, queues a report whose sending failed, and refuses
// (never queues) a staff action taken offline.
"use strict";
var VERSION = "__VERSION__";
var ASSETS = [/*__ASSETS__*/];
var SHELL = "lapor-shell-" + VERSION;
// Pages of one account; dropped at sign-out, and whenever a page arrives
// for no account or for another one.
var PRIVATE = "lapor-pribadi";
// Region and institution lists for the report form, as last seen.
var DATA = "lapor-data";
// The anonymous pages every visitor gets the same: kept in the shell.
var SHELL_PAGES = ["/", "/lapor", "/luring"];
var ACCOUNT_KEY = "/__akun__";

importScripts(ASSETS.filter(function (u) { return u.indexOf("/aset/lapor-antrian.js") === 0; })[0]);

self.addEventListener("install", function (ev) {
  ev.waitUntil(caches.open(SHELL).then(function (c) {
    return Promise.all([c.addAll(ASSETS)].concat(SHELL_PAGES.map(function (p) {
      // Without cookies: the shell must not hold anybody's page.
      return fetch(p, { credentials: "omit" }).then(function (r) { if (r.ok) { return c.put(p, r); } });
    })));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (ev) {
  // Navigation preload: the page request starts while the worker starts,
  // so going through the worker costs no extra round trip.
  var preload = self.registration.navigationPreload ? self.registration.navigationPreload.enable() : Promise.resolve();
  ev.waitUntil(preload.then(function () { return caches.keys(); }).then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("lapor-shell-") === 0 && k !== SHELL; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

// Pages kept per account: the account, "my reports", tracking pages, the
// form, and the workspace queue and report pages.
var PERSONAL = /^\/(|lapor|akun|lacak\/[^/]+|staf|staf\/laporan\/[^/]+)$/;

self.addEventListener("fetch", function (ev) {
  var req = ev.request;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) { return; }
  if (req.method === "POST" && req.mode === "navigate") { ev.respondWith(postPage(req, url)); return; }
  if (req.method !== "GET") { return; }
  if (url.pathname.indexOf("/aset/") === 0) {
    ev.respondWith(caches.match(req).then(function (r) { return r || fetch(req); }));
  } else if (req.mode === "navigate") {
    ev.respondWith(page(req, url, ev));
  } else if (url.pathname === "/fragmen/wilayah" || url.pathname === "/fragmen/instansi") {
    ev.respondWith(fetch(req).then(function (r) {
      if (r.ok) { var copy = r.clone(); caches.open(DATA).then(function (c) { c.put(req, copy); }); }
      return r;
    }, function () {
      return caches.match(req, { cacheName: DATA }).then(function (r) { return r || Response.error(); });
    }));
  }
});

// Network first, so nobody reads yesterday's state while online; the copy
// is what the page shows when the network is gone.
function page(req, url, ev) {
  return Promise.resolve(ev.preloadResponse).then(function (pre) { return pre || fetch(req); }).then(function (resp) {
    ev.waitUntil(remember(url, resp.clone()));
    return resp;
  }, function () { return fromCache(url); });
}

function remember(url, resp) {
  var account = resp.headers.get("x-lapor-akun") || "";
  return caches.open(PRIVATE).then(function (c) {
    return c.match(ACCOUNT_KEY).then(function (m) { return m ? m.text() : ""; }).then(function (seen) {
      if (seen === account) { return c; }
      // Another account (or none): nothing of the previous one may remain.
      return caches.delete(PRIVATE).then(function () { return caches.open(PRIVATE); }).then(function (fresh) {
        return fresh.put(ACCOUNT_KEY, new Response(account)).then(function () { return fresh; });
      });
    });
  }).then(function (c) {
    var html = (resp.headers.get("content-type") || "").indexOf("text/html") === 0;
    if (!resp.ok || resp.redirected || !html || !PERSONAL.test(url.pathname)) { return; }
    if (account) { return c.put(url.pathname, resp); }
    if (SHELL_PAGES.indexOf(url.pathname) >= 0) {
      return caches.open(SHELL).then(function (s) { return s.put(url.pathname, resp); });
    }
  });
}

function fromCache(url) {
  return caches.open(PRIVATE).then(function (c) { return c.match(url.pathname); })
    .then(function (r) { return r || caches.match(url.pathname, { cacheName: SHELL }); })
    .then(function (r) { return r || caches.match("/luring", { cacheName: SHELL }); })
    .then(function (r) { return r ? marked(r) : Response.error(); });
}

// A kept page says so: the page script shows the "as of" banner and keeps
// forms from sending what a stale page holds.
function marked(resp) {
  return resp.text().then(function (html) {
    var h = new Headers(resp.headers);
    h.delete("content-length");
    return new Response(html.replace("<html ", "<html data-luring=\"1\" "), { status: 200, headers: h });
  });
}

function postPage(req, url) {
  var copy = req.clone();
  return fetch(req).catch(function () {
    if (url.pathname === "/lapor") {
      return copy.formData().then(function (fd) {
        if (fd.get("action") !== "kirim") { return offlineAnswer(url); }
        var entries = [];
        fd.forEach(function (v, k) { entries.push([k, v]); });
        return LaporAntrian.queue(LaporAntrian.fromEntries(entries))
          .then(function () { return Response.redirect("/lapor?antre=1", 303); });
      });
    }
    return offlineAnswer(url);
  });
}

// A form sent with no connection, other than a report: refused, in both
// languages, because an admin's decision needs the report's current state.
function offlineAnswer(url) {
  var css = ASSETS.filter(function (u) { return u.indexOf("/aset/lapor.css") === 0; })[0];
  var back = url.pathname.indexOf("/staf") === 0 ? url.pathname.replace(/\/aksi$/, "") : "/";
  var body = "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\">" +
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
    "<title>Luring · LAPOR!</title><link rel=\"stylesheet\" href=\"" + css + "\"></head>" +
    "<body><main id=\"konten\" class=\"wrap\"><div class=\"alert\" role=\"alert\">" +
    "<h1>Tidak terkirim: Anda sedang luring</h1>" +
    "<p>Tindakan atas laporan tidak disimpan untuk dikirim nanti, karena keputusan memerlukan keadaan laporan yang terkini. " +
    "Sambungkan kembali perangkat, muat ulang halaman, lalu ulangi tindakan.</p>" +
    "<p lang=\"en\">Not sent: you are offline. Actions on a report are not queued, because a decision needs the report's " +
    "current state. Reconnect, reload the page, then try again.</p>" +
    "<p><a href=\"" + back + "\">Kembali / Back</a></p></div></main></body></html>";
  return new Response(body, {
    status: 503,
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": "default-src 'self'; script-src 'none'; frame-ancestors 'none'"
    }
  });
}

self.addEventListener("message", function (ev) {
  var type = ev.data && ev.data.type;
  if (type === "keluar") {
    ev.waitUntil(caches.delete(PRIVATE));
  } else if (type === "kirim") {
    ev.waitUntil(LaporAntrian.flush());
  }
});

// Web Push: show what the server sent. The tag makes a resend replace the
// notification instead of repeating it; a tap opens the report.
var ICON = ASSETS.filter(function (u) { return u.indexOf("/aset/ikon-192.png") === 0; })[0];
self.addEventListener("push", function (ev) {
  var n = {};
  try { n = ev.data ? ev.data.json() : {}; } catch (e) { n = {}; }
  // Only paths of this site: a notification never leads elsewhere.
  var url = typeof n.url === "string" && n.url.charAt(0) === "/" && n.url.charAt(1) !== "/" ? n.url : "/";
  ev.waitUntil(self.registration.showNotification(n.title || "LAPOR!", {
    body: n.body || "", tag: n.tag || undefined, icon: ICON, badge: ICON, lang: "id", data: { url: url }
  }));
});
self.addEventListener("notificationclick", function (ev) {
  ev.notification.close();
  var url = (ev.notification.data && ev.notification.data.url) || "/";
  ev.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (open) {
    for (var i = 0; i < open.length; i++) {
      if (new URL(open[i].url).pathname === url && open[i].focus) { return open[i].focus(); }
    }
    return self.clients.openWindow(url);
  }));
});

// Background Sync, where the browser has it: the queue goes out even when
// no Lapor page is open any more.
self.addEventListener("sync", function (ev) {
  if (ev.tag === "lapor-antrian") {
    ev.waitUntil(LaporAntrian.flush().then(function () {
      return LaporAntrian.store.all("antrean");
    }).then(function (left) { if (left.length) { throw new Error("queue not empty: retry later"); } }));
  }
});
