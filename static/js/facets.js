// The filter form of /models/, made easier where scripts run; without this file the form
// works the same, with every choice listed.
// - Type-to-narrow for the long choice lists (data-narrow): a text field above a list
//   hides the choices whose names, in either language, and code do not contain what was
//   typed. Without this script the field stays hidden and the list shows whole, in a box
//   that scrolls.
// - The fields left empty are not sent, so the address holds only the filters chosen.
"use strict";

(function () {
  function fold(text) {
    return text.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim();
  }

  function narrow(group, input) {
    const typed = fold(input.value);
    let shown = 0;
    for (const option of group.querySelectorAll(".facet-option")) {
      const match = fold(option.dataset.match).includes(typed);
      option.hidden = !match;
      shown += match ? 1 : 0;
    }
    group.querySelector(".narrow-none").textContent = shown ? "" : group.dataset.none;
  }

  for (const group of document.querySelectorAll("[data-narrow]")) {
    const field = group.querySelector(".narrow");
    const input = field.querySelector("input");
    field.hidden = false;
    input.addEventListener("input", () => narrow(group, input));
    // A value the browser kept from an earlier visit narrows the list as typed.
    window.addEventListener("pageshow", () => narrow(group, input));
    // Enter in this field narrows the list; it does not send the filters.
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
      }
    });
  }

  const form = document.querySelector("form.filters");
  if (form) {
    form.addEventListener("formdata", (event) => {
      const empty = [...event.formData].filter(([, value]) => value === "");
      for (const [name] of empty) {
        event.formData.delete(name);
      }
    });
  }
})();
