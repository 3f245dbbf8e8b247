// Hall Pass dashboard: show the signed-in staff member's kiosks, each with Revoke.
(function () {
  "use strict";
  var list = document.getElementById("kiosk-list");
  if (!list || !window.fetch) { return; }
  fetch(list.dataset.src, {credentials: "same-origin"})
    .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
    .then(function (html) { list.innerHTML = html; })
    .catch(function () { /* the link to the kiosk list stays */ });
})();
