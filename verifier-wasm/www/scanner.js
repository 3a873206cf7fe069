// The front-desk scanner: reads a presentation (camera, QR image, file, pasted text, or the
// fragment of the link it was opened with), verifies it with the WASM build of Lichen's own
// verifier against the trust this desk keeps, and shows the verdict.
//
// It makes no network request of its own except loading its files (from the service worker's
// cache once installed), loading a bundled trust file on the very first visit, and fetching from
// a node when the operator presses a "Fetch" button.
import init, {
  verifyAtDesk,
  trustAnchorInfo,
  trustFromGenesis,
  trustPackageInfo,
  applyTrustPackageDelta,
  decodePresentation,
} from "./lichen_verifier_wasm.js";
import * as store from "./trust-store.js";
import { bytesFromCode, bytesFromFragment, bytesFromText } from "./qr-text.js";

/** How old a certified status may be before the verdict is STALE PROOF (as `lichen verify`). */
const PROOF_AGE_MAX_MS = 24 * 60 * 60 * 1000;
/** Largest file the page reads (a presentation is a few KB; a QR image at most a few MB). */
const FILE_BYTES_MAX = 32 * 1024 * 1024;
/** The same code seen again by the camera within this time is not verified again. */
const SAME_CODE_QUIET_MS = 3000;
/** Camera frames sent to the decoder at most this often (one in flight at a time). */
const FRAME_INTERVAL_MS = 120;
/** How long the page waits for its service worker to cache its files on a first visit. */
const SERVICE_WORKER_WAIT_MS = 15_000;
/** How long one decode may take before the worker is presumed stuck and replaced. */
const DECODE_TIMEOUT_MS = 10_000;

const VERDICTS = {
  "VALID": ["有效", "good"],
  "ANCHORED": ["已存证", "good"],
  "REVOKED": ["已吊销", "bad"],
  "SUSPENDED": ["已暂停", "bad"],
  "SUPERSEDED": ["已被替换", "bad"],
  "EXPIRED": ["已过期", "bad"],
  "NOT YET VALID": ["尚未生效", "bad"],
  "TAMPERED": ["已被篡改", "bad"],
  "UNKNOWN ISSUER": ["签发方不可信", "bad"],
  "WRONG KIND": ["证明类型不符", "bad"],
  "HOLDER MISMATCH": ["持有人不符", "bad"],
  "STALE PROOF": ["证明已过时", "warn"],
};
const OUTCOMES = { pass: ["通过", "pass"], fail: ["未通过", "FAIL"], skipped: ["跳过", "skipped"] };
const STATUSES = {
  active: "有效", suspended: "已暂停", revoked: "已吊销", superseded: "已被替换",
};

const $ = (id) => document.getElementById(id);
const state = {
  anchor: null, // {bytes, names, source, savedAt, info}
  package: null, // {bytes, source, savedAt, info}
  document: null,
  last: null,
};

// ------------------------------------------------------------------------------- text helpers

/** A bilingual line: the Chinese, then the English in a `lang="en"` span. */
function bilingual(zh, en) {
  const frag = document.createDocumentFragment();
  const a = document.createElement("span");
  a.className = "zh";
  a.textContent = zh;
  const b = document.createElement("span");
  b.className = "en";
  b.lang = "en";
  b.textContent = en;
  frag.append(a, " ", b);
  return frag;
}

function setText(el, zh, en) {
  el.replaceChildren(bilingual(zh, en));
}

function showError(zh, en) {
  setText($("error"), zh, en);
}

function clearError() {
  $("error").replaceChildren();
}

