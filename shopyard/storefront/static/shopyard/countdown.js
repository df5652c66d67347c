/* Keeps the server-rendered countdowns (payment deadlines, flash sales) ticking.
   The server sends the seconds left (so the client's clock does not matter);
   without JavaScript the text simply stays as rendered. A countdown with
   data-enables="<selector>" enables those buttons when it reaches zero (the
   flash-sale buy button opening at the start second; the server checks again). */
(function () {
  "use strict";
  if (window.shopyardCountdown) { return; }
  window.shopyardCountdown = true;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function format(s) {
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return h ? h + ":" + pad(m) + ":" + pad(sec) : pad(m) + ":" + pad(sec);
  }
  function start() {
    var started = Date.now();
    var items = Array.prototype.slice.call(document.querySelectorAll(".pay-countdown[data-seconds]"));
    function tick() {
      var elapsed = Math.floor((Date.now() - started) / 1000);
      items.forEach(function (el) {
        var left = Math.max(0, parseInt(el.getAttribute("data-seconds"), 10) - elapsed);
        var out = el.querySelector(".countdown-left");
        if (out) { out.textContent = format(left); }
        var enables = el.getAttribute("data-enables");
        if (left === 0 && enables) {
          Array.prototype.forEach.call(document.querySelectorAll(enables), function (b) { b.disabled = false; });
          el.removeAttribute("data-enables");
        }
      });
    }
    if (items.length) { window.setInterval(tick, 1000); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
