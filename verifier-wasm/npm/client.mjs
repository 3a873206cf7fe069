// A small HTTP client of a Lichen node's API (README.md, "HTTP API"; GET /v1/openapi.json has
// every operation), for the transactions `signTransaction` makes and the bytes `verify` checks.
// Standard `fetch` only: Node.js 20.19+ and browsers (the node answers CORS preflights).
// Every request has a deadline; an error answer throws a LichenError with the node's code.

/** The node answered with `{"error": {code, message}}` (or the request failed: status 0). */
export class LichenError extends Error {
  constructor(status, code, message) {
    super(`${code}: ${message} (HTTP ${status})`);
    this.name = 'LichenError';
    this.status = status;
    this.code = code;
    this.detail = message;
  }
}

/** Blocks a new transaction may wait for inclusion (the CLI's figure), capped by the chain's. */
export const TX_EXPIRY_BLOCKS = 100;
const TIMEOUT_MS_DEFAULT = 30_000;

const bytesOf = (signed) => (signed instanceof Uint8Array ? signed : signed?.bytes);

export class LichenClient {
  /** `baseUrl`: e.g. "http://127.0.0.1:8080". `timeoutMs`: the deadline of each request. */
  constructor(baseUrl, { timeoutMs = TIMEOUT_MS_DEFAULT } = {}) {
    this.baseUrl = String(baseUrl).replace(/\/+$/, '');
    this.timeoutMs = timeoutMs;
  }

  async #request(path, { method = 'GET', body, type, accept = 'application/json', timeoutMs } = {}) {
    const headers = { accept };
    if (type) headers['content-type'] = type;
    let response;
    try {
      response = await fetch(this.baseUrl + path, {
        method,
        body,
        headers,
        signal: AbortSignal.timeout(timeoutMs ?? this.timeoutMs),
      });
    } catch (e) {
      throw new LichenError(0, e?.name === 'TimeoutError' ? 'timeout' : 'unreachable', `${method} ${path}: ${e?.message ?? e}`);
    }
    if (!response.ok) {
      let code = 'http_error';
      let message = response.statusText;
      try {
        const json = await response.json();
        code = json?.error?.code ?? code;
        message = json?.error?.message ?? message;
      } catch {
        // Not JSON: keep the status text.
      }
      throw new LichenError(response.status, code, message);
    }
    return response;
  }

  async #json(path, options) {
    return (await this.#request(path, options)).json();
  }

  async #bytes(path, options) {
    const response = await this.#request(path, { ...options, accept: 'application/octet-stream' });
    return new Uint8Array(await response.arrayBuffer());
  }

  /** `GET /v1/status`: chain id, suite, height, `tx_expiry_blocks_max`, ... */
  status() {
    return this.#json('/v1/status');
  }

  /**
   * What a new transaction needs from the chain: `{chain_id, suite, expires_at_height}` (the
   * height now plus TX_EXPIRY_BLOCKS, within the chain's limit).
   */
  async transactionContext() {
    const s = await this.status();
    return {
      chain_id: s.chain_id,
      suite: s.suite,
      expires_at_height: s.height + Math.min(TX_EXPIRY_BLOCKS, s.tx_expiry_blocks_max),
    };
  }

  /** `GET /v1/trust-anchor`: the genesis anchor, for `verify` offline. */
  trustAnchor() {
    return this.#bytes('/v1/trust-anchor');
  }

  /**
   * `POST /v1/transactions`: a signed transaction (its bytes, or what `signTransaction` returns).
   * Without `wait`: 202 `{id, status: "pending"}`. With `wait: true`: once a block includes it,
   * `{id, status: "committed", height, index, block_time}`; a refusal throws (422).
   */
  submit(signed, { wait = false, waitTimeoutMs } = {}) {
    const query = wait ? `?wait=final${waitTimeoutMs === undefined ? '' : `&timeout_ms=${waitTimeoutMs}`}` : '';
    return this.#json(`/v1/transactions${query}`, {
      method: 'POST',
      body: bytesOf(signed),
      type: 'application/octet-stream',
      timeoutMs: wait ? Math.max(this.timeoutMs, (waitTimeoutMs ?? 10_000) + 5_000) : undefined,
    });
  }

  /** `GET /v1/transactions/{id}`: committed, pending, or refused with the reason. */
  transaction(id) {
    return this.#json(`/v1/transactions/${encodeURIComponent(id)}`);
  }

  /** `GET /v1/licences/{id}`: the record, its history, the height it is read at. */
  licence(id) {
    return this.#json(`/v1/licences/${encodeURIComponent(id)}`);
  }

  /** `GET /v1/licences/{id}/presentation`: the presentation's bytes (for a QR code or `verify`). */
  presentation(id, { height, compact = false } = {}) {
    const query = new URLSearchParams();
    if (height !== undefined) query.set('height', String(height));
    if (compact) query.set('compact', 'true');
    const q = query.size ? `?${query}` : '';
    return this.#bytes(`/v1/licences/${encodeURIComponent(id)}/presentation${q}`);
  }

  /** `GET /v1/evidence/{hash}`: the anchored entry. */
  evidence(hash) {
    return this.#json(`/v1/evidence/${encodeURIComponent(hash)}`);
  }

  /** `GET /v1/evidence/{hash}/receipt`: the evidence receipt's bytes. */
  receipt(hash) {
    return this.#bytes(`/v1/evidence/${encodeURIComponent(hash)}/receipt`);
  }

  /**
   * `POST /v1/verify`: the node's report on a presentation, compact presentation or receipt.
   * `options`: `document_hash`, `proof_age_max_ms`, `trust_package` ("latest"), `expect`
   * ("licence" | "evidence"), `holder_id` with `holder_salt` — the fields of the JSON body.
   */
  verify(presentation, options = {}) {
    let hex = '';
    for (const b of presentation) hex += b.toString(16).padStart(2, '0');
    return this.#json('/v1/verify', {
      method: 'POST',
      body: JSON.stringify({ presentation: hex, ...options }),
      type: 'application/json',
    });
  }
}
