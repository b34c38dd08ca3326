/**
 * This file was auto-generated from openapi.yaml (info.x-error-codes) by scripts/generate.ts.
 * Do not make direct changes to the file.
 */

/** The kinds of documented API error codes. */
export type DocumentedErrorKind = "token-expired" | "token-invalid" | "signature-invalid" | "duplicate-request" | "api-key-illegal" | "ip-not-allowed" | "rate-limited" | "server-error";

/** Each documented `code`: its kind and what to do (status and message are in the spec and the docs). */
export const errorCodes: Readonly<Record<number, { kind: DocumentedErrorKind; hint: string }>> = {
  401003: { kind: "token-expired", hint: "The access token has expired: create a new one in the Longbridge developer console; a refresh needs a live token." },
  401004: { kind: "token-invalid", hint: "The token is malformed or was already replaced by a refresh: use the newest token you hold, or create a new one in the developer console." },
  401102: { kind: "token-invalid", hint: "The token does not verify against this app key (the key was rotated, or the token belongs to another key): create a new token for the current key." },
  403201: { kind: "signature-invalid", hint: "Check the app key and secret, the clock, and that the signed body bytes are the bytes sent." },
  403202: { kind: "duplicate-request", hint: "X-Timestamp was reused: sign every request with a fresh timestamp." },
  403203: { kind: "api-key-illegal", hint: "The app key is unknown or disabled: check it in the developer console." },
  403205: { kind: "ip-not-allowed", hint: "Add this machine's public IP to the allow-list in the developer console." },
  429001: { kind: "rate-limited", hint: "Too many requests from this IP: wait (see retryAfterMs) and slow down." },
  429002: { kind: "rate-limited", hint: "Too many requests to this API: wait (see retryAfterMs) and slow down; repeated bursts can lock the key out for longer." },
  500000: { kind: "server-error", hint: "Server fault: do not blindly re-send a refresh, the old token may already be invalid; check the token first." },
};

/** Each documented `code`: the HTTP status and the message a server answers it with (the emulator's replies). */
export const errorReplies = {
  401003: { status: 401, message: "token expired" },
  401004: { status: 401, message: "token invalid" },
  401102: { status: 401, message: "token verification failed" },
  403201: { status: 403, message: "signature invalid" },
  403202: { status: 403, message: "duplicate request" },
  403203: { status: 403, message: "apikey illegal" },
  403205: { status: 403, message: "ip is not allowed" },
  429001: { status: 429, message: "ip request ratelimit" },
  429002: { status: 429, message: "api request is limited" },
  500000: { status: 500, message: "internal error" },
} as const satisfies Readonly<Record<number, { status: number; message: string }>>;

/** A documented error `code`. */
export type DocumentedErrorCode = keyof typeof errorReplies;

/** The spec's example reply to a request that breaks the contract (components.responses.BadRequest; its code is illustrative). */
export const badRequestReply = { status: 400, code: 400000, message: "invalid request" } as const;
