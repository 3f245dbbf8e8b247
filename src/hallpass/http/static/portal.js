// The student's current pass follows the teacher's decision live: the server sends an event
// when the student's own latest pass changes, and the block is fetched again.
(function () {
  "use strict";
  var box = document.getElementById("current");
  if (!box) { return; }
  var loading = false, again = false;

  function load() {
    if (loading) { again = true; return; }
    loading = true;
    fetch("/portal/current", {credentials: "same-origin"})
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); return Promise.reject(r.status); }
        return r.ok ? r.text() : Promise.reject(r.status);
      })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () { /* the next event or the timer loads again */ })
      .then(function () {
        loading = false;
        if (again) { again = false; load(); }
      });
  }

  var banner = document.getElementById("emergency-banner");
  function emergency(event) {
    if (!banner) { return; }
    try { banner.hidden = !JSON.parse(event.data).on; } catch (e) { /* the next event says again */ }
  }

  function listen() {
    var source = new EventSource("/portal/events");
    source.addEventListener("pass", load);
    source.addEventListener("emergency", emergency);
    // A browser gives up on a stream answered with an error (503 while the server restarts).
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) { setTimeout(listen, 5000); }
    };
  }
  if (window.EventSource) { listen(); }
  setInterval(function () { if (!document.hidden) { load(); } }, 20000);
})();
