// @runtimes deno bun node
/**
 * Web-chat backends in the provider registry: a request to chatgpt.com, claude.ai, … is an AI call
 * only when both its host and its whole path are a rule's (the endpoint that carries the prompt);
 * every other request to those hosts, and the same paths on any other host, stay ordinary.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  isOrdinaryOrigin,
  isOrdinaryRequest,
  matchUrl,
  transportFacts,
} from "../../src/detect/providers.ts";

/** One prompt-carrying request per rule, as the real clients write it (ids filled in). */
const CALLS: Array<[url: string, provider: string]> = [
  ["https://chatgpt.com/backend-api/conversation", "openai.chatgpt_web"],
  ["https://chatgpt.com/backend-api/f/conversation", "openai.chatgpt_web"],
  ["https://chatgpt.com/backend-anon/conversation", "openai.chatgpt_web"],
  ["https://chat.openai.com/backend-api/conversation", "openai.chatgpt_web"],
  ["https://chatgpt.com/backend-api/codex/responses", "openai.chatgpt_web"],
  [
    "https://claude.ai/api/organizations/0f9e/chat_conversations/7c1d/completion",
    "anthropic.claude_web",
  ],
  [
    "https://claude.ai/api/organizations/0f9e/chat_conversations/7c1d/retry_completion",
    "anthropic.claude_web",
  ],
  ["https://claude.ai/api/append_message", "anthropic.claude_web"],
  [
    "https://gemini.google.com/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate?bl=b&rt=c&_reqid=0",
    "google.gemini_web",
  ],
  ["wss://sydney.bing.com/sydney/ChatHub?sec_access_token=t", "microsoft.copilot_web"],
  ["wss://copilot.microsoft.com/c/api/chat?api-version=2", "microsoft.copilot_web"],
  ["https://kimi.moonshot.cn/api/chat/cq1/completion/stream", "moonshot.kimi_web"],
  ["https://www.kimi.com/api/chat/cq1/completion/stream", "moonshot.kimi_web"],
  ["https://chatglm.cn/chatglm/backend-api/assistant/stream", "zhipu.chatglm_web"],
  ["https://chatglm.cn/chatglm/backend-api/v1/stream_context?__requestid=1", "zhipu.chatglm_web"],
  ["https://chat.deepseek.com/api/v0/chat/completion", "deepseek.deepseek_web"],
  ["https://www.perplexity.ai/rest/sse/perplexity_ask", "perplexity.perplexity_web"],
  ["wss://www.perplexity.ai/socket.io/?EIO=4&transport=websocket", "perplexity.perplexity_web"],
  ["https://pi.ai/api/chat", "inflection.pi_web"],
  ["wss://neo.character.ai/ws/", "character_ai.character_web"],
  ["https://huggingface.co/chat/conversation/65a1b2", "huggingface.huggingchat_web"],
  ["https://chat.mistral.ai/api/chat", "mistral_ai.le_chat_web"],
  ["https://you.com/api/streamingSearch?q=hi&chat=%5B%5D", "you.you_web"],
  ["https://www.phind.com/api/infer/answer", "phind.phind_web"],
  ["https://www.phind.com/api/infer/followup/rewrite", "phind.phind_web"],
  ["https://qianwen.biz.aliyun.com/dialog/conversation", "alibaba.qianwen_web"],
  ["https://qianwen.aliyun.com/conversation", "alibaba.qianwen_web"],
  ["https://www.baichuan-ai.com/api/chat/v1/chat", "baichuan.baichuan_web"],
  ["https://api.twitter.com/2/grok/add_response.json", "x_ai.grok_web"],
  ["https://grok.x.com/2/grok/add_response.json", "x_ai.grok_web"],
  ["https://grok.com/rest/app-chat/conversations/new", "x_ai.grok_web"],
  ["https://grok.com/rest/app-chat/conversations/c1/responses", "x_ai.grok_web"],
  [
    "wss://labs-api.perplexity.ai/socket.io/?EIO=4&transport=websocket&sid=s",
    "perplexity.perplexity_web",
  ],
  ["https://xinghuo.xfyun.cn/iflygpt-chat/u/chat_message/chat", "iflytek.spark_web"],
  ["https://chat.360.com/backend-api/api/common/chat", "qihoo360.zhinao_web"],
  ["wss://moss.fastnlp.top/api/ws/chats/42/records?jwt=x", "fudan.moss_web"],
  ["https://api-chat.tiangong.cn/api/v1/chat/chat", "kunlun.tiangong_web"],
  ["https://api-chat.tiangong.cn/api/v1/session/newSession", "kunlun.tiangong_web"],
];

