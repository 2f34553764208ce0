// What the browser tests run on: a real redis-server and `splitstream serve` on free ports, the
// demo event's reads fed over the HTTP ingest API, and Debian's Chromium through playwright-core.
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A loopback port free just now, below the kernel's ephemeral range and never the same twice in
// this process: a port the kernel hands out can be taken, while a server of the test is
// restarting, as the source port of any outgoing connection on the machine.
const handedOut = new Set();
export async function freePort() {
  let low = 32768;
  try {
    low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux: the usual range
  }
  const high = Math.max(10000 + 1000, low) - 1;
  for (let attempt = 0; attempt < 1000; attempt++) {
    const port = 10000 + Math.floor(Math.random() * (high - 10000 + 1));
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error("no free port below the ephemeral range");
}

function canListen(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.on("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

// Polls `check` (async, truthy when done) every 50 ms until `ms` pass; throws `what` on timeout.
export async function waitFor(what, check, ms = 10_000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last})`);
    await sleep(50);
  }
}

class Process {
  constructor(name, command, args) {
    this.name = name;
    this.output = "";
    this.child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.exited = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve({ code, signal })));
    const keep = (chunk) => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
    };
    this.child.stdout.on("data", keep);
    this.child.stderr.on("data", keep);
    this.child.on("error", (error) => {
      this.output += `\n${name}: ${error.message}`;
    });
  }

  async stop(signal = "SIGTERM", ms = 15_000) {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), ms);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}

export async function startRedis(dir) {
  const port = await freePort();
  const redis = new Process("redis-server", "redis-server", [
    "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir,
  ]);
  await waitFor("redis-server to answer PING", () => ping(port), 10_000);
  redis.port = port;
  return redis;
}

function ping(port) {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => resolve(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (data) => {
      socket.destroy();
      resolve(data.toString().startsWith("+PONG"));
    });
  });
}

// One `splitstream serve` node on the demo event; `ports` reuses a stopped node's ports;
// `officials` is an officials file (writeOfficials) for the console and the admin endpoints.
export async function startServe({ bin, event, webRoot, redisPort, tokens, ports, officials, extra = [] }) {
  const http = ports?.http ?? (await freePort());
  const devices = ports?.devices ?? (await freePort());
  const serve = new Process("splitstream serve", bin, [
    "serve", "--event", event, "--redis", `redis://127.0.0.1:${redisPort}`,
    "--http", `127.0.0.1:${http}`, "--devices", `127.0.0.1:${devices}`,
    "--device-tokens-file", tokens, "--web-root", webRoot, "--log-level", "warn",
    ...(officials ? ["--officials-file", officials] : []), ...extra,
  ]);
  serve.http = http;
  serve.devices = devices;
  serve.base = `http://127.0.0.1:${http}`;
  try {
    await waitFor("splitstream serve to be ready (/readyz 200)", async () => {
      if (serve.child.exitCode !== null) throw new Error(`serve exited with ${serve.child.exitCode}`);
      const res = await fetch(`${serve.base}/readyz`);
      return res.status === 200;
    }, 15_000);
  } catch (error) {
    await serve.stop("SIGKILL");
    throw new Error(`${error.message}\n--- splitstream serve said:\n${serve.output}`);
  }
  return serve;
}

// The demo event's reads (events/pyongyang-2025/reads.csv), per device in file order, numbered
// seq = position + 1 as a device would.
export class DemoReads {
  constructor(csvPath) {
    const lines = readFileSync(csvPath, "utf8").trim().split("\n");
    const header = lines.shift().split(",");
    const col = (name) => header.indexOf(name);
    const [tp, chip, time, device, line] = ["timing_point", "chip", "time", "device", "line"].map(col);
    this.byDevice = new Map();
    for (const text of lines) {
      const f = text.split(",");
      let list = this.byDevice.get(f[device]);
      if (!list) this.byDevice.set(f[device], (list = []));
      list.push({ timing_point_id: f[tp], chip: f[chip], time: f[time], time_ms: Date.parse(f[time]), line: f[line], seq: list.length + 1 });
    }
    this.sent = new Map([...this.byDevice.keys()].map((d) => [d, 0]));
    this.total = lines.length;
  }

  devices() {
    return [...this.byDevice.keys()];
  }

  // Earliest and latest read time.
  span() {
    let first = Infinity;
    let last = -Infinity;
    for (const list of this.byDevice.values())
      for (const r of list) {
        first = Math.min(first, r.time_ms);
        last = Math.max(last, r.time_ms);
      }
    return { first, last };
  }

  writeTokens(path) {
    writeFileSync(path, this.devices().map((d) => `${d} tok-${d}\n`).join(""));
  }

