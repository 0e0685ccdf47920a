// Types tsc needs for what esbuild and the pages provide (npm run typecheck).

/** esbuild's ``--loader:.svg=text``: an icon's markup. */
declare module "*.svg" {
  const markup: string;
  export default markup;
}

/** What the pages put on ``window`` for debugging and the browser tests. */
interface Window {
  collabdocs?: Record<string, unknown>;
  collabdocsHistory?: { open(): void; close(): void; load(): Promise<void> };
}
