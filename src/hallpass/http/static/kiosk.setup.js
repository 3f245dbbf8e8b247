// Kiosk Mode set-up: show the fields of the chosen way to allow students, and move
// hand-picked students between the two lists ("Move all" takes every student shown).
(function () {
  "use strict";
  var form = document.getElementById("kiosk-setup");
  if (!form) { return; }
  function showMode() {
    var chosen = form.querySelector("input[name='mode']:checked");
    var mode = chosen ? chosen.value : "all";
    form.querySelectorAll(".mode-fields").forEach(function (el) { el.hidden = el.dataset.mode !== mode; });
  }
  form.querySelectorAll("input[name='mode']").forEach(function (el) { el.addEventListener("change", showMode); });
  showMode();

  form.querySelectorAll("[data-check-all]").forEach(function (button) {
    button.addEventListener("click", function () {
      form.querySelectorAll("input[name='" + button.dataset.checkAll + "']").forEach(function (box) { box.checked = true; });
    });
  });

  var available = document.getElementById("available");
  var chosen = document.getElementById("chosen");
  if (!available || !chosen) { return; }
  var name = document.getElementById("pick-name");
  var room = document.getElementById("pick-classroom");
  var grade = document.getElementById("pick-grade");

  function matches(li) {
    var text = (name.value || "").trim().toLowerCase();
    return (!text || li.dataset.name.indexOf(text) !== -1) &&
      (!room.value || li.dataset.homeroom === room.value) &&
      (!grade.value || li.dataset.grade === grade.value);
  }
  function place(li) {
    var box = li.querySelector("input");
    (box.checked ? chosen : available).appendChild(li);
  }
  function refresh() {
    var shown = 0;
    available.querySelectorAll("li").forEach(function (li) {
      li.hidden = !matches(li);
      if (!li.hidden) { shown += 1; }
    });
    document.getElementById("available-count").textContent = "(" + shown + " shown)";
    document.getElementById("chosen-count").textContent = "(" + chosen.querySelectorAll("li").length + ")";
  }
  available.querySelectorAll("li").forEach(place);
  [available, chosen].forEach(function (list) {
    list.addEventListener("change", function (event) {
      var li = event.target.closest("li");
      if (li) { li.hidden = false; place(li); refresh(); }
    });
  });
  document.getElementById("move-all").addEventListener("click", function () {
    Array.prototype.slice.call(available.querySelectorAll("li")).forEach(function (li) {
      if (!li.hidden) { li.querySelector("input").checked = true; place(li); }
    });
    refresh();
  });
  document.getElementById("remove-all").addEventListener("click", function () {
    Array.prototype.slice.call(chosen.querySelectorAll("li")).forEach(function (li) {
      li.querySelector("input").checked = false; place(li);
    });
    refresh();
  });
  [name, room, grade].forEach(function (el) { el.addEventListener("input", refresh); el.addEventListener("change", refresh); });
  refresh();
})();
