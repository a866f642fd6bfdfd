// Store services (owner forms): the car diagram toggles the damaged-part checkboxes; the rental
// form shows days, price and deposit before it is sent. No inline scripts (CSP).
(function () {
  function syncDiagram(root) {
    root.querySelectorAll("[data-panel]").forEach(function (shape) {
      var box = document.getElementById("panel-" + shape.getAttribute("data-panel"));
      shape.classList.toggle("on", !!(box && box.checked));
    });
  }
  document.querySelectorAll(".as-diagram").forEach(function (root) {
    root.querySelectorAll("[data-panel]").forEach(function (shape) {
      shape.addEventListener("click", function () {
        var box = document.getElementById("panel-" + shape.getAttribute("data-panel"));
        if (box) { box.checked = !box.checked; syncDiagram(root); }
      });
    });
    root.addEventListener("change", function () { syncDiagram(root); });
    syncDiagram(root);
  });

  var price = document.querySelector("[data-testid=rental-price]");
  if (price) {
    var form = price.closest("form") || document;
    var update = function () {
      var car = form.querySelector("input[name=car_id]:checked");
      var a = form.querySelector("input[name=starts_on]").value;
      var b = form.querySelector("input[name=ends_on]").value;
      if (!car || !a || !b) { return; }
      var days = Math.round((Date.parse(b) - Date.parse(a)) / 86400000);
      if (!(days > 0)) { price.textContent = "—"; return; }
      var perDay = Math.round(parseFloat(car.getAttribute("data-price")) * 100);
      var total = (perDay * days / 100).toFixed(2);
      price.textContent = days + " " + price.getAttribute("data-days-label") + " · ¥" + total +
        " · " + price.getAttribute("data-deposit-label") + " ¥" + car.getAttribute("data-deposit");
    };
    form.addEventListener("change", update);
    form.addEventListener("input", update);
    update();
  }
})();
