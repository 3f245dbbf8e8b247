// The student's current pass follows the teacher's decision live: the server sends an event
// when the student's own latest pass changes, and the block is fetched again.
(function () {
  "use strict";
  var box = document.getElementById("current");
  if (!box) { return; }
  var loading = false, again = false;

  function load() {
    if (loading) { again = true; return; }
    loading = true;
    fetch("/portal/current", {credentials: "same-origin"})
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); return Promise.reject(r.status); }
        return r.ok ? r.text() : Promise.reject(r.status);
      })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () { /* the next event or the timer loads again */ })
      .then(function () {
        loading = false;
        if (again) { again = false; load(); }
      });
  }

  window.hallpassLive("/portal/events", {pass: load});
  setInterval(function () { if (!document.hidden) { load(); } }, 20000);
})();
