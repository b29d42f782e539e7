// The worker that runs the shared test cases inside workerd. Test modules are appended to this
// entry by scripts/workerd_tests.mjs before bundling; each one registers its cases on import.
import { runRegistered } from "./node_test_shim.ts";

export default {
  async fetch(request: Request): Promise<Response> {
    const filter = new URL(request.url).searchParams.get("filter") ?? undefined;
    const results = await runRegistered(filter);
    return Response.json(results);
  },
};