test("web chat: each backend's prompt-carrying request is an AI call of its provider", () => {
  for (const [url, provider] of CALLS) {
    const match = matchUrl(url, []);
    assert.equal(match?.provider, provider, url);
    assert.equal(match?.operation, "chat", url);
    assert.ok(provider.endsWith("_web"), provider);
    // The record's path has no query string.
    assert.ok(!match!.path.includes("?"), match!.path);
  }
});

test("web chat: the same hosts' pages, sign-in, lists, creation and settings stay ordinary", () => {
  const ordinary = [
    "https://chatgpt.com/",
    "https://chatgpt.com/c/0e02cc29",
    "https://chatgpt.com/api/auth/session",
    "https://chatgpt.com/backend-api/conversations?offset=0&limit=20",
    "https://chatgpt.com/backend-api/conversation/0e02cc29",
    "https://chatgpt.com/backend-api/conversation/gen_title/0e02cc29",
    "https://chatgpt.com/backend-api/sentinel/chat-requirements",
    "https://chatgpt.com/backend-api/models",
    "https://chatgpt.com/backend-api/files/f1/download",
    "https://chatgpt.com/backend-api/codex/models",
    "https://claude.ai/api/account",
    "https://claude.ai/api/organizations",
    "https://claude.ai/api/organizations/0f9e/chat_conversations",
    "https://claude.ai/api/organizations/0f9e/chat_conversations/7c1d",
    "https://claude.ai/api/organizations/0f9e/chat_conversations/7c1d/title",
    "https://gemini.google.com/app",
    "https://gemini.google.com/_/BardChatUi/data/batchexecute",
    "https://www.google.com/search?q=x",
    "https://copilot.microsoft.com/turing/conversation/create",
    "https://copilot.microsoft.com/c/api/conversations",
    "https://www.bing.com/turing/captcha/challenge",
    "wss://www.bing.com/sydney/ChatHub", // the hub is sydney.bing.com's only
    "https://kimi.moonshot.cn/api/chat", // creates a chat, no prompt (and no Ollama there)
    "https://kimi.moonshot.cn/api/chat/cq1",
    "https://kimi.moonshot.cn/api/auth/token/refresh",
    "https://chatglm.cn/chatglm/backend-api/assistant/conversation/list",
    "https://chatglm.cn/chatglm/backend-api/v3/user/info",
    "https://www.perplexity.ai/api/auth/session",
    "https://www.perplexity.ai/search/new",
    "https://character.ai/chat/abc",
    "https://neo.character.ai/chats/recent/abc",
    "https://huggingface.co/chat/",
    "https://huggingface.co/chat/conversation", // creates one
    "https://huggingface.co/chat/conversations",
    "https://huggingface.co/chat/conversation/65a1b2/__data.json",
    "https://huggingface.co/meta-llama/Llama-3.1-8B",
    "https://chat.mistral.ai/chat",
    "https://chat.mistral.ai/api/trpc/message.newChat?batch=1",
    "https://www.phind.com/api/web/search",
    "https://qianwen.aliyun.com/addSession",
    "https://www.baichuan-ai.com/api/user/user-info",
    "https://twitter.com/i/api/2/grok/conversation_id.json",
    "https://api.x.com/2/timeline/home.json",
    "https://x.com/home",
    "https://grok.com/rest/app-chat/conversations",
    "https://grok.com/rest/app-chat/conversations/c1",
    "https://xinghuo.xfyun.cn/iflygpt/userInfo",
    "https://chat.360.com/backend-api/api/user/info",
    "https://api-chat.tiangong.cn/api/v1/chat/getMessage",
  ];
  for (const url of ordinary) assert.equal(matchUrl(url, []), null, url);
});