/** A time in this device's zone, with the zone shown: `2026-12-03 15:04:05 UTC+08:00 (Asia/Shanghai)`. */
function localTime(ms) {
  if (ms === null || ms === undefined) return "—";
  const d = new Date(ms);
  const two = (n) => String(n).padStart(2, "0");
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const zone = `UTC${sign}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`;
  const name = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${zone}` +
    (name ? ` (${name})` : "");
}

/** An id with its display name from the genesis file, if the anchor came with names. */
function named(kind, id) {
  const name = state.anchor?.names?.[kind]?.[id];
  return name ? `${name} (${id})` : id;
}

/** The fingerprint in groups of four, as people compare it by eye. */
function grouped(hex) {
  return hex.match(/.{1,4}/g).join(" ");
}

// ------------------------------------------------------------------------------- trust

async function readFile(file) {
  if (file.size > FILE_BYTES_MAX) {
    throw new Error(`the file is ${file.size} bytes, over the ${FILE_BYTES_MAX}-byte limit`);
  }
  return new Uint8Array(await file.arrayBuffer());
}

/** The anchor (and names) in a genesis file's JSON text or an encoded anchor's bytes. */
function anchorFrom(bytes) {
  const first = bytes.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  if (first === 0x7b /* { */) {
    const genesis = trustFromGenesis(new TextDecoder().decode(bytes));
    return { bytes: genesis.trust_anchor, names: genesis.names };
  }
  return { bytes, names: null };
}

function showAnchor() {
  const a = state.anchor;
  const enabled = a !== null;
  $("controls").disabled = !enabled;
  const fp = $("anchor-fingerprint");
  if (!a) {
    setText($("anchor-status"), "未加载：请先加载信任锚，才能核验。",
      "Not loaded: load a trust anchor before checking anything.");
    delete $("anchor-status").dataset.chain;
    fp.hidden = true;
    return;
  }
  const { info } = a;
  const names = a.names ? "，含机关与证照类型名称" : "";
  setText(
    $("anchor-status"),
    `已加载（来自 ${a.source}，保存于 ${localTime(a.savedAt)}）：链 ${info.chain_id}（${info.suite}），${info.validators.length} 个验证者${names}。`,
    `Loaded from ${a.source} (kept since ${localTime(a.savedAt)}): chain ${info.chain_id} (${info.suite} suite), ${info.validators.length} validators${a.names ? ", with agency and licence type names" : ""}.`,
  );
  $("anchor-status").dataset.chain = info.chain_id;
  fp.replaceChildren(
    bilingual("指纹（请与链的理事会公布的指纹核对）：", "Fingerprint (compare it with the one the chain's council published):"),
    document.createElement("br"),
  );
  const code = document.createElement("code");
  code.textContent = grouped(info.fingerprint);
  fp.append(code);
  fp.dataset.fingerprint = info.fingerprint;
  fp.hidden = false;
}

function showPackage() {
  const p = state.package;
  const el = $("package-status");
  if (!p) {
    el.replaceChildren();
    delete el.dataset.checkpoint;
    return;
  }
  const { info } = p;
  const r = info.revocations;
  setText(
    el,
    `已加载（来自 ${p.source}）：信任截至 ${localTime(info.checkpoint.time_ms)}（检查点区块 ${info.checkpoint.height}），${info.validators.length} 个验证者，${r.total} 个非有效证照（吊销 ${r.revoked}，暂停 ${r.suspended}，替换 ${r.superseded}）`,
    `Loaded from ${p.source}: trust as of ${localTime(info.checkpoint.time_ms)} (checkpoint block ${info.checkpoint.height}), ${info.validators.length} validators, ${r.total} licences not active (${r.revoked} revoked, ${r.suspended} suspended, ${r.superseded} superseded)`,
  );
  el.dataset.checkpoint = String(info.checkpoint.height);
}

/** Takes an anchor (from a genesis file or anchor bytes) as this desk's trust, and keeps it. */
async function setAnchor(bytes, source) {
  const { bytes: anchor, names } = anchorFrom(bytes);
  const info = trustAnchorInfo(anchor);
  const savedAt = Date.now();
  state.anchor = { bytes: anchor, names, source, savedAt, info };
  // A package belongs to its anchor: a new anchor drops it.
  state.package = null;
  await store.forget();
  await store.save("anchor", { bytes: anchor, names, source, savedAt });
  showAnchor();
  showPackage();
}

/** Checks a trust package against the anchor and keeps it (throws if it does not verify). */
async function setPackage(bytes, source) {
  if (!state.anchor) throw new Error("load the trust anchor before a trust package");
  const info = trustPackageInfo(state.anchor.bytes, bytes);
  const savedAt = Date.now();
  state.package = { bytes, source, savedAt, info };
  await store.save("package", { bytes, source, savedAt });
  showPackage();
}

/** The trust kept from an earlier visit; on the first visit, a trust file bundled beside the page. */
async function restoreTrust() {
  const anchor = await store.load("anchor");
  if (anchor) {
    try {
      state.anchor = { ...anchor, info: trustAnchorInfo(anchor.bytes) };
    } catch {
      await store.forget();
    }
  }
  if (!state.anchor) {
    for (const name of ["genesis.json", "trust-anchor.bin"]) {
      try {
        const response = await fetch(name, { cache: "no-store" });
        if (!response.ok) continue;
        await setAnchor(new Uint8Array(await response.arrayBuffer()), `${name} (${location.host || "this page"})`);
        break;
      } catch {
        // Not bundled, or unusable: the operator chooses one.
      }
    }
  }
  if (state.anchor) {
    const pkg = await store.load("package");
    if (pkg) {
      try {
        state.package = { ...pkg, info: trustPackageInfo(state.anchor.bytes, pkg.bytes) };
      } catch {
        state.package = null;
      }
    } else {
      try {
        const response = await fetch("trust-package.bin", { cache: "no-store" });
        if (response.ok) await setPackage(new Uint8Array(await response.arrayBuffer()), "trust-package.bin");
      } catch (err) {
        showError("附带的信任包无法使用。", `The bundled trust package cannot be used: ${err.message}`);
      }
    }
  }
  showAnchor();
  showPackage();
}

// ------------------------------------------------------------------------------- QR decoding

/** The QR decoder in a worker: one decode at a time, each answered by id. */
const decoder = {
  worker: null,
  next: 1,
  pending: new Map(),
  /** Starts the worker; resolves once it has loaded its decoder. */
  start() {
    this.worker = new Worker("qr-worker.js");
    const ready = new Promise((resolve, reject) => {
      this.worker.onerror = (event) => reject(new Error(event.message || "the QR decoder did not start"));
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    this.worker.onmessage = (event) => {
      if ("ready" in event.data) {
        if (event.data.ready) this.readyResolve();
        else this.readyReject(new Error(`the QR decoder did not start: ${event.data.error}`));
        return;
      }
      const { id, bytes, error } = event.data;
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      clearTimeout(p.timer);
      if (error) p.reject(new Error(error));
      else p.resolve(bytes);
    };
  },
  /** The bytes of the QR code in `bitmap` (transferred to the worker), or null if none. */
  decode(bitmap) {
    if (!this.worker) this.start();
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.worker.terminate();
        this.worker = null;
        reject(new Error("the QR decoder did not answer"));
      }, DECODE_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.worker.postMessage({ id, bitmap }, [bitmap]);
    });
  },
};

async function qrFromImageFile(file) {
  if (file.size > FILE_BYTES_MAX) throw new Error(`the image is over ${FILE_BYTES_MAX} bytes`);
  return decoder.decode(await createImageBitmap(file));
}

const camera = { stream: null, lastCode: null, lastAt: 0, timer: null, busy: false };

function stopCamera() {
  clearTimeout(camera.timer);
  camera.timer = null;
  for (const t of camera.stream?.getTracks() ?? []) t.stop();
  camera.stream = null;
  $("camera").hidden = true;
  $("camera-button").setAttribute("aria-pressed", "false");
  $("camera-status").replaceChildren();
}

function sameBytes(a, b) {
  return a && b && a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Scans continuously until stopped: each new code is verified; the same code again within
 * SAME_CODE_QUIET_MS is not (a code held in front of the camera is checked once). */
async function startCamera() {
  if (camera.stream) {
    stopCamera();
    return;
  }
  if (!navigator.mediaDevices?.getUserMedia) {
    showError("此浏览器无法使用摄像头。", "This browser offers no camera.");
    return;
  }
  const video = $("camera");
  camera.stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } },
  });
  video.srcObject = camera.stream;
  video.hidden = false;
  await video.play();
  $("camera-button").setAttribute("aria-pressed", "true");
  setText($("camera-status"), "正在扫码……再次点击按钮停止。", "Scanning… press the button again to stop.");
  const tick = async () => {
    if (!camera.stream) return;
    if (!camera.busy && video.readyState >= video.HAVE_CURRENT_DATA && video.videoWidth > 0) {
      camera.busy = true;
      try {
        const found = await decoder.decode(await createImageBitmap(video));
        if (found) {
          const now = Date.now();
          if (!sameBytes(found, camera.lastCode) || now - camera.lastAt > SAME_CODE_QUIET_MS) {
            check(bytesFromCode(found));
          }
          camera.lastCode = found;
          camera.lastAt = now;
        }
      } catch (err) {
        showError("扫码出错。", String(err.message ?? err));
      } finally {
        camera.busy = false;
      }
    }
    if (camera.stream) camera.timer = setTimeout(tick, FRAME_INTERVAL_MS);
  };
  tick();
}

// ------------------------------------------------------------------------------- verifying

function renderDetails(report, decoded) {
  const dl = $("details");
  dl.replaceChildren();
  const add = (zh, en, value) => {
    if (value === null || value === undefined || value === "") return;
    const dt = document.createElement("dt");
    dt.append(bilingual(zh, en));
    const dd = document.createElement("dd");
    dd.textContent = String(value);
    dl.append(dt, dd);
  };
  if (!report.certified && (report.licence || report.evidence)) {
    const warn = document.createElement("p");
    warn.className = "error";
    warn.append(bilingual("以下内容未经链上证明，不可信", "What follows is NOT certified by the chain: do not rely on it"));
    dl.append(warn);
  }
  const l = report.licence;
  if (l) {
    add("证照编号", "Licence", l.id);
    add("类型", "Type", named("licence_types", l.licence_type));
    add("签发机关", "Issuer", named("agencies", l.issuer));
    add("状态", "Status", `${STATUSES[l.status] ?? ""} ${l.status}` + (l.status_reason ? ` (${l.status_reason})` : ""));
    add("生效", "Valid from", localTime(l.valid_from_ms));
    add("失效", "Valid until", l.valid_until_ms === null ? "无 none" : localTime(l.valid_until_ms));
    add("文件哈希", "Document hash", l.document_hash);
    add("持有人", "Holder", report.holder_checked ? "已核对 checked" : "未核对 not checked");
  }
  const e = report.evidence;
  if (e) {
    add("存证哈希", "Anchored hash", e.hash);
    add("提交方", "Submitter", named("submitters", e.submitter));
    add("说明", "Label", e.label);
    add("存证时间", "Anchored at", localTime(e.time_ms));
  }
  if (decoded) {
    if (decoded.kind === "compact") {
      add("检查点", "Checkpoint", `${decoded.block.checkpoint_height}`);
    } else {
      add("区块", "Block", `${decoded.block.height} (${decoded.block.chain_id})`);
    }
    add("大小", "Size", `${decoded.sizes.total} bytes`);
  }
}

function renderReport(report, elapsedMs) {
  const [zh, tone] = VERDICTS[report.verdict] ?? [report.verdict, "bad"];
  const v = $("verdict");
  v.className = `verdict ${tone}`;
  v.dataset.verdict = report.verdict;
  setText(v, zh, report.verdict);
  v.focus();
  if (report.status_as_of_ms !== null) {
    setText(
      $("as-of"),
      `状态截至 ${localTime(report.status_as_of_ms)}（区块 ${report.height}）`,
      `Status as of ${localTime(report.status_as_of_ms)} (block ${report.height})`,
    );
  } else {
    $("as-of").replaceChildren();
  }
  const p = report.trust_package;
  if (p) {
    setText(
      $("trust-as-of"),
      `信任截至 ${localTime(p.checkpoint_time_ms)}（信任包检查点区块 ${p.checkpoint_height}）`,
      `Trust as of ${localTime(p.checkpoint_time_ms)} (trust package checkpoint, block ${p.checkpoint_height})`,
    );
  } else {
    $("trust-as-of").replaceChildren();
  }
  const tbody = $("checks").querySelector("tbody");
  tbody.replaceChildren();
  for (const c of report.checks) {
    const tr = document.createElement("tr");
    tr.className = c.outcome;
    tr.dataset.check = c.id;
    const [oz, oe] = OUTCOMES[c.outcome] ?? [c.outcome, c.outcome];
    for (const [zhText, enText] of [[c.title_zh, c.title_en], [oz, oe], [c.summary_zh, c.detail]]) {
      const td = document.createElement("td");
      td.append(bilingual(zhText, enText));
      tr.append(td);
    }
    tbody.append(tr);
  }
  $("checks").hidden = false;
  $("timing").textContent = `verified in ${elapsedMs.toFixed(1)} ms`;
  document.body.dataset.verifyMs = elapsedMs.toFixed(3);
}

/** Verifies `bytes` locally and shows the outcome. */
function check(bytes) {
  clearError();
  if (!state.anchor) {
    showError("请先加载信任锚。", "Load a trust anchor first.");
    return;
  }
  state.last = bytes;
  const started = performance.now();
  let report;
  try {
    // The desk: which kind of proof it accepts, and (when typed in) who presents it.
    const options = { expect: $("desk-mode").value };
    const holderId = $("holder-id").value.trim();
    const holderSalt = $("holder-salt").value.trim();
    if (holderId || holderSalt) Object.assign(options, { holderId, holderSalt });
    if (state.document) options.document = state.document;
    report = verifyAtDesk(state.anchor.bytes, state.package?.bytes ?? null, bytes, Date.now(),
      PROOF_AGE_MAX_MS, options);
  } catch (err) {
    showError("无法核验。", `Cannot verify: ${err.message}`);
    return;
  }
  const elapsed = performance.now() - started;
  let decoded = null;
  try {
    decoded = decodePresentation(bytes);
  } catch {
    // Undecodable bytes are already a TAMPERED verdict; there is nothing more to show.
  }
  renderReport(report, elapsed);
  renderDetails(report, decoded);
}

/** The presentation in the page's own link (`#p=...`), if it was opened from a QR code. */
function checkFragment() {
  if (!location.hash) return;
  try {
    const bytes = bytesFromFragment(location.hash);
    if (bytes) check(bytes);
  } catch (err) {
    showError("链接中的证照无法读取。", `The link's presentation cannot be read: ${err.message}`);
  }
}

function guard(fn) {
  return async (...args) => {
    try {
      await fn(...args);
    } catch (err) {
      showError("出错了。", String(err.message ?? err));
    }
  };
}

function nodeBase() {
  return $("node-url").value.trim().replace(/\/+$/, "");
}

async function registerServiceWorker() {
  const status = $("offline-status");
  if (!("serviceWorker" in navigator)) {
    setText(status, "此浏览器不支持离线使用。", "This browser cannot keep the page for offline use.");
    return;
  }
  try {
    await navigator.serviceWorker.register("sw.js");
    // On the first visit this waits for the files to be cached; bounded, so that a browser that
    // never activates the worker still gets a working page.
    const ready = await Promise.race([
      navigator.serviceWorker.ready.then(() => true),
      new Promise((resolve) => setTimeout(() => resolve(false), SERVICE_WORKER_WAIT_MS)),
    ]);
    if (!ready) throw new Error("the service worker did not start in time");
    setText(status, "已可离线使用。", "Ready to work offline.");
    status.dataset.offline = "ready";
  } catch (err) {
    setText(status, "无法离线使用。", `Not available offline: ${err.message}`);
  }
}

async function main() {
  await init();
  await restoreTrust();
  $("anchor-file").addEventListener("change", guard(async (ev) => {
    const file = ev.target.files[0];
    if (file) await setAnchor(await readFile(file), file.name);
  }));
  $("package-file").addEventListener("change", guard(async (ev) => {
    const file = ev.target.files[0];
    if (file) await setPackage(await readFile(file), file.name);
    if (state.last) check(state.last);
  }));
  $("forget-button").addEventListener("click", guard(async () => {
    await store.forget();
    state.anchor = null;
    state.package = null;
    showAnchor();
    showPackage();
  }));
  $("image-file").addEventListener("change", guard(async (ev) => {
    const file = ev.target.files[0];
    if (!file) return;
    const bytes = await qrFromImageFile(file);
    if (!bytes) {
      showError("图片中没有可识别的二维码。", "No QR code found in the image.");
      return;
    }
    check(bytesFromCode(bytes));
  }));
  $("presentation-file").addEventListener("change", guard(async (ev) => {
    const file = ev.target.files[0];
    if (file) check(await readFile(file));
  }));
  $("paste-button").addEventListener("click", guard(async () => check(bytesFromText($("pasted").value))));
  $("document-file").addEventListener("change", guard(async (ev) => {
    const file = ev.target.files[0];
    state.document = file ? await readFile(file) : null;
    $("document-status").textContent = file
      ? `将核对文件 ${file.name}（${file.size} 字节，仅在本地计算哈希） · will check ${file.name} (hashed here)`
      : "";
    if (state.last) check(state.last);
  }));
  $("camera-button").addEventListener("click", guard(startCamera));
  for (const id of ["desk-mode", "holder-id", "holder-salt"]) {
    $(id).addEventListener("change", () => {
      // The holder is checked with both fields: wait for the second before checking again.
      const filled = [$("holder-id"), $("holder-salt")].filter((e) => e.value.trim()).length;
      if (state.last && filled !== 1) check(state.last);
    });
  }
  $("fetch-button").addEventListener("click", guard(async () => {
    const base = nodeBase();
    const id = $("licence-id").value.trim();
    if (!base || !id) {
      showError("请填写节点地址和证照编号。", "Enter the node URL and the licence id.");
      return;
    }
    const response = await fetch(`${base}/v1/licences/${encodeURIComponent(id)}/presentation`);
    if (!response.ok) {
      showError("节点未返回证照。", `The node answered ${response.status}.`);
      return;
    }
    check(new Uint8Array(await response.arrayBuffer()));
  }));
  $("fetch-package-button").addEventListener("click", guard(async () => {
    const base = nodeBase();
    if (!base) {
      showError("请填写节点地址。", "Enter the node URL.");
      return;
    }
    // With a package loaded, ask only for what changed since its checkpoint; the result is
    // checked against the anchor like a full package.
    if (state.package) {
      const since = state.package.info.checkpoint.height;
      const response = await fetch(`${base}/v1/trust-package?since=${since}`);
      if (response.ok) {
        const delta = new Uint8Array(await response.arrayBuffer());
        await setPackage(applyTrustPackageDelta(state.anchor.bytes, state.package.bytes, delta), base);
        if (state.last) check(state.last);
        return;
      }
    }
    const response = await fetch(`${base}/v1/trust-package`);
    if (!response.ok) {
      showError("节点未返回信任包。", `The node answered ${response.status}.`);
      return;
    }
    // Checked here against the anchor: the node is not trusted for it.
    await setPackage(new Uint8Array(await response.arrayBuffer()), base);
    if (state.last) check(state.last);
  }));
  window.addEventListener("hashchange", checkFragment);
  checkFragment();
  // The decoder loads now, not at the first scan, and the service worker keeps every file: after
  // this the page needs nothing it lacks, online or not.
  await decoder.start();
  await registerServiceWorker();
  document.body.dataset.ready = "true";
}

main().catch((err) => showError("核验器无法启动。", `The verifier did not start: ${err.message}`));
