// image-gateway playground: plain JavaScript modules, no build step, served by the gateway.
//
// Everything the page knows about models comes from GET /v1/providers (form.js). Each chosen
// model runs as its own job (Prefer: respond-async) followed through its Server-Sent Events
// (results.js, sse.js); the gallery lists the key's recent jobs (gallery.js). Text from the API
// is only ever set as textContent or attribute values, never as HTML (dom.js).
import { key, setKey } from "./api.js";
import { $ } from "./dom.js";
import { applyEditMode, chosen, loadCatalogue, state } from "./form.js";
import { loadGallery } from "./gallery.js";
import { clearNotices, ResultCard, runOne, showNotice } from "./results.js";

async function run(event) {
  event.preventDefault();
  if ($("run").disabled) return; // a run is in flight (Enter in the prompt submits too)
  const prompt = $("prompt").value.trim();
  const picked = chosen();
  if (!prompt) {
    $("prompt").focus();
    showNotice("Write a prompt first.");
    return;
  }
  if (state.mask && !state.image) {
    showNotice("A mask needs an image to edit: add the image, or clear the edit images.");
    return;
  }
  if (!picked.length && !state.providers.length) {
    showNotice(`No models to choose from: ${$("catalogue-status").textContent || "the catalogue is not loaded"}`);
    return;
  }
  if (!picked.length) {
    showNotice("Choose at least one model.");
    return;
  }
  // One card per model, in the order picked, newest run first.
  clearNotices();
  const cards = picked.map((p) => new ResultCard(p.provider.id, p.model.id, prompt));
  $("results").prepend(...cards.map((card) => card.node));
  if (window.matchMedia("(max-width: 999px)").matches) cards[0].node.scrollIntoView({ block: "start" });
  // One run at a time: Run is disabled until every job of this one has ended.
  $("run").disabled = true;
  try {
    await Promise.all(picked.map((p, i) => runOne(cards[i], prompt, p)));
  } finally {
    $("run").disabled = false;
  }
  loadGallery();
}

// Edit images: dropped on their zone, or chosen with its file input.
function setEditFile(kind, file) {
  const drop = $(`${kind}-drop`);
  const preview = drop.querySelector("img");
  if (preview.src.startsWith("blob:")) URL.revokeObjectURL(preview.src);
  state[kind] = file || null;
  if (file) {
    preview.src = URL.createObjectURL(file);
    preview.alt = `${kind}: ${file.name}`;
    preview.hidden = false;
  } else {
    preview.removeAttribute("src");
    preview.hidden = true;
  }
  drop.classList.toggle("filled", Boolean(file));
  applyEditMode();
}

function wireDrop(kind) {
  const drop = $(`${kind}-drop`);
  const input = $(`${kind}-file`);
  input.addEventListener("change", () => setEditFile(kind, input.files[0]));
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const file = e.dataTransfer && e.dataTransfer.files[0];
    if (!file) return;
    input.files = e.dataTransfer.files; // the input names the dropped file, not "No file chosen"
    setEditFile(kind, file);
  });
}

// The key is used once it is typed or pasted (after KEY_PAUSE_MS without a keystroke), or at
// once when the field is left or Enter is pressed; the same key is not loaded twice.
const KEY_PAUSE_MS = 600;

function start() {
  const keyInput = $("key");
  keyInput.value = key();
  let applied = keyInput.value.trim();
  let pause = null;
  const useKey = () => {
    clearTimeout(pause);
    const value = keyInput.value.trim();
    if (value === applied) return;
    applied = value;
    setKey(value);
    loadCatalogue().then(() => loadGallery());
  };
  keyInput.addEventListener("change", useKey);
  keyInput.addEventListener("input", () => {
    clearTimeout(pause);
    pause = setTimeout(useKey, KEY_PAUSE_MS);
  });
  $("run-form").addEventListener("submit", run);
  $("prompt").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $("run-form").requestSubmit();
    }
  });
  wireDrop("image");
  wireDrop("mask");
  $("clear-edit").addEventListener("click", () => {
    $("image-file").value = "";
    $("mask-file").value = "";
    setEditFile("mask", null);
    setEditFile("image", null);
  });
  $("gallery-refresh").addEventListener("click", () => loadGallery(false));
  $("gallery-more").addEventListener("click", () => loadGallery(true));
  loadCatalogue().then(loadGallery);
}

start();
