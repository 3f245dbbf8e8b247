// Live Hall Pass dashboard: server-sent events trigger a refresh of the rows;
// the check mark completes a pass without leaving the page; the filters replace the rows in
// place and keep the address (history.replaceState), so a reload or a shared link shows the same.
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

  // A short message after an action, in the page's one status region (role=status).
  var status = document.getElementById("action-status");
  function say(message) {
    if (!status) { return; }
    status.textContent = message;
    status.hidden = !message;
  }

  function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    fetch("/hall-pass/rows" + (query ? "?" + query : ""), {credentials: "same-origin"})
      .then(function (r) {
        if (r.ok) { return r.text(); }
        return r.json().then(function (data) {
          showError((data.error && data.error.message) || errorBox.dataset.failed);
          return Promise.reject(r.status);
        });
      })
      .then(function (html) {
        var kept = remember();
        body.innerHTML = html;
        restore(kept);
        body.setAttribute("aria-busy", "false");
        refreshAlerts();
        refreshLines();
        refreshPeriod();
        var counted = body.querySelector("template[data-total]");
        if (counted) { shown(counted.dataset); }
      })
      .catch(function () { /* the next event or the reconnect refreshes again */ })
      .then(function () {
        refreshing = false;
        if (again) { again = false; refresh(); }
      });
  }

  // A refresh keeps what the person is doing: an open End… or Edit… with what was typed in it,
  // and the focus, in the same pass's new row.
  function focusables(row) {
    return Array.prototype.slice.call(row.querySelectorAll("summary, button, input, select, a"));
  }
  function remember() {
    var kept = {open: [], focus: null};
    body.querySelectorAll("details[open]").forEach(function (details) {
      var row = details.closest("tr");
      if (!row || !row.id) { return; }
      var values = {};
      details.querySelectorAll("input[id], select[id]").forEach(function (el) { values[el.id] = el.value; });
      kept.open.push({row: row.id, values: values});
    });
    var active = document.activeElement;
    var row = active && body.contains(active) ? active.closest("tr") : null;
    if (row && row.id) { kept.focus = {row: row.id, index: focusables(row).indexOf(active)}; }
    return kept;
  }
  function restore(kept) {
    kept.open.forEach(function (was) {
      var row = document.getElementById(was.row);
      var details = row && row.querySelector("details");
      if (!details) { return; }
      details.open = true;
      Object.keys(was.values).forEach(function (id) {
        var el = document.getElementById(id);
        if (el && details.contains(el)) { el.value = was.values[id]; }
      });
    });
    if (kept.focus) {
      var row = document.getElementById(kept.focus.row);
      var target = row && focusables(row)[kept.focus.index];
      if (target) { target.focus(); }
    }
  }

  // The count, what the list covers and the page links, as the rows' template says.
  function shown(data) {
    var total = document.getElementById("total");
    var window_ = document.getElementById("pass-window");
    if (total) { total.textContent = data.total; }
    if (window_ && data.window) { window_.textContent = data.window; }
    var pager = document.getElementById("pager");
    var older = document.getElementById("older-link");
    var newest = document.getElementById("newest-link");
    if (!pager || !older || !newest) { return; }
    older.hidden = !data.older;
    if (data.older) { older.href = "/hall-pass?" + data.older; }
    newest.hidden = !data.newest;
    if (data.newest) { newest.href = "/hall-pass" + (data.newest === "?" ? "" : data.newest); }
    pager.hidden = older.hidden && newest.hidden;
  }

  // Filters: each change replaces the rows in place; the address keeps the filter.
  var filters = document.querySelector("form.filters");
  function applyFilters() {
    var params = new URLSearchParams();
    new FormData(filters).forEach(function (value, name) {
      if (String(value).trim() !== "") { params.append(name, String(value).trim()); }
    });
    var next = params.toString();
    if (next === query) { return; }
    query = next;
    body.dataset.query = next;
    history.replaceState(null, "", "/hall-pass" + (next ? "?" + next : ""));
    body.setAttribute("aria-busy", "true");
    showError("");
    refresh();
  }
  if (filters && window.URLSearchParams && window.FormData && window.history && history.replaceState) {
    filters.addEventListener("submit", function (event) { event.preventDefault(); applyFilters(); });
    filters.addEventListener("change", applyFilters);
    var typing = null;
    filters.addEventListener("input", function (event) {
      if (event.target.id !== "f-student") { return; }
      clearTimeout(typing);
      typing = setTimeout(applyFilters, 300);
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

  // The wait lines; not while someone is typing a reason in them (the next change redraws them).
  function refreshLines() {
    var box = document.getElementById("lines");
    if (!box || box.contains(document.activeElement)) { return; }
    fetch("/hall-pass/lines", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        if (!box.contains(document.activeElement)) { box.innerHTML = html; }
      })
      .catch(function () { /* kept until the next refresh */ });
  }

  // The bell schedule's period now: with every refresh (a live change, or the half-minute timer).
  function refreshPeriod() {
    var box = document.getElementById("period-box");
    if (!box) { return; }
    fetch("/hall-pass/period", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { if (box.innerHTML !== html) { box.innerHTML = html; } })
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

  // The check mark of a row (a button of the page's one form of actions, #pass-actions):
  // completes its pass through the API and redraws the rows; without script the form posts.
  var actions = document.getElementById("pass-actions");
  if (actions) {
    actions.addEventListener("submit", function (event) {
      var button = event.submitter;
      var row = button && button.closest ? button.closest("tr") : null;
      if (!row || !button.classList.contains("check") || row.id.indexOf("pass-") !== 0) { return; }
      event.preventDefault();
      var pass = row.id.slice(5);
      var student = row.querySelector(".student");
      var done = (actions.dataset.done || "").replace("{name}", student ? student.textContent : "");
      button.disabled = true;
      fetch("/api/v1/passes/" + pass + "/complete", {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf,
                  "Idempotency-Key": "complete-" + pass},
        body: "{}"
      }).then(function (r) {
        if (r.ok) { showError(""); say(done); return refresh(); }
        return r.json().then(function (data) {
          showError((data.error && data.error.message) || errorBox.dataset.failed);
          refresh();
        });
      }).catch(function () {
        showError(errorBox.dataset.unreachable);
        button.disabled = false;
      });
    });
  }

  window.hallpassLive("/api/v1/events", {passes: refresh, hello: refresh});
  setInterval(function () { if (!document.hidden) { refresh(); } }, 30000);
})();
