// Create Hall Pass: ticked students and the chosen rooms survive a change of filter.
(function () {
  "use strict";
  var filter = document.getElementById("student-filter");
  var create = document.getElementById("create-form");
  if (!filter || !create) { return; }
  filter.addEventListener("submit", function () {
    filter.querySelectorAll("input[name='selected']").forEach(function (el) { el.remove(); });
    create.querySelectorAll("input[name='student_ids']:checked").forEach(function (box) {
      var keep = document.createElement("input");
      keep.type = "hidden";
      keep.name = "selected";
      keep.value = box.value;
      filter.appendChild(keep);
    });
    ["origin", "destination"].forEach(function (name) {
      var select = document.getElementById(name);
      var hidden = filter.querySelector("input[name='" + name + "_id']");
      if (select && hidden) { hidden.value = select.value; }
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
