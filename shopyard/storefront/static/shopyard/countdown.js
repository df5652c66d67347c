/* Keeps the server-rendered payment countdowns ticking. The server sends the
   seconds left (so the client's clock does not matter); without JavaScript
   the text simply stays as rendered. */
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
