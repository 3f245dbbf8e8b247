// Create Hall Pass: keeps ticked students when the filter changes, by carrying them in the URL.
(function () {
  "use strict";
  var filter = document.getElementById("student-filter");
  var create = document.getElementById("create-form");
  if (!filter || !create) { return; }
  filter.addEventListener("submit", function () {
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
