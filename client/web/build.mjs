// Builds the web side with esbuild: the browser bundles and stylesheet, compiled into one
// self-contained gateway file (node build.mjs --bin=build/bin/intake-web), and the tests and
// bench as ES modules in --out (npm packages left external, found through a node_modules link).
import { chmodSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: { bin: { type: "string" }, out: { type: "string" } },
});
if (values.bin === undefined || values.out === undefined) {
  console.error("usage: node build.mjs --bin=PATH/intake-web --out=DIR");
  process.exit(2);
}
const bin = resolve(values.bin);
const out = resolve(values.out);

// 1. The browser side, kept in memory.
const browser = await esbuild.build({
  absWorkingDir: here,
  entryPoints: {
    "callback.js": "src/browser/callback.ts",
    "dashboard.js": "src/browser/dashboard.ts",
    "site.css": "src/browser/site.css",
  },
  entryNames: "[name]",
  outdir: "assets",
  bundle: true,
  minify: true,
  format: "esm",
  target: ["chrome109", "firefox115", "safari15.6"],
  write: false,
  logLevel: "warning",
});
const types = { ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };
const assets = {};
for (const file of browser.outputFiles) {
  const name = file.path
    .slice(file.path.lastIndexOf("/") + 1)
    .replace(/\.(js|css)\.(js|css)$/, ".$1");
  assets[name] = { type: types[name.slice(name.lastIndexOf("."))], body: file.text };
}

// 2. The gateway, with the assets compiled in.
const assetsPlugin = {
  name: "intake-web-assets",
  setup(build) {
    build.onResolve({ filter: /^intake-web:assets$/ }, () => ({
      path: "assets",
      namespace: "assets",
    }));
    build.onLoad({ filter: /.*/, namespace: "assets" }, () => ({
      contents: `export const ASSETS = ${JSON.stringify(assets)};`,
      loader: "js",
    }));
  },
};
mkdirSync(dirname(bin), { recursive: true });
await esbuild.build({
  absWorkingDir: here,
  entryPoints: ["src/gateway/main.ts"],
  outfile: bin,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  banner: { js: "#!/usr/bin/env node" },
  plugins: [assetsPlugin],
  logLevel: "warning",
});
chmodSync(bin, 0o755);

// 3. Tests and bench: ES modules beside a link to node_modules, so playwright-core and the
// rest resolve at run time exactly as installed.
rmSync(join(out, "test"), { recursive: true, force: true });
await esbuild.build({
  absWorkingDir: here,
  entryPoints: ["test/*.test.ts", "bench/*.ts"],
  outdir: out,
  outbase: ".",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  packages: "external",
  platform: "node",
  target: "node20",
  format: "esm",
  plugins: [assetsPlugin],
  logLevel: "warning",
});
rmSync(join(out, "node_modules"), { force: true });
symlinkSync(join(here, "node_modules"), join(out, "node_modules"));
