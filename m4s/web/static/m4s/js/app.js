/* Registers the service worker and keeps htmx requests CSRF-safe. No build step. */
if ("serviceWorker" in navigator) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(() => {});
    if (document.body.dataset.owner) {
      // Signed in: make sure the offline SOS copy carries this owner's store numbers.
      navigator.serviceWorker.ready.then((reg) => reg.active && reg.active.postMessage("refresh-sos"));
    }
  });
}
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector("meta[name=csrf-token]");
  if (token) event.detail.headers["X-CSRFToken"] = token.content;
});
