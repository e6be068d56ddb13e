/** Capture and redaction of values for logs and recorders. */
export { capture, CaptureMarker, CapturedError, DEFAULT_CAPTURE_LIMITS, REDACTED, GETTER, PROXY, CIRCULAR, SIZE_LIMIT } from "./capture.js";
export type { CaptureLimits } from "./capture.js";
export { configureRedaction, redactorOf, Redactor, DEFAULT_SECRET_WORDS, normalizeName } from "./redact.js";
export type { RedactionOptions } from "./redact.js";
