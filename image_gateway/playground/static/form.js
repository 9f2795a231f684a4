// The model picker and the option fields, built from GET /v1/providers: a field is shown when
// at least one chosen model accepts it, and each job carries only the fields its own model
// accepts (`fieldsFor`). provider_params are typed by each card's provider_params_schema.
import { getJSON } from "./api.js";
import { $, el } from "./dom.js";

export const state = {
  providers: [], // /v1/providers data, configured providers first
  image: null, // the File to edit
  mask: null, // its mask File
};

export async function loadCatalogue() {
  const status = $("catalogue-status");
  status.textContent = "Loading the catalogue…";
  let listing;
  try {
    listing = await getJSON("v1/providers");
  } catch (err) {
    status.textContent = `Could not load the models: ${err.message}`;
    return;
  }
  state.providers = listing.data.slice().sort((a, b) => Number(b.configured) - Number(a.configured));
  renderModels();
  status.textContent = "";
}

function modelValue(provider, model) {
  return `${provider.id}/${model.id}`;
}

function renderModels() {
  const box = $("model-list");
  box.replaceChildren();
  let checkedOne = false;
  for (const provider of state.providers) {
    const group = el("div", { class: "provider", role: "group", "aria-label": provider.label });
    const title = provider.configured ? provider.label : `${provider.label} (not configured)`;
    group.append(el("div", { class: "provider-name", text: title }));
    for (const model of provider.models) {
      const value = modelValue(provider, model);
      const id = `model-${value.replace(/[^A-Za-z0-9_-]/g, "_")}`;
      const input = el("input", {
        type: "checkbox",
        id,
        name: "model",
        value,
        disabled: !provider.configured,
      });
      if (provider.configured && !checkedOne && model.id === provider.default_model) {
        input.checked = true;
        checkedOne = true;
      }
      input.addEventListener("change", renderFields);
      const label = el("label", { for: id, title: model.description || "" }, input, ` ${model.id}`);
      group.append(label);
    }
    box.append(group);
  }
  applyEditMode();
}

export function chosen() {
  const picked = [];
  for (const input of document.querySelectorAll('#models input[name="model"]:checked')) {
    if (input.disabled) continue;
    const [providerId, ...rest] = input.value.split("/");
    const provider = state.providers.find((p) => p.id === providerId);
    const model = provider && provider.models.find((m) => m.id === rest.join("/"));
    if (model) picked.push({ provider, model, value: input.value });
  }
  return picked;
}

// Models that take no edit are disabled while an image is chosen, and models that take no mask
// (the card's `mask`) while a mask is too; models that need an input image while none is. A
// ticked model unticked that way is named in the note under the list, with the reason.
export function applyEditMode() {
  const unticked = { edit: [], mask: [], image: [] };
  for (const input of document.querySelectorAll('#models input[name="model"]')) {
    const [providerId, ...rest] = input.value.split("/");
    const provider = state.providers.find((p) => p.id === providerId);
    const model = provider.models.find((m) => m.id === rest.join("/"));
    let lacks = null;
    if (!state.image) lacks = model.requires_input_image ? "image" : null;
    else if (!model.edits) lacks = "edit";
    else if (state.mask && !model.mask) lacks = "mask";
    const usable = provider.configured && lacks === null;
    input.disabled = !usable;
    if (lacks && input.checked && provider.configured) unticked[lacks].push(model.id);
    if (!usable) input.checked = false;
  }
  const why = {
    edit: (one) => `${one ? "it takes" : "they take"} no input image (no edits)`,
    mask: (one) => `${one ? "it takes" : "they take"} no mask (describe the change in the prompt instead)`,
    image: (one) => `${one ? "it needs" : "they need"} an input image`,
  };
  const said = Object.entries(unticked)
    .filter(([, ids]) => ids.length)
    .map(([reason, ids]) => `Unticked ${ids.join(", ")}: ${why[reason](ids.length === 1)}.`);
  const note = $("model-note");
  if (said.length) {
    note.textContent = said.join(" ");
  } else if (state.mask && !state.image) {
    note.textContent = "A mask is chosen without an image: add the image it masks (a mask alone edits nothing).";
  } else if (state.image) {
    note.textContent = state.mask
      ? "An image and a mask are chosen: only models that take a mask can be ticked."
      : "An image is chosen: only models that take edits can be ticked.";
  } else {
    note.textContent = "";
  }
  renderFields();
}

