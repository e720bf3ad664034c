// Lapor's store on the device: the report form's draft, the queue of reports
// written offline, and what became of each queued report. IndexedDB keeps
// them, photos included. The pages and the service worker both load this
// file, so a queued report goes out from whichever runs first; a lock keeps
// two senders from overlapping, and the form's id travels as the
// idempotency key, so even a resend after a lost answer files one report.
(function (root) {
  "use strict";
  var DB = "lapor";
  // draf: the form being written (one per device, id "laporan");
  // antrean: reports waiting for a connection, by form id;
  // hasil: what the server said about a queued report, until dismissed.
  var STORES = ["draf", "antrean", "hasil"];
  var opening = null;

  function open() {
    if (!opening) {
      opening = new Promise(function (resolve, reject) {
        var req = root.indexedDB.open(DB, 1);
        req.onupgradeneeded = function () {
          STORES.forEach(function (s) {
            if (!req.result.objectStoreNames.contains(s)) { req.result.createObjectStore(s, { keyPath: "id" }); }
          });
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { opening = null; reject(req.error); };
      });
    }
    return opening;
  }

  // One transaction on one store; resolves with the request's result once
  // the transaction has committed.
  function tx(store, mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(store, mode);
        var req = fn(t.objectStore(store));
        t.oncomplete = function () { resolve(req ? req.result : undefined); };
        t.onerror = t.onabort = function () { reject(t.error); };
      });
    });
  }

  var store = {
    get: function (s, id) { return tx(s, "readonly", function (o) { return o.get(id); }); },
    all: function (s) { return tx(s, "readonly", function (o) { return o.getAll(); }); },
    put: function (s, value) { return tx(s, "readwrite", function (o) { return o.put(value); }); },
    del: function (s, id) { return tx(s, "readwrite", function (o) { return o.delete(id); }); },
    clear: function (s) { return tx(s, "readwrite", function (o) { return o.clear(); }); }
  };

  function announce(what) {
    if (!root.BroadcastChannel) { return; }
    var bc = new root.BroadcastChannel("lapor-antrian");
    bc.postMessage({ type: what });
    bc.close();
  }

  // A draft or queued report from the form's entries: text fields, files
  // (empty file inputs send a nameless empty part, which is left out), and
  // the visible names of the chosen options so they survive offline.
  function fromEntries(entries, labels) {
    var item = { fields: [], files: [], labels: labels || {} };
    entries.forEach(function (kv) {
      var v = kv[1];
      if (typeof v === "string") {
        if (kv[0] === "csrf" || kv[0] === "action") { return; }
        if (kv[0] === "form_id") { item.id = v; return; }
        item.fields.push([kv[0], v]);
      } else if (v && v.size > 0) {
        item.files.push(v);
      }
    });
    if (!item.id) { item.id = newId(); }
    return item;
  }

  function newId() {
    if (root.crypto && root.crypto.randomUUID) { return root.crypto.randomUUID(); }
    var a = new Uint8Array(16);
    root.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function field(item, name) {
    for (var i = 0; i < item.fields.length; i++) { if (item.fields[i][0] === name) { return item.fields[i][1]; } }
    return "";
  }

  // Queue a report: it leaves the draft store in the same step, so it is
  // never both a draft and on its way.
  function queue(item) {
    item.queued_at = Date.now();
    delete item.errors;
    return store.put("antrean", item)
      .then(function () { return store.get("draf", "laporan"); })
      .then(function (d) { return d && d.form_id === item.id ? store.del("draf", "laporan") : null; })
      .then(function () { announce("antrean"); });
  }

  function token() {
    return root.fetch("/fragmen/csrf", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error("csrf " + r.status); } return r.text(); });
  }

  function send(item, csrf) {
    var body = new FormData();
    item.fields.forEach(function (kv) { body.append(kv[0], kv[1]); });
    (item.files || []).forEach(function (f) { body.append("lampiran", f, f.name || "lampiran"); });
    body.append("csrf", csrf);
    body.append("form_id", item.id);
    body.append("action", "kirim");
    return root.fetch("/lapor", {
      method: "POST", body: body, credentials: "same-origin", cache: "no-store",
      headers: { Accept: "application/json" }
    });
  }

  // What the server's answer means for a queued report: sent, refused for
  // good (it goes back to being the draft, with the reasons), or not yet
  // (no connection, a server error, a rate limit): it stays queued.
  function settle(item, r) {
    return r.json().catch(function () { return {}; }).then(function (body) {
      var title = field(item, "judul");
      if (r.ok && body.tracking_id) {
        return store.put("hasil", {
          id: item.id, ok: true, title: title, tracking_id: body.tracking_id, pin: body.pin,
          verify_by: body.verify_by || null, at: Date.now()
        }).then(function () { return store.del("antrean", item.id); }).then(function () { return true; });
      }
      if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
        var errors = body.errors || [(body.error && body.error.message) || ("HTTP " + r.status)];
        var draft = { id: "laporan", form_id: item.id, fields: item.fields, files: item.files, labels: item.labels, errors: errors, saved_at: Date.now() };
        return store.put("draf", draft)
          .then(function () { return store.put("hasil", { id: item.id, ok: false, title: title, errors: errors, at: Date.now() }); })
          .then(function () { return store.del("antrean", item.id); })
          .then(function () { return true; });
      }
      return false;
    });
  }

  function flushNow() {
    return store.all("antrean").then(function (items) {
      if (!items.length) { return 0; }
      items.sort(function (a, b) { return a.queued_at - b.queued_at; });
      return token().then(function (csrf) {
        var done = 0;
        // One at a time, oldest first; the first that cannot go stops the round.
        return items.reduce(function (p, item) {
          return p.then(function (go) {
            if (!go) { return false; }
            return send(item, csrf).then(function (r) { return settle(item, r); })
              .then(function (ok) { if (ok) { done++; } return ok; });
          });
        }, Promise.resolve(true)).then(function () { return done; });
      });
    }).then(function (n) { if (n) { announce("hasil"); } return n; },
      function () { return 0; });
  }

  function flush() {
    var locks = root.navigator && root.navigator.locks;
    return locks ? locks.request("lapor-antrian", flushNow) : flushNow();
  }

  root.LaporAntrian = { store: store, fromEntries: fromEntries, newId: newId, queue: queue, flush: flush, field: field };
})(self);
