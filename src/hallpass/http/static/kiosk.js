// Kiosk screens: after a while without a touch or a key, go back to the start screen.
(function () {
  "use strict";
  var body = document.body;
  var home = body.dataset.idleHome;
  var seconds = Number(body.dataset.idleSeconds || 30);
  if (!home || !seconds) { return; }
  var timer = null;
  function restart() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () { window.location.assign(home); }, seconds * 1000);
  }
  ["pointerdown", "keydown", "input", "touchstart", "wheel"].forEach(function (name) {
    document.addEventListener(name, restart, {passive: true});
  });
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type='submit']");
      if (button && form.method === "post") { setTimeout(function () { button.disabled = true; }, 0); }
    });
  });
  restart();
})();

// The emergency banner follows the school's emergency mode live (the server tells it at once).
(function () {
  "use strict";
  var banner = document.getElementById("emergency-banner");
  if (!banner || !window.EventSource) { return; }
  // A student's waiting screen follows their place in the line: the server says when it changed.
  var line = document.getElementById("kiosk-line");
  var query = line ? "?student_id=" + encodeURIComponent(line.dataset.student) +
    "&destination_id=" + encodeURIComponent(line.dataset.destination) +
    "&shown=" + encodeURIComponent(line.dataset.shown) : "";
  window.hallpassLive("/kiosk/events" + query, {line: function () { window.location.reload(); }});
})();
