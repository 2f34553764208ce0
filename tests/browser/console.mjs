// Browser end-to-end tests of the race-day console (/console) in Debian's Chromium, against a real
// `splitstream serve` (with an officials file), redis-server, the demo event's reads over HTTP and
// one device played by the simulator over the device protocol.
//
//   node tests/browser/console.mjs --bin build/bin/splitstream [--sim-bin build/bin/splitstream-sim]
//       [--web-root web/dist] [--artifacts DIR] [--chromium /usr/bin/chromium]
//       [--readme-images docs/images]
//
// The officials (one official, one viewer) and their tokens come from the harness
// (writeOfficials); the node gets them with --officials-file. Screenshots go to --artifacts
// (default: tests/browser/artifacts/). Exit status 0 only when all passed.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  callApi,
  copyEvent,
  DemoReads,
  getJson,
  sessionCookie,
  startRedis,
  startServe,
  startSim,
  tempDir,
  waitFor,
  writeOfficials,
} from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const { values: opts } = parseArgs({
  options: {
    bin: { type: "string", default: join(root, "build", "bin", "splitstream") },
    "sim-bin": { type: "string", default: join(root, "build", "bin", "splitstream-sim") },
    "web-root": { type: "string", default: join(root, "web", "dist") },
    artifacts: { type: "string", default: join(here, "artifacts") },
    chromium: { type: "string", default: "/usr/bin/chromium" },
    "readme-images": { type: "string" },
  },
});

let chromium;
try {
  ({ chromium } = await import("playwright-core"));
} catch {
  console.error("console: playwright-core is missing: run `npm ci` in tests/browser/ (scripts/test.sh does)");
  process.exit(1);
}
for (const [what, path, fix] of [
  ["splitstream", opts.bin, "build it (scripts/test.sh does)"],
  ["splitstream-sim", opts["sim-bin"], "build it (scripts/test.sh does)"],
  ["the built console page", join(opts["web-root"], "console.html"), "run `npm ci && npm run build` in web/"],
  ["Chromium", opts.chromium, "apt-get install chromium (scripts/setup.sh does)"],
]) {
  if (!existsSync(path)) {
    console.error(`console: ${what} not found at ${path}: ${fix}`);
    process.exit(1);
  }
}
mkdirSync(opts.artifacts, { recursive: true });

const MIN = 60_000;
// The device the simulator plays (its mat expects marathon runners for hours); every other
// device's reads are posted over HTTP.
const SIM_DEVICE = "mirae-backup";
// A chip that no runner holds: the misprint given to one 10 km runner in the test's event.
const MISPRINT = "E2801160600002000000FFFF";
// How long a device may be silent before the alert (--silent-after, seconds).
const SILENT_AFTER_S = 5;

const demoDir = join(root, "events", "pyongyang-2025");
const reads = new DemoReads(join(demoDir, "reads.csv"));
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

// A 10 km runner with one chip who finished by `untilMs`: the one whose chip is misprinted.
function misprintedRunner(untilMs) {
  const [header, ...rows] = readFileSync(join(demoDir, "participants.csv"), "utf8").trim().split("\n");
  const col = (name) => header.split(",").indexOf(name);
  const tenK = rows.map((r) => r.split(",")).filter((f) => f[col("race")] === "10k" && !f[col("chip")].includes(";"));
  const gun = Date.parse("2025-04-06T08:20:00+09:00");
  for (const f of tenK) {
    const chip = f[col("chip")];
    const finished = [...reads.byDevice.values()].some((list) =>
      list.some((r) => r.chip === chip && r.timing_point_id === "stadium" && r.time_ms > gun + 25 * MIN && r.time_ms <= untilMs));
    if (finished) return f[col("bib")];
  }
  throw new Error("no 10 km runner with one chip finished in the demo reads");
}

