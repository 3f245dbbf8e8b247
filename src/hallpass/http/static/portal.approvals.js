// The dashboard's Student requests panel: loads its rows, and reloads them whenever the
// live pass rows change (the dashboard refreshes those on every server-sent event),
// keeping any note or override reason a teacher is typing, and an opened "Override a rule…".
(function () {
  "use strict";
  var panel = document.getElementById("approvals");
  var rows = document.getElementById("approval-rows");
  if (!panel || !rows) { return; }
  var loading = false, again = false;

  function load() {
    if (loading) { again = true; return; }
    loading = true;
    fetch(panel.dataset.src, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { replace(html); })
      .catch(function () { /* the next change or the timer loads again */ })
      .then(function () {
        loading = false;
        if (again) { again = false; load(); }
      });
  }

  function replace(html) {
    var typed = {}, focused = document.activeElement && rows.contains(document.activeElement)
      ? document.activeElement.id : "";
    rows.querySelectorAll("input[name=note], input[name=override_reason]").forEach(function (input) {
      typed[input.id] = input.value;
    });
    var open = [];
    rows.querySelectorAll("details[open] input[id]").forEach(function (input) { open.push(input.id); });
    rows.innerHTML = html;
    Object.keys(typed).forEach(function (id) {
      var input = document.getElementById(id);
      if (input) { input.value = typed[id]; }
    });
    open.forEach(function (id) {
      var input = document.getElementById(id);
      var details = input && input.closest("details");
      if (details) { details.open = true; }
    });
    var again = focused && document.getElementById(focused);
    if (again) { again.focus(); }
  }

  var passRows = document.getElementById("pass-rows");
  if (passRows && window.MutationObserver) {
    new MutationObserver(load).observe(passRows, {childList: true});
  }
  load();
  setInterval(function () { if (!document.hidden) { load(); } }, 15000);
})();
