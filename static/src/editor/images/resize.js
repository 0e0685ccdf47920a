/**
 * Resizing an image and editing its alt text.
 *
 * Selecting an image (clicking it, or Shift+Arrow over it) draws a frame
 * around it with a handle at its bottom right corner, and a small panel
 * under it. Dragging the handle previews the new size on the page only;
 * releasing it sets the image's ``width`` (px, the schema's digits) as the
 * person's change, and removes a ``height`` so that the proportions hold.
 * The keyboard does the same: the handle is a slider (Arrow keys: 10 px,
 * with Shift 50 px), and the panel (reached with Tab from the editor) has
 * width presets (a quarter, half, the whole of the editor's width, the
 * image's own size) and the alt text field (Enter or Save sets ``alt``;
 * empty removes it). Escape closes it and returns to the editor.
 *
 * Every change is ``quill.formatText(…, "user")``: the binding sends it,
 * Suggesting mode turns it into a suggested format change, undo takes it
 * back. Only an editable editor shows the frame. The image is found again
 * by its element when the change is made, so edits by others while the
 * person drags cannot make it land on another position.
 *
 * @module editor/images/resize
 */
import Quill from "quill";

import { widthValue } from "./classify.js";

/** Longest alt text the schema takes. */
const ALT_MAX = 500;

/**
 * @param {{quill: any}} options
 * @returns {{readonly current: HTMLImageElement|null, setWidth: (px: number|null) => void, hide: () => void}}
 */
