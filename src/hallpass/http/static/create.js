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
