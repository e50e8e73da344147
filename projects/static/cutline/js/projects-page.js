// The project list: create, rename and delete projects through the REST API.

import { api, describeError } from "./api.js";
import { confirmDialog, h, installErrorGuard, notify } from "./ui.js";

installErrorGuard();

const createForm = document.getElementById("create-project");
const createError = document.getElementById("create-error");

createForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = createForm.querySelector('input[name="name"]');
  const button = createForm.querySelector('button[type="submit"]');
  const name = input.value.trim();
  createError.textContent = "";
  if (!name) {
    createError.textContent = "Give the project a name.";
    input.focus();
    return;
  }
  button.disabled = true;
  try {
    const project = await api("/api/projects/", { method: "POST", body: { name } });
    location.assign(`/projects/${project.id}/`);
  } catch (error) {
    createError.textContent = describeError(error);
    button.disabled = false;
    input.focus();
  }
});

function startRename(card) {
  const title = card.querySelector(".card-title a");
  const actions = card.querySelector(".card-actions");
  const inputId = `rename-${card.dataset.projectId}`;
  const input = h("input", { id: inputId, name: "name", type: "text", required: true, maxlength: "200",
    autocomplete: "off" });
  input.value = title.textContent.trim();
  const message = h("p", { class: "field-error", role: "alert" });
  const form = h("form", { class: "rename-form" },
    h("label", { for: inputId }, "New name"), input,
    h("div", { class: "card-actions" },
      h("button", { type: "submit", class: "primary small" }, "Save name"),
      h("button", { type: "button", class: "secondary small", onclick: () => finish() }, "Cancel")),
    message);
  const finish = () => {
    form.remove();
    actions.hidden = false;
    card.querySelector(".rename").focus();
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (!name) {
      message.textContent = "The name cannot be empty.";
      return;
    }
    try {
      const project = await api(`/api/projects/${card.dataset.projectId}/`, { method: "PATCH", body: { name } });
      title.textContent = project.name;
      card.dataset.projectName = project.name;
      finish();
      notify(`Renamed to “${project.name}”.`);
    } catch (error) {
      message.textContent = describeError(error);
    }
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") finish();
  });
  actions.hidden = true;
  actions.after(form);
  input.focus();
  input.select();
}

async function deleteProject(card) {
  const name = card.dataset.projectName;
  const ok = await confirmDialog({
    title: `Delete “${name}”?`,
    message: "The project and its renders are deleted for good. Your media files stay in your library.",
    confirmLabel: "Delete project",
  });
  if (!ok) return;
  try {
    await api(`/api/projects/${card.dataset.projectId}/`, { method: "DELETE" });
    card.remove();
    notify(`“${name}” was deleted.`);
    if (!document.querySelector(".project-card")) {
      document.getElementById("project-grid").append(h("li", { class: "empty" }, "No projects yet."));
    }
  } catch (error) {
    notify(describeError(error), { kind: "error" });
  }
}

async function duplicateProject(card, button) {
  button.disabled = true;
  try {
    const copy = await api(`/api/projects/${card.dataset.projectId}/duplicate`, { method: "POST", body: {} });
    window.location.assign(`/projects/${copy.id}/`);
  } catch (error) {
    button.disabled = false;
    notify(describeError(error), { kind: "error" });
  }
}

document.getElementById("project-grid").addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  const card = button.closest(".project-card");
  if (!card) return;
  if (button.classList.contains("rename")) startRename(card);
  else if (button.classList.contains("delete")) deleteProject(card);
  else if (button.classList.contains("duplicate")) duplicateProject(card, button);
});
