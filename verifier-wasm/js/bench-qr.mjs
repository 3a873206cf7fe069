// A figure, not a test: jsQR against zxing-wasm (the scanner's decoder) on link-form QR codes
// as dense as a presentation's (1,150 and 2,250 base64url characters: versions ~25-36), drawn at
// 2.2-4 pixels per module, blurred 0-2 times, with noise and a brightness gradient; 3 codes per
// combination, the same for both decoders. Usage: node bench-qr.mjs (after npm ci).
import QRCode from 'qrcode';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { readBarcodes, prepareZXingModule } from 'zxing-wasm/reader';
import { readFileSync } from 'node:fs';

prepareZXingModule({ overrides: { wasmBinary: readFileSync(new URL('./node_modules/zxing-wasm/dist/reader/zxing_reader.wasm', import.meta.url)) } });

let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const b64 = (n) => Array.from({ length: n }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[Math.floor(rnd() * 64)]).join('');

function render(text, ec, px, blur, noise) {
  const q = QRCode.create(text, { errorCorrectionLevel: ec });
  const n = q.modules.size, quiet = 4, side = Math.round((n + 2 * quiet) * px);
  let g = new Float32Array(side * side);
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) {
    const mx = Math.floor(x / px) - quiet, my = Math.floor(y / px) - quiet;
    const dark = mx >= 0 && my >= 0 && mx < n && my < n && q.modules.get(my, mx);
    g[y * side + x] = dark ? 20 : 235;
  }
  for (let pass = 0; pass < blur; pass++) { // box blur 3x3
    const o = new Float32Array(g.length);
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) {
      let s = 0, c = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const yy = y + dy, xx = x + dx;
        if (yy >= 0 && xx >= 0 && yy < side && xx < side) { s += g[yy * side + xx]; c++; }
      }
      o[y * side + x] = s / c;
    }
    g = o;
  }
  const rgba = new Uint8ClampedArray(side * side * 4);
  for (let i = 0; i < g.length; i++) {
    const v = Math.max(0, Math.min(255, g[i] + (rnd() * 2 - 1) * noise + (i % side) / side * 40 - 20));
    rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = v; rgba[4 * i + 3] = 255;
  }
  return { rgba, side, version: q.version };
}

const cases = [];
for (const chars of [1150, 2250]) for (const px of [2.2, 3, 4]) for (const blur of [0, 1, 2]) for (const noise of [10, 40]) cases.push({ chars, px, blur, noise });
const results = {};
for (const c of cases) {
  const key = `${c.chars} chars`;
  results[key] ??= { total: 0, jsqr: 0, zxing: 0, jsqrMs: 0, zxingMs: 0 };
  for (let i = 0; i < 3; i++) {
    const text = `https://verify.example.gov.cn/scanner/#p=${b64(c.chars)}`;
    const ec = text.length <= 2331 ? 'M' : 'L';
    const { rgba, side } = render(text, ec, c.px, c.blur, c.noise);
    const r = results[key]; r.total++;
    let t = performance.now();
    const j = jsQR(rgba, side, side, { inversionAttempts: 'attemptBoth' });
    r.jsqrMs += performance.now() - t;
    if (j && j.data === text) r.jsqr++;
    const png = new PNG({ width: side, height: side });
    png.data = Buffer.from(rgba.buffer);
    const bytes = PNG.sync.write(png);
    t = performance.now();
    const z = await readBarcodes(new Uint8Array(bytes), { formats: ['QRCode'], tryHarder: true });
    r.zxingMs += performance.now() - t;
    if (z.some((b) => b.text === text)) r.zxing++;
  }
}
for (const [k, r] of Object.entries(results)) {
  console.log(`${k}: ${r.total} images; jsQR read ${r.jsqr} (${(r.jsqrMs / r.total).toFixed(0)} ms each), zxing-wasm read ${r.zxing} (${(r.zxingMs / r.total).toFixed(0)} ms each, PNG decode included)`);
}
