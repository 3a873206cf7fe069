// Decodes QR codes off the main thread, so that continuous camera scanning never blocks the page.
// Input: {id, bitmap} (an ImageBitmap, transferred). Output: {id, bytes} (a Uint8Array of the
// code's bytes, or null when the image holds no readable code) or {id, error}; and once, after
// loading the decoder, {ready: true}, so that the page has every file it needs before it says
// it is ready (and makes no request later, while verifying).
/* global jsQR */
importScripts("jsQR.js");
self.postMessage({ ready: true });

/** Frames larger than this on their longest side are scaled down first (jsQR's cost is linear
 * in pixels; a QR code that fills a quarter of a 1600-pixel frame still has ~4 px per module). */
const SIDE_PX_MAX = 1600;

let canvas = null;
let ctx = null;

self.onmessage = (event) => {
  const { id, bitmap } = event.data;
  try {
    const scale = Math.min(1, SIDE_PX_MAX / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    if (!canvas || canvas.width !== width || canvas.height !== height) {
      canvas = new OffscreenCanvas(width, height);
      ctx = canvas.getContext("2d", { willReadFrequently: true });
    }
    ctx.drawImage(bitmap, 0, 0, width, height);
    bitmap.close();
    const image = ctx.getImageData(0, 0, width, height);
    const code = jsQR(image.data, width, height, { inversionAttempts: "attemptBoth" });
    self.postMessage({ id, bytes: code ? Uint8Array.from(code.binaryData) : null });
  } catch (err) {
    self.postMessage({ id, error: String(err && err.message ? err.message : err) });
  }
};
