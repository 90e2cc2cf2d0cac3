/* Mutualise — the page behaviour, in one file, with no inline script anywhere.

   The Content-Security-Policy forbids inline <script> and on*="" attributes, so templates ask
   for behaviour with data- attributes and this file (loaded with `defer` by base.html) wires
   them up. Everything degrades to plain HTML: without JavaScript the forms still post.

   Helpers for every area's templates (see also the comment at the top of _macros.html):

   data-confirm="Message"      on a submit <button>, an <input type=submit>, a <form> or a link:
                               asks in a modal dialog before an irreversible act (issue, close,
                               credit note...). The dialog's confirm button repeats the button's
                               label; data-confirm-title="..." sets the dialog title. Cancel is
                               the default (Escape, or Enter on the focused Cancel button).
   (every POST form)           its submit buttons are disabled for a few seconds after a submit,
                               so a double click never posts twice (data-no-busy on the form
                               turns this off, e.g. for a form that returns a download).
   data-upload-progress        on a multipart <form>: "always" shows a progress bar for every
                               upload, "off" never; by default only when the chosen files weigh
                               at least 1 Mo. The form is sent with XMLHttpRequest and the
                               server's answer replaces the page exactly as a normal post would
                               (redirects and flash messages included); if the browser cannot,
                               the form posts normally. Files above the server's limit
                               (body[data-max-upload]) are refused before sending, inline.
   data-autosubmit             on a <select> or <input> of a GET filter form: submits on change.
   data-check-all="NAME"       on a checkbox: ticks/unticks every checkbox named NAME in the
                               same form (and shows "indeterminate" when some are ticked).
   data-sum="CSS selector"     on an <output> (or any element): shows the sum of the durations
                               typed in the inputs matching the selector ("7:30", "7h30", "7,5"),
                               formatted "7 h 30"; data-sum-kind="number" sums plain numbers.
                               Recomputed on every input: the week grid's row/column totals.
   data-grid-nav               on a <table>: ArrowUp / ArrowDown move between the text inputs of
                               the same column (a spreadsheet-like grid, keyboard only).
   data-copy-table="ID"        on a <button>: copies table#ID as tab-separated text (pastes
                               into a spreadsheet).
   data-print                  on a <button>: prints the page.
   table[data-chart]           see charts.js (a chart drawn from the table's numbers).

   JavaScript API (window.Mutualise), for the rare page that needs more:
     Mutualise.confirm(message, {title, confirmLabel, danger}) -> Promise<boolean>
     Mutualise.parseDuration("1h30") -> 90 (minutes) | null
     Mutualise.formatMinutes(90) -> "1 h 30"
     Mutualise.formatNumber(1234.5, 2) -> "1 234,50"; Mutualise.formatMoney(1234.5) -> "1 234,50 €"
     Mutualise.init(root)        wires the helpers above inside root (after inserting HTML).
*/
(function () {
  "use strict";

  var doc = document;
  doc.documentElement.classList.add("js");

  var LARGE_UPLOAD = 1024 * 1024; // bytes: from here on an upload shows its progress
  var BUSY_MS = 6000; // submit buttons stay disabled this long (a download never navigates)

  // ---------- formatting (French) ----------

  function formatNumber(value, places) {
    places = places === undefined ? 2 : places;
    return new Intl.NumberFormat("fr-FR", {
      minimumFractionDigits: places, maximumFractionDigits: places,
    }).format(value);
  }

  function formatMoney(value) {
    return new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR" }).format(value);
  }

  function formatMinutes(minutes) {
    var sign = minutes < 0 ? "-" : "";
    var m = Math.abs(Math.round(minutes));
    var h = Math.floor(m / 60);
    var rest = m % 60;
    return sign + h + " h" + (rest ? " " + String(rest).padStart(2, "0") : "");
  }

  function formatBytes(n) {
    if (n < 1024 * 1024) return formatNumber(n / 1024, 0) + " ko";
    return formatNumber(n / (1024 * 1024), 1) + " Mo";
  }

  /* "7:30", "7h30", "7 h 30", "7h", "30min", "7,5", "7.5" -> minutes; "" -> 0; junk -> null.
     The same forms as the server's duration parser (imports.parsing). */
  function parseDuration(text) {
    var s = String(text || "").trim().toLowerCase().replace(/\s+/g, "");
    if (!s) return 0;
    var m;
    if ((m = /^(\d+):([0-5]\d)$/.exec(s))) return +m[1] * 60 + +m[2];
    if ((m = /^(\d+)h(?:([0-5]?\d)(?:min|m)?)?$/.exec(s))) return +m[1] * 60 + (m[2] ? +m[2] : 0);
    if ((m = /^(\d+)(?:min|mn|m)$/.exec(s))) return +m[1];
    if ((m = /^(\d+)(?:[.,](\d+))?$/.exec(s))) {
      return Math.round(parseFloat(m[1] + "." + (m[2] || "0")) * 60);
    }
    return null;
  }

  function parseNumber(text) {
    var s = String(text || "").replace(/[\s\u00a0\u202f€]/g, "").replace(",", ".");
    if (!s) return 0;
    var n = Number(s);
    return isFinite(n) ? n : null;
  }

  /* A form's method, lower case ("get" by default). Read as an attribute: a control named
     "method" or "action" shadows the form's properties of the same name. */
  function attr(form, name) {
    return (form.getAttribute(name) || (name === "method" ? "get" : "")).toLowerCase();
  }

  // ---------- confirmation dialog ----------

  var dialog = null;

  function buildDialog() {
    var d = doc.createElement("dialog");
    d.className = "confirm";
    d.setAttribute("aria-labelledby", "confirm-title");
    d.setAttribute("aria-describedby", "confirm-message");
    d.innerHTML =
      '<form method="dialog">' +
      '<h2 id="confirm-title"></h2>' +
      '<p id="confirm-message"></p>' +
      '<div class="form-actions">' +
      '<button type="submit" value="cancel" class="btn" data-role="cancel">Annuler</button>' +
      '<button type="submit" value="ok" class="btn danger" data-role="ok"></button>' +
      "</div></form>";
    doc.body.appendChild(d);
    return d;
  }

  function confirmDialog(message, options) {
    options = options || {};
    if (typeof HTMLDialogElement !== "function" || !HTMLDialogElement.prototype.showModal) {
      return Promise.resolve(window.confirm(message));
    }
    dialog = dialog || buildDialog();
    var title = dialog.querySelector("#confirm-title");
    var text = dialog.querySelector("#confirm-message");
    var ok = dialog.querySelector('[data-role="ok"]');
    var cancel = dialog.querySelector('[data-role="cancel"]');
    title.textContent = options.title || "Confirmer cette action";
    text.textContent = message;
    ok.textContent = options.confirmLabel || "Confirmer";
    ok.className = "btn " + (options.danger === false ? "primary" : "danger");
    dialog.returnValue = "";
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        resolve(dialog.returnValue === "ok");
      });
      dialog.showModal();
      cancel.focus(); // the safe choice is the default one
    });
  }

  function labelOf(button) {
    if (!button) return "";
    return (button.value && button.tagName === "INPUT" ? button.value : button.textContent).trim();
  }

  // A submit that passed its confirmation goes through once without asking again.
  var confirmed = new WeakSet();

  function onSubmit(event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || attr(form, "method") === "dialog") return;
    var submitter = event.submitter || null;
    var message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (message && !confirmed.has(form)) {
      event.preventDefault();
      var source = submitter && submitter.hasAttribute("data-confirm") ? submitter : form;
      confirmDialog(message, {
        title: source.getAttribute("data-confirm-title"),
        confirmLabel: labelOf(submitter) || "Confirmer",
        danger: !(submitter && submitter.classList.contains("primary")),
      }).then(function (ok) {
        if (!ok) {
          if (submitter) submitter.focus();
          return;
        }
        confirmed.add(form);
        try {
          if (submitter && form.requestSubmit) form.requestSubmit(submitter);
          else if (form.requestSubmit) form.requestSubmit();
          else form.submit();
        } finally {
          confirmed.delete(form);
        }
      });
      return;
    }
    if (event.defaultPrevented) return;
    if (maybeUpload(form, submitter, event)) return;
    markBusy(form, submitter);
  }

  function onClick(event) {
    var link = event.target.closest && event.target.closest("a[data-confirm]");
    if (!link || event.defaultPrevented) return;
    event.preventDefault();
    confirmDialog(link.getAttribute("data-confirm"), {
      title: link.getAttribute("data-confirm-title"),
      confirmLabel: link.textContent.trim() || "Confirmer",
    }).then(function (ok) {
      if (ok) window.location.assign(link.href);
    });
  }

  // ---------- no double submit ----------

  function markBusy(form, submitter) {
    if (attr(form, "method") !== "post" || form.hasAttribute("data-no-busy")) return;
    var buttons = form.querySelectorAll('button[type="submit"], button:not([type]), input[type="submit"]');
    if (submitter) submitter.setAttribute("aria-busy", "true");
    // Disabled after the entry list is built, so the submitter's name/value is still sent.
    window.setTimeout(function () {
      buttons.forEach(function (b) { b.disabled = true; });
    }, 0);
    window.setTimeout(function () { release(form); }, BUSY_MS);
  }

  function release(form) {
    form.querySelectorAll("[aria-busy]").forEach(function (b) { b.removeAttribute("aria-busy"); });
    form.querySelectorAll("button:disabled, input[type=submit]:disabled").forEach(function (b) {
      if (!b.hasAttribute("data-keep-disabled")) b.disabled = false;
    });
  }

  // Coming back with the browser's back button shows the page as it was left: re-enable.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) doc.querySelectorAll("form").forEach(release);
  });

  // ---------- uploads with progress ----------

  function filesOf(form) {
    var files = [];
    form.querySelectorAll('input[type="file"]').forEach(function (input) {
      Array.prototype.forEach.call(input.files || [], function (f) { files.push({ input: input, file: f }); });
    });
    return files;
  }

  function showFieldError(input, message) {
    var field = input.closest(".field") || input.parentNode;
    var old = field.querySelector(".error[data-client]");
    if (old) old.remove();
    if (!message) {
      input.removeAttribute("aria-invalid");
      return;
    }
    var p = doc.createElement("p");
    p.className = "error";
    p.setAttribute("data-client", "");
    p.id = (input.id || input.name) + "-client-err";
    p.setAttribute("role", "alert");
    p.textContent = message;
    field.appendChild(p);
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", p.id);
    field.classList.add("has-error");
  }

  /* Returns true when it took the submit over (XHR upload, or a refusal shown inline). */
  function maybeUpload(form, submitter, event) {
    if (attr(form, "method") !== "post") return false;
    var files = filesOf(form);
    if (!files.length) return false;
    var total = files.reduce(function (sum, f) { return sum + f.file.size; }, 0);
    var limit = Number(doc.body.getAttribute("data-max-upload") || 0);
    if (limit && total > limit) {
      event.preventDefault();
      showFieldError(files[0].input,
        "Le fichier pèse " + formatBytes(total) + " : la taille maximale acceptée est " +
        formatBytes(limit) + ". Rien n'a été envoyé.");
      return true;
    }
    files.forEach(function (f) { showFieldError(f.input, null); });
    var mode = form.getAttribute("data-upload-progress");
    if (mode === "off" || (mode !== "always" && total < LARGE_UPLOAD)) return false;
    if (!window.XMLHttpRequest || !window.FormData || !("upload" in new XMLHttpRequest())) return false;
    event.preventDefault();
    sendWithProgress(form, submitter, total);
    return true;
  }

  function sendWithProgress(form, submitter, total) {
    var box = doc.createElement("div");
    box.className = "upload-progress";
    box.setAttribute("role", "status");
    box.innerHTML = '<progress max="100" value="0"></progress><output>Envoi…</output>' +
      '<button type="button" class="btn small">Annuler l\'envoi</button>';
    var bar = box.querySelector("progress");
    var out = box.querySelector("output");
    var cancel = box.querySelector("button");
    var anchor = (submitter && submitter.closest(".form-actions")) || submitter || form.lastElementChild;
    if (anchor && anchor.parentNode) anchor.parentNode.insertBefore(box, anchor.nextSibling);
    else form.appendChild(box);

    var data = new FormData(form, submitter || undefined);
    var xhr = new XMLHttpRequest();
    // Attributes, not form.action: a control named "action" would shadow the property.
    var target = (submitter && submitter.getAttribute("formaction")) || form.getAttribute("action") || "";
    xhr.open("POST", new URL(target, window.location.href).href);
    xhr.setRequestHeader("X-Upload-Progress", "1");
    xhr.upload.addEventListener("progress", function (e) {
      var size = e.lengthComputable ? e.total : total;
      var pct = size ? Math.min(100, Math.round((e.loaded / size) * 100)) : 0;
      bar.value = pct;
      out.textContent = pct + " % — " + formatBytes(e.loaded) + " sur " + formatBytes(size);
    });
    xhr.upload.addEventListener("load", function () {
      bar.removeAttribute("value"); // indeterminate while the server reads the file
      out.textContent = "Fichier envoyé, traitement en cours…";
      cancel.disabled = true;
    });
    xhr.addEventListener("load", function () {
      var type = xhr.getResponseHeader("Content-Type") || "";
      if (type.indexOf("text/html") === 0) {
        replacePage(xhr.responseText, xhr.responseURL);
      } else {
        window.location.assign(xhr.responseURL || window.location.href);
      }
    });
    function failed(message) {
      box.remove();
      release(form);
      showFieldError(filesOf(form)[0].input, message);
    }
    xhr.addEventListener("error", function () { failed("L'envoi a échoué (connexion interrompue) : réessayez."); });
    xhr.addEventListener("abort", function () { failed("Envoi annulé : rien n'a été enregistré."); });
    cancel.addEventListener("click", function () { xhr.abort(); });
    markBusy(form, submitter);
    xhr.send(data);
  }

  /* Show the server's answer as if the browser had posted the form itself. */
  function replacePage(html, url) {
    if (url && url !== window.location.href) window.history.replaceState(null, "", url);
    doc.open();
    doc.write(html);
    doc.close();
  }

  // ---------- small helpers ----------

  function wireAutosubmit(root) {
    root.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      if (el.dataset.wired) return;
      el.dataset.wired = "1";
      el.addEventListener("change", function () {
        if (el.form) {
          if (el.form.requestSubmit) el.form.requestSubmit();
          else el.form.submit();
        }
      });
    });
  }

  function wireCheckAll(root) {
    root.querySelectorAll("input[type=checkbox][data-check-all]").forEach(function (master) {
      if (master.dataset.wired) return;
      master.dataset.wired = "1";
      var name = master.getAttribute("data-check-all");
      var scope = master.form || master.closest("table") || doc;
      function boxes() {
        return Array.prototype.filter.call(
          scope.querySelectorAll('input[type=checkbox]'),
          function (b) { return b.name === name && !b.disabled; });
      }
      function sync() {
        var all = boxes();
        var ticked = all.filter(function (b) { return b.checked; }).length;
        master.checked = all.length > 0 && ticked === all.length;
        master.indeterminate = ticked > 0 && ticked < all.length;
      }
      master.addEventListener("change", function () {
        boxes().forEach(function (b) { b.checked = master.checked; });
      });
      scope.addEventListener("change", function (e) {
        if (e.target !== master && e.target.name === name) sync();
      });
      sync();
    });
  }

  function wireSums(root) {
    var outputs = root.querySelectorAll("[data-sum]");
    if (!outputs.length) return;
    function compute() {
      outputs.forEach(function (out) {
        var kind = out.getAttribute("data-sum-kind") || "duration";
        var total = 0;
        var bad = false;
        doc.querySelectorAll(out.getAttribute("data-sum")).forEach(function (input) {
          var v = kind === "number" ? parseNumber(input.value) : parseDuration(input.value);
          if (v === null) bad = true;
          else total += v;
        });
        out.textContent = kind === "number" ? formatNumber(total, 2) : formatMinutes(total);
        out.classList.toggle("neg", bad);
        out.title = bad ? "Une valeur n'est pas lisible" : "";
      });
    }
    root.addEventListener("input", compute);
    compute();
  }

  function wireGridNav(root) {
    root.querySelectorAll("table[data-grid-nav]").forEach(function (table) {
      if (table.dataset.wired) return;
      table.dataset.wired = "1";
      table.addEventListener("keydown", function (e) {
        if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
        var input = e.target;
        if (!(input instanceof HTMLInputElement) || input.type !== "text") return;
        var cell = input.closest("td, th");
        var row = cell && cell.parentElement;
        if (!row) return;
        var col = Array.prototype.indexOf.call(row.children, cell);
        var next = e.key === "ArrowDown" ? row.nextElementSibling : row.previousElementSibling;
        while (next) {
          var target = next.children[col] && next.children[col].querySelector("input[type=text]:not([disabled])");
          if (target) {
            e.preventDefault();
            target.focus();
            target.select();
            return;
          }
          next = e.key === "ArrowDown" ? next.nextElementSibling : next.previousElementSibling;
        }
      });
    });
  }

  function tableToTsv(table) {
    return Array.prototype.map.call(table.rows, function (row) {
      return Array.prototype.map.call(row.cells, function (cell) {
        return cell.innerText.replace(/[\t\n\r]+/g, " ").trim();
      }).join("\t");
    }).join("\n");
  }

  function wireButtons(root) {
    root.querySelectorAll("button[data-copy-table]").forEach(function (button) {
      if (button.dataset.wired) return;
      button.dataset.wired = "1";
      button.addEventListener("click", function () {
        var table = doc.getElementById(button.getAttribute("data-copy-table"));
        if (!table || !navigator.clipboard) return;
        navigator.clipboard.writeText(tableToTsv(table)).then(function () {
          var note = doc.createElement("span");
          note.className = "copied";
          note.setAttribute("role", "status");
          note.textContent = "Copié";
          button.after(note);
          window.setTimeout(function () { note.remove(); }, 2000);
        });
      });
    });
    root.querySelectorAll("button[data-print]").forEach(function (button) {
      if (button.dataset.wired) return;
      button.dataset.wired = "1";
      button.addEventListener("click", function () { window.print(); });
    });
  }

  /* Tables wider than their .table-wrap get the class "overflowing" (a scroll hint). */
  function markOverflow(root) {
    root.querySelectorAll(".table-wrap").forEach(function (wrap) {
      wrap.classList.toggle("overflowing", wrap.scrollWidth > wrap.clientWidth + 1);
    });
  }
  window.addEventListener("resize", function () { markOverflow(doc); });

  function wireMenu() {
    var toggle = doc.querySelector(".menu-toggle");
    var nav = doc.getElementById("mainnav");
    if (!toggle || !nav || toggle.dataset.wired) return;
    toggle.dataset.wired = "1";
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  /* The grouped menus (<details> in the navigation): one open at a time, Escape or a click
     elsewhere closes it. Without JavaScript they still open and close on their own. */
  function wireMenuGroups() {
    var groups = doc.querySelectorAll(".navgroup details");
    if (!groups.length || doc.body.dataset.menuGroups) return;
    doc.body.dataset.menuGroups = "1";
    groups.forEach(function (group) {
      group.addEventListener("toggle", function () {
        if (!group.open) return;
        groups.forEach(function (other) { if (other !== group) other.open = false; });
      });
    });
    doc.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      groups.forEach(function (group) {
        if (!group.open) return;
        group.open = false;
        if (group.contains(doc.activeElement)) group.querySelector("summary").focus();
      });
    });
    doc.addEventListener("click", function (event) {
      groups.forEach(function (group) {
        if (group.open && !group.contains(event.target)) group.open = false;
      });
    });
  }

  function init(root) {
    root = root || doc;
    wireAutosubmit(root);
    wireCheckAll(root);
    wireSums(root);
    wireGridNav(root);
    wireButtons(root);
    markOverflow(root);
  }

  // document.open() (an upload's answer replacing the page) erases every listener and runs
  // this file again, so adding them here each time is right, never twice.
  doc.addEventListener("submit", onSubmit);
  doc.addEventListener("click", onClick);

  window.Mutualise = {
    confirm: confirmDialog,
    parseDuration: parseDuration,
    formatMinutes: formatMinutes,
    formatNumber: formatNumber,
    formatMoney: formatMoney,
    init: init,
  };

  wireMenu();
  wireMenuGroups();
  init(doc);
})();
