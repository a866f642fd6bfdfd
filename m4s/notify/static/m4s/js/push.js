/* Web push on the notification settings page: asks for permission, subscribes this browser
 * with the server's VAPID key and posts the subscription to the app (no inline script: CSP).
 * A subscription made under an older key is replaced. */
(function () {
  const box = document.querySelector("[data-testid=push]");
  if (!box) return;
  const button = box.querySelector("[data-testid=push-enable]");
  const state = box.querySelector("[data-push-state]");
  const key = box.dataset.vapidKey;
  const say = (name) => { state.textContent = box.dataset["msg" + name]; };

  function keyBytes(text) {
    const padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }
  function sameKey(sub) {
    const used = sub.options && sub.options.applicationServerKey;
    if (!used) return true;
    const a = new Uint8Array(used), b = keyBytes(key);
    return a.length === b.length && a.every((v, i) => v === b[i]);
  }
  function save(sub) {
    const csrf = document.querySelector("meta[name=csrf-token]");
    return fetch(box.dataset.post, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.content : "" },
      body: JSON.stringify(sub.toJSON()),
    }).then((r) => { if (!r.ok) throw new Error("HTTP " + r.status); return r; });
  }
  function registration() {
    return navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" })
      .then(() => navigator.serviceWorker.ready);
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window) || !key) {
    say("Unsupported");
    button.hidden = true;
    return;
  }
  if (Notification.permission === "denied") say("Denied");

  // Already subscribed: keep the server's copy fresh (and move to a new key if it changed).
  registration().then((reg) => reg.pushManager.getSubscription().then((sub) => {
    if (!sub) return null;
    if (!sameKey(sub)) return sub.unsubscribe().then(() => null);
    return save(sub).then(() => { say("On"); box.dataset.subscribed = "1"; button.hidden = true; });
  })).catch(() => {});

  button.addEventListener("click", () => {
    button.disabled = true;
    Notification.requestPermission()
      .then((permission) => {
        if (permission !== "granted") { say("Denied"); throw null; }
        return registration();
      })
      .then((reg) => reg.pushManager.getSubscription().then((old) =>
        old && !sameKey(old) ? old.unsubscribe().then(() => null) : old
      ).then((old) => old || reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) })))
      .then(save)
      .then(() => { say("On"); box.dataset.subscribed = "1"; button.hidden = true; })
      .catch((err) => { if (err) say("Failed"); })
      .finally(() => { button.disabled = false; });
  });
})();
