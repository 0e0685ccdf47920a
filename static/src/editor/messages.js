/**
 * What the person is told when the connection cannot do what they expect:
 * the texts of the connection's ``notice`` events, and why it stopped.
 * Pure: no DOM (ui.js shows them).
 *
 * @module editor/messages
 */
import { ErrorCode } from "./protocol.js";

/** Why the connection stopped for good (``notice.kind``). */
export const StopReason = Object.freeze({
  SIGNED_OUT: "signed_out",
  FORBIDDEN: "forbidden",
  GONE: "gone",
  PROTOCOL: "protocol",
});

/** @type {Record<string, string>} */
export const STOP_MESSAGES = {
  [StopReason.SIGNED_OUT]: "You have been signed out. Sign in again to keep editing.",
  [StopReason.FORBIDDEN]: "You no longer have access to this document.",
  [StopReason.GONE]: "This document no longer exists, or it is no longer shared with you.",
  [StopReason.PROTOCOL]: "This page is out of date. Reload it to keep editing.",
};

/** @type {Record<string, string>} */
const RELOAD_MESSAGES = {
  [ErrorCode.BAD_OP]: "The server refused a change, so the document was reloaded.",
  [ErrorCode.BAD_MESSAGE]: "The server could not read a message, so the document was reloaded.",
  [ErrorCode.FORBIDDEN]: "The server refused a change you may not make, so the document was reloaded.",
  [ErrorCode.STALE]: "You were away too long to merge your changes, so the document was reloaded.",
  [ErrorCode.TOO_LARGE]:
    "Your last change is too large to save, so it was taken out of the document: " +
    "add it again in smaller parts.",
};

/** Shown when a frame was over the WebSocket layer's limit (close 1009). */
export const TOO_LARGE_MESSAGE = RELOAD_MESSAGES[ErrorCode.TOO_LARGE];

/** Shown when pending ops were dropped without a message of their own. */
export const UNMERGED_MESSAGE =
  "The document changed while you were offline; your latest changes could not be merged.";

/** Shown while the server refuses more sockets of this person (4429). */
export const TOO_MANY_MESSAGE =
  "This document is open in too many tabs or windows. Close some; this one keeps trying to reconnect.";

/**
 * Errors whose ``message`` names what was wrong: shown to the person.
 * @type {ReadonlySet<string>}
 */
const EXPLAINED_ERRORS = new Set([
  ErrorCode.BAD_OP,
  ErrorCode.BAD_MESSAGE,
  ErrorCode.FORBIDDEN,
  ErrorCode.TOO_LARGE,
]);

/** Longest part of a server message shown in a notice. */
const MAX_REASON_LENGTH = 300;

/**
 * The server's limit messages (realtime/consumers.py, sequencer.py) in the
 * person's words: [pattern, replacement].
 * @type {Array<[RegExp, (match: RegExpMatchArray) => string]>}
 */
const PLAIN_REASONS = [
  [/^frames may be at most (\d+) bytes$/, (m) => `one change may be at most ${sizeLabel(Number(m[1]))}.`],
  [/^a change may hold at most (\d+) ops/, (m) => `one change may hold at most ${m[1]} pieces of formatting.`],
];

/**
 * Return ``bytes`` as "512 KB" / "1.5 MB".
 * @param {number} bytes
 */
export function sizeLabel(bytes) {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/**
 * Return the server's reason in plain words when it is a known limit.
 * @param {string} reason
 */
function plainReason(reason) {
  for (const [pattern, say] of PLAIN_REASONS) {
    const match = reason.match(pattern);
    if (match) return say(match);
  }
  return reason;
}

/**
 * Return the notice text for a refused change: ours, then the server's.
 * @param {{code: string, message?: string}} error
 * @returns {string|null}
 */
export function reloadMessage(error) {
  const ours = RELOAD_MESSAGES[error.code] || null;
  const theirs = typeof error.message === "string" ? plainReason(error.message.trim()) : "";
  if (!ours || !theirs || !EXPLAINED_ERRORS.has(error.code)) return ours;
  const reason = theirs.length > MAX_REASON_LENGTH ? `${theirs.slice(0, MAX_REASON_LENGTH)}…` : theirs;
  return `${ours} The server said: ${reason}`;
}

/**
 * Return the notice text while the server rate-limits the person's edits.
 * @param {number} delay  ms until the op is sent again
 */
export function throttledMessage(delay) {
  const seconds = Math.max(1, Math.ceil(delay / 1000));
  return `You're typing faster than the server accepts; catching up… (next try in ${seconds} s)`;
}
