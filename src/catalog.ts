/**
 * What aiguard knows of each supported SDK, for the static scan and the preload: its package, the classes that build clients,
 * the client methods that are AI calls (with their GenAI operation), and the functions that are.
 * The runtime's preload discovers the same packages (`detect/discover.ts`), and provider hosts and
 * AI paths come from the one provider registry (`detect/providers.ts`).
 *
 * @module
 */

/** One SDK package. */
export interface SdkEntry {
  /** The npm package name. */
  readonly package: string;
  /** Short name written on sites (`library`), also the first word of `target`. */
  readonly library: string;
  /** GenAI provider name. */
  readonly provider: string;
  /**
   * Exported classes whose instances are clients (`"default"` for the default export), with the
   * name used in targets.
   */
  readonly clients: Readonly<Record<string, string>>;
  /** Client method paths that are AI calls → operation (`null` when none fits). */
  readonly methods: Readonly<Record<string, string | null>>;
  /**
   * Method paths (of `methods`) distinctive enough of this SDK's API that the scan reports a call
   * to one at low confidence even on a receiver it cannot resolve, as this SDK's.
   */
  readonly distinctive?: readonly string[];
  /**
   * Distinctive paths (of `distinctive`) that are a platform binding's, reached from a value the
   * code declares (`env.AI.run`, `env` a parameter): reported on any receiver of that name.
   */
  readonly bindings?: readonly string[];
  /**
   * Clients whose methods are not the package's `methods` (an older major version's client, still
   * exported under another name) → their own method table, in its place.
   */
  readonly clientMethods?: Readonly<Record<string, Readonly<Record<string, string | null>>>>;
  /**
   * Exports that are the package's exports again, under a version's name
   * (`require("@google-cloud/aiplatform").v1.PredictionServiceClient`).
   */
  readonly namespaces?: readonly string[];
  /** Exported functions that are AI calls → operation. */
  readonly functions?: Readonly<Record<string, string | null>>;
  /** Exported instances that are clients already (ollama's default export). */
  readonly instances?: readonly string[];
  /** Bedrock-style command classes passed to `client.send()` → [target, operation]. */
  readonly commands?: Readonly<Record<string, readonly [string, string]>>;
  /** Client classes whose provider differs from the package's (`AzureOpenAI`). */
  readonly providers?: Readonly<Record<string, string>>;
  /** Exported functions that return a client or model (`initChatModel`) → the name in targets. */
  readonly factories?: Readonly<Record<string, string>>;
  /**
   * Client methods that return a client of the same package, configured or narrowed
   * (`withStructuredOutput`, `getGenerativeModel`): calls on what they return are calls on it.
   */
  readonly chains?: readonly string[];
  /**
   * A framework above the provider SDKs: its clients are named by their classes, so its targets
   * name the library first (`langchain.ChatOpenAI.invoke`).
   */
  readonly framework?: true;
  /**
   * Exports that are another catalog package's (`OpenAIClient` of `@langchain/openai` is the
   * `openai` package's client) → [package, export].
   */
  readonly reexports?: Readonly<Record<string, readonly [string, string]>>;
  /** Only the static scan knows it: the preload leaves the package alone. */
  readonly scanOnly?: boolean;
  /**
   * Client classes (of `clients`) that are not always a model (LangChain's `Runnable`: a chain,
   * usually ending in one, maybe a prompt and a parser only): a call on one is a low-confidence
   * site.
   */
  readonly generic?: readonly string[];
}

const STAINLESS_OPENAI: Record<string, string | null> = {
  "chat.completions.create": "chat",
  "chat.completions.parse": "chat",
  "chat.completions.stream": "chat",
  "chat.completions.runTools": "chat",
  "beta.chat.completions.parse": "chat",
  "beta.chat.completions.stream": "chat",
  "beta.chat.completions.runTools": "chat",
  "completions.create": "text_completion",
  "embeddings.create": "embeddings",
  "responses.create": "chat",
  "responses.parse": "chat",
  "responses.stream": "chat",
  "images.generate": "generate_content",
  "images.edit": "generate_content",
  "audio.speech.create": "generate_content",
  "audio.transcriptions.create": "generate_content",
  "audio.translations.create": "generate_content",
  "moderations.create": null,
};

