// The front-desk scanner: reads a presentation (camera, QR image, file, pasted text), verifies it
// with the WASM build of Lichen's own verifier against a trust anchor, and shows the verdict.
// It makes no network request of its own except loading its files at start, and fetching from a
// node when the operator presses "Fetch and verify".
import init, {
  verifyAtDesk,
  trustAnchorInfo,
  trustPackageInfo,
  applyTrustPackageDelta,
  decodePresentation,
} from "./lichen_verifier_wasm.js";

/** How old a certified status may be before the verdict is STALE PROOF (as `lichen verify`). */
const PROOF_AGE_MAX_MS = 24 * 60 * 60 * 1000;
/** Largest file the page reads (a presentation is a few KB; a QR image at most a few MB). */
const FILE_BYTES_MAX = 32 * 1024 * 1024;

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
const CHECKS = {
  kind: "证明类型 Kind",
  encoding: "编码 Encoding",
  chain: "链 Chain",
  validator_set: "验证者集合 Validator set",
  quorum: "法定签名 Quorum",
  state_proof: "状态证明 State proof",
  document_hash: "文件哈希 Document hash",
  holder: "持有人 Holder",
  issuer_authorised: "签发机关 Issuer authorised",
  status: "状态 Status",
  validity_window: "有效期 Validity window",
  freshness: "时效 Freshness",
};
const OUTCOMES = { pass: "通过 pass", fail: "未通过 FAIL", skipped: "跳过 skipped" };

const $ = (id) => document.getElementById(id);
const state = { anchor: null, package: null, document: null, last: null };

function setText(el, zh, en) {
  el.replaceChildren();
  const a = document.createElement("span");
  a.className = "zh";
  a.textContent = zh;
  const b = document.createElement("span");
  b.className = "en";
  b.textContent = en;
  el.append(a, " ", b);
}

function showError(zh, en) {
  setText($("error"), zh, en);
}

function clearError() {
  $("error").replaceChildren();
}

async function readFile(file) {
  if (file.size > FILE_BYTES_MAX) {
    throw new Error(`the file is ${file.size} bytes, over the ${FILE_BYTES_MAX}-byte limit`);
  }
  return new Uint8Array(await file.arrayBuffer());
}

function loadAnchor(bytes, source) {
  const info = trustAnchorInfo(bytes);
  state.anchor = bytes;
  setText(
    $("anchor-status"),
    `已加载：链 ${info.chain_id}（${info.suite}），${info.validators.length} 个验证者，指纹 ${info.fingerprint.slice(0, 16)}…`,
    `Loaded from ${source}: chain ${info.chain_id} (${info.suite} suite), ${info.validators.length} validators, fingerprint ${info.fingerprint.slice(0, 16)}…`,
  );
  $("anchor-status").dataset.chain = info.chain_id;
}

/** Checks a trust package against the loaded anchor and keeps it (throws if it does not verify). */
function loadPackage(bytes, source) {
  if (!state.anchor) throw new Error("load the trust anchor before a trust package");
  const info = trustPackageInfo(state.anchor, bytes);
  state.package = bytes;
  const r = info.revocations;
  setText(
    $("package-status"),
    `已加载：检查点区块 ${info.checkpoint.height}（${info.checkpoint.time}），${info.validators.length} 个验证者，${r.total} 个非有效证照（吊销 ${r.revoked}，暂停 ${r.suspended}，替换 ${r.superseded}）`,
    `Loaded from ${source}: checkpoint block ${info.checkpoint.height} (${info.checkpoint.time}), ${info.validators.length} validators, ${r.total} licences not active (${r.revoked} revoked, ${r.suspended} suspended, ${r.superseded} superseded)`,
  );
  $("package-status").dataset.checkpoint = String(info.checkpoint.height);
}

