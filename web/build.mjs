// Builds the dashboard into the directory given as the first argument (the CMake build puts it
// in <build>/web and embeds it into the sonde binary): app.js and app.css bundled and minified
// by esbuild, index.html copied. No source maps: the binary carries only what the browser runs.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] ?? join(here, "dist");
if (!existsSync(join(here, "node_modules", "esbuild"))) {
  console.error("web/node_modules is missing: run scripts/setup.sh (it runs `npm ci` in web/)");
  process.exit(1);
}
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, "src", "app.ts"), join(here, "src", "app.css")],
  outdir: out,
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  entryNames: "[name]",
  logLevel: "warning",
  legalComments: "none",
}).catch(() => process.exit(1));
copyFileSync(join(here, "src", "index.html"), join(out, "index.html"));
