// The intake: a question that depends on another answer (FHIR enableWhen) is shown only once that answer is given.
// Without JavaScript every question is shown and the server ignores the ones that do not apply.
(function () {
  "use strict";
  var form = document.querySelector(".intake-form");
  if (!form) return;
  var dependents = form.querySelectorAll("[data-enable-name]");
  function answered(name, value) {
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    for (var i = 0; i < inputs.length; i++) {
      if ((inputs[i].type === "checkbox" || inputs[i].type === "radio") ? inputs[i].checked && inputs[i].value === value : inputs[i].value === value) return true;
    }
    return false;
  }
  function update() {
    for (var i = 0; i < dependents.length; i++) {
      var item = dependents[i];
      item.hidden = !answered(item.getAttribute("data-enable-name"), item.getAttribute("data-enable-value"));
    }
  }
  form.addEventListener("change", update);
  update();
})();
