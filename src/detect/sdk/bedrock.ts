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
import type { GuardCore } from "../layer.ts";
import { ownerOf, type Patcher } from "../patcher.ts";
import { type Fn, siteHook } from "./hooks.ts";

const COMMANDS: Record<string, [target: string, operation: string]> = {
  ConverseCommand: ["converse", "chat"],
  ConverseStreamCommand: ["converseStream", "chat"],
  InvokeModelCommand: ["invokeModel", "generate_content"],
  InvokeModelWithResponseStreamCommand: ["invokeModelWithResponseStream", "generate_content"],
  InvokeModelWithBidirectionalStreamCommand: ["invokeModelWithBidirectionalStream", "realtime"],
};

interface SmithyClient {
  config?: { serviceId?: unknown };
}

function commandOf(command: unknown): [string, string] | undefined {
  const name = (command as { constructor?: { name?: string } } | null)?.constructor?.name;
  return name === undefined ? undefined : COMMANDS[name];
}

function facts(_self: Record<string, unknown>, args: unknown[]) {
  const [target, operation] = commandOf(args[0])!;
  const modelId = (args[0] as { input?: { modelId?: unknown } }).input?.modelId;
  return {
    provider: "aws.bedrock",
    operation,
    target: `bedrock.${target}`,
    model: typeof modelId === "string" ? modelId : null,
  };
}

/** Whether a client class is Bedrock Runtime's. */
export function isBedrockClient(Client: Fn): boolean {
  return Client.name === "BedrockRuntimeClient" &&
    ownerOf(Client.prototype as object, "send") !== null;
}

/** Patches `send()` of the Smithy client base for Bedrock Runtime's inference commands. */
export function patchBedrock(core: GuardCore, patcher: Patcher, Client: Fn): void {
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
}
