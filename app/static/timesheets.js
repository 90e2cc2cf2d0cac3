/* Timesheet pages: suggestions of the member text inputs.
 *
 * <input list="x" data-options-url="/temps/adherents.json"> with <datalist id="x">: the first
 * time such an input gets the focus, the members ("CODE — Nom") are fetched once and added to
 * its datalist (the browser shows them as the user types). Pages with few members use a
 * select instead and never load this list.
 */
(function () {
  "use strict";

  var pending = {};

  function fill(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var url = input.getAttribute("data-options-url");
    if (!list || !url || list.getAttribute("data-loaded")) return;
    list.setAttribute("data-loaded", "1");
    if (!pending[url]) {
      pending[url] = fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        });
    }
    pending[url].then(function (data) {
      var fragment = document.createDocumentFragment();
      (data.options || []).forEach(function (label) {
        var option = document.createElement("option");
        option.value = label;
        fragment.appendChild(option);
      });
      list.appendChild(fragment);
    }).catch(function () {
      list.removeAttribute("data-loaded");
      delete pending[url];
    });
  }

  document.addEventListener("focusin", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("input[data-options-url][list]")) fill(target);
  });
})();