test("web chat: a backend's path on another host is not its call", () => {
  for (
    const url of [
      "https://example.com/backend-api/conversation",
      "https://chatgpt.example.com/backend-api/conversation",
      "https://chatgpt.com.example.com/backend-api/conversation",
      "https://evilchatgpt.com/backend-api/conversation",
      "https://bing.com/sydney/ChatHub",
      "https://example.com/api/v1/chat/chat",
    ]
  ) assert.equal(matchUrl(url, []), null, url);
  // A path that is an AI call on any host keeps its any-host reading off the web-chat hosts.
  assert.equal(matchUrl("https://example.com/api/chat", [])?.provider, "openai_compatible");
  assert.equal(matchUrl("https://pi.ai/api/chat", [])?.provider, "inflection.pi_web");
});

test("web chat: an OpenAI-compatible or Gemini path on a web-chat host is still an AI call", () => {
  // Only the endings web apps share with their own routes (Ollama's /api/chat, /api/generate) are
  // the site's there (kimi.moonshot.cn/api/chat, above): an AI server behind such a host is not
  // let through.
  for (
    const url of [
      "https://huggingface.co/api/inference-proxy/together/v1/chat/completions",
      "https://chatgpt.com/v1/chat/completions",
      "https://huggingface.co/v1/embeddings",
      "https://chat.mistral.ai/v1beta/models/gemini-pro:generateContent",
    ]
  ) assert.equal(matchUrl(url, [])?.provider, "openai_compatible", url);
  assert.equal(matchUrl("https://chat.mistral.ai/api/generate", []), null);
});

test("web chat: spellings the runtime sends to the same endpoint match too", () => {
  for (
    const url of [
      "https://ChatGPT.com/backend-api/conversation",
      "https://chatgpt.com./backend-api/conversation",
      "https://chatgpt.com:443/backend-api/conversation/",
      "https://chatgpt.com/backend-api/conversation?x=1#y",
      "https://user@chatgpt.com/backend-api/conversation",
      "https://chatgpt.com/backend-api/models/../conversation",
      "https://chatgpt.com/backend-api/conver\tsation",
      "HTTPS://CLAUDE.AI/api/organizations/o/chat_conversations/c/completion",
    ]
  ) assert.notEqual(matchUrl(url, []), null, url);
  // The path is matched as written, with its case: another path on the server.
  assert.equal(matchUrl("https://chatgpt.com/BACKEND-API/conversation", []), null);
});

test("web chat: no request to a web-chat host is proven ordinary by its host alone", () => {
  for (const origin of ["https://chatgpt.com", "wss://sydney.bing.com", "https://claude.ai:443"]) {
    assert.equal(isOrdinaryOrigin(origin), false, origin);
  }
  assert.equal(isOrdinaryRequest("https:", "chatgpt.com", "", "/"), false);
  assert.equal(isOrdinaryRequest("https:", "kimi.moonshot.cn", 443, "/api/user"), false);
  // Their neighbours still are.
  for (const origin of ["https://www.bing.com", "https://www.google.com", "https://example.com"]) {
    assert.equal(isOrdinaryOrigin(origin), true, origin);
  }
  assert.equal(isOrdinaryRequest("https:", "www.google.com", "", "/search?q=x"), true);
});

test("web chat: a WebSocket hub is a chat call, not a realtime session", () => {
  const match = matchUrl("wss://sydney.bing.com/sydney/ChatHub?sec_access_token=t", [])!;
  assert.deepEqual(transportFacts(match, "websocket", "websocket", null), {
    provider: "microsoft.copilot_web",
    operation: "chat",
    model: null,
    target: "websocket sydney.bing.com/sydney/ChatHub",
    detector: "websocket",
    server: "sydney.bing.com",
    port: 443,
  });
});

test("web chat: a user rule still comes first", () => {
  const rules = [{ provider: "acme_proxy", host: "chatgpt.com" }];
  assert.equal(matchUrl("https://chatgpt.com/backend-api/models", rules)?.provider, "acme_proxy");
});

