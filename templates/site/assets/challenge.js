// The proof of work of a form that takes a seat (the service's challenges.py). The ALTCHA widget
// fetches a challenge from /challenge when the form opens and solves it in a Web Worker while
// the person types; it adds the solution to the form as the hidden field "altcha". Without this
// script the form carries its time-lock instead (site/proofs.py), and still works.
import "/assets/altcha.js";

globalThis.$altcha.algorithms.set(
  "PBKDF2/SHA-256",
  () => new Worker("/assets/altcha-pbkdf2.js"),
);

document.querySelectorAll("altcha-widget[data-strings]").forEach((widget) => {
  // The widget's words in the page's language, from the site's own translations.
  const language = document.documentElement.lang;
  globalThis.$altcha.i18n.set(language, JSON.parse(widget.dataset.strings));
  widget.setAttribute("language", language);
});

// A widget that cannot solve (a browser without WebCrypto, /challenge unreachable) steps aside:
// the form then goes with its time-lock, so nobody is kept from booking.
document.querySelectorAll("altcha-widget").forEach((widget) => {
  widget.addEventListener("statechange", (event) => {
    if (event.detail && event.detail.state === "error") {
      widget.remove();
    }
  });
});
