// Live Hall Pass dashboard: server-sent events trigger a refresh of the rows;
// the check mark completes a pass without leaving the page.
(function () {
  "use strict";
  var body = document.getElementById("pass-rows");
  if (!body) { return; }
  var csrf = body.dataset.csrf;
  var query = body.dataset.query || "";
  var errorBox = document.getElementById("live-error");
  var refreshing = false, again = false;

  function showError(message) {
    if (!errorBox) { return; }
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    fetch("/hall-pass/rows" + (query ? "?" + query : ""), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        body.innerHTML = html;
        refreshAlerts();
        var total = document.getElementById("total");
        var counted = body.querySelector("template[data-total]");
        if (total && counted) { total.textContent = counted.dataset.total; }
      })
      .catch(function () { /* the next event or the reconnect refreshes again */ })
      .then(function () {
        refreshing = false;
        if (again) { again = false; refresh(); }
      });
  }

  function refreshAlerts() {
    var box = document.getElementById("alerts");
    if (!box) { return; }
    fetch("/hall-pass/alerts", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { box.innerHTML = html; tick(); })
      .catch(function () { /* kept until the next refresh */ });
  }

  // Minutes over keep counting between refreshes.
  function tick() {
    document.querySelectorAll(".overdue-note[data-due]").forEach(function (el) {
      var over = Math.max(0, Math.floor((Date.now() - Date.parse(el.dataset.due)) / 60000));
      el.textContent = over + " min over";
    });
  }
  setInterval(tick, 15000);

  body.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("complete-form")) { return; }
    event.preventDefault();
    var button = form.querySelector("button");
    if (button) { button.disabled = true; }
    fetch("/api/v1/passes/" + form.dataset.pass + "/complete", {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf,
                "Idempotency-Key": "complete-" + form.dataset.pass},
      body: "{}"
    }).then(function (r) {
      if (r.ok) { showError(""); return refresh(); }
      return r.json().then(function (data) {
        showError((data.error && data.error.message) || "Could not complete the pass.");
        refresh();
      });
    }).catch(function () {
      showError("Could not reach the server. Try again.");
      if (button) { button.disabled = false; }
    });
  });

  var banner = document.getElementById("emergency-banner");
  function emergency(event) {
    if (!banner) { return; }
    try { banner.hidden = !JSON.parse(event.data).on; } catch (e) { /* the next event says again */ }
  }

  function listen() {
    var source = new EventSource("/api/v1/events");
    source.addEventListener("passes", refresh);
    source.addEventListener("emergency", emergency);
    source.addEventListener("hello", refresh);
    // A browser gives up on a stream answered with an error (503 while the server restarts).
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) { setTimeout(listen, 5000); }
    };
  }
  if (window.EventSource) { listen(); }
  setInterval(function () { if (!document.hidden) { refresh(); } }, 30000);
})();
