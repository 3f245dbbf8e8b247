// Create Hall Pass: ticked students and the chosen rooms survive a change of filter.
(function () {
  "use strict";
  var filter = document.getElementById("student-filter");
  var create = document.getElementById("create-form");
  if (!filter || !create) { return; }
  function showWhen() {
    var chosen = create.querySelector("input[name='when']:checked");
    var value = chosen ? chosen.value : "now";
    create.querySelectorAll(".when-fields").forEach(function (el) {
      el.hidden = el.dataset.when !== value;
    });
  }
  create.querySelectorAll("input[name='when']").forEach(function (el) {
    el.addEventListener("change", showWhen);
  });
  showWhen();

  // Select all: ticks (or unticks) every student shown, e.g. the whole class chosen.
  var all = document.getElementById("select-all");
  if (all) {
    var boxes = create.querySelectorAll("input[name='student_ids']");
    all.closest(".select-all").hidden = false;
    var sync = function () {
      var ticked = create.querySelectorAll("input[name='student_ids']:checked").length;
      all.checked = ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    };
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
    boxes.forEach(function (box) { box.addEventListener("change", sync); });
    sync();
  }

  var carried = ["origin_id", "destination_id", "when", "start_at", "allotted_minutes",
                 "weekdays", "repeat_at", "first_date", "last_date"];
  filter.addEventListener("submit", function () {
    filter.querySelectorAll("input[data-carried]").forEach(function (el) { el.remove(); });
    function keep(name, value) {
      var el = document.createElement("input");
      el.type = "hidden";
      el.name = name;
      el.value = value;
      el.dataset.carried = "1";
      filter.appendChild(el);
    }
    create.querySelectorAll("input[name='student_ids']:checked").forEach(function (box) {
      keep("selected", box.value);
    });
    carried.forEach(function (name) {
      create.querySelectorAll("[name='" + name + "']").forEach(function (el) {
        if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { return; }
        if (el.value !== "") { keep(name, el.value); }
      });
    });
  });
  create.addEventListener("submit", function () {
    var key = create.querySelector("input[name='idempotency_key']");
    if (!key) {
      key = document.createElement("input");
      key.type = "hidden";
      key.name = "idempotency_key";
      key.value = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
      create.appendChild(key);
    }
    var button = create.querySelector("button[type='submit']");
    if (button) { setTimeout(function () { button.disabled = true; }, 0); }
  });
})();

// Before Create: each ticked student's passes today and this week, the limits, and every
// hallway rule that would refuse the pass now (GET /api/v1/passes/check). When a rule refuses,
// the override reason field appears; the server checks again when the form is sent.
(function () {
  "use strict";
  var create = document.getElementById("create-form");
  var panel = document.getElementById("rule-check");
  var list = document.getElementById("rule-check-list");
  var field = document.getElementById("override-field");
  if (!create || !panel || !list || !field) { return; }
  var asked = 0;
  var wasRefused = !field.hidden;

  function ticked() {
    return Array.prototype.map.call(
      create.querySelectorAll("input[name='student_ids']:checked"), function (b) { return b.value; });
  }
  function now() {
    var chosen = create.querySelector("input[name='when']:checked");
    return !chosen || chosen.value === "now";
  }
  function line(text, cls) {
    var li = document.createElement("li");
    li.textContent = text;
    if (cls) { li.className = cls; }
    list.appendChild(li);
  }
  function counts(student, limits) {
    var text = student.name + ": " + student.today + " today";
    if (limits.per_day) { text += " (limit " + limits.per_day + ")"; }
    text += ", " + student.week + " this week";
    if (limits.per_week) { text += " (limit " + limits.per_week + ")"; }
    return text;
  }
  function show(body) {
    list.textContent = "";
    var refused = false;
    body.students.forEach(function (student) {
      line(counts(student, body.limits), "rule-count");
      student.refusals.forEach(function (r) {
        if (r.overridable !== false) { refused = true; }  // a full place is not overridden
        line(r.message, "rule-refusal");
      });
    });
    panel.hidden = false;
    field.hidden = !(refused || wasRefused);
    panel.dataset.refused = refused ? "1" : "0";
  }
  function check() {
    var students = ticked();
    var mine = ++asked;
    if (!students.length || !now()) {
      list.textContent = "";
      panel.hidden = !wasRefused;
      return;
    }
    var params = new URLSearchParams();
    params.set("student_id", students.slice(0, 100).join(","));
    var destination = create.querySelector("select[name='destination_id']");
    if (destination && destination.value) { params.set("destination_id", destination.value); }
    fetch("/api/v1/passes/check?" + params.toString(), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body && mine === asked) { show(body); } })
      .catch(function () { /* the server checks again on Create */ });
  }
  create.addEventListener("change", function (event) {
    var name = event.target && event.target.name;
    if (name === "student_ids" || name === "destination_id" || name === "when") { check(); }
  });
  check();
})();