/**
 * OpenAI's Assistants API: a run makes the assistant answer (the thread and message calls around
 * it only store what it reads). Only the `openai` package has it.
 */
const OPENAI_ASSISTANT_RUNS: Record<string, string | null> = {
  "beta.threads.runs.create": "chat",
  "beta.threads.runs.createAndPoll": "chat",
  "beta.threads.runs.createAndStream": "chat",
  "beta.threads.runs.stream": "chat",
  "beta.threads.runs.submitToolOutputs": "chat",
  "beta.threads.runs.submitToolOutputsAndPoll": "chat",
  "beta.threads.runs.submitToolOutputsStream": "chat",
  "beta.threads.createAndRun": "chat",
  "beta.threads.createAndRunPoll": "chat",
  "beta.threads.createAndRunStream": "chat",
};

/**
 * The calls the Vercel AI SDK's functions are named for, which xsai names the same: text and
 * objects, embeddings, images.
 */
const AI_SDK_CALLS: Record<string, string | null> = {
  generateText: "chat",
  streamText: "chat",
  generateObject: "chat",
  streamObject: "chat",
  embed: "embeddings",
  embedMany: "embeddings",
  generateImage: "generate_content",
};

/** xsai's calls, each its own package's (`@xsai/generate-text`) and the umbrella's. */
const XSAI_FUNCTIONS: Record<string, string | null> = {
  ...AI_SDK_CALLS,
  generateSpeech: "generate_content",
  generateTranscription: "generate_content",
  streamTranscription: "generate_content",
};

/** ElevenLabs' model calls (1.59's and 2.x's clients); voices, models and history are not. */
const ELEVENLABS_METHODS: Record<string, string | null> = {
  generate: "generate_content",
  "textToSpeech.convert": "generate_content",
  "textToSpeech.convertAsStream": "generate_content",
  "textToSpeech.convertWithTimestamps": "generate_content",
  "textToSpeech.stream": "generate_content",
  "textToSpeech.streamWithTimestamps": "generate_content",
  "speechToText.convert": "generate_content",
  "speechToSpeech.convert": "generate_content",
  "speechToSpeech.convertAsStream": "generate_content",
  "speechToSpeech.stream": "generate_content",
  "textToSoundEffects.convert": "generate_content",
};

/**
 * The methods of every LangChain model (`BaseChatModel`, `Embeddings`) that are AI calls: what the
 * scan follows on each LangChain package, and what the runtime's framework family wraps.
 */
export const LANGCHAIN_METHODS: Readonly<Record<string, string | null>> = {
  invoke: "chat",
  stream: "chat",
  batch: "chat",
  generate: "chat",
  // LangChain 0.x's older names (`model.call(messages)`, `llm.predict(text)`)
  call: "chat",
  predict: "chat",
  predictMessages: "chat",
  embedQuery: "embeddings",
  embedDocuments: "embeddings",
};

/** What a LangChain model returns configured, before `.invoke()` / `.stream()` / `.batch()`. */
const LANGCHAIN_CHAINS = [
  "withStructuredOutput",
  "bindTools",
  "bind",
  "withRetry",
  "withConfig",
  "withFallbacks",
  "pipe",
];

const GOOGLE_GENERATIVE_MODEL: Record<string, string | null> = {
  generateContent: "generate_content",
  generateContentStream: "generate_content",
  sendMessage: "chat",
  sendMessageStream: "chat",
  embedContent: "embeddings",
  batchEmbedContents: "embeddings",
};

/** Hugging Face inference tasks: methods of its clients and functions of the package alike. */
const HUGGINGFACE_TASKS: Record<string, string | null> = {
  chatCompletion: "chat",
  chatCompletionStream: "chat",
  textGeneration: "text_completion",
  textGenerationStream: "text_completion",
  featureExtraction: "embeddings",
  textToImage: "generate_content",
};

