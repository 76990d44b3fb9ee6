// Build step after `tsc`: replaces dist/cli/commands/protect-image.js with one bundled file
// (esbuild), so `vigil protect image` loads one module instead of ~35. Start-up is most of that
// command's time (bench/RESULTS-protect-image.md): every module costs a resolve, a realpath, an
// open, a read and a compile.
//
// Kept outside the bundle, so there is one instance of each wherever it is imported:
//   - packages (node_modules): loaded by node as usual (the ECR SDK only when ECR is used);
//   - src/cli/errors.ts: run-cli.ts checks `instanceof UserError` on what the command throws;
//   - src/cli/load-policy.ts: the policy compiler (zod, yaml), imported only with --policy.
// The bundle sits where tsc put the file it replaces, so paths relative to import.meta.url
// (three levels up is the package root) stay right. tsc's .js.map for it is removed (stale).
//
//   node scripts/bundle-cli.mjs        (run by `npm run build`, after tsc)

import { build } from "esbuild";
import { rm } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const entries = [{ source: "src/cli/commands/protect-image.ts", out: "dist/cli/commands/protect-image.js" }];
const shared = ["src/cli/errors.ts", "src/cli/load-policy.ts"].map((p) => join(root, p));

for (const { source, out } of entries) {
  const outFile = join(root, out);
  /** @type {import("esbuild").Plugin} */
  const keepShared = {
    name: "keep-shared-modules",
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        const target = resolve(args.resolveDir, args.path).replace(/\.js$/, ".ts");
        if (!shared.includes(target)) return undefined;
        // The import as the bundle (in dist/, next to tsc's output) must write it.
        const built = join(root, "dist", relative(join(root, "src"), target)).replace(/\.ts$/, ".js");
        let path = relative(dirname(outFile), built);
        if (!path.startsWith(".")) path = `./${path}`;
        return { path, external: true };
      });
    },
  };
  await build({
    entryPoints: [join(root, source)],
    outfile: outFile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    plugins: [keepShared],
    legalComments: "none",
    logLevel: "warning",
    banner: { js: `// Bundled from ${source} by scripts/bundle-cli.mjs; do not edit.` },
  });
  await rm(`${outFile}.map`, { force: true });
}
