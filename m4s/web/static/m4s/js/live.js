// The console's live channel (m4s/notify/live.py): one EventSource per console page on
// /api/v1/staff/stream. Each event is re-dispatched on <body> as "m4s:live" (and "m4s:<name>":
// rescue, alarm, notice), which htmx elements listen to (hx-trigger="m4s:live from:body").
// While the stream is down (not yet open, refused with 503 by a busy server, the network gone)
// the page fires "m4s:poll" every 2 s instead, so nothing depends on the push channel working.
(function () {
  "use strict";
  var body = document.body;
  var anchor = document.getElementById("live-channel");
  if (!anchor) return;
  var url = anchor.dataset.url;
  var POLL_MS = 2000;
  var REOPEN_MS = 15000;
  body.dataset.live = "down";

  function fire(name, detail) {
    body.dispatchEvent(new CustomEvent(name, { detail: detail || {}, bubbles: true }));
  }

  function bumpUnread() {
    var badge = document.querySelector("[data-testid=unread]");
    if (badge) badge.textContent = String((parseInt(badge.textContent, 10) || 0) + 1);
  }

  function open() {
    if (!window.EventSource) return;
    var source = new EventSource(url);
    source.onopen = function () {
      body.dataset.live = "up";
      fire("m4s:live", { kind: "connected" }); // catch up on what happened while it was down
    };
    source.onerror = function () {
      body.dataset.live = "down";
      if (source.readyState === EventSource.CLOSED) setTimeout(open, REOPEN_MS);
    };
    ["rescue", "alarm", "notice"].forEach(function (name) {
      source.addEventListener(name, function (e) {
        var detail = {};
        try { detail = JSON.parse(e.data); } catch (err) { /* a comment or a broken line */ }
        if (name === "notice") bumpUnread();
        fire("m4s:" + name, detail);
        fire("m4s:live", detail);
      });
    });
  }

  document.addEventListener("click", function (e) {
    var close = e.target.closest && e.target.closest("[data-dismiss-toast]");
    if (close) close.closest(".toast").remove();
  });

  setInterval(function () {
    if (body.dataset.live !== "up") fire("m4s:poll");
  }, POLL_MS);
  open();
})();
