// Keyboard shortcuts of the editor, in one place (the `?` sheet in the page lists the same keys).
// Keys typed into a field stay in the field: only Ctrl/Cmd+Z there is left to the browser's own undo.

const TYPING = new Set(["INPUT", "TEXTAREA", "SELECT"]);

function typingIn(target) {
  if (!target || !target.tagName) return false;
  if (target.isContentEditable) return true;
  if (!TYPING.has(target.tagName)) return false;
  return !["checkbox", "radio", "button", "range", "color"].includes(target.type);
}

export function installShortcuts(editor) {
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.altKey) return;
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key;
    const typing = typingIn(event.target);
    if (document.querySelector("dialog[open]")) return;
    if (mod && !typing) {
      const lower = key.toLowerCase();
      if (lower === "z" && !event.shiftKey) editor.undo();
      else if ((lower === "z" && event.shiftKey) || lower === "y") editor.redo();
      else if (lower === "c") editor.copySelection();
      else if (lower === "v") editor.paste();
      else if (lower === "d") editor.duplicateProject();
      else return;
      event.preventDefault();
      return;
    }
    if (typing || mod) return;
    const preview = editor.preview;
    const frame = 1 / editor.fps;
    const time = Number(editor.doc.view.current_time) || 0;
    switch (key) {
      case " ":
      case "k":
      case "K":
        if (key === " " && event.target.closest && event.target.closest("button, [role=listitem], a")) return;
        if (key === " ") preview.toggle();
        else preview.pause();
        break;
      case "l":
      case "L":
        preview.faster(1);
        break;
      case "j":
      case "J":
        preview.faster(-1);
        break;
      case "ArrowLeft":
        preview.pause();
        editor.setTime(Math.max(0, time - (event.shiftKey ? 1 : frame)));
        break;
      case "ArrowRight":
        preview.pause();
        editor.setTime(time + (event.shiftKey ? 1 : frame));
        break;
      case "Home":
        preview.pause();
        editor.setTime(0);
        break;
      case "End":
        preview.pause();
        editor.setTime(editor.length());
        break;
      case "s":
      case "S":
        editor.splitAtPlayhead();
        break;
      case "Delete":
      case "Backspace":
        if (!editor.selectedClipIds().length) return;
        editor.deleteClip(null);
        break;
      case "?":
        document.getElementById("shortcuts").showModal();
        break;
      default:
        return;
    }
    event.preventDefault();
  });
}