const tmp = tempDir();
const tokens = join(tmp.dir, "tokens.txt");
reads.writeTokens(tokens);
const officials = writeOfficials(join(tmp.dir, "officials.txt"));
const marathonGun = Date.parse("2025-04-06T08:00:00+09:00");
// Everything up to 70 minutes into the marathon: the 5 km and 10 km leaders have finished.
const clock = marathonGun + 70 * MIN;
const chipBib = misprintedRunner(clock);
const eventDir = join(tmp.dir, "event");
// A cut-off half way through the marathon that the slowest runners are projected to miss.
const CUTOFF = { race: "marathon", split: "lap2", after: "1:50:00" };
const wornChip = copyEvent(demoDir, eventDir, {
  misprint: { bib: chipBib, chip: MISPRINT },
  cutoffs: { [CUTOFF.race]: { [CUTOFF.split]: CUTOFF.after } },
});
let redis;
let serve;
let browser;
let context;
let page;
const pageErrors = [];

// Requests the tests provoke on purpose (a wrong token, a viewer's correction, a bib that does
// not exist, a signed-out page) are logged by Chromium as failed loads: not defects.
const EXPECTED_FAILURE = /Failed to load resource: the server responded with a status of (401|403|422)/;

async function newConsolePage(ctx, name, viewport) {
  const p = await ctx.newPage();
  if (viewport) await p.setViewportSize(viewport);
  p.on("pageerror", (error) => pageErrors.push(`${name}: ${error.message}`));
  p.on("console", (msg) => {
    if (msg.type() === "error" && !/WebSocket connection to .* failed/.test(msg.text()) && !EXPECTED_FAILURE.test(msg.text()))
      pageErrors.push(`${name}: console: ${msg.text()}`);
  });
  await p.goto(`${serve.base}/console`);
  return p;
}

async function signIn(p, token) {
  await p.waitForSelector('[data-testid="signin-form"]', { state: "visible", timeout: 10_000 });
  await p.fill('[data-testid="token"]', token);
  await p.click('[data-testid="sign-in"]');
  await p.waitForSelector('[data-testid="who-role"]', { state: "visible", timeout: 10_000 });
  await p.waitForFunction(() => window.splitstream?.connection() === "live", null, { timeout: 10_000 });
}

async function showTab(p, tab) {
  await p.click(`#tab-${tab}`);
  await p.waitForSelector(`#panel-${tab}:not([hidden])`, { timeout: 5000 });
}

// Confirms the open dialog (with a reason, if given) and waits for it to close.
async function confirm(p, reason) {
  await p.waitForSelector('[data-testid="confirm-dialog"][open]', { timeout: 5000 });
  if (reason !== undefined) await p.fill('[data-testid="confirm-reason"]', reason);
  await p.click('[data-testid="confirm-ok"]');
  await p.waitForSelector('[data-testid="confirm-dialog"]:not([open])', { state: "attached", timeout: 5000 });
}

// Saves a screenshot among the artifacts; the README's one (`readme`: its file name) also goes to
// --readme-images.
async function screenshot(p, name, readme) {
  const file = join(opts.artifacts, `${name}.png`);
  await p.screenshot({ path: file });
  if (readme && opts["readme-images"]) {
    mkdirSync(opts["readme-images"], { recursive: true });
    copyFileSync(file, join(opts["readme-images"], readme));
  }
}

const asOfficial = (path, init = {}) => callApi(serve.base, path, { token: officials.official.token, ...init });

async function appliedAtLeast(n) {
  await waitFor(`the engine to apply ${n} reads`, async () => {
    const body = await (await fetch(`${serve.base}/readyz`)).text();
    const m = /"detail":"(\d+) reads applied/.exec(body);
    return m && Number(m[1]) >= n;
  });
}

async function restOrder(race, limit) {
  const standings = await getJson(`${serve.base}/api/v1/standings/${race}?limit=${limit}`);
  return (standings.rows ?? []).map((r) => r.bib);
}

async function correctionsCount() {
  const { status, body } = await asOfficial("/api/v1/admin/corrections");
  expect(status === 200, `GET /api/v1/admin/corrections: ${status}`);
  return body.corrections.length;
}

