// ESLint (flat config): the recommended rules over the browser sources and
// their node tests. `npm run lint` runs it; `make check` calls that.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["static/src/**/*.js"],
    languageOptions: {
      ecmaVersion: 2025,
      sourceType: "module",
      globals: globals.browser,
    },
  },
  {
    // The Quill binding reaches the connection only through its EditingPort
    // (handed to attach()); editor.js wires the UI to it.
    files: ["static/src/editor/quill-binding.js"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["./connection.js", "./transport.js", "./dispatch.js", "./ui.js"],
              message: "The binding talks to the connection through its port; editor.js wires the UI.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["tests/js/**/*.mjs", "eslint.config.mjs"],
    languageOptions: {
      ecmaVersion: 2025,
      sourceType: "module",
      globals: globals.node,
    },
  },
];