/** Every SDK the scan and the preload know. */
export const CATALOG: readonly SdkEntry[] = [
  {
    package: "openai",
    library: "openai",
    provider: "openai",
    clients: {
      default: "openai",
      OpenAI: "openai",
      AzureOpenAI: "azure_openai",
      OpenAIApi: "openai",
    },
    providers: { AzureOpenAI: "azure.ai.openai" },
    methods: { ...STAINLESS_OPENAI, ...OPENAI_ASSISTANT_RUNS },
    // 3.x's client (`new OpenAIApi(new Configuration({ apiKey }))`, axios underneath: the runtime
    // sees its requests at the transport), as 3.3.0's `api.d.ts` declares it.
    clientMethods: {
      OpenAIApi: {
        createChatCompletion: "chat",
        createCompletion: "text_completion",
        createEdit: "text_completion",
        createEmbedding: "embeddings",
        createImage: "generate_content",
        createImageEdit: "generate_content",
        createImageVariation: "generate_content",
        createTranscription: "generate_content",
        createTranslation: "generate_content",
        createModeration: null,
        createAnswer: "text_completion",
        createClassification: "text_completion",
        createSearch: "text_completion",
      },
    },
    distinctive: ["chat.completions.create", "responses.create", "embeddings.create"],
  },
  {
    package: "@anthropic-ai/sdk",
    library: "anthropic",
    provider: "anthropic",
    clients: { default: "anthropic", Anthropic: "anthropic" },
    methods: {
      "messages.create": "chat",
      "messages.stream": "chat",
      "messages.countTokens": null,
      "beta.messages.create": "chat",
      "beta.messages.stream": "chat",
      "completions.create": "text_completion",
    },
    distinctive: ["messages.create"],
  },
  {
    package: "@google/genai",
    library: "google_genai",
    provider: "gcp.gemini",
    clients: { GoogleGenAI: "google_genai" },
    // `chats.create()` only makes a chat object (no request): its messages are the calls.
    chains: ["create"],
    methods: {
      "models.generateContent": "generate_content",
      "models.generateContentStream": "generate_content",
      "models.embedContent": "embeddings",
      "models.generateImages": "generate_content",
      "chats.sendMessage": "chat",
      "chats.sendMessageStream": "chat",
      "live.connect": "realtime",
    },
    distinctive: ["models.generateContent"],
  },
  {
    package: "groq-sdk",
    library: "groq",
    provider: "groq",
    clients: { default: "groq", Groq: "groq" },
    methods: STAINLESS_OPENAI,
  },
  {
    package: "together-ai",
    library: "together",
    provider: "together",
    clients: { default: "together", Together: "together" },
    methods: STAINLESS_OPENAI,
  },
  {
    package: "@mistralai/mistralai",
    library: "mistral",
    provider: "mistral_ai",
    // 1.x exports `Mistral` (no default export); 0.x only its default export, `MistralClient`,
    // whose methods are the client's own (`client.chat({...})`): real apps still pin 0.x.
    clients: { Mistral: "mistral", default: "mistral" },
    clientMethods: {
      default: {
        chat: "chat",
        chatStream: "chat",
        completion: "text_completion",
        completionStream: "text_completion",
        embeddings: "embeddings",
      },
    },
    methods: {
      "chat.complete": "chat",
      "chat.stream": "chat",
      "fim.complete": "text_completion",
      "fim.stream": "text_completion",
      "agents.complete": "chat",
      "agents.stream": "chat",
      "embeddings.create": "embeddings",
    },
  },
  {
    package: "ollama",
    library: "ollama",
    provider: "ollama",
    clients: { Ollama: "ollama" },
    instances: ["default"],
    methods: {
      chat: "chat",
      generate: "text_completion",
      embed: "embeddings",
      embeddings: "embeddings",
    },
  },
  {
    package: "cohere-ai",
    library: "cohere",
    provider: "cohere",
    clients: { CohereClient: "cohere", CohereClientV2: "cohere" },
    methods: {
      chat: "chat",
      chatStream: "chat",
      generate: "text_completion",
      generateStream: "text_completion",
      embed: "embeddings",
      rerank: "rerank",
      "v2.chat": "chat",
      "v2.chatStream": "chat",
      "v2.embed": "embeddings",
      "v2.rerank": "rerank",
    },
  },
  {
    package: "@aws-sdk/client-bedrock-runtime",
    library: "bedrock",
    provider: "aws.bedrock",
    clients: { BedrockRuntimeClient: "bedrock", BedrockRuntime: "bedrock" },
    methods: {
      converse: "chat",
      converseStream: "chat",
      invokeModel: "generate_content",
      invokeModelWithResponseStream: "generate_content",
    },
    commands: {
      ConverseCommand: ["converse", "chat"],
      ConverseStreamCommand: ["converseStream", "chat"],
      InvokeModelCommand: ["invokeModel", "generate_content"],
      InvokeModelWithResponseStreamCommand: ["invokeModelWithResponseStream", "generate_content"],
      InvokeModelWithBidirectionalStreamCommand: ["invokeModelWithBidirectionalStream", "realtime"],
    },
  },
  {
    package: "ai",
    library: "ai",
    provider: "vercel.ai",
    clients: {},
    methods: {},
    functions: {
      ...AI_SDK_CALLS,
      transcribe: "generate_content",
      experimental_transcribe: "generate_content",
      generateSpeech: "generate_content",
      experimental_generateSpeech: "generate_content",
      rerank: null,
    },
  },
  {
    package: "@langchain/openai",
    library: "langchain",
    framework: true,
    provider: "openai",
    clients: {
      ChatOpenAI: "ChatOpenAI",
      AzureChatOpenAI: "AzureChatOpenAI",
      OpenAIEmbeddings: "OpenAIEmbeddings",
      OpenAI: "OpenAI",
    },
    reexports: { OpenAIClient: ["openai", "OpenAI"] },
    methods: LANGCHAIN_METHODS,
    chains: LANGCHAIN_CHAINS,
  },
  {
    package: "@langchain/anthropic",
    library: "langchain",
    framework: true,
    provider: "anthropic",
    clients: { ChatAnthropic: "ChatAnthropic" },
    methods: LANGCHAIN_METHODS,
    chains: LANGCHAIN_CHAINS,
  },
  {
    package: "@openai/agents",
    library: "openai_agents",
    framework: true,
    provider: "openai",
    clients: { Runner: "Runner" },
    methods: { run: "invoke_agent" },
    functions: { run: "invoke_agent" },
  },
  // Below: packages only the static scan follows (real code calls them; no runtime layer yet).
  {
    package: "@langchain/google-genai",
    library: "langchain",
    framework: true,
    provider: "gcp.gemini",
    clients: {
      ChatGoogleGenerativeAI: "ChatGoogleGenerativeAI",
      GoogleGenerativeAIEmbeddings: "GoogleGenerativeAIEmbeddings",
    },
    methods: LANGCHAIN_METHODS,
    chains: LANGCHAIN_CHAINS,
    scanOnly: true,
  },
  {
    package: "@langchain/mistralai",
    library: "langchain",
    framework: true,
    provider: "mistral_ai",
    clients: { ChatMistralAI: "ChatMistralAI", MistralAIEmbeddings: "MistralAIEmbeddings" },
    methods: LANGCHAIN_METHODS,
    chains: LANGCHAIN_CHAINS,
    scanOnly: true,
  },
  {
    package: "replicate",
    library: "replicate",
    provider: "replicate",
    clients: { default: "replicate", Replicate: "replicate" },
    methods: {
      run: "generate_content",
      stream: "generate_content",
      "predictions.create": "generate_content",
      "deployments.predictions.create": "generate_content",
    },
    scanOnly: true,
  },
  {
    package: "@aws-sdk/client-sagemaker-runtime",
    library: "sagemaker",
    provider: "aws.sagemaker",
    clients: { SageMakerRuntimeClient: "sagemaker", SageMakerRuntime: "sagemaker" },
    methods: {
      invokeEndpoint: "generate_content",
      invokeEndpointWithResponseStream: "generate_content",
      invokeEndpointAsync: "generate_content",
    },
    commands: {
      InvokeEndpointCommand: ["invokeEndpoint", "generate_content"],
      InvokeEndpointWithResponseStreamCommand: [
        "invokeEndpointWithResponseStream",
        "generate_content",
      ],
      InvokeEndpointAsyncCommand: ["invokeEndpointAsync", "generate_content"],
    },
    scanOnly: true,
  },
  {
    package: "@google/generative-ai",
    library: "google_generative_ai",
    provider: "gcp.gemini",
    clients: { GoogleGenerativeAI: "google_generative_ai" },
    chains: ["getGenerativeModel", "startChat"],
    methods: GOOGLE_GENERATIVE_MODEL,
    // On a model a framework holds (`this.client`, set by LangChain's ChatGoogleGenerativeAI).
    distinctive: ["generateContentStream"],
    scanOnly: true,
  },
  {
    package: "@google-cloud/vertexai",
    library: "vertexai",
    provider: "gcp.vertex_ai",
    clients: { VertexAI: "vertexai" },
    chains: ["getGenerativeModel", "startChat", "preview"],
    methods: GOOGLE_GENERATIVE_MODEL,
    scanOnly: true,
  },
  {
    // Vertex AI's generated gRPC clients: predictions on an endpoint or a publisher's model, and
    // Gemini through the same service (`v1beta1` adds `chatCompletions` and `countTokens`). No
    // runtime hook: the client speaks gRPC over node:http2 to the `*-aiplatform.googleapis.com`
    // hosts of `detect/providers.ts`.
    package: "@google-cloud/aiplatform",
    library: "aiplatform",
    provider: "gcp.vertex_ai",
    clients: { PredictionServiceClient: "aiplatform" },
    namespaces: ["v1", "v1beta1"],
    methods: {
      predict: "generate_content",
      rawPredict: "generate_content",
      streamRawPredict: "generate_content",
      directPredict: "generate_content",
      directRawPredict: "generate_content",
      streamDirectPredict: "generate_content",
      streamDirectRawPredict: "generate_content",
      streamingPredict: "generate_content",
      streamingRawPredict: "generate_content",
      serverStreamingPredict: "generate_content",
      explain: "generate_content",
      generateContent: "generate_content",
      streamGenerateContent: "generate_content",
      embedContent: "embeddings",
      chatCompletions: "chat",
      countTokens: null,
    },
    scanOnly: true,
  },
  {
    package: "@huggingface/inference",
    library: "huggingface",
    provider: "huggingface",
    clients: { HfInference: "huggingface", InferenceClient: "huggingface" },
    // `hf.endpoint(url)`: the same client against a dedicated endpoint
    chains: ["endpoint"],
    methods: HUGGINGFACE_TASKS,
    functions: HUGGINGFACE_TASKS,
    scanOnly: true,
  },
  // xsai (moeru-ai): small functions against any OpenAI-compatible API (`baseURL` per call), from
  // the umbrella package and from one package each, as 0.4.4's exports are.
  ...([
    ["xsai", Object.keys(XSAI_FUNCTIONS)],
    ["@xsai/generate-text", ["generateText"]],
    ["@xsai/stream-text", ["streamText"]],
    ["@xsai/generate-object", ["generateObject"]],
    ["@xsai/stream-object", ["streamObject"]],
    ["@xsai/embed", ["embed", "embedMany"]],
    ["@xsai/generate-image", ["generateImage"]],
    ["@xsai/generate-speech", ["generateSpeech"]],
    ["@xsai/generate-transcription", ["generateTranscription"]],
    ["@xsai/stream-transcription", ["streamTranscription"]],
  ] as const).map(([pkg, names]): SdkEntry => ({
    package: pkg,
    library: "xsai",
    provider: "openai_compatible",
    clients: {},
    methods: {},
    functions: Object.fromEntries(names.map((name) => [name, XSAI_FUNCTIONS[name]!])),
    scanOnly: true,
  })),
  {
    // ElevenLabs' SDK: 1.x (`elevenlabs`, with the deprecated `generate`) and 2.x
    // (`@elevenlabs/elevenlabs-js`); the runtime sees its requests by the API's hosts.
    package: "elevenlabs",
    library: "elevenlabs",
    provider: "elevenlabs",
    clients: { ElevenLabsClient: "elevenlabs" },
    methods: ELEVENLABS_METHODS,
    scanOnly: true,
  },
  {
    package: "@elevenlabs/elevenlabs-js",
    library: "elevenlabs",
    provider: "elevenlabs",
    clients: { ElevenLabsClient: "elevenlabs" },
    methods: ELEVENLABS_METHODS,
    scanOnly: true,
  },
  {
    package: "@fal-ai/client",
    library: "fal",
    provider: "fal",
    clients: {},
    instances: ["fal"],
    methods: {
      subscribe: "generate_content",
      run: "generate_content",
      stream: "generate_content",
      "queue.submit": "generate_content",
    },
    scanOnly: true,
  },
  {
    package: "@azure/openai",
    library: "azure_openai",
    provider: "azure.ai.openai",
    clients: { OpenAIClient: "azure_openai" },
    methods: {
      getChatCompletions: "chat",
      streamChatCompletions: "chat",
      getCompletions: "text_completion",
      streamCompletions: "text_completion",
      getEmbeddings: "embeddings",
      getImages: "generate_content",
    },
    scanOnly: true,
  },
  {
    package: "voyageai",
    library: "voyage",
    provider: "voyage",
    clients: { VoyageAIClient: "voyage" },
    methods: { embed: "embeddings", multimodalEmbed: "embeddings", rerank: null },
    scanOnly: true,
  },
  {
    package: "@mixedbread-ai/sdk",
    library: "mixedbread",
    provider: "mixedbread",
    clients: { MixedbreadAIClient: "mixedbread" },
    methods: { embeddings: "embeddings", reranking: null },
    scanOnly: true,
  },
  {
    // Portkey's gateway SDK: OpenAI's method paths (and `chatCompletions` of its 0.x releases).
    package: "portkey-ai",
    library: "portkey",
    provider: "portkey",
    clients: { default: "portkey", Portkey: "portkey" },
    methods: {
      ...STAINLESS_OPENAI,
      "chatCompletions.create": "chat",
      "completions.create": "text_completion",
    },
    scanOnly: true,
  },
  {
    package: "rt-client",
    library: "rt_client",
    provider: "openai",
    clients: { RTClient: "rt_client" },
    methods: { generateResponse: "realtime" },
    scanOnly: true,
  },
  {
    // Azure AI model inference: `ModelClient(endpoint, credential)`, then
    // `client.path("/chat/completions").post({ body })`; only its AI routes are POSTs (`/info` is
    // a GET).
    package: "@azure-rest/ai-inference",
    library: "azure_ai_inference",
    provider: "azure.ai.inference",
    clients: {},
    factories: { default: "azure_ai_inference", ModelClient: "azure_ai_inference" },
    chains: ["path"],
    methods: { post: null },
    scanOnly: true,
  },
  {
    package: "@openrouter/sdk",
    library: "openrouter",
    provider: "openrouter",
    clients: { OpenRouter: "openrouter" },
    methods: {
      "chat.send": "chat",
      "responses.send": "chat",
      "beta.responses.send": "chat",
      "embeddings.generate": "embeddings",
    },
    scanOnly: true,
  },
  {
    // `initChatModel` (`langchain/chat_models/universal`), and the base classes v0 exported
    // (defined there up to 0.0.x, then `@langchain/core`'s again): `Embeddings` of
    // `langchain/embeddings/base`, `BaseChatModel` and `SimpleChatModel` of
    // `langchain/chat_models/base`, `BaseLLM` and `LLM` of `langchain/llms/base`,
    // `BaseLanguageModel` of `langchain/base_language`, the runnables of `langchain/schema/runnable`.
    package: "langchain",
    library: "langchain",
    framework: true,
    provider: "langchain",
    clients: {
      Embeddings: "Embeddings",
      BaseChatModel: "BaseChatModel",
      SimpleChatModel: "SimpleChatModel",
      BaseLLM: "BaseLLM",
      LLM: "LLM",
      BaseLanguageModel: "BaseLanguageModel",
      Runnable: "Runnable",
      RunnableSequence: "RunnableSequence",
    },
    generic: ["Runnable", "RunnableSequence"],
    factories: { initChatModel: "initChatModel" },
    methods: LANGCHAIN_METHODS,
    chains: LANGCHAIN_CHAINS,
    scanOnly: true,
  },
  {
    // The base classes models are typed as (`llm: BaseChatModel`, `x as BaseChatModel`), from
    // `@langchain/core/language_models/*` and `@langchain/core/embeddings`, and the runnables of
    // `@langchain/core/runnables`.
    package: "@langchain/core",
    library: "langchain",
    framework: true,
    provider: "langchain",
    clients: {
      BaseChatModel: "BaseChatModel",
      BaseLanguageModel: "BaseLanguageModel",
      BaseLLM: "BaseLLM",
      Embeddings: "Embeddings",
      // What chains are typed as (`boundModel: Runnable`, `chain: RunnableSequence`).
      Runnable: "Runnable",
      RunnableSequence: "RunnableSequence",
    },
    generic: ["Runnable", "RunnableSequence"],
    methods: LANGCHAIN_METHODS,
    chains: LANGCHAIN_CHAINS,
    scanOnly: true,
  },
  {
    // LangChain's chains of v0 (`@langchain/classic/chains`): the one that calls a provider itself.
    package: "@langchain/classic",
    library: "langchain",
    framework: true,
    provider: "openai",
    clients: { OpenAIModerationChain: "OpenAIModerationChain" },
    methods: { call: null, invoke: null },
    scanOnly: true,
  },
  ...([
    ["@langchain/groq", "groq", { ChatGroq: "ChatGroq" }],
    ["@langchain/ollama", "ollama", {
      ChatOllama: "ChatOllama",
      OllamaEmbeddings: "OllamaEmbeddings",
    }],
    ["@langchain/aws", "aws.bedrock", { ChatBedrockConverse: "ChatBedrockConverse" }],
    ["@langchain/google-vertexai", "gcp.vertex_ai", { ChatVertexAI: "ChatVertexAI" }],
    ["@langchain/cohere", "cohere", {
      ChatCohere: "ChatCohere",
      CohereEmbeddings: "CohereEmbeddings",
    }],
    // ChatGoogle reaches Gemini with an API key, Vertex AI with Google Cloud credentials.
    ["@langchain/google-gauth", "gcp.gemini", { ChatGoogle: "ChatGoogle" }],
    ["@langchain/google-webauth", "gcp.gemini", { ChatGoogle: "ChatGoogle" }],
    ["@langchain/deepseek", "deepseek", { ChatDeepSeek: "ChatDeepSeek" }],
    ["@langchain/xai", "x_ai", { ChatXAI: "ChatXAI" }],
    ["@langchain/cerebras", "cerebras", { ChatCerebras: "ChatCerebras" }],
    // The community package's provider integrations (not its local models: llama.cpp, WebLLM).
    ["@langchain/community", "ollama", {
      Ollama: "Ollama",
      ChatOllama: "ChatOllama",
      OllamaEmbeddings: "OllamaEmbeddings",
      ChatTogetherAI: "ChatTogetherAI",
      TogetherAI: "TogetherAI",
      ChatFireworks: "ChatFireworks",
      Fireworks: "Fireworks",
      BedrockChat: "BedrockChat",
      Bedrock: "Bedrock",
      ChatDeepInfra: "ChatDeepInfra",
      ChatAlibabaTongyi: "ChatAlibabaTongyi",
      ChatBaiduWenxin: "ChatBaiduWenxin",
      ChatZhipuAI: "ChatZhipuAI",
      ChatMoonshot: "ChatMoonshot",
      ChatMinimax: "ChatMinimax",
      ChatTencentHunyuan: "ChatTencentHunyuan",
      HuggingFaceInference: "HuggingFaceInference",
      HuggingFaceInferenceEmbeddings: "HuggingFaceInferenceEmbeddings",
    }, {
      ChatTogetherAI: "together",
      TogetherAI: "together",
      ChatFireworks: "fireworks",
      Fireworks: "fireworks",
      BedrockChat: "aws.bedrock",
      Bedrock: "aws.bedrock",
      ChatDeepInfra: "deepinfra",
      ChatAlibabaTongyi: "dashscope",
      ChatBaiduWenxin: "qianfan",
      ChatZhipuAI: "zhipu",
      ChatMoonshot: "moonshot",
      ChatMinimax: "minimax",
      ChatTencentHunyuan: "hunyuan",
      HuggingFaceInference: "huggingface",
      HuggingFaceInferenceEmbeddings: "huggingface",
    }],
  ] as ReadonlyArray<
    readonly [string, string, Record<string, string>, Record<string, string>?]
  >).map(([pkg, provider, clients, providers]): SdkEntry => ({
    package: pkg,
    library: "langchain",
    framework: true,
    provider,
    clients,
    ...(providers ? { providers } : {}),
    methods: LANGCHAIN_METHODS,
    chains: LANGCHAIN_CHAINS,
    scanOnly: true,
  })),
  {
    // Workers AI through a Worker's binding, `env.AI.run(model, inputs)` (`c.env.AI`,
    // `this.env.AI`): nothing is imported, and `AI` is the binding's name in Cloudflare's docs and
    // templates. The package is where its type (`Ai`) comes from.
    package: "@cloudflare/workers-types",
    library: "workers_ai",
    provider: "cloudflare.workers_ai",
    clients: {},
    methods: { "AI.run": null },
    distinctive: ["AI.run"],
    bindings: ["AI.run"],
    scanOnly: true,
  },
];

