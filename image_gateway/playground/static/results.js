// One result card per chosen model: the job submitted with Prefer: respond-async, followed
// through its events (status, progress, partial images, result), then its images and facts.
import { api, apiError, getJSON, headers, resolve } from "./api.js";
import { $, el } from "./dom.js";
import { fieldsFor, state } from "./form.js";
import { sse } from "./sse.js";

// A notice about the form (no prompt, no model, ...): it replaces the previous notices rather
// than piling up among the results.
export function showNotice(text) {
  clearNotices();
  const card = el("article", { class: "card error notice", role: "alert" }, el("p", { text }));
  $("results").prepend(card);
}

export function clearNotices() {
  for (const old of $("results").querySelectorAll(".notice")) old.remove();
}

export async function runOne(card, prompt, { model, value }) {
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

// An image's source from an API image object (`url` or `b64_json`), or null.
export function imageSource(item, format) {
  if (!item || typeof item !== "object") return null;
  if (typeof item.url === "string") return resolve(item.url);
  const b64 = item.b64_json || item.partial_image_b64;
  if (typeof b64 === "string") return `data:image/${format || item.output_format || "png"};base64,${b64}`;
  return null;
}

// The cost's basis (schemas.Cost) in words for a person.
const BASIS_WORDS = {
  provider: "charged by the provider",
  tokens: "from the tokens used",
  price_table: "from the price list",
  estimate: "estimated from the price list",
};

export function money(cost) {
  if (!cost || cost.usd === null || cost.usd === undefined) return "no known price";
  const words = BASIS_WORDS[cost.basis];
  return `$${Number(cost.usd).toFixed(4)}${words ? ` (${words})` : ""}`;
}

export class ResultCard {
  constructor(provider, model, prompt) {
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
      prompt ? el("p", { class: "prompt", "data-testid": "card-prompt", text: prompt }) : null,
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
      this.cancelRequested = true;
      this.state.textContent = "cancel requested…";
      let resp;
      try {
        resp = await fetch(api(`v1/jobs/${encodeURIComponent(jobId)}/cancel`), {
          method: "POST",
          headers: headers(),
        });
      } catch (err) {
        this.cancelRequested = false;
        this.state.textContent = `cancel not sent: ${err.message}`;
        return;
      }
      if (!resp.ok) {
        this.cancelRequested = false;
        this.state.textContent = `cancel refused: ${await apiError(resp)}`;
      }
    });
  }

  status(status, progress) {
    // Until the job ends, a requested cancel stays said (a running job stops when its worker
    // notices; README "Asynchronous jobs").
    this.state.textContent = this.cancelRequested ? `cancel requested… (${status})` : status;
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
      const img = el("img", {
        src,
        alt: `preview of ${this.title.textContent} (partial image ${(data.partial_image_index ?? 0) + 1})`,
        class: "partial",
        "data-testid": "partial-image",
      });
      this.partials.replaceChildren(img);
      this.status(`preview ${(data.partial_image_index ?? 0) + 1} of the image`, data.progress);
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
    if (job.status === "canceled") {
      this.fail("Canceled: the job stopped before it produced an image.");
      this.state.textContent = "canceled";
      this.node.classList.replace("error", "canceled");
      return;
    }
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
    this.state.textContent = this.cancelRequested
      ? "succeeded: it finished before the cancel took effect"
      : "succeeded";
    this.title.textContent = result.model || this.title.textContent;
    const images = el("div", { class: "images" });
    (result.data || []).forEach((item, index) => {
      const src = imageSource(item, result.output_format);
      if (!src) return;
      const name = `${job.id}-${index + 1}.${result.output_format || "png"}`; // 1-based, as the CLI
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
