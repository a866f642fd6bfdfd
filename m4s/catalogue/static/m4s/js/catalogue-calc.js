// Finance calculator: the down-payment slider and its number field move together; a new offer,
// car or price clears the down payment so the server proposes one inside the offer's range.
(function () {
  document.addEventListener("input", function (e) {
    var t = e.target;
    if (t.matches("[data-down-range]")) {
      var n = t.form.querySelector("[data-down]");
      if (n) n.value = t.value;
    } else if (t.matches("[data-down]")) {
      var r = t.form.querySelector("[data-down-range]");
      if (r) r.value = t.value;
    }
  });
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.matches("[data-resets-down]")) {
      var n = t.form.querySelector("[data-down]");
      if (n) n.value = "";
    }
  }, true);
})();
