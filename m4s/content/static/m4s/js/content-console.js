// The content editor's formatting buttons: wrap the selected text of the body in a tag.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".cms-toolbar button[data-tag]");
    if (!button) return;
    var bar = button.closest(".cms-toolbar");
    var area = document.getElementById(bar.getAttribute("data-for"));
    if (!area) return;
    var tag = button.getAttribute("data-tag");
    var start = area.selectionStart, end = area.selectionEnd;
    var text = area.value.slice(start, end) || "…";
    var open = "<" + tag + ">", close = "</" + tag + ">";
    if (tag === "a") {
      var href = window.prompt("https://", "https://");
      if (!href) return;
      open = '<a href="' + href.replace(/"/g, "&quot;") + '">';
    }
    area.setRangeText(open + text + close, start, end, "end");
    area.focus();
  });
})();
