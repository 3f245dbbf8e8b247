// Confirmation before a destructive action: a form with data-confirm asks first, in a modal
// <dialog> (focus moves into it, Escape or "No" closes it and focus returns to the button).
// Without script the form submits at once, as before.
(function () {
  "use strict";
  var dialog = null, pending = null, opener = null;

  function build() {
    dialog = document.createElement("dialog");
    dialog.className = "confirm";
    dialog.setAttribute("aria-labelledby", "confirm-text");
    var text = document.createElement("p");
    text.id = "confirm-text";
    var actions = document.createElement("div");
    actions.className = "confirm-actions";
    var yes = document.createElement("button");
    yes.type = "button";
    yes.className = "danger";
    yes.id = "confirm-yes";
    var no = document.createElement("button");
    no.type = "button";
    no.id = "confirm-no";
    actions.appendChild(yes);
    actions.appendChild(no);
    dialog.appendChild(text);
    dialog.appendChild(actions);
    document.body.appendChild(dialog);
    yes.addEventListener("click", function () {
      var form = pending;
      dialog.close();
      if (form) { form.dataset.confirmed = "1"; form.requestSubmit ? form.requestSubmit() : form.submit(); }
    });
    no.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () {
      pending = null;
      if (opener && document.contains(opener)) { opener.focus(); }
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.confirm) { return; }
    if (form.dataset.confirmed === "1") { delete form.dataset.confirmed; return; }
    event.preventDefault();
    if (!dialog) { build(); }
    pending = form;
    opener = event.submitter || form.querySelector("button[type='submit']");
    var root = document.getElementById("confirm-words");
    dialog.querySelector("#confirm-text").textContent = form.dataset.confirm;
    dialog.querySelector("#confirm-yes").textContent = (root && root.dataset.yes) || "Yes";
    dialog.querySelector("#confirm-no").textContent = (root && root.dataset.no) || "No";
    dialog.showModal();
    dialog.querySelector("#confirm-no").focus();
  }, true);
})();
