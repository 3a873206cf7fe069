// What a QR code or a pasted text may hold, turned into the bytes to verify:
// - a link to a scanner page, `<scanner url>#p=<base64url>` (PROTOCOL.md, "QR codes"): the
//   bytes are in the fragment, which a browser never sends to the server;
// - the raw bytes of a presentation, compact presentation or receipt (tags 0x50, 0x43, 0x52);
// - pasted hex or Base64 (either alphabet).

/** The fragment key that carries the bytes. */
export const FRAGMENT_KEY = "p";
/** The most characters of base64url read from a link (a QR code holds at most 2,953 bytes). */
const LINK_CHARS_MAX = 8192;

/** base64 or base64url, with or without padding, to bytes; throws on anything else. */
export function base64ToBytes(text) {
  const t = text.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  if (!/^[A-Za-z0-9+/]*$/.test(t) || t.length % 4 === 1) {
    throw new Error("the text is not Base64");
  }
  const bin = atob(t + "=".repeat((4 - (t.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** The bytes in a URL fragment such as `#p=...`, or null if it carries none. */
export function bytesFromFragment(fragment) {
  const params = new URLSearchParams(fragment.replace(/^#/, ""));
  const value = params.get(FRAGMENT_KEY);
  if (value === null) return null;
  if (value.length > LINK_CHARS_MAX) throw new Error("the link is too long to be a presentation");
  return base64ToBytes(value);
}

/** If `text` is a scanner link, the bytes in its fragment; otherwise null. */
export function bytesFromLink(text) {
  const t = text.trim();
  if (!/^https?:\/\//i.test(t)) return null;
  const hash = t.indexOf("#");
  if (hash < 0) throw new Error("the link carries no presentation (no #p= fragment)");
  const bytes = bytesFromFragment(t.slice(hash));
  if (!bytes) throw new Error("the link carries no presentation (no #p= fragment)");
  return bytes;
}

/** What a QR code's bytes hold: a scanner link's bytes, or the bytes themselves. */
export function bytesFromCode(bytes) {
  // A link is printable ASCII starting with http(s)://; a presentation starts with a tag byte.
  if (bytes.length > 7 && bytes[0] === 0x68) {
    const text = new TextDecoder("latin1").decode(bytes);
    const fromLink = bytesFromLink(text);
    if (fromLink) return fromLink;
  }
  return bytes;
}

/** Pasted text: a link, hex (spaces allowed) or Base64. */
export function bytesFromText(text) {
  const t = text.trim();
  const fromLink = bytesFromLink(t);
  if (fromLink) return fromLink;
  if (/^[0-9a-fA-F\s]+$/.test(t)) {
    const hex = t.replace(/\s+/g, "");
    if (hex.length % 2 !== 0) throw new Error("hex text has an odd number of digits");
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return out;
  }
  return base64ToBytes(t);
}
