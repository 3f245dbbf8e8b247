// Confirmation before a destructive action: a form with data-confirm asks first, in a modal
// <dialog> (focus moves into it, Escape or "No" closes it and focus returns to the button).
// A button with data-confirm asks for itself (the dashboard's rows: buttons of one shared form),
// and the form is sent from that button once confirmed. Without script the form submits at once.
(function () {
  "use strict";
  var dialog = null, pending = null, sender = null, asker = null, opener = null;

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
      var form = pending, button = sender, asked = asker;
      dialog.close();
      if (!form) { return; }
      if (button && !document.contains(button)) {
        // A live update redrew the row while the dialog was open: its new button sends.
        button = document.querySelector("button[formaction='" + button.getAttribute("formaction") + "']");
        if (!button) { return; }
        asked = button;
      }
      asked.dataset.confirmed = "1";
      if (form.requestSubmit) { form.requestSubmit(button); } else { form.submit(); }
    });
    no.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () {
      pending = null;
      sender = null;
      asker = null;
      if (opener && document.contains(opener)) { opener.focus(); }
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter || null;
    var asking = button && button.dataset && button.dataset.confirm ? button : form;
    if (!asking.dataset || !asking.dataset.confirm) { return; }
    if (asking.dataset.confirmed === "1") { delete asking.dataset.confirmed; return; }
    event.preventDefault();
    if (!dialog) { build(); }
    pending = form;
    sender = button;
    asker = asking;
    opener = button || form.querySelector("button[type='submit']");
    var root = document.getElementById("confirm-words");
    dialog.querySelector("#confirm-text").textContent = asking.dataset.confirm;
    dialog.querySelector("#confirm-yes").textContent = (root && root.dataset.yes) || "Yes";
    dialog.querySelector("#confirm-no").textContent = (root && root.dataset.no) || "No";
    dialog.showModal();
    dialog.querySelector("#confirm-no").focus();
  }, true);
})();
