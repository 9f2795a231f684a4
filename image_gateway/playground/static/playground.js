// image-gateway playground: plain JavaScript, no build step, served by the gateway itself.
//
// Everything the page knows about models comes from GET /v1/providers (each model's card:
// sizes, aspect_ratio, n, quality, seed, negative_prompt, provider_params and
// provider_params_schema). Each chosen model runs as its own job (Prefer: respond-async), and
// the job's events (GET /v1/jobs/{id}/events, Server-Sent Events) are read with fetch() and a
// streaming reader, since EventSource cannot send the key header. Text from the API is only
// ever set as textContent or attribute values, never as HTML.
"use strict";

(function () {
  const KEY_STORAGE = "image-gateway.playground.key";
  const $ = (id) => document.getElementById(id);
  const base = new URL(".", document.baseURI); // the gateway's root (behind any root_path)
  const api = (path) => new URL(path, base).toString();

  const state = {
    providers: [], // /v1/providers data
    image: null, // File to edit
    mask: null, // File (mask)
    galleryCursor: null, // GET /v1/jobs's next_cursor, for older generations
  };

  // ---- small DOM helpers (text only, never HTML) -------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "text") node.textContent = String(value);
      else if (name === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // ---- the key ------------------------------------------------------------------------------
  function key() {
    return sessionStorage.getItem(KEY_STORAGE) || "";
  }

  function headers(extra) {
    const h = Object.assign({}, extra || {});
    if (key()) h["X-API-Key"] = key();
    return h;
  }

  async function apiError(resp) {
    let message = `HTTP ${resp.status}`;
    try {
      const body = await resp.json();
      if (body && body.error && body.error.message) message = body.error.message;
    } catch (_) {
      /* not JSON: keep the status */
    }
    return message;
  }

  async function getJSON(path) {
    const resp = await fetch(api(path), { headers: headers(), cache: "no-store" });
    if (!resp.ok) throw new Error(await apiError(resp));
    return resp.json();
  }

  // ---- the catalogue and the model picker --------------------------------------------------
  async function loadCatalogue() {
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
    loadGallery();
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

  function chosen() {
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

  // Models that take no edit are disabled while an image is chosen.
  function applyEditMode() {
    for (const input of document.querySelectorAll('#models input[name="model"]')) {
      const [providerId, ...rest] = input.value.split("/");
      const provider = state.providers.find((p) => p.id === providerId);
      const model = provider.models.find((m) => m.id === rest.join("/"));
      const usable = provider.configured && (state.image ? model.edits : !model.requires_input_image);
      input.disabled = !usable;
      if (!usable) input.checked = false;
    }
    renderFields();
  }

  // ---- the option fields, from the chosen models' cards -------------------------------------
  // A field is shown when at least one chosen model accepts it; each job then carries only the
  // fields its own model accepts (`fieldsFor`).
  const CHOICE_FIELDS = [
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

  function renderFields() {
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
      const rules = withSizes
        .filter((c) => !Array.isArray(c.sizes))
        .map((c) => `${c.id}: ${c.sizes}`)
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
      if (values.length) rows.push(fieldRow(name, name.replace("_", " "), select(values), whoTakes(picked, (p) => (p.model[entry] || []).length)));
    }
    if (cards.some((c) => c.output_compression)) {
      const control = el("input", { type: "number", min: 0, max: 100, step: 1 });
      const hint = ["jpeg or webp only", whoTakes(picked, (p) => p.model.output_compression)].filter(Boolean).join("; ");
      rows.push(fieldRow("output_compression", "Output compression (%)", control, hint));
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
        rows.push(fieldRow(`provider_params.${name}`, `provider_params.${name}`, paramControl(schema), hint));
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
  function fieldsFor(model) {
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
      if (name === "input_fidelity" && !state.image) continue;
      if (name === "negative_prompt" && !model.negative_prompt) continue;
      const choice = CHOICE_FIELDS.find(([field]) => field === name);
      if (choice && !(model[choice[1]] || []).includes(value)) continue;
      if (name === "n") body.n = Math.min(Number(value), (model.n && model.n.max) || 1);
      else if (name === "seed" || name === "output_compression") body[name] = Number(value);
      else body[name] = value;
    }
    if (Object.keys(params).length) body.provider_params = params;
    return body;
  }

  // ---- running: one async job per chosen model -----------------------------------------------
  async function run(event) {
    event.preventDefault();
    const prompt = $("prompt").value.trim();
    const picked = chosen();
    if (!prompt) {
      $("prompt").focus();
      showNotice("Write a prompt first.");
      return;
    }
    if (!picked.length) {
      showNotice("Choose at least one model.");
      return;
    }
    // One card per model, in the order picked, newest run first.
    const cards = picked.map((p) => new ResultCard(p.provider.id, p.model.id));
    $("results").prepend(...cards.map((card) => card.node));
    if (window.matchMedia("(max-width: 999px)").matches) cards[0].node.scrollIntoView({ block: "start" });
    await Promise.all(picked.map((p, i) => runOne(cards[i], prompt, p)));
    loadGallery();
  }

  function showNotice(text) {
    const card = el("article", { class: "card error", role: "alert" }, el("p", { text }));
    $("results").prepend(card);
  }

  async function runOne(card, prompt, { model, value }) {
    const started = performance.now();
    const fields = Object.assign({ prompt, model: value, response_format: "url" }, fieldsFor(model));
    let resp;
    try {
      resp = await submit(fields);
    } catch (err) {
      card.fail(`The request did not reach the gateway: ${err.message}`);
      return;
    }
    if (resp.status !== 202 && !resp.ok) {
      card.fail(await apiError(resp));
      return;
    }
    const job = await resp.json();
    card.started(job.id);
    card.status(job.status || "queued", null);
    const finished = await follow(job.id, card);
    card.finish(finished, (performance.now() - started) / 1000);
  }

  function submit(fields) {
    const h = headers({ Prefer: "respond-async" });
    if (!state.image) {
      h["Content-Type"] = "application/json";
      return fetch(api("v1/images/generations"), { method: "POST", headers: h, body: JSON.stringify(fields) });
    }
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) {
      form.append(name, typeof value === "object" ? JSON.stringify(value) : String(value));
    }
    form.append("image", state.image, state.image.name || "image.png");
    if (state.mask) form.append("mask", state.mask, state.mask.name || "mask.png");
    return fetch(api("v1/images/edits"), { method: "POST", headers: h, body: form });
  }

  // Reads the job's Server-Sent Events until its `result`; returns the finished job. Events
  // other than status / progress / result are shown when they carry an image (partial images)
  // and otherwise ignored. If the stream ends early, the job is read once more.
  async function follow(jobId, card) {
    const url = api(`v1/jobs/${encodeURIComponent(jobId)}/events`);
    for (let attempt = 0; attempt < 3; attempt++) {
      let result = null;
      try {
        const resp = await fetch(url, { headers: headers({ Accept: "text/event-stream" }), cache: "no-store" });
        if (!resp.ok || !resp.body) throw new Error(await apiError(resp));
        for await (const { name, data } of sse(resp.body)) {
          if (name === "result") {
            result = data;
            break;
          }
          card.event(name, data);
        }
      } catch (_) {
        /* fall through: read the job */
      }
      if (result) return result;
      try {
        const job = await getJSON(`v1/jobs/${encodeURIComponent(jobId)}`);
        if (["succeeded", "failed", "canceled"].includes(job.status)) return job;
      } catch (err) {
        return { status: "failed", error: { error: { message: err.message } } };
      }
    }
    return { status: "failed", error: { error: { message: "the job's event stream kept ending early" } } };
  }

  // A minimal Server-Sent Events parser (the HTML standard's event stream format: `event:`,
  // `data:` lines, a blank line ends an event, `:` starts a comment).
  async function* sse(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let name = "message";
    let data = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let nl;
      while ((nl = buffer.search(/\r\n|\n|\r/)) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer.startsWith("\r\n", nl) ? 2 : 1));
        if (line === "") {
          if (data.length) {
            let parsed = data.join("\n");
            try {
              parsed = JSON.parse(parsed);
            } catch (_) {
              /* keep text */
            }
            yield { name, data: parsed };
          }
          name = "message";
          data = [];
        } else if (!line.startsWith(":")) {
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? "" : line.slice(colon + 1);
          if (value.startsWith(" ")) value = value.slice(1);
          if (field === "event") name = value;
          else if (field === "data") data.push(value);
        }
      }
    }
  }

  // An image's source from an API image object (`url` or `b64_json`), or null.
  function imageSource(item, format) {
    if (!item || typeof item !== "object") return null;
    if (typeof item.url === "string") return new URL(item.url, base).toString();
    const b64 = item.b64_json || item.partial_image_b64;
    if (typeof b64 === "string") return `data:image/${format || item.output_format || "png"};base64,${b64}`;
    return null;
  }

  function money(cost) {
    if (!cost) return "—";
    if (cost.usd === null || cost.usd === undefined) return `unpriced (${cost.basis || "no price"})`;
    return `$${Number(cost.usd).toFixed(4)} (${cost.basis})`;
  }

  class ResultCard {
    constructor(provider, model) {
      this.title = el("h3", { text: model });
      this.state = el("p", { class: "state", role: "status", text: "submitting…" });
      this.bar = el("progress", { max: 1, "aria-label": `${model} progress` });
      this.partials = el("div", { class: "partials" });
      this.body = el("div", { class: "body" });
      this.cancel = el("button", { type: "button", class: "secondary", text: "Cancel", hidden: true });
      this.node = el(
        "article",
        { class: "card running", "data-testid": "result", dataset: { provider, model } },
        this.title,
        el("p", { class: "muted", text: provider }),
        this.state,
        this.bar,
        this.cancel,
        this.partials,
        this.body,
      );
    }

    // The job exists: it can be canceled (a running one when its worker notices).
    started(jobId) {
      this.cancel.hidden = false;
      this.cancel.addEventListener("click", async () => {
        this.cancel.disabled = true;
        const resp = await fetch(api(`v1/jobs/${encodeURIComponent(jobId)}/cancel`), {
          method: "POST",
          headers: headers(),
        });
        if (!resp.ok) this.state.textContent = `cancel refused: ${await apiError(resp)}`;
      });
    }

    status(status, progress) {
      this.state.textContent = status;
      if (typeof progress === "number") this.bar.value = progress > 1 ? progress / 100 : progress;
    }

    event(name, data) {
      if (!data || typeof data !== "object") return;
      if (name === "status") return this.status(data.status, data.progress);
      if (name === "progress") {
        const words = [data.provider_status, data.queue_position != null ? `queue position ${data.queue_position}` : null];
        this.status(words.filter(Boolean).join(", ") || "running", data.progress);
        return;
      }
      // partial images, whatever the event is called, once they carry an image
      const src = imageSource(data, data.output_format);
      if (src) {
        const img = el("img", { src, alt: `partial image of ${this.title.textContent}`, class: "partial" });
        this.partials.replaceChildren(img);
        if (typeof data.progress === "number") this.status("partial image", data.progress);
      }
    }

    fail(message) {
      this.node.classList.remove("running");
      this.node.classList.add("error");
      this.cancel.remove();
      this.bar.remove();
      this.partials.remove();
      this.state.textContent = "error";
      this.body.replaceChildren(el("p", { class: "message", role: "alert", "data-testid": "error", text: message }));
    }

    finish(job, seconds) {
      if (job.status !== "succeeded" || !job.result) {
        const message = (job.error && job.error.error && job.error.error.message) || `the job ended ${job.status}`;
        this.fail(message);
        return;
      }
      const result = job.result;
      this.node.classList.remove("running");
      this.cancel.remove();
      this.bar.remove();
      this.partials.remove();
      this.state.textContent = "succeeded";
      this.title.textContent = result.model || this.title.textContent;
      const images = el("div", { class: "images" });
      (result.data || []).forEach((item, index) => {
        const src = imageSource(item, result.output_format);
        if (!src) return;
        const name = `${job.id}-${index}.${result.output_format || "png"}`;
        images.append(
          el(
            "figure",
            {},
            el("img", { src, alt: `image ${index + 1} from ${result.model}`, "data-testid": "result-image" }),
            el(
              "figcaption",
              {},
              el("a", { href: src, download: name, text: "download" }),
              item.size ? ` ${item.size}` : "",
            ),
          ),
        );
      });
      const seeds = (result.data || []).map((d) => d.seed).filter((s) => s !== undefined && s !== null);
      const revised = (result.data || []).map((d) => d.revised_prompt).filter(Boolean);
      const facts = el("dl", { class: "facts" });
      const fact = (term, value) => facts.append(el("dt", { text: term }), el("dd", { text: value }));
      fact("provider", result.provider);
      fact("model", result.model);
      fact("latency", `${seconds.toFixed(2)} s`);
      fact("cost", money(result.cost));
      fact("seed", seeds.length ? seeds.join(", ") : "—");
      if (revised.length) fact("revised prompt", revised.join(" | "));
      if (result.fallback_from) fact("fallback from", JSON.stringify(result.fallback_from));
      this.body.replaceChildren(images, facts);
    }
  }

  // ---- the gallery: this key's recent jobs, with their images --------------------------------
  // `older`: the next page (the listing's next_cursor) is added below what is shown.
  async function loadGallery(older) {
    const status = $("gallery-status");
    const gallery = $("gallery");
    const more = $("gallery-more");
    status.textContent = "Loading…";
    let listing;
    const after = older === true && state.galleryCursor ? `&after=${encodeURIComponent(state.galleryCursor)}` : "";
    try {
      listing = await getJSON(`v1/jobs?status=succeeded&limit=12${after}`);
    } catch (err) {
      status.textContent = `Could not load the recent jobs: ${err.message}`;
      return;
    }
    const jobs = await Promise.all(
      listing.data.map((j) => getJSON(`v1/jobs/${encodeURIComponent(j.id)}`).catch(() => null)),
    );
    const items = [];
    for (const job of jobs) {
      if (!job || !job.result) continue;
      const result = job.result;
      (result.data || []).forEach((item, index) => {
        const src = imageSource(item, result.output_format);
        if (!src) return;
        const name = `${job.id}-${index}.${result.output_format || "png"}`;
        const when = job.created_at ? new Date(job.created_at * 1000).toLocaleString() : "";
        items.push(
          el(
            "figure",
            { class: "thumb", "data-testid": "gallery-item" },
            el("img", { src, alt: `${result.model}: image ${index + 1}`, loading: "lazy" }),
            el(
              "figcaption",
              {},
              el("span", { text: `${result.provider}/${result.model}` }),
              el("small", { class: "muted", text: when }),
              el("a", { href: src, download: name, text: "download" }),
            ),
          ),
        );
      });
    }
    if (after) gallery.append(...items);
    else gallery.replaceChildren(...items);
    state.galleryCursor = listing.has_more ? listing.next_cursor : null;
    more.hidden = !state.galleryCursor;
    status.textContent = gallery.childElementCount ? "" : "No generations yet.";
  }

  // ---- edit images: drop or choose -----------------------------------------------------------
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
      if (file) setEditFile(kind, file);
    });
  }

  // ---- start ---------------------------------------------------------------------------------
  function start() {
    const keyInput = $("key");
    keyInput.value = key();
    keyInput.addEventListener("change", () => {
      const value = keyInput.value.trim();
      if (value) sessionStorage.setItem(KEY_STORAGE, value);
      else sessionStorage.removeItem(KEY_STORAGE);
      loadCatalogue();
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
    loadCatalogue();
  }

  start();
})();
