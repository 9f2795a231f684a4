// Server-Sent Events read from a fetch() body, since EventSource cannot send the key header:
// the HTML standard's event stream format (https://html.spec.whatwg.org/multipage/server-sent-events.html):
// `event:` and `data:` lines (several data lines joined by "\n"), a blank line dispatches the
// event, a line starting with ":" is a comment (the gateway's keep-alive), a line ends with CRLF,
// LF or CR. `id:` and `retry:` are read as fields and not used: the page reconnects itself.

/** Yields `{name, data}` per event (`name` "message" when none was given; `data` parsed as
 * JSON when it is JSON, else the text). An event cut off by the end of the stream is dropped. */
export async function* sse(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let name = "message";
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.search(/\r\n|\n|\r/)) >= 0) {
      // A CR that ends the buffer may be the first half of a CRLF: wait for the next chunk.
      if (buffer[end] === "\r" && end === buffer.length - 1) break;
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + (buffer.startsWith("\r\n", end) ? 2 : 1));
      if (line === "") {
        if (data.length) yield { name, data: parsed(data.join("\n")) };
        name = "message";
        data = [];
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let text = colon < 0 ? "" : line.slice(colon + 1);
        if (text.startsWith(" ")) text = text.slice(1);
        if (field === "event") name = text;
        else if (field === "data") data.push(text);
      }
    }
  }
}

function parsed(text) {
  try {
    return JSON.parse(text);
  } catch (_) {
    return text;
  }
}
