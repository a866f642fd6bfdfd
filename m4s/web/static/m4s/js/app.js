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

/* Behaviour that templates ask for with data attributes (no inline handlers: the CSP forbids
 * them). Delegated from the document, so it also works in fragments htmx swaps in. */
document.addEventListener("change", (event) => {
  const field = event.target.closest("[data-autosubmit]");
  if (field && field.form) field.form.submit();
});
document.addEventListener("click", (event) => {
  const target = event.target;
  if (target.closest("[data-print]")) {
    window.print();
    return;
  }
  const selectable = target.closest("[data-select-on-click]");
  if (selectable) selectable.select();
  const share = target.closest("[data-share]");
  if (share) {
    const source = document.getElementById(share.dataset.share);
    const link = source ? source.value : window.location.href;
    if (navigator.share) {
      navigator.share({ url: link }).catch(() => {});
    } else if (navigator.clipboard) {
      navigator.clipboard.writeText(link).then(() => { share.textContent = "✓"; }).catch(() => {});
    }
  }
});
