/**
 * Failpoints: `pause`, `error` and `delay` specs through the manager, only with
 * `failpoints: true` (docs/breakpoints.md, "Failpoints in running services").
 */
export { FailpointSpecError, FailpointsOffError, InjectedFailpointError } from "./errors.js";
export { FAILPOINT_LIMITS, FAILPOINT_TYPES } from "./limits.js";
