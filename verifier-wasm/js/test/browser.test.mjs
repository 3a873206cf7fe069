// The scanner page in headless Chromium (playwright-core, Debian's /usr/bin/chromium), fed QR
// codes a real chain made in this test: `lichen dev` (four validators, serving the page at
// /scanner/) issues licences, revokes some and anchors a document; `lichen presentation export
// --qr` and `lichen evidence receipt --qr` write the codes (links to the node's scanner page
// carrying the bytes); a code made with the independent `qrcode` package holds a presentation
// with one byte flipped. On a desktop and a phone viewport the page must show VALID, REVOKED,
// TAMPERED, HOLDER MISMATCH and WRONG KIND, open a scanned link by itself, read a code from a
// (fake) camera through its worker, work offline after a reload, and send no request while
// verifying; a page on another origin may POST JSON to the node's /v1/verify. Screenshots go to
// verifier-wasm/js/artifacts/.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { chromium } from 'playwright-core';
import QRCode from 'qrcode';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';

import { repoRoot } from '../lib/golden.mjs';
import { DEV_PASSWORD, LICHEN, freePort, startDev, stopDev } from '../lib/dev.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const SITE = path.join(repoRoot, 'verifier-wasm/pkg/site');
const ARTIFACTS = path.join(repoRoot, 'verifier-wasm/js/artifacts');
const PASSWORD = DEV_PASSWORD;
const STEP_TIMEOUT_MS = 30_000;
const DESKTOP = { width: 1100, height: 1400 };
const PHONE = { width: 390, height: 844 };
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

for (const [what, file] of [
  ['the lichen binary (cargo build -p lichen-cli, or set LICHEN_BIN)', LICHEN],
  ['Chromium (apt-get install chromium, or set CHROMIUM_BIN)', CHROMIUM],
  ['the scanner site (./scripts/build-wasm.sh)', path.join(SITE, 'index.html')],
]) {
  if (!existsSync(file)) throw new Error(`${file} is missing: ${what}`);
}

function lichen(cwd, args) {
  return execFileSync(LICHEN, args, {
    cwd,
    env: { ...process.env, LICHEN_PASSWORD: PASSWORD },
    encoding: 'utf8',
    timeout: STEP_TIMEOUT_MS,
  });
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
};

/** A static server on 127.0.0.1 for the site, with this chain's trust anchor bundled (if given). */
async function serveSite(anchor) {
  const server = createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
    if (name.includes('..') || name.includes('/')) {
      res.writeHead(404).end();
      return;
    }
    const body = name === 'trust-anchor.bin' ? (anchor ?? null) : (() => {
      const file = path.join(SITE, name);
      return existsSync(file) ? readFileSync(file) : null;
    })();
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(name)] ?? 'application/octet-stream' });
    res.end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}

/** The text of the one QR code in a PNG file, read with jsQR (independent of the CLI's encoder). */
function readQr(file) {
  const png = PNG.sync.read(readFileSync(file));
  const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  if (!code) throw new Error(`no QR code in ${file}`);
  return Buffer.from(code.binaryData);
}

/** A Y4M video (what Chromium's fake camera plays) of the PNG centred on white, 1280x720. */
function pngToY4m(pngFile, y4mFile) {
  const png = PNG.sync.read(readFileSync(pngFile));
  const [w, h] = [1280, 720];
  const scale = Math.min(1, (h - 40) / png.height);
  const luma = Buffer.alloc(w * h, 235);
  const side = Math.floor(png.height * scale);
  const [x0, y0] = [Math.floor((w - side) / 2), Math.floor((h - side) / 2)];
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const sx = Math.floor(x / scale);
      const sy = Math.floor(y / scale);
      const dark = png.data[(sy * png.width + sx) * 4] < 128;
      luma[(y0 + y) * w + x0 + x] = dark ? 16 : 235;
    }
  }
  const chroma = Buffer.alloc((w / 2) * (h / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma]);
  writeFileSync(y4mFile, Buffer.concat([
    Buffer.from(`YUV4MPEG2 W${w} H${h} F10:1 Ip A1:1 C420jpeg\n`), frame, frame,
  ]));
}

let browser;
before(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  mkdirSync(ARTIFACTS, { recursive: true });
});
after(async () => {
  await browser?.close();
});

