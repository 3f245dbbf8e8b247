// A page that follows the school live: a stream of the server's events, each named one handled
// as `handlers` says, the emergency banner shown or hidden as the school's emergency mode is, and
// a new stream when the browser gives up on one (it does on an error, such as a 503 while the
// server restarts).
window.hallpassLive = function (url, handlers) {
  "use strict";
  var banner = document.getElementById("emergency-banner");
  function emergency(event) {
    if (!banner) { return; }
    try { banner.hidden = !JSON.parse(event.data).on; } catch (e) { /* the next event says again */ }
  }
  function listen() {
    var source = new EventSource(url);
    Object.keys(handlers).forEach(function (name) { source.addEventListener(name, handlers[name]); });
    source.addEventListener("emergency", emergency);
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) { setTimeout(listen, 5000); }
    };
  }
  if (window.EventSource) { listen(); }
};
