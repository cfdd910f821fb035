// Enhancements only: every page works without this script.
(function () {
  "use strict";

  // "Copy" buttons next to the confirmation number and PIN.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        var status = document.getElementById(button.getAttribute("aria-describedby"));
        if (status) {
          status.textContent = button.getAttribute("data-copied");
        }
      });
    });
  });
})();
