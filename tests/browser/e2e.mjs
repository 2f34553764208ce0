// Browser end-to-end tests: the spectator map and the commentator leaderboard in Debian's
// Chromium, against a real `splitstream serve` and redis-server fed the demo event's reads.
//
//   node tests/browser/e2e.mjs --bin build/bin/splitstream [--web-root web/dist]
//       [--artifacts DIR] [--readme-images docs/images] [--chromium /usr/bin/chromium]
//
// Screenshots of both pages go to --artifacts (default: tests/browser/artifacts/); with
// --readme-images they also replace the README's pictures. Exit status 0 only when all passed.
import { existsSync, mkdirSync, copyFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DemoReads, getJson, startRedis, startServe, tempDir, waitFor } from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const { values: opts } = parseArgs({
  options: {
    bin: { type: "string", default: join(root, "build", "bin", "splitstream") },
    "web-root": { type: "string", default: join(root, "web", "dist") },
    artifacts: { type: "string", default: join(here, "artifacts") },
    "readme-images": { type: "string" },
    chromium: { type: "string", default: "/usr/bin/chromium" },
  },
});

let chromium;
try {
  ({ chromium } = await import("playwright-core"));
} catch {
  console.error("e2e: playwright-core is missing: run `npm ci` in tests/browser/ (scripts/test.sh does)");
  process.exit(1);
}
for (const [what, path, fix] of [
  ["splitstream", opts.bin, "build it (scripts/test.sh does)"],
  ["the built web app", join(opts["web-root"], "index.html"), "run `npm ci && npm run build` in web/"],
  ["Chromium", opts.chromium, "apt-get install chromium (scripts/setup.sh does)"],
]) {
  if (!existsSync(path)) {
    console.error(`e2e: ${what} not found at ${path}: ${fix}`);
    process.exit(1);
  }
}
mkdirSync(opts.artifacts, { recursive: true });

const eventDir = join(root, "events", "pyongyang-2025");
const reads = new DemoReads(join(eventDir, "reads.csv"));
const MIN = 60_000;
const results = [];
let failed = 0;

async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push(`ok    ${name} (${Date.now() - t0} ms)`);
    console.log(`ok    ${name}`);
  } catch (error) {
    failed += 1;
    results.push(`FAIL  ${name}: ${error.stack ?? error}`);
    console.log(`FAIL  ${name}\n${error.stack ?? error}`);
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

const tmp = tempDir();
const tokens = join(tmp.dir, "tokens.txt");
reads.writeTokens(tokens);
let redis;
let serve;
let browser;
const pageErrors = [];

async function appliedAll() {
  const wanted = `${reads.sentCount()} reads applied`;
  await waitFor(`the engine to apply ${wanted}`, async () => {
    const body = await (await fetch(`${serve.base}/readyz`)).text();
    return body.includes(`"detail":"${wanted}`);
  });
}

async function feed(untilMs) {
  await reads.feedUntil(serve.base, untilMs);
  await appliedAll();
}

async function openPage(path) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("pageerror", (error) => pageErrors.push(`${path}: ${error.message}`));
  page.on("console", (msg) => {
    // A refused WebSocket while the server restarts is expected; anything else is a defect.
    if (msg.type() === "error" && !/WebSocket connection to .* failed/.test(msg.text()))
      pageErrors.push(`${path}: console: ${msg.text()}`);
  });
  await page.goto(`${serve.base}${path}`);
  await page.waitForFunction(() => window.splitstream?.connection() === "live", null, { timeout: 10_000 });
  return page;
}

// Saves a screenshot among the artifacts; `readme` ones also go to --readme-images.
async function screenshot(page, name, readme = false) {
  const file = join(opts.artifacts, `${name}.png`);
  await page.screenshot({ path: file });
  if (readme && opts["readme-images"]) {
    mkdirSync(opts["readme-images"], { recursive: true });
    copyFileSync(file, join(opts["readme-images"], `${name}.png`));
  }
}

// The bibs of a standings page from the REST API (the truth the table must show).
async function restOrder(race, limit) {
  const page = await getJson(`${serve.base}/api/v1/standings/${race}?limit=${limit}`);
  return (page.rows ?? []).map((r) => r.bib);
}