try {
  redis = await startRedis(tmp.dir);
  serve = await startServe({
    bin: opts.bin, event: eventDir, webRoot: opts["web-root"], redisPort: redis.port, tokens,
    officials: officials.path, extra: ["--silent-after", String(SILENT_AFTER_S)],
  });
  browser = await chromium.launch({
    executablePath: opts.chromium,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  // Both console tabs share one browser profile (one cookie jar), as two tabs on one tablet.
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const sent = await reads.feedUntil(serve.base, clock, new Set([SIM_DEVICE]));
  await appliedAtLeast(sent);

  await test("sign-in: a wrong token is refused on the form; the token never lands in the URL or storage", async () => {
    page = await newConsolePage(context, "official");
    await page.waitForSelector('[data-testid="signin-form"]', { state: "visible", timeout: 10_000 });
    await page.fill('[data-testid="token"]', "not-a-token-of-this-event");
    await page.click('[data-testid="sign-in"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="signin-error"]').textContent.length > 0, null, { timeout: 5000 });
    expect((await page.inputValue('[data-testid="token"]')) === "", "the token field is emptied after each attempt");
    expect(await page.isHidden("#console"), "no panel before signing in");

    await signIn(page, officials.official.token);
    expect((await page.textContent('[data-testid="who-name"]')) === officials.official.name, "who is signed in");
    expect((await page.textContent('[data-testid="who-role"]')) === "official", "the role");
    expect(!page.url().includes(officials.official.token), "no token in the URL");
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    expect(!stored.includes(officials.official.token), "no token in web storage");
    const cookie = (await context.cookies(serve.base)).find((c) => c.name === "splitstream_session");
    expect(cookie && cookie.httpOnly && cookie.sameSite === "Strict", `an HttpOnly SameSite=Strict session cookie: ${JSON.stringify(cookie)}`);
    expect(!cookie.value.includes(officials.official.token), "the cookie is not the token");
  });

  await test("devices: every device of the event, whichever node holds it", async () => {
    await showTab(page, "devices");
    const event = await getJson(`${serve.base}/api/v1/event`);
    const { body } = await asOfficial("/api/v1/devices");
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="devices-body"] tr').length >= n, body.devices.length, { timeout: 10_000 });
    const shown = await page.$$eval('[data-testid="devices-body"] tr', (rows) => rows.map((r) => r.dataset.device));
    for (const d of body.devices) expect(shown.includes(d.id), `device ${d.id} listed`);
    const arch = '[data-testid="devices-body"] tr[data-device="arch-main"]';
    expect((await page.textContent(`${arch} td:nth-child(2)`)) === event.timing_points.find((t) => t.id === "arch").name, "the mat's name");
    await screenshot(page, "console-devices");
  });

  await test("devices: a device goes silent (offline) and comes back", async () => {
    // The simulator plays the device's reads at 60 times real time and goes off the network
    // from race minute 15 to 35 after its first read (15 s to 35 s of real time).
    const file = join(tmp.dir, "sim-reads.csv");
    const count = reads.writeDeviceReads(file, SIM_DEVICE, clock);
    expect(count > 100, `the device has reads to play (${count})`);
    const sim = startSim(opts["sim-bin"], [
      "replay", "--event", eventDir, "--reads", file, "--server", `127.0.0.1:${serve.devices}`,
      "--device-tokens-file", tokens, "--speed", "60", "--offline", `${SIM_DEVICE}=15-35`,
    ]);
    const row = `[data-testid="devices-body"] tr[data-device="${SIM_DEVICE}"]`;
    try {
      await page.waitForSelector(`${row}[data-state="connected"][data-alert="false"]`, { timeout: 15_000 });
      await page.waitForSelector(`${row} path.spark-line`, { state: "attached", timeout: 10_000 });
      expect((await page.textContent(`${row} td.node`)) !== "–", "the node holding the device is named");
      expect(/\d\d:\d\d:\d\d/.test(await page.textContent(`${row} td.last-read`)), "its last read's time");
      // Off the network while marathon runners are still to pass its mat: an alert.
      await page.waitForSelector(`${row}[data-alert="true"]`, { timeout: 30_000 });
      await page.waitForFunction(() => Number(document.querySelector("#tab-devices .badge").textContent) >= 1, null, { timeout: 10_000 });
      await showTab(page, "alerts");
      await page.waitForSelector(`[data-testid="silent-devices"] li[data-device="${SIM_DEVICE}"]`, { timeout: 10_000 });
      await screenshot(page, "console-alerts");
      await showTab(page, "devices");
      // Back on the network: its backlog arrives and the alert clears.
      await page.waitForSelector(`${row}[data-state="connected"][data-alert="false"]`, { timeout: 40_000 });
      const exit = await Promise.race([sim.exited, new Promise((r) => setTimeout(() => r("timeout"), 60_000))]);
      expect(exit !== "timeout" && exit.code === 0, `the simulator acknowledged every read (${JSON.stringify(exit)})`);
    } catch (error) {
      error.message += `\n--- splitstream-sim said:\n${sim.output}`;
      throw error;
    } finally {
      await sim.stop();
    }
  });

  await test("unknown chips: a chip assigned to its runner in one action (a bad bib changes nothing)", async () => {
    await showTab(page, "chips");
    const row = `[data-testid="chips-body"] tr[data-chip="${wornChip}"]`;
    await page.waitForSelector(row, { timeout: 10_000 });
    const before = await getJson(`${serve.base}/api/v1/runners/${chipBib}`);
    expect((before.splits ?? []).length === 0, `bib ${chipBib} has no split while its chip is unknown`);
    const count = await correctionsCount();

    // Cancelled: nothing is sent.
    await page.fill(`${row} [data-testid="chip-bib"]`, chipBib);
    await page.click(`${row} [data-testid="chip-assign"]`);
    await page.waitForSelector('[data-testid="confirm-dialog"][open]');
    const title = await page.textContent("#confirm-title");
    expect(title.includes(wornChip) && title.includes(chipBib), `the dialog names chip and bib: ${title}`);
    expect((await page.textContent("#confirm-details")).includes(before.name), "and the runner's name");
    await page.click('[data-testid="confirm-cancel"]');
    expect((await correctionsCount()) === count, "a cancelled action sends nothing");

    // A bib that does not exist: the server's message next to the action; the row stays.
    await page.fill(`${row} [data-testid="chip-bib"]`, "99999");
    await page.click(`${row} [data-testid="chip-assign"]`);
    await confirm(page);
    await page.waitForSelector(`${row} [data-testid="action-status"][data-kind="error"]`, { timeout: 10_000 });
    const error = await page.textContent(`${row} [data-testid="action-status"]`);
    expect(error.length > 0 && !error.startsWith("HTTP"), `the API's message is shown: ${error}`);
    expect((await correctionsCount()) === count, "a refused correction records nothing");
    expect((await page.inputValue(`${row} [data-testid="chip-bib"]`)) === "99999", "the typed bib stays for fixing");

    await page.fill(`${row} [data-testid="chip-bib"]`, chipBib);
    await page.click(`${row} [data-testid="chip-assign"]`);
    await confirm(page, "chip misprinted at bib pickup");
    // The chip is no longer unknown; its runner has every split and is in the standings.
    await page.waitForSelector(row, { state: "detached", timeout: 10_000 });
    await waitFor(`bib ${chipBib} to finish with its chip's reads`, async () =>
      (await getJson(`${serve.base}/api/v1/runners/${chipBib}`)).status === "RUNNER_STATUS_FINISHED");
    expect((await restOrder("10k", 500)).includes(chipBib), "the runner is in the public 10 km standings");
    const { body } = await asOfficial(`/api/v1/admin/corrections?kind=move_chip&bib=${chipBib}`);
    const record = body.corrections.at(-1);
    expect(record?.by === officials.official.name, `the log names who did it: ${JSON.stringify(record)}`);
  });

  let leader;
  await test("review: voiding the leader's finish reads changes the public leaderboard; undo and restore put it back", async () => {
    const board = await context.newPage();
    board.on("pageerror", (error) => pageErrors.push(`leaderboard: ${error.message}`));
    await board.goto(`${serve.base}/leaderboard?race=5k&rows=10`);
    const firstRow = () => board.$eval("#standings-body tr", (tr) => tr.dataset.bib).catch(() => "");
    await waitFor("the leaderboard to show the 5 km standings", async () => (await firstRow()) === (await restOrder("5k", 10))[0]);
    leader = await firstRow();
    expect((await getJson(`${serve.base}/api/v1/runners/${leader}`)).status === "RUNNER_STATUS_FINISHED", "the 5 km leader has finished");

    await showTab(page, "review");
    await page.fill('[data-testid="open-bib"]', leader);
    await page.click('[data-testid="open-runner"]');
    const card = `[data-testid="review-card"][data-bib="${leader}"]`;
    await page.waitForSelector(`${card} tr[data-used-for="finish"]`, { timeout: 10_000 });
    // Each line read the chip (some more than once): the next read takes the finish until none
    // is left. A spectator carried the chip over the line, say.
    let voided = 0;
    for (let i = 0; i < 12; i++) {
      const time = await page.$eval(`${card} tr[data-used-for="finish"]`, (tr) => tr.dataset.time).catch(() => null);
      if (!time) break;
      await page.click(`${card} tr[data-used-for="finish"][data-time="${time}"] button[data-action="void"]`);
      await confirm(page, "chip carried over the line");
      await page.waitForSelector(`${card} tr[data-time="${time}"][data-voided="true"]`, { timeout: 10_000 });
      voided += 1;
    }
    expect(voided > 0, "a finish read was voided");
    expect(!(await page.$(`${card} tr[data-used-for="finish"]`)), "no read is left for the finish");
    await waitFor("the leader to lose the finish (REST)", async () => (await restOrder("5k", 10))[0] !== leader);
    await waitFor("the public leaderboard to change", async () => (await firstRow()) === (await restOrder("5k", 10))[0]);
    expect((await firstRow()) !== leader, "a new 5 km leader on the public page");
    expect((await page.$$(`${card} [data-testid="voids"] li`)).length === voided, "each void listed for restore");
    await screenshot(page, "console-review");

    // The log: who, what, the effect; undo the newest void there.
    await showTab(page, "corrections");
    const newest = '[data-testid="corrections-body"] tr[data-kind="void_reads"]';
    await page.waitForSelector(newest, { timeout: 10_000 });
    expect((await page.textContent(`${newest} [data-testid="correction-by"]`)) === officials.official.name, "who");
    const id = await page.getAttribute(newest, "data-id");
    await page.click(`[data-testid="corrections-body"] tr[data-id="${id}"] button[data-action="undo"]`);
    await confirm(page);
    await page.waitForSelector(`[data-testid="corrections-body"] tr[data-id="${id}"].undone`, { timeout: 10_000 });
    // The CSV export of the filtered log, as the page links it (the cookie authenticates it).
    await page.selectOption('[data-testid="filter-kind"]', "void_reads");
    const href = await page.getAttribute('[data-testid="export-csv"]', "href");
    expect(href.includes("kind=void_reads") && href.includes("format=csv"), `the export keeps the filters: ${href}`);
    const csv = await page.evaluate(async (h) => (await fetch(h, { credentials: "same-origin" })).text(), href);
    expect(csv.split("\n").length >= voided + 1 && csv.includes(officials.official.name), `a CSV of the voids:\n${csv}`);
    await screenshot(page, "console-corrections");

    // Restore the other voids from the runner's card.
    await showTab(page, "review");
    for (let i = 0; i < 12; i++) {
      // By selector, not element handle: a refresh may rebuild the card in between.
      const from = await page.$eval(`${card} [data-testid="voids"] li`, (li) => li.dataset.from).catch(() => null);
      if (!from) break;
      await page.click(`${card} [data-testid="voids"] li[data-from="${from}"] button[data-action="restore"]`);
      await confirm(page);
      await page.waitForSelector(`${card} [data-testid="voids"] li[data-from="${from}"]`, { state: "detached", timeout: 10_000 });
    }
    await waitFor("the leader to be back (REST)", async () => (await restOrder("5k", 10))[0] === leader);
    await waitFor("the public leaderboard to show the leader again", async () => (await firstRow()) === leader);
    await board.close();
  });

  await test("race director: overview, the overdue list by margin, the sweep", async () => {
    await showTab(page, "director");
    const overview = (await asOfficial("/api/v1/console/overview")).body;
    for (const race of overview.races) {
      await page.waitForSelector(`[data-testid="overview-body"] tr.race-row[data-race="${race.race}"]`, { timeout: 10_000 });
      const entered = await page.textContent(`[data-testid="overview-body"] tr.race-row[data-race="${race.race}"] td:nth-child(3)`);
      expect(entered === String(race.entered), `${race.race}: ${entered} entered, REST says ${race.entered}`);
    }
    const shown = () => page.$$eval('[data-testid="overdue-body"] tr', (rows) => rows.map((r) => r.dataset.bib));
    let previous;
    for (const minutes of [30, 5, 1]) {
      await page.selectOption('[data-testid="overdue-margin"]', String(minutes * 60));
      const rest = (await asOfficial(`/api/v1/console/overdue?margin_s=${minutes * 60}`)).body.runners.map((r) => r.bib);
      await waitFor(`the overdue list at ${minutes} min to match REST`, async () => (await shown()).join() === rest.join());
      if (previous) for (const bib of previous) expect(rest.includes(bib), `overdue by more than a wider margin, so by ${minutes} min too: ${bib}`);
      previous = rest;
    }
    await page.selectOption('[data-testid="sweep-race"]', "marathon");
    const sweep = (await asOfficial("/api/v1/console/sweep?race=marathon")).body;
    const out = sweep.splits.find((s) => s.still_out > 0);
    expect(out, "marathon runners are still out 70 minutes in");
    await page.click(`[data-testid="sweep-splits"] tr[data-split="${out.split}"] button`);
    const runners = (await asOfficial(`/api/v1/console/sweep?race=marathon&split=${out.split}`)).body.runners.map((r) => r.bib);
    await waitFor("the sweep list to match REST", async () =>
      (await page.$$eval('[data-testid="sweep-runners"] tr[data-bib]', (rows) => rows.map((r) => r.dataset.bib))).join() === runners.join());
    await screenshot(page, "console-director", "console.png");
  });

  await test("cut-offs: the runners projected to miss one, in the race director's panel and in the alerts", async () => {
    const { body } = await asOfficial("/api/v1/console/cutoffs");
    const cutoff = body.cutoffs.find((c) => c.race === CUTOFF.race && c.split === CUTOFF.split);
    expect(cutoff, `the event's cut-off at ${CUTOFF.race} ${CUTOFF.split} is listed: ${JSON.stringify(body)}`);
    expect(cutoff.projected_to_miss.length > 0, "the slowest marathon runners are projected to miss it");
    const row = `[data-testid="cutoffs-body"] tr[data-race="${CUTOFF.race}"][data-split="${CUTOFF.split}"]`;
    await page.waitForSelector(`${row}.alert`, { timeout: 10_000 });
    const text = await page.textContent(row);
    for (const r of cutoff.projected_to_miss) expect(text.includes(r.bib), `bib ${r.bib} named in the cut-off row`);
    await showTab(page, "alerts");
    await page.waitForSelector(`[data-testid="cutoff-misses"] li[data-race="${CUTOFF.race}"][data-split="${CUTOFF.split}"]`, { timeout: 10_000 });
    // The alerts count overdue runners with the margin the race director chose.
    const margin = await page.inputValue('[data-testid="overdue-margin"]');
    const overdue = (await asOfficial(`/api/v1/console/overdue?margin_s=${margin}`)).body.runners.length;
    await page.waitForFunction((n) => document.querySelector('[data-testid="overdue-count"]')?.dataset.count === String(n), overdue, { timeout: 10_000 });
  });

  await test("a viewer sees the panels and can correct nothing; a viewer's correction is refused", async () => {
    // A viewer signs in on the same browser (another tab): the session cookie is now the
    // viewer's, and a tab opened now shows the console as the viewer sees it.
    const value = await sessionCookie(serve.base, officials.viewer.token);
    await context.addCookies([{ name: "splitstream_session", value, url: serve.base, httpOnly: true, sameSite: "Strict" }]);
    const viewer = await newConsolePage(context, "viewer");
    await viewer.waitForSelector('[data-testid="who-role"]', { state: "visible", timeout: 10_000 });
    await viewer.waitForFunction(() => window.splitstream?.connection() === "live", null, { timeout: 10_000 });
    expect((await viewer.textContent('[data-testid="who-name"]')) === officials.viewer.name, "the viewer's name is shown");
    expect((await viewer.textContent('[data-testid="who-role"]')).startsWith("viewer"), "the viewer's role is shown");
    await showTab(viewer, "review");
    await viewer.fill('[data-testid="open-bib"]', leader);
    await viewer.click('[data-testid="open-runner"]');
    await viewer.waitForSelector(`[data-testid="review-card"][data-bib="${leader}"]`, { timeout: 10_000 });
    const visible = await viewer.$$eval('#console [data-action]', (buttons) => buttons.filter((b) => !b.closest("[hidden]") && !b.hidden && !b.disabled).length);
    expect(visible === 0, `no correction control for a viewer (${visible} shown)`);

    // The first tab still shows an official's buttons, but its requests now carry the viewer's
    // session: the server refuses, the page shows why and changes nothing.
    const count = await correctionsCount();
    await showTab(page, "review");
    const card = `[data-testid="review-card"][data-bib="${leader}"]`;
    await page.waitForSelector(`${card} button[data-action="status-dnf"]`, { timeout: 10_000 });
    await page.click(`${card} button[data-action="status-dnf"]`);
    await confirm(page);
    await page.waitForSelector(`${card} .card-actions [data-testid="action-status"][data-kind="error"]`, { timeout: 10_000 });
    const message = await page.textContent(`${card} .card-actions [data-testid="action-status"][data-kind="error"]`);
    expect(message.includes(officials.viewer.name) || /viewer/i.test(message), `the 403 message is shown: ${message}`);
    expect((await correctionsCount()) === count, "nothing recorded");
    expect((await getJson(`${serve.base}/api/v1/runners/${leader}`)).status === "RUNNER_STATUS_FINISHED", "the runner is unchanged");
    expect((await page.getAttribute(card, "data-status")) !== "dnf", "the card is unchanged");

    // A cookie-authenticated POST without the console header: refused as cross-site.
    const csrf = await viewer.evaluate(async () => {
      const res = await fetch("/api/v1/admin/corrections", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: "{}" });
      return { status: res.status, code: (await res.json()).error?.code };
    });
    expect(csrf.status === 403 && csrf.code === "csrf", `no console header: 403 csrf (${JSON.stringify(csrf)})`);

    // Sign out: both tabs go back to the sign-in form (the cookie is gone for both).
    await viewer.click('[data-testid="sign-out"]');
    await viewer.waitForSelector('[data-testid="signin-form"]', { state: "visible", timeout: 5000 });
    expect(await viewer.isHidden("#console"), "no panel after signing out");
    const session = await viewer.evaluate(async () => (await fetch("/api/v1/session", { credentials: "same-origin" })).status);
    expect(session === 401, `signed out: GET /api/v1/session answers ${session}`);
    await page.waitForSelector('[data-testid="signin-form"]', { state: "visible", timeout: 15_000 });
    await viewer.close();
  });

  await test("the console works on a 10-inch tablet held upright", async () => {
    const tablet = await browser.newContext({ viewport: { width: 800, height: 1280 }, isMobile: true, hasTouch: true });
    const p = await tablet.newPage();
    p.on("pageerror", (error) => pageErrors.push(`tablet: ${error.message}`));
    await p.goto(`${serve.base}/console#director`);
    await signIn(p, officials.official.token);
    await p.waitForSelector('[data-testid="overview-body"] tr', { timeout: 10_000 });
    const width = await p.evaluate(() => document.documentElement.scrollWidth);
    expect(width <= 800, `no sideways scrolling of the page (${width} px wide)`);
    const small = await p.$$eval("#console button:not([hidden]), #console select", (controls) =>
      controls.filter((c) => c.offsetParent !== null && c.getBoundingClientRect().height < 36).map((c) => c.textContent));
    expect(small.length === 0, `controls are touch-sized: ${small.join(", ")}`);
    await screenshot(p, "console-tablet");
    await tablet.close();
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
