// Helps for every page; each page works without them.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // The camera button hides its file input: it says how many are chosen.
  for (const input of document.querySelectorAll("label.camera input[type=file]")) {
    const picked = input.parentElement.querySelector(".picked");
    input.addEventListener("change", () => {
      if (picked) picked.textContent = input.files.length ? ` · ${picked.dataset.one.replace("{n}", input.files.length)}` : "";
    });
  }
  // A long list of units to tick: typing narrows it (ticked ones stay shown).
  for (const picker of document.querySelectorAll(".unit-picker")) {
    const filter = picker.querySelector(".unit-filter");
    const labels = [...picker.querySelectorAll("label")];
    if (!filter || labels.length < 8) continue;
    filter.hidden = false;
    filter.addEventListener("input", () => {
      const q = filter.value.trim().toLowerCase();
      for (const l of labels) {
        const ticked = l.querySelector("input").checked;
        l.hidden = q !== "" && !ticked && !l.textContent.toLowerCase().includes(q);
      }
    });
  }
  // A questionnaire shows each respondent only the questions their group
  // is asked (the server drops any other answers anyway).
  for (const form of document.querySelectorAll("form.questionnaire")) {
    const show = () => {
      const g = form.querySelector("input[name=group]:checked");
      for (const q of form.querySelectorAll("fieldset[data-groups]")) {
        q.hidden = !!g && !q.dataset.groups.split(" ").includes(g.value);
      }
    };
    for (const r of form.querySelectorAll("input[name=group]")) r.addEventListener("change", show);
    show();
  }
});
