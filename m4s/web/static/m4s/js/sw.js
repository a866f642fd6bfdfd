/* M4S owner app service worker.
 * Pages: network first, falling back to the last copy (so SOS works with no network).
 * Static files: cache first. The SOS page is cached at install time and refreshed whenever a
 * signed-in page asks (so the offline copy carries the owner's own store numbers). */
const VERSION = "m4s-v3";
const PRECACHE = ["/app/sos/", "/app/offline/", "/static/m4s/css/m4s.css", "/static/m4s/js/htmx.min.js", "/static/m4s/js/app.js"];

function store(url) {
  return fetch(url, { credentials: "same-origin" })
    .then((r) => (r.ok && !r.redirected ? caches.open(VERSION).then((c) => c.put(url, r)) : null))
    .catch(() => null);
}

self.addEventListener("install", (event) => {
  event.waitUntil(Promise.all(PRECACHE.map(store)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== VERSION).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "refresh-sos") event.waitUntil(store("/app/sos/"));
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(
      caches.match(req).then((hit) => hit || fetch(req).then((r) => {
        if (r.ok) { const copy = r.clone(); event.waitUntil(caches.open(VERSION).then((c) => c.put(req, copy))); }
        return r;
      }))
    );
    return;
  }
  if (req.mode === "navigate" && url.pathname.startsWith("/app/")) {
    event.respondWith(
      fetch(req).then((r) => {
        if (r.ok && !r.redirected) {
          const copy = r.clone();
          event.waitUntil(caches.open(VERSION).then((c) => c.put(url.pathname, copy)));
        }
        return r;
      }).catch(() =>
        caches.match(url.pathname).then((hit) => hit || caches.match("/app/offline/"))
      )
    );
  }
});

/* Web push (m4s/notify/webpush.py): show the notice; a tap opens (or focuses) its page. The
 * payload is {title, body, url, tag}; a resent message has the same tag and replaces the notice. */
self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = { title: event.data ? event.data.text() : "" }; }
  const url = typeof data.url === "string" && data.url.startsWith("/") ? data.url : "/app/inbox/";
  event.waitUntil(
    self.registration.showNotification(data.title || "M4S", {
      body: data.body || "",
      tag: data.tag || undefined,
      icon: "/static/m4s/icons/icon-192.png",
      badge: "/static/m4s/icons/icon-192.png",
      data: { url },
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL((event.notification.data && event.notification.data.url) || "/app/inbox/", self.location.origin);
  if (url.origin !== self.location.origin) return;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const w of windows) {
        if (new URL(w.url).pathname === url.pathname && "focus" in w) return w.focus();
      }
      return self.clients.openWindow(url.href);
    })
  );
});
