// Kiosk Mode set-up: show the fields of the chosen way to allow students, and the hand-pick
// lists: students matching the filters, a page at a time from the server, and those allowed.
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

  // The hand-pick list: the page carries no student; each filter asks the server for a page of
  // 50 (Show more asks for the next), and Move all for every student matching the filters.
  var available = document.getElementById("available");
  var chosen = document.getElementById("chosen");
  if (!available || !chosen) { return; }
  var name = document.getElementById("pick-name");
  var room = document.getElementById("pick-classroom");
  var grade = document.getElementById("pick-grade");
  var more = document.getElementById("pick-more");
  var asked = 0, next = "", loaded = false, typing = null;

  function query(extra) {
    var params = new URLSearchParams();
    if (name.value.trim()) { params.set("q", name.value.trim()); }
    if (room.value) { params.set("homeroom_id", room.value); }
    if (grade.value) { params.set("grade", grade.value); }
    Object.keys(extra).forEach(function (key) { params.set(key, extra[key]); });
    return available.dataset.source + "?" + params.toString();
  }
  function isChosen(id) {
    return Boolean(chosen.querySelector("li[data-student='" + id + "']"));
  }
  function fetchPage(extra) {
    return fetch(query(extra), {credentials: "same-origin"}).then(function (r) {
      return r.ok ? r.text() : Promise.reject(r.status);
    }).then(function (html) {
      var holder = document.createElement("template");
      holder.innerHTML = html;
      return holder.content;
    });
  }
  function counts() {
    document.getElementById("available-count").textContent =
      "(" + available.querySelectorAll("li").length + " shown" + (next ? ", more below" : "") + ")";
    document.getElementById("chosen-count").textContent = "(" + chosen.querySelectorAll("li").length + ")";
  }
  function load(append) {
    var mine = ++asked;
    available.setAttribute("aria-busy", "true");
    fetchPage(append && next ? {offset: next} : {}).then(function (page) {
      if (mine !== asked) { return; }
      var marker = page.querySelector("template.pick-page");
      next = marker ? marker.dataset.next : "";
      if (marker) { marker.remove(); }
      if (!append) { available.innerHTML = ""; }
      Array.prototype.slice.call(page.querySelectorAll("li")).forEach(function (li) {
        if (!isChosen(li.dataset.student)) { available.appendChild(li); }
      });
      more.hidden = !next;
      loaded = true;
      counts();
    }).catch(function () { /* the next filter change asks again */ }).then(function () {
      if (mine === asked) { available.setAttribute("aria-busy", "false"); }
    });
  }
  function place(li) {
    var box = li.querySelector("input");
    if (box.checked) { chosen.appendChild(li); } else { li.remove(); load(false); }
    counts();
  }
  [available, chosen].forEach(function (list) {
    list.addEventListener("change", function (event) {
      var li = event.target.closest("li");
      if (li) { place(li); }
    });
  });
  more.addEventListener("click", function () { load(true); });
  document.getElementById("move-all").addEventListener("click", function () {
    var mine = ++asked;
    fetchPage({all: "1"}).then(function (page) {
      Array.prototype.slice.call(page.querySelectorAll("li")).forEach(function (li) {
        if (!isChosen(li.dataset.student)) { li.querySelector("input").checked = true; chosen.appendChild(li); }
      });
      if (mine === asked) { available.innerHTML = ""; next = ""; more.hidden = true; }
      counts();
    });
  });
  document.getElementById("remove-all").addEventListener("click", function () {
    chosen.innerHTML = "";
    load(false);
  });
  name.addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(function () { load(false); }, 250);
  });
  [room, grade].forEach(function (el) { el.addEventListener("change", function () { load(false); }); });
  function loadWhenShown() {
    var mode = form.querySelector("input[name='mode']:checked");
    if (!loaded && mode && mode.value === "list") { load(false); }
  }
  form.querySelectorAll("input[name='mode']").forEach(function (el) { el.addEventListener("change", loadWhenShown); });
  loadWhenShown();
  counts();
})();
