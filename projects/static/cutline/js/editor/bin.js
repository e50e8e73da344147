// The media bin: upload several files at once with progress bars, list the library, add media to tracks.

import { api, describeError } from "../api.js";
import { tusUpload } from "../tus-upload.js";
import { formatBytes, formatSeconds } from "../format.js";
import { confirmDialog, h, notify } from "../ui.js";

const PARALLEL_UPLOADS = 2;
const KIND_LABELS = { video: "Video", audio: "Audio", image: "Image" };

const PROXY_POLL_MS = 3000;

export class MediaBin {
  constructor(root, editor) {
    this.root = root;
    this.editor = editor;
    this.list = root.querySelector(".bin-list");
    this.uploads = root.querySelector(".bin-uploads");
    this.input = root.querySelector('input[type="file"]');
    this.queue = [];
    this.running = 0;
    this.input.addEventListener("change", () => {
      this.enqueue([...this.input.files]);
      this.input.value = "";
    });
    const drop = root.querySelector(".bin-drop");
    drop.addEventListener("dragover", (event) => {
      if (![...event.dataTransfer.types].includes("Files")) return;
      event.preventDefault();
      drop.classList.add("drop-target");
    });
    drop.addEventListener("dragleave", () => drop.classList.remove("drop-target"));
    drop.addEventListener("drop", (event) => {
      drop.classList.remove("drop-target");
      if (!event.dataTransfer.files.length) return;
      event.preventDefault();
      this.enqueue([...event.dataTransfer.files]);
    });
  }

  enqueue(files) {
    for (const file of files) {
      const row = this._uploadRow(file);
      this.uploads.append(row.element);
      this.queue.push(row);
    }
    this._pump();
  }

  _uploadRow(file) {
    const bar = h("div", { class: "bar-fill", style: { width: "0%" } });
    const percent = h("span", { class: "upload-percent" }, "waiting");
    const meter = h("div", { class: "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-valuenow": "0", "aria-label": `Upload of ${file.name}` }, bar);
    const cancel = h("button", { type: "button", class: "link small" }, "Cancel");
    const element = h("li", { class: "upload" },
      h("div", { class: "upload-head" }, h("span", { class: "upload-name" }, file.name), percent, cancel),
      meter,
      h("p", { class: "upload-message", role: "status" }));
    const row = { file, element, bar, percent, meter, cancel, handle: null, canceled: false };
    cancel.addEventListener("click", () => {
      row.canceled = true;
      if (row.handle) row.handle.abort();
      else element.remove();
    });
    return row;
  }

  _pump() {
    while (this.running < PARALLEL_UPLOADS && this.queue.length) {
      const row = this.queue.shift();
      if (row.canceled) continue;
      this.running += 1;
      this._upload(row).finally(() => {
        this.running -= 1;
        this._pump();
      });
    }
  }

  async _upload(row) {
    const setProgress = (fraction) => {
      const value = Math.round(fraction * 100);
      row.bar.style.width = `${value}%`;
      row.meter.setAttribute("aria-valuenow", String(value));
      row.percent.textContent = value >= 100 ? "checking…" : `${value} %`;
    };
    setProgress(0);
    row.handle = tusUpload(row.file, { onProgress: setProgress });
    try {
      const asset = await row.handle.promise;
      row.element.remove();
      this.editor.assetAdded(asset);
      notify(`“${asset.name}” is in your media.`);
    } catch (error) {
      if (row.canceled) {
        row.element.remove();
        return;
      }
      row.element.classList.add("failed");
      row.percent.textContent = "refused";
      row.element.querySelector(".upload-message").textContent = describeError(error);
      row.element.querySelector(".upload-message").setAttribute("role", "alert");
      row.cancel.textContent = "Dismiss";
      row.cancel.onclick = () => row.element.remove();
    }
  }

  render() {
    const assets = [...this.editor.assets.values()];
    this.list.replaceChildren();
    if (!assets.length) {
      this.list.append(h("li", { class: "muted bin-empty" }, "No media yet. Upload video, audio or image files."));
      return;
    }
    for (const asset of assets) this.list.append(this._item(asset));
    this._watchProxies(assets);
  }

  /** While a worker makes preview proxies, ask about those assets every few seconds. */
  _watchProxies(assets) {
    const waiting = assets.filter((asset) => asset.proxy_status === "preparing");
    clearTimeout(this.proxyTimer);
    if (!waiting.length) return;
    this.proxyTimer = setTimeout(async () => {
      let changed = false;
      for (const asset of waiting) {
        try {
          const fresh = await api(`/api/assets/${asset.id}/`);
          if (fresh.proxy_status !== asset.proxy_status && this.editor.assets.has(asset.id)) {
            this.editor.assets.set(asset.id, fresh);
            changed = true;
          }
        } catch (error) {
          if (error.status === 404) continue;
        }
      }
      if (changed) {
        this.render();
        if (this.editor.preview) this.editor.preview.invalidate();
      } else {
        this._watchProxies([...this.editor.assets.values()]);
      }
    }, PROXY_POLL_MS);
  }

  _item(asset) {
    const editor = this.editor;
    const details = [KIND_LABELS[asset.kind] || asset.kind];
    if (asset.duration != null && asset.kind !== "image") details.push(formatSeconds(asset.duration));
    if (asset.width && asset.height) details.push(`${asset.width}×${asset.height}`);
    if (asset.size_bytes != null) details.push(formatBytes(asset.size_bytes));
    const thumbnail = asset.thumbnail_url
      ? h("img", { src: asset.thumbnail_url, alt: "", loading: "lazy", width: "96", height: "54" })
      : h("span", { class: `bin-icon kind-${asset.kind}`, "aria-hidden": "true" }, asset.kind === "audio" ? "♪" : "▣");
    const item = h("li", { class: "bin-item", draggable: "true", dataset: { assetId: asset.id } },
      h("div", { class: "bin-thumb" }, thumbnail),
      h("div", { class: "bin-meta" },
        h("span", { class: "bin-name", title: asset.name }, asset.name),
        h("span", { class: `badge kind-${asset.kind}` }, details[0]),
        h("span", { class: "muted small" }, details.slice(1).join(" · ")),
        asset.proxy_status === "preparing"
          ? h("span", { class: "preparing", role: "status" }, "Preparing preview…") : null),
      h("div", { class: "bin-actions" },
        h("button", { type: "button", class: "secondary small", "aria-label": `Add to timeline: ${asset.name}`,
          onclick: () => editor.addAssetToTrack(asset.id) }, "Add to timeline"),
        h("button", { type: "button", class: "link small", "aria-label": `Delete ${asset.name} from your media`,
          onclick: () => this._delete(asset) }, "Delete")));
    item.addEventListener("dragstart", (event) => {
      event.dataTransfer.setData("application/x-cutline-asset", asset.id);
      event.dataTransfer.effectAllowed = "copy";
    });
    return item;
  }

  async _delete(asset) {
    const ok = await confirmDialog({
      title: `Delete “${asset.name}”?`,
      message: "The file is removed from your media library. Timelines that use it must not need it any more.",
    });
    if (!ok) return;
    try {
      await api(`/api/assets/${asset.id}/`, { method: "DELETE" });
      this.editor.assetRemoved(asset.id);
      notify(`“${asset.name}” was deleted.`);
    } catch (error) {
      notify(describeError(error), { kind: "error" });
    }
  }
}
