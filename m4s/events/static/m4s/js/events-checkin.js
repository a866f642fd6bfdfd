/* Check-in page: on a phone or tablet whose browser has the native BarcodeDetector API, a
   "Scan with the camera" button reads the ticket's QR and submits the code. Without it, the
   page stays what it is: a handheld scanner or the keyboard types the code. No library. */
(function () {
  "use strict";
  var form = document.querySelector("[data-checkin-form]");
  var button = document.querySelector("[data-scan]");
  if (!form || !button || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  var video = document.querySelector("[data-scan-video]");
  var input = form.querySelector("input[name=token]");
  button.hidden = false;
  button.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (stream) {
        video.hidden = false;
        video.srcObject = stream;
        video.play();
        var stop = function () {
          stream.getTracks().forEach(function (t) { t.stop(); });
          video.hidden = true;
        };
        var look = function () {
          detector.detect(video).then(function (codes) {
            if (codes.length && codes[0].rawValue) {
              input.value = codes[0].rawValue.slice(0, 60);
              stop();
              form.submit();
            } else {
              window.setTimeout(look, 250);
            }
          }, function () { window.setTimeout(look, 500); });
        };
        look();
      }, function () { button.hidden = true; });
  });
})();