for (const suite of ['sm', 'intl']) {
  describe(`scanner page, ${suite} suite`, () => {
    const dir = mkdtempSync(path.join(tmpdir(), `lichen-scanner-${suite}-`));
    let dev;
    let site;
    let url;

    before(async () => {
      dev = startDev(dir, suite, await freePort(), { scannerDir: SITE });
      url = await dev.ready;
      const node = ['--node', url];
      writeFileSync(path.join(dir, 'licence.pdf'), `a ${suite} licence file`);
      writeFileSync(path.join(dir, 'other.pdf'), 'a different file');
      const issue = (id) =>
        lichen(dir, ['issue', ...node, '--key', 'chain/keys/market-bureau.key', '--agency',
          'market-bureau', '--type', 'business', '--id', id, '--file', 'licence.pdf',
          '--holder-id', 'holder']);
      issue('SCAN-VALID');
      issue('SCAN-REVOKED');
      // Exported while active, revoked afterwards: only a trust package can tell the page.
      issue('SCAN-LATE');
      lichen(dir, ['presentation', 'export', 'SCAN-LATE', ...node, '-o', 'SCAN-LATE.pres', '--qr', 'SCAN-LATE.png']);
      lichen(dir, ['revoke', ...node, '--key', 'chain/keys/market-bureau.key', '--id',
        'SCAN-LATE', '--reason', 'test']);
      lichen(dir, ['revoke', ...node, '--key', 'chain/keys/market-bureau.key', '--id',
        'SCAN-REVOKED', '--reason', 'test']);
      for (const id of ['SCAN-VALID', 'SCAN-REVOKED']) {
        lichen(dir, ['presentation', 'export', id, ...node, '-o', `${id}.pres`, '--qr', `${id}.png`]);
      }
      // One byte of the record flipped, encoded by an independent QR encoder.
      const tampered = Buffer.from(readFileSync(path.join(dir, 'SCAN-VALID.pres')));
      tampered[12] ^= 0x01;
      await QRCode.toFile(path.join(dir, 'SCAN-TAMPERED.png'), [{ data: tampered, mode: 'byte' }], {
        errorCorrectionLevel: 'M',
        margin: 4,
        scale: 6,
      });
      lichen(dir, ['genesis', 'anchor', 'chain/genesis.json', '-o', 'anchor.bin']);
      lichen(dir, ['trust-package', 'export', ...node, '-o', 'pkg.bin']);
      lichen(dir, ['presentation', 'export', 'SCAN-VALID', ...node, '--compact', '-o',
        'SCAN-COMPACT.cpres', '--qr', 'SCAN-COMPACT.png']);
      // A court anchors an exhibit; its receipt is the wrong kind of proof at a licence desk.
      writeFileSync(path.join(dir, 'exhibit.pdf'), `exhibit of the ${suite} court`);
      lichen(dir, ['evidence', 'anchor', ...node, '--key', 'chain/keys/court-1.key', '--submitter',
        'court-1', '--label', 'exhibit A', 'exhibit.pdf']);
      lichen(dir, ['evidence', 'receipt', ...node, '--file', 'exhibit.pdf', '--qr', 'RECEIPT.png']);
      site = await serveSite(readFileSync(path.join(dir, 'anchor.bin')));
    });

    after(async () => {
      site?.server.close();
      if (dev) await stopDev(dev.child);
      rmSync(dir, { recursive: true, force: true });
    });

    for (const [screen, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) it(`${screen}: VALID, REVOKED, TAMPERED, HOLDER MISMATCH, WRONG KIND from QR images, no request while verifying`, async () => {
      const page = await browser.newPage({ viewport });
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(site.url);
      await page.waitForSelector('body[data-ready="true"]', { timeout: STEP_TIMEOUT_MS });
      const anchorStatus = await page.textContent('#anchor-status');
      assert.match(anchorStatus, /lichen-dev/, anchorStatus);

      // From here on, nothing may leave the page.
      const requests = [];
      page.on('request', (r) => requests.push(r.url()));

      const scan = async (file, document) => {
        if (document !== undefined) {
          // Choosing the file re-checks the last presentation: let that finish first.
          await page.setInputFiles('#document-file', document);
          await page.waitForSelector('#document-status:not(:empty)', { timeout: STEP_TIMEOUT_MS });
        }
        await page.evaluate(() => {
          delete document.getElementById('verdict').dataset.verdict;
          document.getElementById('error').replaceChildren();
        });
        // Emptied first: choosing the same file again fires no change event.
        await page.setInputFiles('#image-file', []);
        await page.setInputFiles('#image-file', path.join(dir, file));
        await page.waitForSelector('#verdict[data-verdict], #error:not(:empty)', { timeout: STEP_TIMEOUT_MS });
        return {
          error: await page.textContent('#error'),
          verdict: await page.getAttribute('#verdict', 'data-verdict'),
          text: await page.textContent('#verdict'),
          asOf: await page.textContent('#as-of'),
          ms: Number(await page.getAttribute('body', 'data-verify-ms')),
          failed: await page.$$eval('#checks tr.fail td:first-child', (tds) => tds.map((t) => t.textContent)),
        };
      };

      const valid = await scan('SCAN-VALID.png');
      assert.equal(valid.verdict, 'VALID', JSON.stringify(valid));
      assert.match(valid.text, /有效/);
      assert.match(valid.asOf, /Status as of .* \(block \d+\)/);
      assert.deepEqual(valid.failed, []);
      await page.screenshot({ path: path.join(ARTIFACTS, `scanner-${suite}-${screen}-valid.png`), fullPage: true });

      const revoked = await scan('SCAN-REVOKED.png');
      assert.equal(revoked.verdict, 'REVOKED', JSON.stringify(revoked));
      assert.match(revoked.text, /已吊销/);
      assert.equal(revoked.failed.length, 1, JSON.stringify(revoked));

      const tampered = await scan('SCAN-TAMPERED.png');
      assert.equal(tampered.verdict, 'TAMPERED', JSON.stringify(tampered));
      await page.screenshot({ path: path.join(ARTIFACTS, `scanner-${suite}-${screen}-tampered.png`), fullPage: true });

      // The licence file, hashed in the page: the right one keeps VALID, another is TAMPERED.
      const withFile = await scan('SCAN-VALID.png', path.join(dir, 'licence.pdf'));
      assert.equal(withFile.verdict, 'VALID', JSON.stringify(withFile));
      const wrongFile = await scan('SCAN-VALID.png', path.join(dir, 'other.pdf'));
      assert.equal(wrongFile.verdict, 'TAMPERED', JSON.stringify(wrongFile));
      assert.ok(wrongFile.failed.some((c) => c.includes('Document hash')), JSON.stringify(wrongFile));

      // The holder with the salt `lichen issue` kept for them: VALID, the holder checked;
      // someone else's id: HOLDER MISMATCH; cleared, VALID again.
      const salt = JSON.parse(readFileSync(path.join(dir, 'SCAN-VALID.holder-salt'), 'utf8')).holder_salt;
      await page.fill('#holder-id', 'holder');
      await page.fill('#holder-salt', salt);
      const holder = await scan('SCAN-VALID.png', path.join(dir, 'licence.pdf'));
      assert.equal(holder.verdict, 'VALID', JSON.stringify(holder));
      assert.equal(await page.getAttribute('#checks tr[data-check="holder"]', 'class'), 'pass');
      await page.fill('#holder-id', 'not-the-holder');
      const mismatch = await scan('SCAN-VALID.png', path.join(dir, 'licence.pdf'));
      assert.equal(mismatch.verdict, 'HOLDER MISMATCH', JSON.stringify(mismatch));
      assert.match(mismatch.text, /持有人不符/);
      await page.screenshot({ path: path.join(ARTIFACTS, `scanner-${suite}-${screen}-holder-mismatch.png`), fullPage: true });
      await page.fill('#holder-id', '');
      await page.fill('#holder-salt', '');

      // A court's receipt at the licence desk: WRONG KIND; at the evidence desk: ANCHORED.
      await page.setInputFiles('#document-file', []);
      const wrongKind = await scan('RECEIPT.png');
      assert.equal(wrongKind.verdict, 'WRONG KIND', JSON.stringify(wrongKind));
      assert.match(wrongKind.text, /证明类型不符/);
      await page.screenshot({ path: path.join(ARTIFACTS, `scanner-${suite}-${screen}-wrong-kind.png`), fullPage: true });
      await page.selectOption('#desk-mode', 'evidence');
      const anchored = await scan('RECEIPT.png');
      assert.equal(anchored.verdict, 'ANCHORED', JSON.stringify(anchored));
      await page.selectOption('#desk-mode', 'licence');

      assert.deepEqual(requests, [], 'the page made requests while verifying');
      assert.deepEqual(errors, []);

      // On request, and only then, the page fetches a fresh presentation from the node (another
      // origin) and verifies it locally.
      await page.evaluate(() => {
        delete document.getElementById('verdict').dataset.verdict;
      });
      await page.click('summary');
      await page.fill('#node-url', url);
      await page.fill('#licence-id', 'SCAN-REVOKED');
      await page.click('#fetch-button');
      await page.waitForSelector('#verdict[data-verdict]', { timeout: STEP_TIMEOUT_MS });
      assert.equal(await page.getAttribute('#verdict', 'data-verdict'), 'REVOKED');
      assert.deepEqual(requests, [`${url}/v1/licences/SCAN-REVOKED/presentation`]);

      // A figure, not a test: the mean time of one verification in this Chromium, over 100.
      if (screen === 'phone') {
        await page.close();
        return;
      }
      const presentation = [...readFileSync(path.join(dir, 'SCAN-VALID.pres'))];
      const anchor = [...readFileSync(path.join(dir, 'anchor.bin'))];
      const meanMs = await page.evaluate(async ([p, a]) => {
        const m = await import('./lichen_verifier_wasm.js');
        const bytes = Uint8Array.from(p);
        const trust = Uint8Array.from(a);
        m.verify(trust, bytes, Date.now(), 86_400_000);
        const runs = 100;
        const t = performance.now();
        for (let i = 0; i < runs; i++) m.verify(trust, bytes, Date.now(), 86_400_000);
        return (performance.now() - t) / runs;
      }, [presentation, anchor]);
      console.log(
        `# ${suite}: presentation ${presentation.length} bytes; one verification in Chromium ${meanMs.toFixed(2)} ms (mean of 100; first on the page ${valid.ms.toFixed(1)} ms)`,
      );
      await page.close();
    });

    it('controls stay disabled until a trust anchor is loaded; a genesis file brings the names', async () => {
      const bare = await serveSite(null);
      const page = await browser.newPage({ viewport: PHONE });
      try {
        await page.goto(bare.url);
        await page.waitForSelector('body[data-ready="true"]', { timeout: STEP_TIMEOUT_MS });
        assert.equal(await page.isDisabled('#camera-button'), true);
        assert.equal(await page.isDisabled('#image-file'), true);
        assert.equal(await page.isDisabled('#paste-button'), true);
        await page.setInputFiles('#anchor-file', path.join(dir, 'chain/genesis.json'));
        await page.waitForSelector('#anchor-status[data-chain]', { timeout: STEP_TIMEOUT_MS });
        assert.equal(await page.isDisabled('#camera-button'), false);
        const fingerprint = await page.getAttribute('#anchor-fingerprint', 'data-fingerprint');
        const fromCli = lichen(dir, ['genesis', 'anchor', 'chain/genesis.json', '-o', 'anchor-again.bin']);
        assert.equal(fingerprint, fromCli.match(/trust anchor ([0-9a-f]{64})/)?.[1], fromCli);
        await page.setInputFiles('#image-file', path.join(dir, 'SCAN-VALID.png'));
        await page.waitForSelector('#verdict[data-verdict]', { timeout: STEP_TIMEOUT_MS });
        assert.equal(await page.getAttribute('#verdict', 'data-verdict'), 'VALID');
        const details = await page.textContent('#details');
        assert.match(details, /Municipal Market Regulation Bureau \(market-bureau\)/);
        assert.match(details, /Business licence \(business\)/);
        // Local time with the zone shown.
        assert.match(await page.textContent('#as-of'), /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC[+-]\d\d:\d\d/);
      } finally {
        await page.close();
        bare.server.close();
      }
    });

    it('phone: a scanned link opens the node\'s page and verifies; after a reload with no network it still does', async () => {
      // What a phone camera app reads from the CLI's QR code: a link to the node's scanner page.
      const link = readQr(path.join(dir, 'SCAN-VALID.png')).toString('latin1');
      assert.ok(link.startsWith(`${url}/scanner/#p=`), link);
      const revokedLink = readQr(path.join(dir, 'SCAN-REVOKED.png')).toString('latin1');
      const context = await browser.newContext({
        viewport: PHONE, isMobile: true, hasTouch: true, timezoneId: 'Asia/Shanghai', locale: 'zh-CN',
      });
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      try {
        await page.goto(link);
        await page.waitForSelector('body[data-ready="true"]', { timeout: STEP_TIMEOUT_MS });
        assert.equal(await page.getAttribute('#verdict', 'data-verdict'), 'VALID');
        assert.match(await page.textContent('#anchor-status'), /genesis\.json/);
        // Times in the desk's own zone, with the zone shown.
        assert.match(await page.textContent('#as-of'), /UTC\+08:00 \(Asia\/Shanghai\)/);
        await page.waitForSelector('#offline-status[data-offline="ready"]', { timeout: STEP_TIMEOUT_MS });
        await page.screenshot({ path: path.join(ARTIFACTS, `scanner-${suite}-phone-link.png`), fullPage: true });
        // Installable: a manifest that opens the page standalone, with PNG icons that load.
        const manifest = await page.evaluate(async () => {
          const m = await (await fetch(document.querySelector('link[rel=manifest]').href)).json();
          const icons = await Promise.all(m.icons.map(async (i) => {
            const r = await fetch(i.src);
            return { ...i, ok: r.ok, type: r.headers.get('content-type') };
          }));
          return { ...m, icons };
        });
        assert.equal(manifest.display, 'standalone');
        assert.equal(manifest.start_url, './');
        assert.ok(manifest.icons.some((i) => i.sizes === '512x512' && i.ok && i.type === 'image/png'),
          JSON.stringify(manifest.icons));

        // Off the network: the page comes from the service worker's cache and the trust from
        // this device's storage.
        await context.setOffline(true);
        await page.reload();
        await page.waitForSelector('body[data-ready="true"]', { timeout: STEP_TIMEOUT_MS });
        assert.equal(await page.getAttribute('#verdict', 'data-verdict'), 'VALID');
        assert.match(await page.textContent('#anchor-status'), /lichen-dev/);

        // Another link opened in the same page: verified with no request at all.
        const requests = [];
        page.on('request', (r) => requests.push(r.url()));
        await page.evaluate(() => {
          delete document.getElementById('verdict').dataset.verdict;
        });
        await page.evaluate((l) => {
          location.hash = new URL(l).hash;
        }, revokedLink);
        await page.waitForSelector('#verdict[data-verdict]', { timeout: STEP_TIMEOUT_MS });
        assert.equal(await page.getAttribute('#verdict', 'data-verdict'), 'REVOKED');
        // (The browser may ask for the page's icon, from the service worker's cache.)
        assert.deepEqual(requests.filter((r) => !r.endsWith('/icon.svg')), [], 'the page made requests while verifying');
        assert.deepEqual(errors, []);
        await page.screenshot({ path: path.join(ARTIFACTS, `scanner-${suite}-phone-offline.png`), fullPage: true });
      } finally {
        await context.close();
      }
    });

    it('phone: the camera reads a link QR code continuously, decoding in a worker', async () => {
      const video = path.join(dir, 'camera.y4m');
      pngToY4m(path.join(dir, 'SCAN-VALID.png'), video);
      const cameraBrowser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [...CHROMIUM_ARGS, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
          `--use-file-for-fake-video-capture=${video}`],
      });
      try {
        const context = await cameraBrowser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
        await context.grantPermissions(['camera'], { origin: url });
        const page = await context.newPage();
        const errors = [];
        page.on('pageerror', (e) => errors.push(String(e)));
        await page.goto(`${url}/scanner/`);
        await page.waitForSelector('body[data-ready="true"]', { timeout: STEP_TIMEOUT_MS });
        const requests = [];
        page.on('request', (r) => requests.push(r.url()));
        await page.click('#camera-button');
        await page.waitForSelector('#verdict[data-verdict]', { timeout: STEP_TIMEOUT_MS });
        assert.equal(await page.getAttribute('#verdict', 'data-verdict'), 'VALID');
        assert.equal(await page.getAttribute('#camera-button', 'aria-pressed'), 'true');
        assert.ok(page.workers().some((w) => w.url().endsWith('/qr-worker.js')), 'no decoder worker');
        await page.screenshot({ path: path.join(ARTIFACTS, `scanner-${suite}-phone-camera.png`) });
        await page.click('#camera-button');
        assert.equal(await page.getAttribute('#camera-button', 'aria-pressed'), 'false');
        assert.deepEqual(requests, []);
        assert.deepEqual(errors, []);
      } finally {
        await cameraBrowser.close();
      }
    });

    it('a court report (lichen verify --report) opens and prints in Chromium', async () => {
      lichen(dir, ['verify', '--presentation', 'SCAN-VALID.pres', '--trust', 'chain/genesis.json',
        '--file', 'licence.pdf', '--report', 'report.html']);
      const page = await browser.newPage({ viewport: DESKTOP });
      await page.goto(`file://${path.join(dir, 'report.html')}`);
      const text = await page.textContent('body');
      assert.match(text, /有效/);
      assert.match(text, /VALID/);
      assert.match(text, /Trust anchor fingerprint/);
      assert.match(text, /independent_verifier\.py --trust chain\/genesis\.json --presentation SCAN-VALID\.pres/);
      assert.equal(await page.$$eval('tr.fail', (rows) => rows.length), 0);
      await page.screenshot({ path: path.join(ARTIFACTS, `report-${suite}.png`), fullPage: true });
      await page.pdf?.({ path: path.join(ARTIFACTS, `report-${suite}.pdf`) }).catch(() => {});
      await page.close();
    });

    it('a page on another origin POSTs JSON to /v1/verify (CORS preflight answered)', async () => {
      const page = await browser.newPage({ viewport: DESKTOP });
      await page.goto(site.url);
      const node = new URL(url).origin;
      assert.notEqual(new URL(site.url).origin, node, 'the page and the node are on different origins');
      const verdicts = {};
      for (const id of ['SCAN-VALID', 'SCAN-REVOKED']) {
        const presentation = readFileSync(path.join(dir, `${id}.pres`)).toString('hex');
        // `Content-Type: application/json` is not a simple request: the browser sends a
        // preflight first, and fetch fails outright unless the node answers it.
        verdicts[id] = await page.evaluate(async ([node, presentation]) => {
          const r = await fetch(`${node}/v1/verify`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ presentation }),
          });
          return { status: r.status, verdict: (await r.json()).verdict };
        }, [node, presentation]);
      }
      assert.deepEqual(verdicts['SCAN-VALID'], { status: 200, verdict: 'VALID' });
      assert.deepEqual(verdicts['SCAN-REVOKED'], { status: 200, verdict: 'REVOKED' });
      await page.close();
    });

    it('with a trust package: a revocation after export shows, a compact QR verifies', async () => {
      const page = await browser.newPage({ viewport: PHONE });
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(site.url);
      await page.waitForSelector('body[data-ready="true"]', { timeout: STEP_TIMEOUT_MS });
      const scan = async (file) => {
        await page.evaluate(() => {
          delete document.getElementById('verdict').dataset.verdict;
        });
        await page.setInputFiles('#image-file', path.join(dir, file));
        await page.waitForSelector('#verdict[data-verdict]', { timeout: STEP_TIMEOUT_MS });
        return page.getAttribute('#verdict', 'data-verdict');
      };
      assert.equal(await scan('SCAN-LATE.png'), 'VALID');
      assert.equal(await scan('SCAN-COMPACT.png'), 'UNKNOWN ISSUER');
      const requests = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.setInputFiles('#package-file', path.join(dir, 'pkg.bin'));
      await page.waitForSelector('#package-status[data-checkpoint]', { timeout: STEP_TIMEOUT_MS });
      assert.equal(await scan('SCAN-LATE.png'), 'REVOKED');
      assert.match(await page.textContent('#trust-as-of'), /Trust as of .* block \d+/);
      assert.equal(await scan('SCAN-COMPACT.png'), 'VALID');
      assert.deepEqual(requests, [], 'the page made requests while verifying');
      assert.deepEqual(errors, []);
      await page.screenshot({ path: path.join(ARTIFACTS, `scanner-${suite}-package.png`), fullPage: true });

      // Figures, not tests: loading the package, and one verification with it, in Chromium.
      const args = ['pkg.bin', 'anchor.bin', 'SCAN-LATE.pres', 'SCAN-COMPACT.cpres']
        .map((f) => [...readFileSync(path.join(dir, f))]);
      const [loadMs, fullMs, compactMs] = await page.evaluate(async ([pkg, a, full, compact]) => {
        const m = await import('./lichen_verifier_wasm.js');
        const [p, t, f, c] = [pkg, a, full, compact].map((x) => Uint8Array.from(x));
        const time = (fn, runs) => {
          fn();
          const t0 = performance.now();
          for (let i = 0; i < runs; i++) fn();
          return (performance.now() - t0) / runs;
        };
        return [
          time(() => m.trustPackageInfo(t, p), 20),
          time(() => m.verifyWithTrustPackage(t, p, f, Date.now(), 86_400_000), 20),
          time(() => m.verifyWithTrustPackage(t, p, c, Date.now(), 86_400_000), 20),
        ];
      }, args);
      console.log(
        `# ${suite}: trust package ${args[0].length} bytes, checked in ${loadMs.toFixed(2)} ms; with it, full presentation ${args[2].length} bytes ${fullMs.toFixed(2)} ms, compact ${args[3].length} bytes ${compactMs.toFixed(2)} ms (means of 20; trustPackageInfo checks the package each time, verification keeps the checked one)`,
      );
      await page.close();
    });
  });
}