/**
 * The provider of a client (or factory) an entry names: the class's own (`AzureOpenAI`) or the
 * package's.
 *
 * @example
 * ```ts
 * import { clientProvider, sdkOf } from "./catalog.ts";
 * clientProvider(sdkOf("openai")!, "AzureOpenAI"); // "azure.ai.openai"
 * ```
 */
export function clientProvider(entry: SdkEntry, name: string): string {
  return entry.providers?.[name] ?? entry.provider;
}

/**
 * The method table of a client an entry names: its own (`clientMethods`) or the package's.
 *
 * @example
 * ```ts
 * import { methodsOf, sdkOf } from "./catalog.ts";
 * methodsOf(sdkOf("@mistralai/mistralai")!, "default").chat; // "chat"
 * methodsOf(sdkOf("@mistralai/mistralai")!, "Mistral")["chat.complete"]; // "chat"
 * ```
 */
export function methodsOf(
  entry: SdkEntry,
  client: string,
): Readonly<Record<string, string | null>> {
  return entry.clientMethods?.[client] ?? entry.methods;
}

/** The package a specifier names: `openai` for `openai`, `npm:openai@^7`, `openai/resources`. */
export function packageName(specifier: string): string {
  let name = specifier.startsWith("npm:") ? specifier.slice(4) : specifier;
  const at = name.indexOf("@", 1);
  if (at > 0) name = name.slice(0, at);
  const parts = name.split("/");
  return name.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/** The catalog entry of a module specifier's package, or `undefined`. */
export function sdkOf(specifier: string): SdkEntry | undefined {
  const name = packageName(specifier);
  return CATALOG.find((entry) => entry.package === name);
}

const hasClients = (e: SdkEntry) =>
  Object.keys(e.clients).length > 0 || (e.instances?.length ?? 0) > 0;

/**
 * Packages with client classes (or instances) the runtime patches: what discovery imports and the
 * preload hands to the guard as the app loads them.
 */
export const RUNTIME_PACKAGES: readonly string[] = CATALOG
  .filter((e) => !e.scanOnly && hasClients(e)).map((e) => e.package);

/**
 * Packages whose AI calls are exported functions only (`ai`): nothing to discover, but the preload
 * rebinds those functions as the app loads the package, so the call site stays the app's.
 */
export const FUNCTION_PACKAGES: readonly string[] = CATALOG.filter((e) =>
  !e.scanOnly && !hasClients(e) && e.functions !== undefined
).map((e) => e.package);
