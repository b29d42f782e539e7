/** The package version; deno.json and package.json carry the same string (a test keeps them equal). */
export const VERSION = "0.1.0";
