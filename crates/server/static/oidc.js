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
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 1000);
}());
