import type { SignedTransactionOutput, Suite, VerifyReport } from "lichen-verifier";

/** The node answered with `{"error": {code, message}}` (status 0: no answer at all). */
export declare class LichenError extends Error {
  readonly status: number;
  /** The node's error code (`unauthorised`, `bad_signature`, `not_found`...), or `timeout` / `unreachable`. */
  readonly code: string;
  readonly detail: string;
}

export declare const TX_EXPIRY_BLOCKS: number;

export interface Pending { id: string; status: "pending" }
export interface Committed { id: string; status: "committed"; height: number; index: number; block_time_ms: number; block_time: string }

export interface VerifyOptions {
  document_hash?: string;
  proof_age_max_ms?: number;
  trust_package?: "latest";
  expect?: "licence" | "evidence";
  holder_id?: string;
  holder_salt?: string;
}

export declare class LichenClient {
  constructor(baseUrl: string, options?: { timeoutMs?: number });
  readonly baseUrl: string;
  status(): Promise<Record<string, any> & { chain_id: string; suite: Suite; height: number; tx_expiry_blocks_max: number }>;
  transactionContext(): Promise<{ chain_id: string; suite: Suite; expires_at_height: number }>;
  trustAnchor(): Promise<Uint8Array>;
  submit(signed: Uint8Array | SignedTransactionOutput, options?: { wait?: false }): Promise<Pending>;
  submit(signed: Uint8Array | SignedTransactionOutput, options: { wait: true; waitTimeoutMs?: number }): Promise<Committed>;
  transaction(id: string): Promise<Record<string, any>>;
  licence(id: string): Promise<Record<string, any>>;
  presentation(id: string, options?: { height?: number; compact?: boolean }): Promise<Uint8Array>;
  evidence(hash: string): Promise<Record<string, any>>;
  receipt(hash: string): Promise<Uint8Array>;
  verify(presentation: Uint8Array, options?: VerifyOptions): Promise<VerifyReport>;
}
