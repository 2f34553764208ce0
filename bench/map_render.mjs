// How the spectator map copes with a large field: the page in headless Chromium against a real
// server on the demo event, plus N made-up running runners spread over the courses; it reports
// the time each animation frame spends drawing and the interval between frames.
//
//   node bench/map_render.mjs [--bin build/bin/splitstream] [--web-root web/dist]
//       [--runners 1000,10000,60000] [--seconds 5]
//
// Needs tests/browser's packages (scripts/build-web.sh --with-browser-tests) and Chromium.
// Headless Chromium draws the canvas in software (--disable-gpu): a phone with a GPU does better.
import { createRequire } from "node:module";
import { cpus } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const browserTests = join(root, "tests", "browser");
const { chromium } = createRequire(join(browserTests, "package.json"))("playwright-core");
const { DemoReads, startRedis, startServe, tempDir, sleep } = await import(join(browserTests, "harness.mjs"));

const { values: opts } = parseArgs({
  options: {
    bin: { type: "string", default: join(root, "build", "bin", "splitstream") },
    "web-root": { type: "string", default: join(root, "web", "dist") },
    runners: { type: "string", default: "1000,10000,60000" },
    seconds: { type: "string", default: "5" },
  },
});

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

const tmp = tempDir();
const reads = new DemoReads(join(root, "events", "pyongyang-2025", "reads.csv"));
reads.writeTokens(join(tmp.dir, "tokens.txt"));
const redis = await startRedis(tmp.dir);
const serve = await startServe({
  bin: opts.bin, event: join(root, "events", "pyongyang-2025"), webRoot: opts["web-root"],
  redisPort: redis.port, tokens: join(tmp.dir, "tokens.txt"),
});
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
});
try {
  console.log(`map render: ${cpus()[0]?.model ?? "?"} x${cpus().length}, Chromium headless, 1280x800, ${opts.seconds} s per size`);
  console.log("runners  drawn   draw p50  draw p95  draw max  frame p50  frame p95  fps");
  for (const n of opts.runners.split(",").map(Number)) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${serve.base}/`);
    await page.waitForFunction(() => window.splitstream?.connection() === "live");
    await page.evaluate((count) => window.splitstream.addSyntheticRunners(count), n);
    await sleep(1000);  // let the first frames settle
    await page.evaluate(() => window.splitstream.frameTimes());  // drop the start-up frames
    await sleep(Number(opts.seconds) * 1000);
    const { cost, interval } = await page.evaluate(() => window.splitstream.frameTimes());
    const drawn = await page.evaluate(() => window.splitstream.runnersDrawn());
    const fps = 1000 / percentile(interval, 50);
    console.log(
      `${String(n).padStart(7)}  ${String(drawn).padStart(5)}  ${percentile(cost, 50).toFixed(1).padStart(8)}  ` +
        `${percentile(cost, 95).toFixed(1).padStart(8)}  ${Math.max(...cost).toFixed(1).padStart(8)}  ` +
        `${percentile(interval, 50).toFixed(1).padStart(9)}  ${percentile(interval, 95).toFixed(1).padStart(9)}  ${fps.toFixed(0).padStart(3)}`,
    );
    await page.close();
  }
} finally {
  await browser.close();
  await serve.stop();
  await redis.stop();
  tmp.remove();
}
