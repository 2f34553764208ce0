// Builds the browser app into dist/: one bundle per page (content-hashed names under assets/),
// the pages' HTML with those names filled in, and a gzip and a Brotli copy of every text file
// (the server picks one by Accept-Encoding).
//
//   node scripts/build.mjs [--dev] [--out DIR]
//     --dev: no minification (easier to debug); --out: another directory than dist/
import * as esbuild from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, extname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const outAt = process.argv.indexOf("--out");
const dist = outAt > 0 && process.argv[outAt + 1] ? resolve(process.argv[outAt + 1]) : join(web, "dist");
const dev = process.argv.includes("--dev");
const pages = [
  { html: "index.html", entry: "src/map/main.ts", name: "map" },
  { html: "leaderboard.html", entry: "src/leaderboard/main.ts", name: "leaderboard" },
  { html: "console.html", entry: "src/console/main.ts", name: "console" },
];

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "assets"), { recursive: true });

const result = await esbuild.build({
  absWorkingDir: web,
  entryPoints: Object.fromEntries(pages.map((p) => [p.name, p.entry])),
  bundle: true,
  format: "esm",
  splitting: true,
  target: "es2022",  // BigInt (64-bit Protobuf fields) needs a browser from 2021 or later
  minify: !dev,
  sourcemap: "linked",
  outdir: join(dist, "assets"),
  entryNames: "[name]-[hash]",
  chunkNames: "chunk-[hash]",
  assetNames: "[name]-[hash]",
  loader: { ".png": "file", ".svg": "file" },
  metafile: true,
  logLevel: "warning",
});

// The JS and CSS each entry produced, as paths under dist/.
const outputs = {};
for (const [file, info] of Object.entries(result.metafile.outputs)) {
  if (!info.entryPoint) continue;
  const page = pages.find((p) => p.entry === info.entryPoint);
  if (!page) continue;
  outputs[page.name] = {
    js: relative(dist, join(web, file)),
    css: info.cssBundle ? relative(dist, join(web, info.cssBundle)) : undefined,
  };
}

for (const page of pages) {
  const out = outputs[page.name];
  if (!out) throw new Error(`build: no output for ${page.entry}`);
  const tags = [
    out.css ? `<link rel="stylesheet" href="/${out.css}">` : "",
    `<script type="module" src="/${out.js}"></script>`,
  ].join("\n    ");
  const html = readFileSync(join(web, page.html), "utf8").replace("<!-- assets -->", tags);
  if (html.includes("<!-- assets -->") || !html.includes(out.js)) throw new Error(`build: ${page.html} has no <!-- assets --> marker`);
  writeFileSync(join(dist, page.html), html);
}
for (const file of readdirSync(join(web, "public"))) copyFileSync(join(web, "public", file), join(dist, file));

// Precompressed copies of text files.
const compressible = new Set([".html", ".js", ".css", ".svg", ".json", ".map", ".txt"]);
let files = 0;
let bytes = 0;
function compressTree(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      compressTree(path);
      continue;
    }
    files += 1;
    bytes += statSync(path).size;
    if (!compressible.has(extname(name))) continue;
    const data = readFileSync(path);
    writeFileSync(`${path}.gz`, gzipSync(data, { level: 9 }));
    writeFileSync(
      `${path}.br`,
      brotliCompressSync(data, {
        params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
      }),
    );
  }
}
compressTree(dist);
console.log(`build: ${files} files (${(bytes / 1024).toFixed(0)} KiB) in ${basename(dist)}/, with .gz and .br copies`);