// ---- the option fields, from the chosen models' cards -------------------------------------
// A field is shown when at least one chosen model accepts it; each job then carries only the
// fields its own model accepts (`fieldsFor`).
export const CHOICE_FIELDS = [
  ["quality", "quality"],
  ["style", "style"],
  ["background", "background"],
  ["moderation", "moderation"],
  ["output_format", "output_formats"],
  ["input_fidelity", "input_fidelity"], // edits only
];

function union(lists) {
  const out = [];
  for (const list of lists) for (const v of list) if (!out.includes(v)) out.push(v);
  return out;
}

function keepValues() {
  const values = {};
  for (const input of document.querySelectorAll("#field-list [name]")) values[input.name] = input.value;
  return values;
}

// A field name as a label: "output_format" → "Output format" (the labels all read alike).
export function labelOf(name) {
  const words = name.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function fieldRow(name, labelText, control, hint) {
  control.id = `field-${name.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  control.name = name;
  return el(
    "div",
    { class: "field" },
    el("label", { for: control.id, text: labelText }),
    control,
    hint ? el("small", { class: "muted", text: hint }) : null,
  );
}

function select(options, placeholder) {
  const s = el("select");
  s.append(el("option", { value: "", text: placeholder || "(model default)" }));
  for (const o of options) s.append(el("option", { value: o, text: o }));
  return s;
}

function whoTakes(picked, test) {
  const who = picked.filter(test).map((p) => p.model.id);
  return who.length === picked.length ? "" : `only ${who.join(", ")}`;
}

export function renderFields() {
  const list = $("field-list");
  const kept = keepValues();
  list.replaceChildren();
  const picked = chosen();
  const cards = picked.map((p) => p.model);
  if (!cards.length) {
    list.append(el("p", { class: "muted", text: "Choose a model to see its options." }));
    return;
  }
  const rows = [];
  // size: a closed list where every chosen model has one, else WxH text
  const withSizes = cards.filter((c) => c.sizes !== undefined);
  if (withSizes.length) {
    const closed = withSizes.every((c) => Array.isArray(c.sizes));
    const control = closed
      ? select(union(withSizes.map((c) => c.sizes)))
      : el("input", { type: "text", placeholder: "WxH, e.g. 1024x768", inputmode: "text", autocomplete: "off" });
    // Every chosen model's sizes, so one that suits them all can be picked.
    const rules = cards
      .map((c) => {
        if (c.sizes === undefined) return `${c.id}: no size (its own default)`;
        return `${c.id}: ${Array.isArray(c.sizes) ? c.sizes.join(", ") : c.sizes}`;
      })
      .join("; ");
    rows.push(fieldRow("size", "Size", control, rules));
  }
  if (cards.some((c) => c.aspect_ratio)) {
    const control = el("input", { type: "text", placeholder: "W:H, e.g. 16:9", autocomplete: "off" });
    rows.push(fieldRow("aspect_ratio", "Aspect ratio", control, whoTakes(picked, (p) => p.model.aspect_ratio)));
  }
  const maxN = Math.max(...cards.map((c) => (c.n && c.n.max) || 1));
  rows.push(fieldRow("n", "Images per model (n)", el("input", { type: "number", min: 1, max: maxN, step: 1, value: 1 })));
  for (const [name, entry] of CHOICE_FIELDS) {
    if (name === "input_fidelity" && !state.image) continue;
    const values = union(cards.map((c) => c[entry] || []));
    if (values.length) rows.push(fieldRow(name, labelOf(name), select(values), whoTakes(picked, (p) => (p.model[entry] || []).length)));
  }
  if (cards.some((c) => c.output_compression)) {
    const control = el("input", { type: "number", min: 0, max: 100, step: 1 });
    const hint = ["jpeg or webp only", whoTakes(picked, (p) => p.model.output_compression)].filter(Boolean).join("; ");
    rows.push(fieldRow("output_compression", "Output compression (%)", control, hint));
  }
  if (cards.some((c) => c.streams)) {
    const control = el("input", { type: "number", min: 0, max: 3, step: 1 });
    const hint = ["previews shown while drawing", whoTakes(picked, (p) => p.model.streams)].filter(Boolean).join("; ");
    rows.push(fieldRow("partial_images", "Partial images (0-3)", control, hint));
  }
  if (cards.some((c) => c.seed)) {
    rows.push(fieldRow("seed", "Seed", el("input", { type: "number", step: 1, min: 0 }), whoTakes(picked, (p) => p.model.seed)));
  }
  if (cards.some((c) => c.negative_prompt)) {
    rows.push(fieldRow("negative_prompt", "Negative prompt", el("input", { type: "text" }), whoTakes(picked, (p) => p.model.negative_prompt)));
  }
  // provider_params: one input per name, typed by the card's provider_params_schema
  const seen = new Set();
  for (const { model } of picked) {
    for (const name of model.provider_params || []) {
      if (seen.has(name)) continue;
      seen.add(name);
      const schema = (model.provider_params_schema || {})[name] || {};
      const hint = [schema.description, whoTakes(picked, (p) => (p.model.provider_params || []).includes(name))]
        .filter(Boolean)
        .join("; ");
      rows.push(fieldRow(`provider_params.${name}`, `${labelOf(name)} (provider option)`, paramControl(schema), hint));
    }
  }
  list.append(...rows);
  for (const input of list.querySelectorAll("[name]")) {
    if (kept[input.name] !== undefined) input.value = kept[input.name];
  }
}

function paramControl(schema) {
  if (Array.isArray(schema.enum) || schema.type === "boolean") {
    const control = select(Array.isArray(schema.enum) ? schema.enum.map(String) : ["true", "false"]);
    control.dataset.type = schema.type || "string";
    return control;
  }
  if (schema.type === "integer" || schema.type === "number") {
    return el("input", {
      type: "number",
      step: schema.type === "integer" ? 1 : "any",
      min: schema.minimum,
      max: schema.maximum,
      dataset: { type: schema.type },
    });
  }
  const json = schema.type === "array" || schema.type === "object" || schema.type === undefined;
  return el("input", {
    type: "text",
    autocomplete: "off",
    placeholder: json ? "JSON (or text)" : "",
    dataset: { type: schema.type || "json" },
  });
}

function paramValue(input) {
  const text = input.value.trim();
  const type = input.dataset.type;
  if (type === "boolean") return text === "true";
  if (type === "integer" || type === "number") return Number(text);
  if (type === "json" || type === "array" || type === "object") {
    try {
      return JSON.parse(text);
    } catch (_) {
      return text;
    }
  }
  return text;
}

// The request fields of one model: only those its card says it accepts.
export function fieldsFor(model) {
  const body = {};
  const params = {};
  for (const input of document.querySelectorAll("#field-list [name]")) {
    const value = input.value.trim();
    if (value === "") continue;
    const name = input.name;
    if (name.startsWith("provider_params.")) {
      const param = name.slice("provider_params.".length);
      if ((model.provider_params || []).includes(param)) params[param] = paramValue(input);
      continue;
    }
    if (name === "size" && model.sizes === undefined) continue;
    if (name === "aspect_ratio" && !model.aspect_ratio) continue;
    if (name === "seed" && !model.seed) continue;
    if (name === "output_compression" && !model.output_compression) continue;
    if (name === "partial_images" && !model.streams) continue;
    if (name === "input_fidelity" && !state.image) continue;
    if (name === "negative_prompt" && !model.negative_prompt) continue;
    const choice = CHOICE_FIELDS.find(([field]) => field === name);
    if (choice && !(model[choice[1]] || []).includes(value)) continue;
    if (name === "n") body.n = Math.min(Number(value), (model.n && model.n.max) || 1);
    else if (["seed", "output_compression", "partial_images"].includes(name)) body[name] = Number(value);
    else body[name] = value;
  }
  if (Object.keys(params).length) body.provider_params = params;
  return body;
}