async function tableOrder(page) {
  return page.$$eval("#standings-body tr", (rows) => rows.map((r) => r.dataset.bib));
}

// True when two runners in both lists appear in opposite orders.
function swapped(before, after) {
  const at = new Map(after.map((b, i) => [b, i]));
  const common = before.filter((b) => at.has(b));
  for (let i = 0; i + 1 < common.length; i++) if (at.get(common[i]) > at.get(common[i + 1])) return true;
  return false;
}

try {
  redis = await startRedis(tmp.dir);
  serve = await startServe({ bin: opts.bin, event: eventDir, webRoot: opts["web-root"], redisPort: redis.port, tokens });
  browser = await chromium.launch({
    executablePath: opts.chromium,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  const event = await getJson(`${serve.base}/api/v1/event`);
  const marathon = event.races.find((r) => r.id === "marathon");
  const gun = marathon.gun_time_ms;
  let clock = gun + 40 * MIN;
  await feed(clock);

  let mapPage;
  let followBib;

  await test("map: the course is drawn and runners appear and move", async () => {
    mapPage = await openPage("/");
    await mapPage.waitForSelector(".leaflet-overlay-pane path");  // the course lines
    expect((await mapPage.$$(".tp-label")).length === event.timing_points.length, "one label per timing point");
    await mapPage.waitForFunction(() => window.splitstream.runnersDrawn() > 20, null, { timeout: 10_000 });
    const top = (await getJson(`${serve.base}/api/v1/standings/marathon?limit=20`)).rows;
    const running = top.filter((r) => r.status === "RUNNER_STATUS_RUNNING").map((r) => r.bib);
    expect(running.length > 5, "marathon runners are running 40 minutes in");
    const positions = () => mapPage.evaluate((bibs) => bibs.map((b) => window.splitstream.position(b)), running);
    const first = await positions();
    expect(first.every((p) => p !== null), "every running runner is drawn");
    // Animated between mats from the pace (a runner overdue at the next mat waits there)...
    let second = first;
    let moved = [];
    await waitFor(`runners to move between mats (${running.length} running)`, async () => {
      second = await positions();
      moved = running.filter((_, i) => second[i].distance > first[i].distance);
      return moved.length >= running.length / 2 ? moved.length : 0;
    });
    const i = running.indexOf(moved[0]);
    expect(second[i].x !== first[i].x || second[i].y !== first[i].y, "the dot moves on screen");
    followBib = moved[0];
    // ...and corrected by the next passings: ten more minutes of reads.
    clock += 10 * MIN;
    await feed(clock);
    // Ten minutes on: further along, and at least at the last mat the server credited.
    const credited = (await getJson(`${serve.base}/api/v1/runners/${followBib}`)).state.distanceM;
    await mapPage.waitForFunction(
      ([bib, d, atLeast]) => {
        const now = window.splitstream.position(bib)?.distance ?? 0;
        return now > d + 100 && now >= atLeast - 1;
      },
      [followBib, second[i].distance, credited],
      { timeout: 10_000 },
    );
    expect(/^Splitstream/.test(await mapPage.textContent(".brand")), "header");
    expect((await mapPage.getAttribute("#connection", "data-state")) === "live", "connection shows live");
    await screenshot(mapPage, "map");
  });

  await test("map: following a runner shows its card with the ETA, kept in the URL", async () => {
    await mapPage.fill("#search", followBib);
    await mapPage.click(`#search-results li[data-bib="${followBib}"]`);
    const card = `[data-testid="runner-card"][data-bib="${followBib}"]`;
    await mapPage.waitForSelector(`${card} [data-testid="card-etas"] li`, { timeout: 10_000 });
    const etas = await mapPage.$$eval(`${card} [data-testid="card-etas"] li`, (li) => li.map((x) => x.textContent));
    expect(etas.some((t) => t.startsWith("Finish") && /~\d\d:\d\d:\d\d/.test(t)), `a finish ETA: ${etas}`);
    const detail = await getJson(`${serve.base}/api/v1/runners/${followBib}`);
    const rank = await mapPage.textContent(`${card} [data-testid="card-rank"]`);
    expect(rank.startsWith(`${detail.rank} overall`), `card rank "${rank}" = REST rank ${detail.rank}`);
    expect(new URL(mapPage.url()).searchParams.get("follow") === followBib, "the URL names the followed runner");
    await screenshot(mapPage, "map-follow", true);
    // A reload (and a new tab from local storage) still follows the runner.
    await mapPage.goto(`${serve.base}/`);
    await mapPage.waitForSelector(`${card} [data-testid="card-rank"]`, { timeout: 10_000 });
    // Search by name finds the runner too.
    const name = detail.name.split(" ").slice(-1)[0];
    await mapPage.fill("#search", name);
    await mapPage.waitForSelector(`#search-results li[data-bib="${followBib}"]`, { timeout: 5000 });
    await mapPage.fill("#search", "");
  });

  let board;
  await test("leaderboard: reorders in place when a passing changes the order", async () => {
    board = await openPage("/leaderboard?race=marathon&rows=25");
    await waitFor("the table to show the REST standings", async () => {
      const [dom, rest] = [await tableOrder(board), await restOrder("marathon", 25)];
      return dom.length > 0 && dom.join() === rest.join();
    });
    const before = await tableOrder(board);
    // Mark a row: updated in place, the same element must still be there after the reorder.
    await board.$eval(`#standings-body tr[data-bib="${before[0]}"]`, (tr) => (tr.dataset.marked = "yes"));
    let after = before;
    for (let i = 0; i < 30 && !swapped(before, after); i++) {
      clock += 2 * MIN;
      await feed(clock);
      after = await restOrder("marathon", 25);
    }
    expect(swapped(before, after), "the demo race changes the top 25's order within an hour");
    await waitFor("the table to reorder to the REST order", async () => (await tableOrder(board)).join() === after.join());
    const shown = await tableOrder(board);
    expect(swapped(before, shown), "rows swapped places");
    expect(
      (await board.$$(`#standings-body tr[data-marked="yes"]`)).length === (after.includes(before[0]) ? 1 : 0),
      "rows are moved, not rebuilt",
    );
    const movers = await board.$$eval("#standings-body td.col-change", (td) => td.filter((c) => c.textContent).length);
    expect(movers > 0, "position changes since the previous split are shown");
    const projected = await board.$$eval("#standings-body td.col-projected", (td) => td.filter((c) => c.textContent).length);
    expect(projected > 0, "projected finish times are shown");
  });

  await test("leaderboard: passings feed (filterable) and the leader at each timing point", async () => {
    await board.waitForSelector("#feed li", { timeout: 5000 });
    await board.selectOption("#feed-filter", "arch");
    await waitFor("the feed to show only the arch", async () => {
      const tps = await board.$$eval("#feed li", (li) => li.map((x) => x.dataset.tp));
      return tps.length > 0 && tps.every((t) => t === "arch");
    });
    expect(new URL(board.url()).searchParams.get("tp") === "arch", "the filter is in the URL");
    const leaders = await getJson(`${serve.base}/api/v1/leaders/marathon`);
    const first = leaders.passings.find((p) => p.splitId === "l1-arch");
    expect(first, "REST names a leader at l1-arch");
    await waitFor("the leaders table to name the l1-arch leader", async () =>
      (await board.textContent('#leaders-body tr[data-split="l1-arch"] td.num')) === first.bib);
    await board.selectOption("#feed-filter", "");
    await screenshot(board, "leaderboard", true);
  });

  await test("both pages recover after the server restarts and resume from their version", async () => {
    const versionBefore = BigInt(await board.evaluate(() => window.splitstream.version()));
    const ports = { http: serve.http, devices: serve.devices };
    const stopped = await serve.stop("SIGTERM");
    expect(stopped.code === 0, `serve stopped cleanly (${JSON.stringify(stopped)})`);
    for (const page of [mapPage, board])
      await page.waitForFunction(() => window.splitstream.connection() === "reconnecting", null, { timeout: 10_000 });
    expect((await board.getAttribute("#connection", "data-state")) === "reconnecting", "the badge says reconnecting");
    serve = await startServe({ bin: opts.bin, event: eventDir, webRoot: opts["web-root"], redisPort: redis.port, tokens, ports });
    clock += 15 * MIN;
    await feed(clock);
    for (const page of [mapPage, board])
      await page.waitForFunction(() => window.splitstream.connection() === "live", null, { timeout: 20_000 });
    const rest = await restOrder("marathon", 25);
    await waitFor("the table to match the standings after the restart", async () => (await tableOrder(board)).join() === rest.join(), 10_000);
    const versionAfter = BigInt(await board.evaluate(() => window.splitstream.version()));
    expect(versionAfter > versionBefore, `the page moved on from version ${versionBefore} (now ${versionAfter})`);
    await mapPage.waitForFunction(() => window.splitstream.runnersDrawn() > 20, null, { timeout: 10_000 });
    // The whole race: the table ends equal to the final results.
    await feed(Number.MAX_SAFE_INTEGER);
    const final = await restOrder("marathon", 25);
    await waitFor("the final standings", async () => (await tableOrder(board)).join() === final.join(), 10_000);
  });

  await test("the map works on a phone screen", async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    phone.on("pageerror", (error) => pageErrors.push(`phone: ${error.message}`));
    await phone.goto(`${serve.base}/?race=10k&follow=${followBib}`);
    await phone.waitForFunction(() => window.splitstream?.connection() === "live", null, { timeout: 10_000 });
    const box = await phone.$eval("#map", (m) => m.getBoundingClientRect().width);
    expect(box <= 390, "the map fits the screen width");
    expect((await phone.$eval("#race", (s) => s.value)) === "10k", "the race from the URL is chosen");
    await phone.waitForSelector(`[data-testid="runner-card"][data-bib="${followBib}"]`);
    // The race clock runs on the server's latest read time (the demo race is in 2025).
    await phone.waitForFunction(() => /^10 km \d:\d\d:\d\d$/.test(document.querySelector("#clock").textContent), null, { timeout: 5000 });
    await screenshot(phone, "map-phone");
    await phone.close();
  });

  await test("the map shows tiles from the server's --map-tiles", async () => {
    // A second node, push only, whose tile template points at a file it serves itself (the
    // static files ignore the query string), so the tiles load without a network.
    const tiled = await startServe({
      bin: opts.bin, event: eventDir, webRoot: opts["web-root"], redisPort: redis.port, tokens,
      extra: ["--roles", "push", "--map-tiles", "/favicon.svg?{z}/{x}/{y}", "--map-attribution", "Test tiles"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
      page.on("pageerror", (error) => pageErrors.push(`tiles: ${error.message}`));
      await page.goto(`${tiled.base}/`);
      await page.waitForFunction(() => {
        const tiles = [...document.querySelectorAll(".leaflet-tile-pane img")];
        return tiles.length > 0 && tiles.every((img) => img.complete && img.naturalWidth > 0);
      }, null, { timeout: 10_000 });
      const src = await page.$eval(".leaflet-tile-pane img", (img) => img.getAttribute("src"));
      expect(/^\/favicon\.svg\?\d+\/\d+\/\d+$/.test(src), `a tile from the template: ${src}`);
      expect((await page.textContent(".leaflet-control-attribution")).includes("Test tiles"), "the attribution");
      expect(!(await page.$eval("#map", (m) => m.classList.contains("no-tiles"))), "not the plain background");
      // The first node has no tiles: the course on a plain background.
      expect(await mapPage.$eval("#map", (m) => m.classList.contains("no-tiles")), "no tiles without --map-tiles");
      expect((await mapPage.$$(".leaflet-tile-pane img")).length === 0, "and no tile requests");
      await page.close();
    } finally {
      await tiled.stop();
    }
  });

  await test("pages raised no script errors", async () => {
    expect(pageErrors.length === 0, pageErrors.join("\n"));
  });
} catch (error) {
  failed += 1;
  results.push(`FAIL  setup: ${error.stack ?? error}`);
  console.log(`FAIL  setup\n${error.stack ?? error}`);
  if (serve) console.log(`--- serve output:\n${serve.output}`);
} finally {
  await browser?.close().catch(() => {});
  await serve?.stop();
  await redis?.stop();
  tmp.remove();
}

console.log(`\n${results.length - failed} passed, ${failed} failed (screenshots in ${opts.artifacts})`);
process.exit(failed > 0 ? 1 : 0);
