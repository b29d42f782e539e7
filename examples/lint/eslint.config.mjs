// ESLint (flat config) with aiguard's rule. In your project:
//   import aiguard from "@aiguard/attest/eslint";
import tsParser from "@typescript-eslint/parser";
import aiguard from "../../eslint.ts";

export default [
  { files: ["**/*.ts"], languageOptions: { parser: tsParser } },
  aiguard.configs.recommended,
];
