// The sign-in page: asks the provider every second where the sign-in stands, and
// continues by itself once the card answered (`maina card login`). Nothing secret
// is handled here: the browser's cookie binds the sign-in to this browser.
(function () {
  "use strict";
  var section = document.getElementById("oidc-signin");
  if (!section) { return; }
  var status = document.getElementById("signin-status");
  var data = section.dataset;
  var done = false;

  // Why the card's latest answer was refused, in the page's language (the
  // reasons' texts are in the page; the provider answers only a code).
  var refusal = document.getElementById("signin-refusal");
  function showRefusal(reason) {
    if (!refusal || !reason || refusal.dataset.reason === reason) { return; }
    var item = document.querySelector('#refusal-reasons li[data-reason="' + reason + '"]');
    if (!item) { return; }
    refusal.dataset.reason = reason;
    document.getElementById("signin-refusal-text").textContent = item.textContent;
    refusal.hidden = false;
  }

  function poll() {
    if (done) { return; }
    fetch(data.statusUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        status.dataset.status = answer.status || "error";
        if (answer.status === "answered" || answer.status === "consented") {
          done = true;
          status.textContent = data.answered;
          window.location.assign(data.continueUrl);
        } else if (answer.status === "expired" || answer.status === "used" || answer.error) {
          done = true;
          status.textContent = data.expired;
        } else {
          showRefusal(answer.refusal);
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 1000);
}());
