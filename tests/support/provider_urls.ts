/** URLs that name an AI provider in unusual ways, for the registry and for the layers that use it. */

/** Ways of writing api.openai.com that a WHATWG parser (fetch, WebSocket, Node's http) reads as it. */
export const OPENAI_SPELLINGS = [
  "https://api.openai.com./v1/models",
  "https://api.openai%2Ecom/v1/models",
  "https:api.openai.com/v1/models",
  "https:\\\\api.openai.com\\v1\\models",
  "https:/api.openai.com/v1/models",
  "https:///api.openai.com/v1/models",
  "  https://api.openai.com/v1/models\n",
  "https://api.open\tai.com/v1/models",
  "HTTPS://API.OPENAI.COM/v1/models",
  "https://\uff41pi.openai.com/v1/models", // a fullwidth "a", mapped by IDNA
  "https://user:pw@api.openai.com:443/v1/models",
];