/** Each URL is `provider`'s call with its operation; each of `ordinary` is no AI call. */
function assertWholePaths(
  provider: string,
  calls: ReadonlyArray<readonly [url: string, operation: string]>,
  ordinary: readonly string[],
): void {
  for (const [url, operation] of calls) {
    const match = matchUrl(url, []);
    assert.equal(match?.provider, provider, url);
    assert.equal(match?.operation, operation, url);
  }
  for (const url of ordinary) assert.equal(matchUrl(url, []), null, url);
}

test("GitHub Copilot's API: its model calls by host and whole path, with the path's operation", () => {
  assertWholePaths("github.copilot", [
    ["https://api.githubcopilot.com/chat/completions", "chat"],
    ["https://api.githubcopilot.com/responses", "chat"],
    ["https://api.githubcopilot.com/v1/messages", "chat"],
    ["https://api.githubcopilot.com/embeddings", "embeddings"],
    ["https://api.individual.githubcopilot.com/chat/completions/", "chat"],
    ["https://API.Business.GithubCopilot.com./embeddings", "embeddings"],
    ["https://api.enterprise.githubcopilot.com/v1/messages", "chat"],
  ], [
    // The same host serves GitHub's MCP server and the model list; telemetry has its own host.
    "https://api.githubcopilot.com/mcp/",
    "https://api.githubcopilot.com/mcp/readonly",
    "https://api.githubcopilot.com/models",
    "https://api.individual.githubcopilot.com/models/gpt-4o/policy",
    "https://telemetry.individual.githubcopilot.com/telemetry",
    "https://githubcopilot.com/chat/completions",
    "https://api.githubcopilot.com.example.com/chat/completions",
  ]);
  assert.equal(isOrdinaryOrigin("https://api.githubcopilot.com"), false);
});

test("Ollama's cloud: ollama.com's API paths are Ollama's calls, its website's pages are not", () => {
  assertWholePaths("ollama", [
    ["https://ollama.com/api/chat", "chat"],
    ["https://ollama.com/api/generate", "text_completion"],
    ["https://ollama.com/api/embed", "embeddings"],
    ["https://ollama.com/v1/chat/completions", "chat"],
    ["https://ollama.com/v1/embeddings", "embeddings"],
    ["https://ollama.com/v1/messages", "chat"],
    ["https://ollama.com/v1/systemone", "chat"],
    ["https://www.ollama.com/api/chat/", "chat"],
  ], [
    "https://ollama.com/",
    "https://ollama.com/search?q=qwen&c=cloud",
    "https://ollama.com/library/llama3.2/tags",
    "https://ollama.com/settings/keys",
    "https://ollama.com/api/tags",
    "https://ollama.com/api/web_search",
  ]);
  // The local server stays Ollama's by its host and port.
  assert.equal(matchUrl("http://localhost:11434/api/chat", [])?.provider, "ollama");
});

test("Workers AI's REST API: a model's run on api.cloudflare.com, the rest of Cloudflare's API ordinary", () => {
  const base = "https://api.cloudflare.com/client/v4/accounts/0123abcd";
  const calls = [
    ["/ai/run/@cf/meta/llama-3.1-8b-instruct", "generate_content"],
    ["/ai/run/@cf/baai/bge-base-en-v1.5", "generate_content"],
    ["/ai/run/@hf/thebloke/mistral-7b-instruct-v0.1-awq/", "generate_content"],
    ["/ai/v1/chat/completions", "chat"],
    ["/ai/v1/embeddings", "embeddings"],
  ] as const;
  assertWholePaths("cloudflare.workers_ai", calls.map(([path, op]) => [base + path, op] as const), [
    `${base}/ai/run/`,
    `${base}/ai/models/search?task=Text%20Generation`,
    `${base}/ai/finetunes`,
    "https://api.cloudflare.com/client/v4/zones",
    "https://api.cloudflare.com/client/v4/accounts/0123abcd/workers/scripts/x",
    "https://example.com/client/v4/accounts/0123abcd/ai/run/@cf/meta/llama-3.1-8b-instruct",
  ]);
});
