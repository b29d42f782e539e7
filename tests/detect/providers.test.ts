/**
 * The provider registry (`src/detect/providers.ts`): which URLs are AI calls, to which provider and
 * operation, read as the runtime will send them; and the extra `providers` rules of the options.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  isOrdinaryOrigin,
  isOrdinaryPath,
  isOrdinaryRequest,
  matchUrl,
  sentUrl,
  splitUrl,
} from "../../src/detect/providers.ts";
import { OPENAI_SPELLINGS } from "../support/provider_urls.ts";

test("the host registry names every listed provider", () => {
  const cases: Array<[string, string]> = [
    ["https://eu.api.openai.com/v1/responses", "openai"],
    ["https://my-res.openai.azure.com/openai/deployments/x/chat/completions", "azure.ai.openai"],
    ["https://api.anthropic.com/v1/messages", "anthropic"],
    ["https://generativelanguage.googleapis.com/v1beta/models/g:generateContent", "gcp.gemini"],
    [
      "https://us-central1-aiplatform.googleapis.com/v1/projects/p/x:generateContent",
      "gcp.vertex_ai",
    ],
    ["https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse", "aws.bedrock"],
    ["https://api.mistral.ai/v1/chat/completions", "mistral_ai"],
    ["https://api.groq.com/openai/v1/chat/completions", "groq"],
    ["https://api.cohere.com/v2/chat", "cohere"],
    ["https://api.deepseek.com/chat/completions", "deepseek"],
    ["https://api.x.ai/v1/chat/completions", "x_ai"],
    ["https://api.perplexity.ai/chat/completions", "perplexity"],
    ["https://api.together.xyz/v1/chat/completions", "together"],
    ["https://api.fireworks.ai/inference/v1/chat/completions", "fireworks"],
    ["https://openrouter.ai/api/v1/chat/completions", "openrouter"],
    ["http://localhost:11434/api/chat", "ollama"],
    ["https://api.replicate.com/v1/predictions", "replicate"],
    ["https://api.voyageai.com/v1/embeddings", "voyage"],
    ["https://us-south.ml.cloud.ibm.com/ml/v1/text/generation", "ibm.watsonx.ai"],
    ["https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions", "dashscope"],
    ["https://open.bigmodel.cn/api/paas/v4/chat/completions", "zhipu"],
    ["https://api.moonshot.cn/v1/chat/completions", "moonshot"],
    ["https://ark.cn-beijing.volces.com/api/v3/chat/completions", "volcengine"],
    ["https://qianfan.baidubce.com/v2/chat/completions", "qianfan"],
    ["https://api.stability.ai/v2beta/stable-image/generate/core", "stability"],
    ["https://api.elevenlabs.io/v1/text-to-speech/v1/stream", "elevenlabs"],
    ["https://api.eu.residency.elevenlabs.io/v1/speech-to-text", "elevenlabs"],
    ["https://api.inceptionlabs.ai/v1/edit/completions", "inception"],
    ["https://api.asksage.ai/server/query", "asksage"],
    ["https://api.302.ai/v1/chat/completions", "302ai"],
    ["http://10.0.0.5:8000/v1/chat/completions", "openai_compatible"],
  ];
  for (const [url, provider] of cases) assert.equal(matchUrl(url, [])?.provider, provider, url);
  // ElevenLabs' speech paths name their operation there, and nowhere else make an AI call.
  assert.equal(
    matchUrl("https://api.elevenlabs.io/v1/text-to-speech/v1/stream", [])?.operation,
    "generate_content",
  );
  assert.equal(matchUrl("https://api.elevenlabs.io/v1/voices", [])?.operation, null);
  assert.equal(matchUrl("https://example.com/v1/text-to-speech/v1", []), null);
  assert.equal(matchUrl("https://example.com/index.html", []), null);
  assert.equal(matchUrl("https://s3.amazonaws.com/bucket/key", []), null);
  assert.equal(matchUrl("data:text/plain,hi", []), null);
});

test("the registry reads a URL as the runtime will: host spellings, IPv4 forms, paths", () => {
  for (const url of OPENAI_SPELLINGS) {
    const m = matchUrl(url, []);
    assert.equal(m?.provider, "openai", JSON.stringify(url));
    assert.equal(m?.server, "api.openai.com", JSON.stringify(url));
  }
  for (
    const host of ["127.1", "0x7f000001", "0177.0.0.1", "2130706433", "127.0.0.1.", "127.0.0.01"]
  ) {
    const m = matchUrl(`http://${host}:8080/v1/models`, [{ provider: "acme", host: "127.0.0.1" }]);
    assert.equal(m?.provider, "acme", host);
    assert.equal(m?.server, "127.0.0.1", host);
  }
  for (
    const path of [
      "/v1/chat/completions/",
      "/v1/chat/completions//",
      "/v1/models/../chat/completions",
      "/v1/./chat/completions",
      "/v1/%2e%2E/v1/chat/completions",
      "\\v1\\chat\\completions",
      // Escapes the parse keeps, which the servers decode before routing.
      "/v1/chat/completion%73",
      "/v1/chat/%63ompletions",
      "/v1/chat%2Fcompletions",
      "/v1/chat%2fcompletions%2F",
    ]
  ) {
    const m = matchUrl(`http://10.0.0.5:8000${path}`, []);
    assert.equal(m?.provider, "openai_compatible", path);
    assert.equal(m?.operation, "chat", path);
  }
  // A providers rule's path matches with or without a trailing slash too.
  const rule = { provider: "acme", path: "/x/generate" };
  assert.equal(matchUrl("https://llm.internal/x/generate/", [rule])?.provider, "acme");
  assert.equal(
    matchUrl("https://llm.internal/x/generate", [{ ...rule, path: "/x/generate/" }])?.provider,
    "acme",
  );
  // Text no runtime would send anywhere stays unmatched.
  assert.equal(matchUrl("mailto:api.openai.com", []), null);
  assert.equal(matchUrl("/v1/chat/completions", []), null);
});

test("ordinary URLs are judged as written, without parsing", () => {
  for (
    const url of [
      "http://127.0.0.1:8080/static/app.js?v=3",
      "https://example.com/api/users/42#top",
      "https://Example.COM/a/b",
      "http://10.1.2.3/.well-known/x",
    ]
  ) assert.equal(sentUrl(url), url); // the same string: the fast path
  assert.equal(sentUrl("http://127.1/x"), "http://127.0.0.1/x");
  assert.equal(sentUrl(" http:\\\\Example.com.\\a?q#f"), "http://example.com/a?q");
  assert.equal(sentUrl("http://[::1/"), null);
});

test("splitUrl strips userinfo, query and fragment, and fills default ports", () => {
  assert.deepEqual(splitUrl("https://user:pw@API.OpenAI.com/v1/x?key=secret#frag"), {
    hostname: "api.openai.com",
    host: "api.openai.com",
    port: 443,
    path: "/v1/x",
  });
  assert.deepEqual(splitUrl("http://[::1]:8080"), {
    hostname: "[::1]",
    host: "[::1]:8080",
    port: 8080,
    path: "/",
  });
});

test("a providers path rule names matching paths on any host, and only those", () => {
  const rules = [{ provider: "inhouse", path: "/inference/run" }];
  const hit = matchUrl("https://svc.internal/api/inference/run?token=x#f", rules);
  assert.deepEqual(hit, {
    provider: "inhouse",
    operation: null,
    server: "svc.internal",
    port: 443,
    path: "/api/inference/run",
  });
  assert.equal(matchUrl("http://10.1.2.3:8080/inference/run/", rules)?.provider, "inhouse");
  for (
    const url of [
      "https://svc.internal/inference/status",
      "https://svc.internal/inference/runs",
      "https://svc.internal/inference/run/status",
      "https://svc.internal/health?next=/inference/run",
    ]
  ) assert.equal(matchUrl(url, rules), null, url);
});

test("a providers rule with host and path needs both; a RegExp path is tested without the query", () => {
  const rules = [{ provider: "scorer", host: "svc.internal", path: /^\/score\/[a-z]+$/ }];
  assert.equal(matchUrl("https://svc.internal/score/toxicity?x=1", rules)?.provider, "scorer");
  assert.equal(matchUrl("https://svc.internal/score/toxicity/history", rules), null);
  assert.equal(matchUrl("https://other.internal/score/toxicity", rules), null, "another host");
  // A rule comes before the built-in hosts, and takes the operation from the path when it has none.
  const embeddings = [{ provider: "proxy", host: "api.openai.com", path: "/v1/embeddings" }];
  assert.deepEqual(
    [matchUrl("https://api.openai.com/v1/embeddings", embeddings)]
      .map((m) => [m?.provider, m?.operation]),
    [["proxy", "embeddings"]],
  );
  assert.equal(
    matchUrl("https://api.openai.com/v1/chat/completions", embeddings)?.provider,
    "openai",
  );
});

// The scan's fast "not AI" (no substring, no parse) must agree with the exact reading of the URL
// the runtime sends: every case below is judged both ways. A rule that matches nothing makes
// matchUrl take its exact path (split, host table, path expression) on the parsed URL.
const EXACT = [{ provider: "never", host: "never.invalid" }];

/** The URL the runtime sends, as the guard's parse writes it; `null` for none it would send. */
function sent(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (!["http:", "https:", "ws:", "wss:"].includes(parsed.protocol)) return null;
  const host = parsed.hostname.replace(/\.$/, "");
  return `${parsed.protocol}//${host}${
    parsed.port ? `:${parsed.port}` : ""
  }${parsed.pathname}${parsed.search}`;
}

