/* Mutualise — the key builder of the allocation key editor (CSP: no inline script).

   fieldset[data-key-builder="INPUT_ID"] holds rows of [data-kb-percent] + [data-kb-basis] and a
   [data-kb-common] select; any change writes the key text into input#INPUT_ID, e.g.
   "25 % part égale + 75 % heures, travail commun au prorata du chiffre d'affaires" (French words,
   the way keys are shown; English is accepted too). The text field stays the reference: without
   JavaScript the fieldset stays hidden and people type the key. */
(function () {
  "use strict";

  var WORDS = {
    equal: "part égale", hours: "heures", units: "unités", revenue: "chiffre d'affaires",
    headcount: "effectif"
  };
  var COMMON = {
    equal: "à parts égales", hours: "au prorata des heures", units: "au prorata des unités",
    revenue: "au prorata du chiffre d'affaires", headcount: "au prorata de l'effectif"
  };

  function compose(builder) {
    var percents = builder.querySelectorAll("[data-kb-percent]");
    var bases = builder.querySelectorAll("[data-kb-basis]");
    var parts = [];
    for (var i = 0; i < bases.length; i++) {
      var basis = bases[i].value;
      if (!basis) continue;
      var pct = (percents[i].value || "").trim().replace(".", ",");
      parts.push({ pct: pct, basis: basis });
    }
    if (!parts.length) return null;
    var text;
    if (parts.length === 1 && (!parts[0].pct || parts[0].pct === "100")) {
      text = WORDS[parts[0].basis] || parts[0].basis;
    } else {
      text = parts.map(function (p) {
        return (p.pct || "?") + " % " + (WORDS[p.basis] || p.basis);
      }).join(" + ");
    }
    var common = builder.querySelector("[data-kb-common]");
    var measured = parts.some(function (p) { return p.basis === "hours" || p.basis === "units"; });
    if (common && common.value && measured) {
      text += ", travail commun " + (COMMON[common.value] || common.value);
    }
    return text;
  }

  function init(builder) {
    var target = document.getElementById(builder.getAttribute("data-key-builder"));
    if (!target) return;
    builder.hidden = false;
    builder.addEventListener("change", function () {
      var text = compose(builder);
      if (text) target.value = text;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var builders = document.querySelectorAll("[data-key-builder]");
    for (var i = 0; i < builders.length; i++) init(builders[i]);
  });
})();
