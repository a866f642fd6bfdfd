/* Conversations (owner thread and console): keep the thread scrolled to the newest message,
 * reset the composer after a send, show how many photos are attached, put a canned reply into
 * the reply box, and let htmx show a refused send's message (a 4xx with an alert). No inline
 * handlers (the CSP forbids them): everything is delegated from the document. */
(function () {
  "use strict";

  function scroller(thread) {
    // The console thread scrolls inside its card; the owner's thread scrolls the page.
    return thread.closest("[data-cv-scroll]") || document.scrollingElement;
  }

  function nearBottom(box) {
    return box.scrollHeight - box.scrollTop - box.clientHeight < 160;
  }

  function toBottom(thread) {
    const box = scroller(thread);
    box.scrollTop = box.scrollHeight;
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-cv-thread]").forEach(toBottom);
  });

  // New messages arrive by polling: follow them when the reader is at the bottom already.
  let follow = true;
  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    if (target && !document.body.contains(target)) {
      event.detail.shouldSwap = false; // a poller already replaced by a newer one
      return;
    }
    const thread = target && target.closest ? target.closest("[data-cv-thread]") : null;
    if (thread) follow = nearBottom(scroller(thread));
    // A refused send answers 4xx with its reason: show it in the composer's alert slot.
    const elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (elt && elt.closest("[data-cv-errors]") && status >= 400 && status < 500) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    const thread = target && target.closest ? target.closest("[data-cv-thread]") : null;
    if (!thread) return;
    // Two polls that crossed (a send's refresh and the timer) may bring a message twice.
    const seen = new Set();
    thread.querySelectorAll("li.cv-msg[id]").forEach((li) => {
      if (seen.has(li.id)) li.remove();
      else seen.add(li.id);
    });
    const pollers = thread.querySelectorAll("li.cv-poll");
    pollers.forEach((li, i) => { if (i < pollers.length - 1) li.remove(); });
    if (follow) toBottom(thread);
  });

  // A send that went through: empty the box and the photos, clear the alert, refresh at once.
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt && event.detail.elt.closest("form[data-cv-composer]");
    if (!form || !event.detail.successful) return;
    form.reset();
    form.querySelectorAll("[data-cv-count]").forEach((b) => { b.hidden = true; b.textContent = ""; });
    const alert = form.querySelector("[data-cv-alert]");
    if (alert) alert.innerHTML = "";
  });

  document.addEventListener("change", (event) => {
    const files = event.target.closest("input[type=file][data-cv-photos]");
    if (files) {
      const badge = files.parentElement.querySelector("[data-cv-count]");
      if (badge) {
        badge.textContent = files.files.length ? String(files.files.length) : "";
        badge.hidden = !files.files.length;
      }
    }
    const canned = event.target.closest("select[data-cv-canned]");
    if (canned) {
      const option = canned.selectedOptions[0];
      const box = document.getElementById(canned.dataset.cvCanned);
      if (option && option.dataset.body && box) {
        box.value = box.value.trim() ? `${box.value.trim()}\n${option.dataset.body}` : option.dataset.body;
        box.focus();
      }
      canned.selectedIndex = 0;
    }
  });
})();