const SCHEMES = ["http", "HTTPS", "wss", "ht\ttp", "h\nttps", "w\ts", "ftp", "httpx"];
const HOSTS = [
  "api.openai.com",
  "API.OpenAI.COM",
  "api.openai.com.",
  "api.openai%2Ecom",
  "\uff41pi.openai.com",
  "api.open\tai.com",
  "user:pw@api.openai.com",
  "api.openai.com@example.com",
  "example.com@api.openai.com",
  "my-res.openai.azure.com",
  "MY-RES.OPENAI.AZURE.COM.",
  "bedrock-runtime.us-east-1.amazonaws.com",
  "s3.us-east-1.amazonaws.com",
  "openai.com",
  "xapi.openai.com",
  "api.openai.co",
  "localhost",
  "LocalHost",
  "127.0.0.1",
  "127.1",
  "0x7f.1",
  "0177.0.0.1",
  "2130706433",
  "[::1]",
  "example.com",
  "cdn.example.co.uk",
  "a..b",
  "",
  // Web-chat hosts (host and path rules) and a neighbour.
  "chatgpt.com",
  "ChatGPT.COM.",
  "sydney.bing.com",
  "www.bing.com",
  "ollama.com",
  "api.githubcopilot.com",
];
const PORTS = ["", ":11434", ":011434", ":0", ":443", ":8080", ":", ":08080", ":99999", ":11434x"];
const PATHS = [
  "",
  "/",
  "/static/app.js",
  "/v1/chat/completions",
  "/completions",
  "/v1/chat/completions/",
  "/v1/chat/completions//",
  "/v1/chat/Completions",
  "/v1/chat/comp\tletions",
  "/v1/models/../chat/completions",
  "/v1/chat/completions/x/..",
  "/v1/chat/completions/.",
  "/v1/chat/completions/%2e",
  "/v1/./chat/completions",
  "\\v1\\chat\\completions",
  "/v1%2Fchat/completions",
  "/v1/chat/completion%73",
  "/v1/chat%2fcompletions",
  "/api/cha%74",
  "/caf%C3%A9/v1/chat",
  "/api/chat",
  "/api/users/42/messages",
  "/v1/messages",
  "/model/m/converse-stream",
  "/v1beta/models/g:generateContent",
  "/x:generateContent/",
  "/ws.BidiGenerateContent",
  "/v1/realtime",
  "/.well-known/x",
  "/backend-api/conversation",
  "/backend-api/conversations",
  "/sydney/ChatHub/",
];
const TAILS = ["", "?q=/v1/chat/completions", "#/v1/messages", "\t"];