  // Posts each device's reads up to `untilMs` (in file order, stopping at the first later read)
  // that were not sent yet; returns how many were acknowledged. Devices in `skip` are left to
  // another sender (the simulator).
  async feedUntil(base, untilMs, skip = new Set()) {
    let acked = 0;
    for (const [device, list] of this.byDevice) {
      if (skip.has(device)) continue;
      let from = this.sent.get(device);
      let to = from;
      while (to < list.length && list[to].time_ms <= untilMs) to++;
      for (let i = from; i < to; i += 2000) {
        const batch = list.slice(i, Math.min(to, i + 2000)).map((r) => ({
          device_id: device, timing_point_id: r.timing_point_id, chip: r.chip, time: r.time, seq: r.seq,
          line: r.line,
        }));
        const res = await fetch(`${base}/api/v1/reads`, {
          method: "POST",
          headers: { Authorization: `Bearer tok-${device}`, "Content-Type": "application/json" },
          body: JSON.stringify({ reads: batch }),
        });
        const body = await res.json();
        if (res.status !== 200) throw new Error(`POST /api/v1/reads for ${device}: ${res.status} ${JSON.stringify(body)}`);
        if (Number(body.acked_seq) !== batch[batch.length - 1].seq)
          throw new Error(`${device}: acked ${body.acked_seq}, sent up to ${batch[batch.length - 1].seq}`);
        acked += batch.length;
      }
      this.sent.set(device, to);
    }
    return acked;
  }

  // Writes one device's reads up to `untilMs` as a reads CSV the simulator replays
  // (`splitstream-sim replay --reads FILE`); returns how many. Its sequence numbers are the same
  // (position + 1), so the device must not also be fed over HTTP.
  writeDeviceReads(path, device, untilMs) {
    const list = (this.byDevice.get(device) ?? []).filter((r) => r.time_ms <= untilMs);
    const lines = list.map((r) => `${r.timing_point_id},${r.chip},${r.time},${device},${r.line}`);
    writeFileSync(path, ["timing_point,chip,time,device,line", ...lines].join("\n") + "\n");
    return list.length;
  }

  sentCount() {
    let n = 0;
    for (const v of this.sent.values()) n += v;
    return n;
  }
}

// The simulator (`splitstream-sim`), e.g. replaying one device's reads over the device protocol.
export function startSim(bin, args) {
  return new Process("splitstream-sim", bin, args);
}

// The officials of the console tests, one per role, in the `--officials-file` format: one
// official a line, `<role> <token> <name...>` (docs/api.md). Returns the path and both.
export function writeOfficials(path) {
  const official = { role: "official", token: "official-token-5f1c9a7e2b44", name: "Ri Chol Timer" };
  const viewer = { role: "viewer", token: "viewer-token-8d3b6e0f41a7c", name: "Kim Press Desk" };
  writeFileSync(path, ["# role token name", ...[official, viewer].map((o) => `${o.role} ${o.token} ${o.name}`)].join("\n") + "\n");
  return { path, official, viewer };
}

// A copy of an event directory with what a test needs changed:
// - `misprint: { bib, chip }`: the runner wears `chip` instead of the chip the event lists for
//   it (a misprinted chip, as happens at bib pickup), so the reads of its real chip come in as
//   an unknown chip's;
// - `cutoffs: { race: { split: "H:MM:SS" } }`: cut-offs after the runner's wave gun.
// Returns the chip the misprinted runner really wears.
export function copyEvent(fromDir, toDir, { misprint, cutoffs = {} } = {}) {
  cpSync(fromDir, toDir, { recursive: true });
  const eventFile = join(toDir, "event.json");
  const event = JSON.parse(readFileSync(eventFile, "utf8"));
  for (const [raceId, splits] of Object.entries(cutoffs)) {
    const race = event.races.find((r) => r.id === raceId);
    for (const [splitId, cutoff] of Object.entries(splits)) {
      const split = race?.splits.find((s) => s.id === splitId);
      if (!split) throw new Error(`copyEvent: no split ${splitId} in race ${raceId}`);
      split.cutoff = cutoff;
    }
  }
  writeFileSync(eventFile, JSON.stringify(event, null, 2) + "\n");
  if (!misprint) return undefined;
  const file = join(toDir, "participants.csv");
  const lines = readFileSync(file, "utf8").split("\n");
  const header = lines[0].split(",");
  const [bibCol, chipCol] = [header.indexOf("bib"), header.indexOf("chip")];
  let worn;
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i].split(",");
    if (f[bibCol] !== misprint.bib) continue;
    worn = f[chipCol];
    f[chipCol] = misprint.chip;
    lines[i] = f.join(",");
  }
  if (!worn) throw new Error(`copyEvent: no bib ${misprint.bib} in ${file}`);
  writeFileSync(file, lines.join("\n"));
  return worn;
}

// A REST call as a script makes it (Authorization: Bearer); answers { status, body }.
export async function callApi(base, path, { token, method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // CSV or plain text: kept as text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

// A session cookie's value for `token` (POST /api/v1/session), as a browser would keep it.
export async function sessionCookie(base, token) {
  const res = await fetch(`${base}/api/v1/session`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Splitstream-Console": "1" },
    body: JSON.stringify({ token }),
  });
  const value = /(?:^|[;,]\s*)splitstream_session=([^;]*)/.exec(res.headers.get("set-cookie") ?? "")?.[1];
  if (res.status !== 200 || !value) throw new Error(`POST /api/v1/session: ${res.status}, no session cookie`);
  return value;
}

export function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), "splitstream-browser-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function getJson(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}
