/* Timesheet pages: suggestions of the member text inputs, and the week grid (below).
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

/* The week grid (form#week-grid, /temps/semaine), in place and without losing anything typed:
 *
 * - select[data-filter-by="ID"]: only the options whose data-service is the value of the
 *   select #ID stay offered (the activities of the chosen service); the server checks again.
 * - « Ajouter la ligne » fetches the new row from data-row-url (the server checks the member,
 *   service and activity and answers a French reason otherwise) and appends it: no reload.
 * - « Retirer » removes the row; a row with stored entries leaves a hidden "retirer" input so
 *   the save deletes its drafts.
 * - « Enregistrer la semaine » (and Enter in a cell) posts the form with fetch and puts the
 *   server's answer in place of <main>: a refusal comes back with every row and value as
 *   typed and the refused cells marked; if the request fails, nothing on the page changes.
 * - While something is typed and not saved, leaving the page asks first.
 * Without JavaScript the same buttons post the form and the server does each of these.
 */
(function () {
  "use strict";

  var dirty = false;

  function grid() { return document.getElementById("week-grid"); }

  function status(text) {
    var box = document.getElementById("grid-status");
    if (box) box.textContent = text;
  }

  function filterOptions(select) {
    var source = document.getElementById(select.getAttribute("data-filter-by"));
    if (!source) return;
    var wanted = source.value;
    Array.prototype.forEach.call(select.options, function (option) {
      var service = option.getAttribute("data-service");
      var off = service !== null && service !== wanted;
      option.hidden = off;
      option.disabled = off;
      if (off && option.selected) select.value = "";
    });
  }

  function filterAll(root) {
    root.querySelectorAll("select[data-filter-by]").forEach(filterOptions);
  }

  function newRowMessage(text) {
    var box = document.getElementById("new-row-message");
    if (!box) return;
    box.textContent = text || "";
    box.hidden = !text;
  }

  function addRow(form) {
    var params = new URLSearchParams();
    ["nouvelle-adherent", "nouvelle-service", "nouvelle-activite"].forEach(function (name) {
      var field = form.elements[name];
      params.set(name, field ? field.value : "");
    });
    var url = form.getAttribute("data-row-url");
    url += (url.indexOf("?") < 0 ? "?" : "&") + params.toString();
    newRowMessage("");
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.text().then(function (body) { return { ok: response.ok, status: response.status, body: body }; });
      })
      .then(function (answer) {
        if (!answer.ok) {
          newRowMessage(answer.status === 422 ? answer.body : "La ligne n'a pas pu être ajoutée (erreur " + answer.status + ") : réessayez.");
          return;
        }
        var holder = document.createElement("tbody");
        holder.innerHTML = answer.body.trim();
        var row = holder.querySelector("tr[data-row]");
        if (!row) return;
        var key = row.getAttribute("data-row");
        var body = form.querySelector("table.week tbody");
        var existing = body.querySelector('tr[data-row="' + CSS.escape(key) + '"]');
        if (existing) {
          newRowMessage("Cette ligne est déjà dans la grille.");
          var cell = existing.querySelector("input.cell:not([readonly])");
          if (cell) cell.focus();
          return;
        }
        form.querySelectorAll('input[name="retirer"]').forEach(function (input) {
          if (input.value === key) input.remove(); // removed, then added again: kept
        });
        var empty = body.querySelector("tr.empty-row");
        if (empty) empty.remove();
        while (holder.firstChild) body.appendChild(holder.firstChild);
        if (window.Mutualise) window.Mutualise.init(row);
        dirty = true;
        status("Ligne ajoutée : " + row.querySelector("th").textContent.trim() + ".");
        var first = row.querySelector("input.cell:not([readonly])");
        if (first) first.focus();
      })
      .catch(function () {
        newRowMessage("La ligne n'a pas pu être ajoutée (connexion interrompue) : réessayez.");
      });
  }

  function removeRow(form, key) {
    var row = form.querySelector('tr[data-row="' + CSS.escape(key) + '"]');
    if (!row) return;
    var label = row.querySelector("th").textContent.trim();
    var next = row.nextElementSibling;
    if (next && next.getAttribute("data-note-for") === key) next.remove();
    var focusTarget = (row.nextElementSibling || row.previousElementSibling);
    if (row.hasAttribute("data-stored")) {
      var hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = "retirer";
      hidden.value = key;
      form.appendChild(hidden);
    }
    row.remove();
    dirty = true;
    status("Ligne retirée : " + label + ". Enregistrez la semaine pour confirmer.");
    var target = focusTarget && focusTarget.querySelector("input.cell:not([readonly]), button");
    (target || form.querySelector('button[value="ajouter"]')).focus();
    form.dispatchEvent(new Event("input", { bubbles: true })); // totals
  }

  function save(form, submitter) {
    var data = new FormData(form);
    data.set("action", "enregistrer");
    var buttons = form.querySelectorAll("button[type=submit]");
    buttons.forEach(function (b) { b.disabled = true; });
    if (submitter) submitter.setAttribute("aria-busy", "true");
    status("Enregistrement en cours…");
    function failed(text) {
      buttons.forEach(function (b) { b.disabled = false; });
      if (submitter) submitter.removeAttribute("aria-busy");
      newRowMessage("");
      status("");
      var box = document.getElementById("save-failed");
      if (!box) {
        box = document.createElement("p");
        box.id = "save-failed";
        box.className = "flash flash-error";
        box.setAttribute("role", "alert");
        form.insertBefore(box, form.firstChild);
      }
      box.textContent = text;
      box.scrollIntoView({ block: "nearest" });
    }
    fetch(form.getAttribute("action"), {
      method: "POST", body: data, credentials: "same-origin", headers: { Accept: "text/html" },
    })
      .then(function (response) {
        return response.text().then(function (html) { return { response: response, html: html }; });
      })
      .then(function (answer) {
        var page = new DOMParser().parseFromString(answer.html, "text/html");
        var main = page.getElementById("contenu");
        if (!main || !page.getElementById("week-grid")) {
          failed("La semaine n'a pas été enregistrée (erreur " + answer.response.status +
            ", session expirée ?) : vos saisies sont toujours là. Réessayez, ou reconnectez-vous dans un autre onglet.");
          return;
        }
        var current = document.getElementById("contenu");
        current.innerHTML = main.innerHTML;
        var url = answer.response.url;
        if (url && url !== window.location.href && answer.response.redirected) {
          window.history.replaceState(null, "", url);
        }
        if (window.Mutualise) window.Mutualise.init(current);
        filterAll(current);
        var bad = current.querySelector("[aria-invalid=true]");
        dirty = !!bad;
        if (bad) {
          bad.focus();
        } else {
          var flash = current.querySelector(".flash");
          if (flash) { flash.setAttribute("tabindex", "-1"); flash.focus(); }
        }
      })
      .catch(function () {
        failed("La semaine n'a pas été enregistrée (connexion interrompue) : vos saisies sont toujours là, réessayez.");
      });
  }

  // Capture: before app.js's own submit handler, which then sees the event handled.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || form.id !== "week-grid" || !window.fetch) return;
    var submitter = event.submitter || null;
    var action = submitter ? (submitter.getAttribute("name") === "action" ? submitter.value : "") : "enregistrer";
    if (submitter && submitter.getAttribute("name") === "retirer-ligne") {
      event.preventDefault();
      removeRow(form, submitter.value);
    } else if (action === "ajouter") {
      event.preventDefault();
      addRow(form);
    } else if (action === "enregistrer") {
      event.preventDefault();
      save(form, submitter);
    } else {
      dirty = false; // « Soumettre »: a normal post (it saves the grid first)
    }
  }, true);

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target || !target.id) return;
    document.querySelectorAll('select[data-filter-by="' + CSS.escape(target.id) + '"]').forEach(filterOptions);
  });

  document.addEventListener("input", function (event) {
    if (event.target && event.target.matches && event.target.matches("#week-grid input.cell")) dirty = true;
  });

  window.addEventListener("beforeunload", function (event) {
    if (!dirty || !grid()) return;
    event.preventDefault();
    event.returnValue = "";
  });

  filterAll(document);
})();