export function installResize({ quill }) {
  const frame = document.createElement("div");
  frame.className = "cd-image-frame";
  frame.hidden = true;
  const handle = document.createElement("div");
  handle.className = "cd-image-handle";
  handle.tabIndex = 0;
  handle.setAttribute("role", "slider");
  handle.setAttribute("aria-label", "Image width in pixels");
  handle.title = "Drag to resize (or use the arrow keys)";
  frame.append(handle);

  const panel = document.createElement("div");
  panel.className = "cd-image-panel";
  panel.setAttribute("role", "group");
  panel.setAttribute("aria-label", "Image size and alt text");
  panel.hidden = true;
  const presets = [
    ["Small", 0.25],
    ["Medium", 0.5],
    ["Full width", 1],
    ["Original size", 0],
  ];
  for (const [label, share] of presets) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "cd-image-preset";
    button.textContent = /** @type {string} */ (label);
    button.dataset.share = String(share);
    button.addEventListener("click", () => {
      if (!current) return;
      setWidth(share ? Number(widthValue(contentWidth() * Number(share), contentWidth())) : null);
    });
    panel.append(button);
  }
  const altLabel = document.createElement("label");
  altLabel.className = "cd-image-alt";
  altLabel.textContent = "Alt text ";
  const altInput = document.createElement("input");
  altInput.type = "text";
  altInput.maxLength = ALT_MAX;
  altInput.placeholder = "Describe the image";
  altLabel.append(altInput);
  const altSave = document.createElement("button");
  altSave.type = "button";
  altSave.className = "cd-image-alt-save";
  altSave.textContent = "Save";
  panel.append(altLabel, altSave);
  quill.container.append(frame, panel);

  /** @type {HTMLImageElement|null} the selected image */
  let current = null;
  /** The width being dragged, previewed on the page only. */
  let dragging = null;

  const contentWidth = () => {
    const style = getComputedStyle(quill.root);
    return quill.root.clientWidth - parseFloat(style.paddingLeft || "0") - parseFloat(style.paddingRight || "0");
  };

  /** The image's index in the document now, or null when it is gone. */
  const indexOf = (/** @type {HTMLImageElement} */ img) => {
    if (!img.isConnected) return null;
    const blot = Quill.find(img);
    return blot && !(blot instanceof Quill) ? quill.getIndex(blot) : null;
  };

  const apply = (formats) => {
    const img = current;
    if (!img || !quill.isEnabled()) return;
    const index = indexOf(img);
    if (index === null) return;
    quill.formatText(index, 1, formats, "user");
    place();
  };

  /** Set the width (null: the image's own size), keeping its proportions. */
  const setWidth = (/** @type {number|null} */ px) => {
    if (!current) return;
    /** @type {Record<string, string|null>} */
    const formats = { width: px === null ? null : String(px) };
    if (current.hasAttribute("height")) formats.height = null;
    apply(formats);
  };

  const saveAlt = () => {
    // eslint-disable-next-line no-control-regex -- control characters are what the schema refuses
    const alt = altInput.value.replace(/[\u0000-\u001f]/g, " ").trim().slice(0, ALT_MAX);
    if (current && alt !== (current.getAttribute("alt") || "")) apply({ alt: alt || null });
  };

  /** Draw the frame and the panel over the selected image. */
  const place = () => {
    const img = current;
    if (!img || !img.isConnected || !quill.isEnabled()) {
      hide();
      return;
    }
    const box = img.getBoundingClientRect();
    const origin = quill.container.getBoundingClientRect();
    const width = dragging ?? box.width;
    const height = dragging !== null && box.width ? (box.height * dragging) / box.width : box.height;
    Object.assign(frame.style, {
      left: `${box.left - origin.left}px`,
      top: `${box.top - origin.top}px`,
      width: `${width}px`,
      height: `${height}px`,
    });
    panel.style.left = `${box.left - origin.left}px`;
    panel.style.top = `${box.top - origin.top + height + 6}px`;
    // A collaborator may have changed the alt text: show theirs unless the
    // person is typing their own.
    if (document.activeElement !== altInput) altInput.value = img.getAttribute("alt") || "";
    handle.setAttribute("aria-valuenow", String(Math.round(width)));
    handle.setAttribute("aria-valuemin", "16");
    handle.setAttribute("aria-valuemax", String(Math.round(contentWidth())));
    frame.hidden = false;
    panel.hidden = false;
  };

  const select = (/** @type {HTMLImageElement} */ img) => {
    current = img;
    place();
  };

  function hide() {
    current = null;
    dragging = null;
    frame.hidden = true;
    panel.hidden = true;
  }

  const within = (/** @type {EventTarget|null} */ node) => node instanceof Node && (frame.contains(node) || panel.contains(node));

  quill.root.addEventListener("click", (/** @type {MouseEvent} */ event) => {
    const img = event.target;
    if (!(img instanceof HTMLImageElement) || !quill.isEnabled()) return;
    const index = indexOf(img);
    if (index === null) return;
    quill.setSelection(index, 1, "user");
    select(img);
  });

  quill.on("selection-change", (range) => {
    if (!range) {
      // Focus went to the frame or panel: keep them.
      if (!within(document.activeElement)) setTimeout(() => !within(document.activeElement) && !quill.hasFocus() && hide(), 0);
      return;
    }
    if (range.length === 1) {
      // getLeaf(i) ends at i (the leaf before an embed at i): ask for i + 1.
      const [leaf] = quill.getLeaf(range.index + 1);
      const node = leaf?.domNode;
      if (node instanceof HTMLImageElement) {
        select(node);
        return;
      }
    }
    hide();
  });
  quill.on("editor-change", () => {
    if (current) requestAnimationFrame(place);
  });
  window.addEventListener("resize", () => current && place());
  quill.root.addEventListener("scroll", () => current && place(), { passive: true });

  handle.addEventListener("pointerdown", (/** @type {PointerEvent} */ event) => {
    if (!current) return;
    event.preventDefault();
    handle.setPointerCapture(event.pointerId);
    const start = event.clientX;
    const startWidth = current.getBoundingClientRect().width;
    const max = contentWidth();
    const move = (/** @type {PointerEvent} */ e) => {
      dragging = Number(widthValue(startWidth + e.clientX - start, max));
      if (current) current.style.width = `${dragging}px`;
      place();
    };
    const up = (/** @type {PointerEvent} */ e) => {
      handle.removeEventListener("pointermove", move);
      handle.removeEventListener("pointerup", up);
      handle.removeEventListener("pointercancel", up);
      const px = dragging;
      dragging = null;
      if (current) current.style.width = "";
      if (px !== null && e.type === "pointerup") setWidth(px);
      else place();
    };
    handle.addEventListener("pointermove", move);
    handle.addEventListener("pointerup", up);
    handle.addEventListener("pointercancel", up);
  });

  handle.addEventListener("keydown", (event) => {
    if (!current) return;
    const step = event.shiftKey ? 50 : 10;
    const now = current.getBoundingClientRect().width;
    if (event.key === "ArrowRight" || event.key === "ArrowUp") setWidth(Number(widthValue(now + step, contentWidth())));
    else if (event.key === "ArrowLeft" || event.key === "ArrowDown") setWidth(Number(widthValue(now - step, contentWidth())));
    else return;
    event.preventDefault();
  });
  altSave.addEventListener("click", saveAlt);
  altInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      saveAlt();
    }
  });
  for (const element of [frame, panel]) {
    element.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      const index = current ? indexOf(current) : null;
      hide();
      quill.focus();
      if (index !== null) quill.setSelection(index + 1, 0, "user");
    });
    element.addEventListener("focusout", (event) => {
      if (!within(event.relatedTarget) && !quill.hasFocus()) setTimeout(() => !quill.hasFocus() && !within(document.activeElement) && hide(), 0);
    });
  }

  return {
    /** The selected image, if any. */
    get current() {
      return current;
    },
    setWidth,
    hide,
  };
}