/** Hex (with or without spaces) or Base64 text to bytes. */
function textToBytes(text) {
  const t = text.trim();
  if (/^[0-9a-fA-F\s]+$/.test(t)) {
    const hex = t.replace(/\s+/g, "");
    if (hex.length % 2 !== 0) throw new Error("hex text has an odd number of digits");
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return out;
  }
  const b64 = t.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new Error("the text is neither hex nor Base64");
  const bin = atob(b64);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** The bytes of the QR code in an image (jsQR on a canvas), or null if there is none. */
function qrFromImageData(imageData) {
  const code = globalThis.jsQR(imageData.data, imageData.width, imageData.height, {
    inversionAttempts: "attemptBoth",
  });
  return code ? Uint8Array.from(code.binaryData) : null;
}

async function qrFromImageFile(file) {
  const bitmap = await createImageBitmap(file);
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  return qrFromImageData(ctx.getImageData(0, 0, canvas.width, canvas.height));
}

function renderDetails(report, decoded) {
  const dl = $("details");
  dl.replaceChildren();
  const add = (term, value) => {
    if (value === null || value === undefined || value === "") return;
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = String(value);
    dl.append(dt, dd);
  };
  if (!report.certified && (report.licence || report.evidence)) {
    const warn = document.createElement("p");
    warn.className = "error";
    warn.textContent = "以下内容未经链上证明，不可信 · What follows is NOT certified by the chain: do not rely on it";
    dl.append(warn);
  }
  const l = report.licence;
  if (l) {
    add("证照编号 Licence", l.id);
    add("类型 Type", l.licence_type);
    add("签发机关 Issuer", l.issuer);
    add("状态 Status", l.status + (l.status_reason ? ` (${l.status_reason})` : ""));
    add("生效 Valid from", l.valid_from);
    add("失效 Valid until", l.valid_until ?? "—");
    add("文件哈希 Document hash", l.document_hash);
  }
  const e = report.evidence;
  if (e) {
    add("存证哈希 Anchored hash", e.hash);
    add("提交方 Submitter", e.submitter);
    add("说明 Label", e.label);
    add("存证时间 Anchored at", e.time);
  }
  if (decoded) {
    if (decoded.kind === "compact") {
      add("检查点 Checkpoint", `${decoded.block.checkpoint_height}`);
    } else {
      add("区块 Block", `${decoded.block.height} (${decoded.block.chain_id})`);
    }
    add("大小 Size", `${decoded.sizes.total} bytes`);
  }
}

function renderReport(report, elapsedMs) {
  const [zh, tone] = VERDICTS[report.verdict] ?? [report.verdict, "bad"];
  const v = $("verdict");
  v.className = `verdict ${tone}`;
  v.dataset.verdict = report.verdict;
  setText(v, zh, report.verdict);
  v.focus();
  if (report.status_as_of) {
    setText(
      $("as-of"),
      `状态截至 ${report.status_as_of}（区块 ${report.height}）`,
      `Status as of ${report.status_as_of} (block ${report.height})`,
    );
  } else {
    $("as-of").replaceChildren();
  }
  const p = report.trust_package;
  if (p) {
    setText(
      $("trust-as-of"),
      `信任截至 ${p.checkpoint_time}（信任包检查点区块 ${p.checkpoint_height}）`,
      `Trust as of ${p.checkpoint_time} (trust package checkpoint, block ${p.checkpoint_height})`,
    );
  } else {
    $("trust-as-of").replaceChildren();
  }
  const tbody = $("checks").querySelector("tbody");
  tbody.replaceChildren();
  for (const c of report.checks) {
    const tr = document.createElement("tr");
    tr.className = c.outcome;
    for (const text of [CHECKS[c.id] ?? c.id, OUTCOMES[c.outcome] ?? c.outcome, c.detail]) {
      const td = document.createElement("td");
      td.textContent = text;
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
    report = verifyAtDesk(state.anchor, state.package ?? null, bytes, Date.now(), PROOF_AGE_MAX_MS, options);
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

function guard(fn) {
  return async (...args) => {
    try {
      await fn(...args);
    } catch (err) {
      showError("出错了。", String(err.message ?? err));
    }
  };
}

async function startCamera() {
  const video = $("camera");
  if (!navigator.mediaDevices?.getUserMedia) {
    showError("此浏览器无法使用摄像头。", "This browser offers no camera.");
    return;
  }
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const deadline = Date.now() + 60_000;
  const stop = () => {
    for (const t of stream.getTracks()) t.stop();
    video.hidden = true;
  };
  const tick = () => {
    if (Date.now() > deadline) {
      stop();
      showError("一分钟内未识别到二维码。", "No QR code found within a minute.");
      return;
    }
    if (video.readyState >= video.HAVE_ENOUGH_DATA) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      ctx.drawImage(video, 0, 0);
      const bytes = qrFromImageData(ctx.getImageData(0, 0, canvas.width, canvas.height));
      if (bytes) {
        stop();
        check(bytes);
        return;
      }
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

async function main() {
  await init();
  // A trust anchor bundled beside the page (the operator's own copy), if there is one.
  try {
    const response = await fetch("trust-anchor.bin", { cache: "no-store" });
    if (response.ok) loadAnchor(new Uint8Array(await response.arrayBuffer()), "trust-anchor.bin");
  } catch {
    // None bundled: the operator chooses one.
  }
  // A trust package bundled beside the page, if there is one (checked against the anchor).
  try {
    const response = await fetch("trust-package.bin", { cache: "no-store" });
    if (response.ok && state.anchor) {
      loadPackage(new Uint8Array(await response.arrayBuffer()), "trust-package.bin");
    }
  } catch (err) {
    showError("附带的信任包无法使用。", `The bundled trust package cannot be used: ${err.message}`);
  }
  $("anchor-file").addEventListener("change", guard(async (ev) => {
    const file = ev.target.files[0];
    if (file) {
      loadAnchor(await readFile(file), file.name);
      state.package = null;
      $("package-status").replaceChildren();
    }
  }));
  $("package-file").addEventListener("change", guard(async (ev) => {
    const file = ev.target.files[0];
    if (file) loadPackage(await readFile(file), file.name);
    if (state.last) check(state.last);
  }));
  $("image-file").addEventListener("change", guard(async (ev) => {
    const file = ev.target.files[0];
    if (!file) return;
    const bytes = await qrFromImageFile(file);
    if (!bytes) {
      showError("图片中没有可识别的二维码。", "No QR code found in the image.");
      return;
    }
    check(bytes);
  }));
  $("presentation-file").addEventListener("change", guard(async (ev) => {
    const file = ev.target.files[0];
    if (file) check(await readFile(file));
  }));
  $("paste-button").addEventListener("click", guard(async () => check(textToBytes($("pasted").value))));
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
      if (state.last) check(state.last);
    });
  }
  $("fetch-button").addEventListener("click", guard(async () => {
    const base = $("node-url").value.trim().replace(/\/+$/, "");
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
    const base = $("node-url").value.trim().replace(/\/+$/, "");
    if (!base) {
      showError("请填写节点地址。", "Enter the node URL.");
      return;
    }
    // With a package loaded, ask only for what changed since its checkpoint; the result is
    // checked against the anchor like a full package.
    if (state.package) {
      const since = $("package-status").dataset.checkpoint;
      const response = await fetch(`${base}/v1/trust-package?since=${since}`);
      if (response.ok) {
        const delta = new Uint8Array(await response.arrayBuffer());
        loadPackage(applyTrustPackageDelta(state.anchor, state.package, delta), base);
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
    loadPackage(new Uint8Array(await response.arrayBuffer()), base);
    if (state.last) check(state.last);
  }));
  document.body.dataset.ready = "true";
}

main().catch((err) => showError("核验器无法启动。", `The verifier did not start: ${err.message}`));
