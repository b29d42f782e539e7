/** Details carried by an {@link AttestationError}. */
export interface AttestationErrorDetails {
  /** Provider name, e.g. `openai`. */
  provider: string;
  /** GenAI operation name, e.g. `chat`, or `null` when unknown. */
  operation: string | null;
  /** `path:line:column` of the first application frame, or `null`. */
  callSite: string | null;
  /** What was called, e.g. `openai.chat.completions.create` or `fetch POST api.openai.com/v1/...`. */
  target: string;
  /** The attestation policy's rule the call broke, when that is why it was blocked. */
  violation?: string | null;
  /** Which rule, and what the call did (policy violations). */
  reason?: string | null;
}

// Every copy of this package in a process brands its errors alike, so `instanceof` holds across
// copies (one copy's guard may throw for another copy's caller).
const BRAND = Symbol.for("@aiguard/attest.AttestationError");

/**
 * The one error class thrown in block mode, before any byte of the AI call is sent.
 *
 * @example Catch a blocked call
 * ```ts
 * import { AttestationError } from "@aiguard/attest";
 *
 * try {
 *   throw new AttestationError({
 *     provider: "openai",
 *     operation: "chat",
 *     callSite: "src/app.ts:3:1",
 *     target: "openai.chat.completions.create",
 *   });
 * } catch (error) {
 *   if (error instanceof AttestationError) console.log(error.provider, error.callSite);
 * }
 * ```
 */
export class AttestationError extends Error {
  /** True for an AttestationError thrown by any copy of this package in the process. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value !== null && typeof value === "object" &&
      (value as Record<symbol, unknown>)[BRAND] === true;
  }

  /** Provider name, e.g. `openai`. */
  readonly provider: string;
  /** GenAI operation name, or `null`. */
  readonly operation: string | null;
  /** `path:line:column` of the calling application code, or `null`. */
  readonly callSite: string | null;
  /** What was called. */
  readonly target: string;
  /** The policy rule the call broke, or `null` for an unattested call. */
  readonly violation: string | null;

  /** Builds the error; the message names provider, operation, call site and the fix. */
  constructor(details: AttestationErrorDetails) {
    const where = details.callSite ?? "an unknown call site";
    super(
      details.violation
        ? `${details.provider} ${details.operation ?? "call"} (${details.target}) blocked at ` +
          `${where}: attestation policy violation (${details.violation}): ${details.reason}.`
        : `Unattested ${details.provider} ${details.operation ?? "call"} (${details.target}) ` +
          `blocked at ${where}: wrap the calling function with attest().`,
    );
    this.name = "AttestationError";
    Object.defineProperty(this, BRAND, { value: true });
    this.provider = details.provider;
    this.operation = details.operation;
    this.callSite = details.callSite;
    this.target = details.target;
    this.violation = details.violation ?? null;
  }
}
