// Small DOM helpers shared by the pages: element building, notices, a confirmation dialog.

import { describeError } from "./api.js";

/** h("button", {class: "primary", onclick}, "Text") → element. `null`/`false` children are skipped. */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") element.addEventListener(key.slice(2), value);
    else if (key === "class") element.className = value;
    else if (key === "dataset") Object.assign(element.dataset, value);
    else if (key === "style" && typeof value === "object") Object.assign(element.style, value);
    else if (key in element && typeof value !== "string") element[key] = value;
    else element.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** A short message in the page's live region; errors stay until dismissed. */
export function notify(message, { kind = "info", timeout = 5000 } = {}) {
  let region = document.getElementById("notices");
  if (!region) {
    region = h("div", { id: "notices", class: "notices", "aria-live": "polite" });
    document.body.append(region);
  }
  const close = h("button", { type: "button", class: "notice-close", "aria-label": "Dismiss" }, "×");
  const notice = h("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status" },
    h("span", {}, message), close);
  close.addEventListener("click", () => notice.remove());
  region.append(notice);
  if (kind !== "error" && timeout) setTimeout(() => notice.remove(), timeout);
  return notice;
}

export function notifyError(error) {
  return notify(describeError(error), { kind: "error" });
}

/** Ask before something irreversible. Resolves true when the person confirms. */
export function confirmDialog({ title, message, confirmLabel = "Delete", danger = true }) {
  return new Promise((resolve) => {
    const confirmButton = h("button", { type: "submit", value: "yes", class: danger ? "danger" : "primary" }, confirmLabel);
    const dialog = h("dialog", { class: "dialog", "aria-labelledby": "dialog-title" },
      h("form", { method: "dialog" },
        h("h2", { id: "dialog-title" }, title),
        h("p", {}, message),
        h("div", { class: "dialog-actions" },
          h("button", { type: "submit", value: "no", class: "secondary" }, "Cancel"),
          confirmButton)));
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "yes");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector('button[value="no"]').focus();
  });
}

/** Read the JSON a template put in a <script type="application/json"> with `json_script`. */
export function pageData(id) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : null;
}

/** No stack trace ever reaches a person: unexpected errors become one sentence. */
export function installErrorGuard() {
  let shown = false;
  const show = () => {
    if (shown) return;
    shown = true;
    notify("Something went wrong in this page. Reload it to continue.", { kind: "error" });
  };
  window.addEventListener("error", (event) => {
    if (event.error) show();
  });
  window.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    const reason = event.reason;
    if (reason && reason.name === "ApiError") notify(reason.message, { kind: "error" });
    else if (!(reason && reason.name === "AbortError")) show();
  });
}
