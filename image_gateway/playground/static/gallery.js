// The gallery: this key's recent succeeded jobs (GET /v1/jobs, then each job for its images),
// with a download link per image; older ones page by page (next_cursor).
import { getJSON } from "./api.js";
import { $, el } from "./dom.js";
import { imageSource } from "./results.js";

let cursor = null; // GET /v1/jobs's next_cursor

// `older`: the next page (the listing's next_cursor) is added below what is shown.
export async function loadGallery(older) {
  const status = $("gallery-status");
  const gallery = $("gallery");
  const more = $("gallery-more");
  status.textContent = "Loading…";
  let listing;
  const after = older === true && cursor ? `&after=${encodeURIComponent(cursor)}` : "";
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
      const name = `${job.id}-${index + 1}.${result.output_format || "png"}`; // 1-based, as the CLI
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
  cursor = listing.has_more ? listing.next_cursor : null;
  more.hidden = !cursor;
  status.textContent = gallery.childElementCount ? "" : "No generations yet.";
}
