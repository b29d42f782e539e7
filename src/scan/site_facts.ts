/**
 * What an AI call site is, as the call kinds (`call_kinds.ts`, `url_kinds.ts`) find it: its
 * provider, library, target and operation, and the function it is reached through.
 *
 * @module
 */
import type { CallPosition, FnSummary } from "./values.ts";

/** What a site is. */
export interface SiteFacts {
  /** GenAI provider name (`openai_compatible` when only the path is known). */
  provider: string;
  /** The SDK or request function (`openai`, `fetch`, `axios`). */
  library: string;
  /** The method path, or the request's method and URL. */
  target: string;
  /** GenAI operation name, if known. */
  operation: string | null;
  /** `high` when the request function (or SDK method) and the target are both known. */
  confidence: "high" | "low";
  /** Set when the call goes through a `wrap()`ped client: its attest `id` (or `null`). */
  wrappedId?: string | null;
  /** Set when the request is made in a function this call calls: the function and the call in it. */
  through?: Through;
  /**
   * Set when the request's path is a parameter of this function (a transport helper): the site
   * is its callers', if the scanned code calls it.
   */
  pathFrom?: FnSummary;
  /** Set while a site is known only by its body, the URL a configured one (see `classifyCall`). */
  configured?: true;
}

/** The function a call reaches the request through, and its call that passes the URL on. */
export interface Through {
  fn: FnSummary;
  at: CallPosition;
  /** The same of the function that call calls, when it builds the URL from what it is given. */
  inner?: Through;
  /**
   * Set when the function's callers give it only a function that makes the request's URL (a
   * dispatch creator it calls): the request is not theirs but the one its call sends.
   */
  factory?: boolean;
}
