/**
 * Attestation policy: a registry of attestation ids (owner, ticket, expiry, allowed providers and
 * models), `requireRegistered`, and a global model allowlist. Pure: validation (naming the key of
 * the first bad value) and the check of one call, which the guard runs before anything is sent.
 *
 * @module
 */

/** One registered attestation. */
export interface RegisteredAttestation {
  /** Who owns the reviewed path, e.g. `ml-platform`. */
  owner?: string;
  /** The review, e.g. `REV-101`. */
  ticket?: string;
  /** Last day the attestation holds (`YYYY-MM-DD`, UTC), inclusive. */
  expires?: string;
  /** Providers the path may call (GenAI names, e.g. `openai`). */
  providers?: string[];
  /** Models it may use: names or patterns (`*` is any run of characters). */
  models?: string[];
}

/** `GuardOptions.policy` / `"policy"` in `aiguard.jsonc`. */
export interface AttestationPolicy {
  /** Registered attestation ids. */
  attestations?: Record<string, RegisteredAttestation>;
  /** An attest id missing from `attestations` breaks the policy. */
  requireRegistered?: boolean;
  /** The models any call may use, attested or not (patterns as above). */
  models?: string[];
}

/** Why a call breaks the policy. */
export type Violation = "unregistered" | "expired" | "provider" | "model";

/** The policy's verdict on one call. */
export interface PolicyVerdict {
  violation: Violation | null;
  /** A sentence for messages: which rule, and what the call did. */
  reason: string | null;
  /** The registered owner and ticket of an attested call, if any. */
  owner: string | null;
  ticket: string | null;
}

const PASS: PolicyVerdict = Object.freeze({
  violation: null,
  reason: null,
  owner: null,
  ticket: null,
});

const patterns = new Map<string, RegExp>();
/** Whether `name` matches `pattern` as a whole; `*` is any run of characters. */
export function matchesPattern(pattern: string, name: string): boolean {
  let re = patterns.get(pattern);
  if (!re) {
    re = new RegExp(
      `^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`,
    );
    if (patterns.size > 1024) patterns.clear();
    patterns.set(pattern, re);
  }
  return re.test(name);
}

function today(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** The verdict on one call (`attestationId` `undefined` for an unattested call). */
export function checkPolicy(
  policy: AttestationPolicy,
  call: { provider: string; model: string | null },
  attestationId: string | null | undefined,
  now: Date = new Date(),
): PolicyVerdict {
  let owner: string | null = null;
  let ticket: string | null = null;
  const fail = (violation: Violation, reason: string): PolicyVerdict => ({
    violation,
    reason,
    owner,
    ticket,
  });
  if (attestationId !== undefined) {
    const entry = attestationId === null ? undefined : policy.attestations?.[attestationId];
    if (entry) {
      owner = entry.owner ?? null;
      ticket = entry.ticket ?? null;
      if (entry.expires !== undefined && entry.expires < today(now)) {
        return fail("expired", `attestation "${attestationId}" expired on ${entry.expires}`);
      }
      if (entry.providers && !entry.providers.includes(call.provider)) {
        return fail(
          "provider",
          `attestation "${attestationId}" allows ${
            entry.providers.join(", ")
          }, not ${call.provider}`,
        );
      }
      if (
        entry.models && call.model !== null &&
        !entry.models.some((p) => matchesPattern(p, call.model!))
      ) {
        return fail(
          "model",
          `attestation "${attestationId}" allows ${entry.models.join(", ")}, not ${call.model}`,
        );
      }
    } else if (policy.requireRegistered) {
      return fail(
        "unregistered",
        attestationId === null
          ? "attest() has no id and the policy requires registered attestations"
          : `attestation "${attestationId}" is not registered in the policy`,
      );
    }
  }
  if (
    policy.models && call.model !== null &&
    !policy.models.some((p) => matchesPattern(p, call.model!))
  ) {
    return fail(
      "model",
      `model ${call.model} is not in the policy's models (${policy.models.join(", ")})`,
    );
  }
  return owner === null && ticket === null ? PASS : { ...PASS, owner, ticket };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const PATTERN = /^[\w.:/@*-]+$/;

/**
 * Checks a policy value; returns an error message naming the key (`policy.attestations.x.expires`)
 * and what was expected, or `null` when it is valid.
 */
export function policyProblem(
  value: unknown,
): { key: string; expected: string; got: unknown } | null {
  const obj = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
  const patternsProblem = (key: string, v: unknown) => {
    if (!Array.isArray(v)) return { key, expected: "a list of names or patterns", got: v };
    const bad = v.findIndex((p) => typeof p !== "string" || !PATTERN.test(p));
    return bad === -1 ? null : {
      key: `${key}[${bad}]`,
      expected: "a name or pattern (letters, digits, . : / @ - _ and *)",
      got: v[bad],
    };
  };
  if (!obj(value)) return { key: "policy", expected: "an object", got: value };
  const p = value as Record<string, unknown>;
  for (const key of Object.keys(p)) {
    if (!["attestations", "requireRegistered", "models"].includes(key)) {
      return {
        key: `policy.${key}`,
        expected: "one of attestations, requireRegistered, models",
        got: key,
      };
    }
  }
  if (p.requireRegistered !== undefined && typeof p.requireRegistered !== "boolean") {
    return { key: "policy.requireRegistered", expected: "true or false", got: p.requireRegistered };
  }
  if (p.models !== undefined) {
    const problem = patternsProblem("policy.models", p.models);
    if (problem) return problem;
  }
  if (p.attestations !== undefined) {
    if (!obj(p.attestations)) {
      return {
        key: "policy.attestations",
        expected: "an object of attestation ids",
        got: p.attestations,
      };
    }
    for (const [id, entry] of Object.entries(p.attestations as Record<string, unknown>)) {
      const at = `policy.attestations.${id}`;
      if (!obj(entry)) return { key: at, expected: "an object", got: entry };
      const e = entry as Record<string, unknown>;
      for (const key of Object.keys(e)) {
        if (!["owner", "ticket", "expires", "providers", "models"].includes(key)) {
          return {
            key: `${at}.${key}`,
            expected: "one of owner, ticket, expires, providers, models",
            got: key,
          };
        }
      }
      for (const key of ["owner", "ticket"]) {
        if (e[key] !== undefined && typeof e[key] !== "string") {
          return { key: `${at}.${key}`, expected: "a string", got: e[key] };
        }
      }
      if (
        e.expires !== undefined &&
        (typeof e.expires !== "string" || !DATE.test(e.expires) ||
          Number.isNaN(Date.parse(e.expires)) ||
          new Date(e.expires).toISOString().slice(0, 10) !== e.expires)
      ) {
        return { key: `${at}.expires`, expected: "a date YYYY-MM-DD", got: e.expires };
      }
      for (const key of ["providers", "models"]) {
        if (e[key] !== undefined) {
          const problem = patternsProblem(`${at}.${key}`, e[key]);
          if (problem) return problem;
        }
      }
    }
  }
  return null;
}
