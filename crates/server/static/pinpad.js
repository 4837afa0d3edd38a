// The PIN pad: checks each PIN's rule and its repetition as it is typed, naming the
// rule in the page's language (the messages come from the form's data attributes).
// The server checks again; nothing typed here is stored or shown.
(function () {
  "use strict";
  var form = document.getElementById("pinpad-form");
  if (!form) { return; }
  var messages = form.dataset;

  function ruleBroken(kind, value) {
    if (kind === "four") {
      return /^[0-9]{4}$/.test(value) ? "" : messages.ruleFour;
    }
    var upper = value.toUpperCase();
    if (!/^[A-Z0-9]{6,16}$/.test(upper)) { return messages.ruleShape; }
    if (!/[A-Z]/.test(upper) || !/[0-9]/.test(upper)) { return messages.ruleMix; }
    return "";
  }

  function check(name) {
    var pin = document.getElementById(name);
    var again = document.getElementById(name + "_again");
    var out = document.getElementById(name + "_rule");
    var problem = pin.value === "" ? "" : ruleBroken(pin.dataset.rule, pin.value);
    if (!problem && again.value !== "" && again.value.toUpperCase() !== pin.value.toUpperCase()) {
      problem = messages.mismatch;
    }
    out.textContent = problem;
    pin.setCustomValidity(pin.value !== "" && ruleBroken(pin.dataset.rule, pin.value) ? problem : "");
    again.setCustomValidity(problem === messages.mismatch ? problem : "");
    return problem === "";
  }

  // The pickup asks all four PINs; a reset (data-reset) asks one, named "pin".
  var names = ["auth_pin", "sign_pin", "residence_pin", "support_pin", "pin"].filter(function (name) {
    return document.getElementById(name) !== null;
  });
  names.forEach(function (name) {
    ["input", "blur"].forEach(function (event) {
      document.getElementById(name).addEventListener(event, function () { check(name); });
      document.getElementById(name + "_again").addEventListener(event, function () { check(name); });
    });
  });
  form.addEventListener("submit", function (event) {
    var ok = names.map(check).every(Boolean);
    if (!ok) { event.preventDefault(); }
  });
})();
