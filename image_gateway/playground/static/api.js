// The gateway's API as the page calls it: URLs relative to the gateway's root (so the page works
// behind a root_path), the key from the tab's sessionStorage sent as X-API-Key (never in a URL),
// and the API's error message read from its error body.

const KEY_STORAGE = "image-gateway.playground.key";
const base = new URL(".", document.baseURI); // the gateway's root

export const api = (path) => new URL(path, base).toString();

/** A URL the API returned (relative to the gateway, or absolute) as an absolute one. */
export const resolve = (url) => new URL(url, base).toString();

export function setKey(value) {
  if (value) sessionStorage.setItem(KEY_STORAGE, value);
  else sessionStorage.removeItem(KEY_STORAGE);
}

export function key() {
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

export function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (key()) h["X-API-Key"] = key();
  return h;
}

// The key field's state, said to a person: a 401 means this gateway wants a key (none typed) or
// refused the one typed; an answer without a key means none is needed here (development mode).
export function markKey(answer) {
  const input = document.getElementById("key");
  if (!input) return;
  if (answer === "refused") {
    input.setAttribute("aria-invalid", "true");
    input.placeholder = "this gateway needs a key";
  } else {
    input.removeAttribute("aria-invalid");
    if (!key()) input.placeholder = "none needed here (development mode)";
  }
}

/** The message for a 401, in words for the person at the page (where the key goes). */
export function keyMessage() {
  return key()
    ? "The gateway refused this key: check the Gateway key field above."
    : "This gateway needs a key: enter a gateway key above.";
}

export async function apiError(resp) {
  if (resp.status === 401) {
    markKey("refused");
    return keyMessage();
  }
  let message = `HTTP ${resp.status}`;
  try {
    const body = await resp.json();
    if (body && body.error && body.error.message) message = body.error.message;
  } catch (_) {
    /* not JSON: keep the status */
  }
  return message;
}

export async function getJSON(path) {
  const resp = await fetch(api(path), { headers: headers(), cache: "no-store" });
  if (!resp.ok) throw new Error(await apiError(resp));
  if (path.startsWith("v1/providers")) markKey("accepted");
  return resp.json();
}