test("the scan's fast reject agrees with the exact reading of the parsed URL, case by case", () => {
  let cases = 0;
  let matched = 0;
  const wrong: string[] = [];
  for (const scheme of SCHEMES) {
    for (const host of HOSTS) {
      for (const port of PORTS) {
        for (const path of PATHS) {
          for (const tail of TAILS) {
            const url = `${scheme}://${host}${port}${path}${tail}`;
            const exact = sent(url);
            const expected = exact === null ? null : matchUrl(exact, EXACT);
            const found = matchUrl(url, []);
            if (JSON.stringify(found) !== JSON.stringify(expected)) {
              wrong.push(`${JSON.stringify(url)}: ${found?.provider ?? null}, sent to ${exact}`);
            }
            cases++;
            if (expected !== null) matched++;
          }
        }
      }
    }
  }
  assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} of ${cases} cases`);
  assert.ok(cases > 80_000 && matched > 10_000, `${cases} cases, ${matched} AI`);
});

test("options judged as parts are ordinary only when their joined URL is", () => {
  const ports: Array<string | number> = [
    "",
    11434,
    "11434",
    "011434",
    8080,
    "08080",
    0,
    65536,
    1.5,
  ];
  let ordinary = 0;
  for (const protocol of ["http:", "https:", "HTTP:", "ws:"]) {
    for (const hostname of HOSTS) {
      for (const port of ports) {
        for (const path of PATHS) {
          for (const tail of [...TAILS, " "]) {
            if (!isOrdinaryRequest(protocol, hostname, port, path + tail)) continue;
            ordinary++;
            const joined = `${protocol}//${hostname}${port === "" ? "" : `:${port}`}${path}${tail}`;
            assert.equal(matchUrl(joined, []), null, JSON.stringify(joined));
          }
        }
      }
    }
  }
  assert.ok(ordinary > 500, `${ordinary} ordinary`);
  // The shortcut is taken for ordinary options (else every request would be joined and scanned).
  assert.equal(isOrdinaryRequest("http:", "127.0.0.1", 8080, "/static/app.js?v=3"), true);
  assert.equal(isOrdinaryRequest("https:", "Example.com", "", "/api/users/42/messages"), true);
  assert.equal(isOrdinaryRequest("http:", "localhost", 11434, "/api/tags"), false);
  assert.equal(isOrdinaryRequest("https:", "api.openai.com", 443, "/v1/models"), false);
});

test("a session's origin and a stream's path are ordinary only when the joined URL is", () => {
  let ordinary = 0;
  for (const scheme of SCHEMES) {
    for (const host of HOSTS) {
      for (const port of PORTS) {
        const origin = `${scheme}://${host}${port}`;
        for (const extra of ["", "/", "/v1/chat", "?x", " "]) {
          if (!isOrdinaryOrigin(origin + extra)) continue;
          for (const path of PATHS) {
            for (const tail of [...TAILS, " "]) {
              if (!isOrdinaryPath(path + tail)) continue;
              ordinary++;
              const joined = origin + extra + path + tail;
              assert.equal(matchUrl(joined, []), null, JSON.stringify(joined));
            }
          }
        }
      }
    }
  }
  assert.ok(ordinary > 5000, `${ordinary} ordinary`);
  assert.equal(isOrdinaryOrigin("http://127.0.0.1:8080"), true);
  assert.equal(isOrdinaryPath("/static/app.js?v=3"), true);
});
