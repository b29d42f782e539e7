// The preload as it was before module hooks: every supported SDK that resolves is imported at start.
import { enableGuard } from "../src/guard.ts";
import { discoverClients } from "../src/detect/discover.ts";
import { registry } from "../src/registry.ts";

registry().discover = () => discoverClients();
await enableGuard().ready;
