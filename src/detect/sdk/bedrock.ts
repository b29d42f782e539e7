/**
 * @aws-sdk/client-bedrock-runtime: `send()` lives on the Smithy base `Client` shared by every AWS
 * client, so the hook lets anything but Bedrock Runtime's inference commands straight through. The
 * endpoint is resolved asynchronously, so `send()` takes the call site, the model (from the
 * command) and the target, and the transport below (http2, http or fetch, whichever the request
 * handler uses) records the call with its server and blocks it before its stream is opened. A call
 * no transport hook saw is still recorded when `send()` settles.
 *
 * @module
 */
import { ownerOf } from "../patcher.ts";
import { type Fn, siteHook } from "./hooks.ts";
import { catalogClient, catalogEntry, type SdkFamily } from "./family.ts";

const BEDROCK = catalogEntry("@aws-sdk/client-bedrock-runtime");
/** The inference commands, from the catalog: command class → [target, operation]. */
const COMMANDS = BEDROCK.commands!;

interface SmithyClient {
  config?: { serviceId?: unknown };
}

function commandOf(command: unknown): readonly [string, string] | undefined {
  const name = (command as { constructor?: { name?: string } } | null)?.constructor?.name;
  return name === undefined || !Object.prototype.hasOwnProperty.call(COMMANDS, name)
    ? undefined
    : COMMANDS[name];
}

function facts(_self: Record<string, unknown>, args: unknown[]) {
  const [target, operation] = commandOf(args[0])!;
  const modelId = (args[0] as { input?: { modelId?: unknown } }).input?.modelId;
  return {
    provider: BEDROCK.provider,
    operation,
    target: `${BEDROCK.library}.${target}`,
    model: typeof modelId === "string" ? modelId : null,
  };
}

/** Bedrock Runtime's client classes (as the catalog names them) with a Smithy `send()`. */
export const bedrockFamily: SdkFamily = {
  name: "bedrock",
  matches(Client) {
    const proto = Client.prototype as object | undefined;
    return !!proto && catalogClient([BEDROCK], Client) !== null && ownerOf(proto, "send") !== null;
  },
  patch(core, patcher, Client) {
    const owner = ownerOf(Client.prototype as object, "send")!;
    patcher.wrapMethod<Fn>(owner, "send", (original) => {
      const entry = siteHook(core, original, facts, true);
      return function send(this: SmithyClient, command: unknown, ...rest: unknown[]) {
        // Every AWS client's send() passes here: two property reads for anything but Bedrock.
        if (this.config?.serviceId !== "Bedrock Runtime" || commandOf(command) === undefined) {
          return original.call(this, command, ...rest);
        }
        return entry.call(this, command, ...rest);
      };
    });
    return true;
  },
};
