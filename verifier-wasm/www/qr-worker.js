// Decodes QR codes off the main thread, so that continuous camera scanning never blocks the page.
// The decoder is zxing-wasm (ZXing-C++ built for WebAssembly): on dense codes with blur, noise and
// few pixels per module it reads about 1.6 times as many as jsQR, five times faster
// (`node verifier-wasm/js/bench-qr.mjs`, BENCHMARKS.md).
// Input: {id, bitmap} (an ImageBitmap, transferred). Output: {id, bytes} (a Uint8Array of the
// code's bytes, or null when the image holds no readable code) or {id, error}; and once, after
// loading the decoder and its WebAssembly, {ready: true}, so that the page has every file it
// needs before it says it is ready (and makes no request later, while verifying).
/* global ZXingWASM */
importScripts("zxing-reader.js");

/** Frames larger than this on their longest side are scaled down first. */
const SIDE_PX_MAX = 1600;
const READ_OPTIONS = { formats: ["QRCode"], tryHarder: true, maxNumberOfSymbols: 1 };

let canvas = null;
let ctx = null;

ZXingWASM.prepareZXingModule({
  overrides: {
    locateFile: (path, prefix) =>
      path.endsWith(".wasm") ? new URL("zxing_reader.wasm", self.location.href).href : prefix + path,
  },
  fireImmediately: true,
}).then(
  () => self.postMessage({ ready: true }),
  (err) => self.postMessage({ ready: false, error: String(err && err.message ? err.message : err) }),
);

self.onmessage = async (event) => {
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
    const found = await ZXingWASM.readBarcodes(ctx.getImageData(0, 0, width, height), READ_OPTIONS);
    const code = found.find((r) => r.isValid);
    self.postMessage({ id, bytes: code ? Uint8Array.from(code.bytes) : null });
  } catch (err) {
    self.postMessage({ id, error: String(err && err.message ? err.message : err) });
  }
};
