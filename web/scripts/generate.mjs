// Generates TypeScript for proto/splitstream/v1/*.proto into src/gen/ with protoc (Debian's
// protobuf-compiler) and protoc-gen-es (@bufbuild/protoc-gen-es from npm).
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const protoRoot = join(web, "..", "proto");
const out = join(web, "src", "gen");
const plugin = join(web, "node_modules", ".bin", "protoc-gen-es");
const protos = readdirSync(join(protoRoot, "splitstream", "v1"))
  // checkpoint.proto is the server's own storage layout: no browser reads it.
  .filter((f) => f.endsWith(".proto") && f !== "checkpoint.proto")
  .map((f) => join("splitstream", "v1", f));

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
try {
  execFileSync(
    "protoc",
    [`--plugin=protoc-gen-es=${plugin}`, `--es_out=${out}`, "--es_opt=target=ts", `-I${protoRoot}`, ...protos],
    { stdio: "inherit" },
  );
} catch (error) {
  console.error(
    "generate: protoc failed. It comes from Debian's protobuf-compiler package " +
      "(scripts/setup.sh installs it); protoc-gen-es from `npm ci`.",
  );
  process.exit(1);
}
console.log(`generate: ${protos.length} proto files -> src/gen/`);
