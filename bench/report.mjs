// The Markdown summary of a benchmark run: node bench/report.mjs DIR > DIR/summary.md
// Reads DIR/{machine,engine,ingest,ingest-fsync,ingest-replicated,push,fanout,race,adapters,follower}.json
// as scripts/bench.sh writes them; a missing file is reported as not run.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node bench/report.mjs DIR');
  process.exit(2);
}
const load = (name) => {
  const file = join(dir, `${name}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
};
const machine = load('machine');
const engine = load('engine');
const ingest = load('ingest');
const ingestByMode = { local: ingest, fsync: load('ingest-fsync'), replicated: load('ingest-replicated') };
const push = load('push');
const fanout = load('fanout');
const race = load('race');
const adapters = load('adapters');
const follower = load('follower');

const fixed = (v, digits = 1) => (v === undefined || v === null ? 'n/a' : Number(v).toFixed(digits));
const thousands = (v) => (v === undefined || v === null ? 'n/a' : Math.round(v).toLocaleString('en-US'));
const mb = (bytes) => `${fixed(bytes / 1e6, 0)} MB`;
const ok = (run) => (run.ok === false ? ' (**FAILED**)' : '');
const lines = [];
const out = (s = '') => lines.push(s);

out('# Splitstream benchmark report');
out();
if (machine) {
  out(`${machine.date}, commit \`${machine.commit}\`${machine.quick ? ' (**--quick: smoke run, not figures**)' : ''}.`);
  out();
  out(`Machine: ${machine.cpu}, ${machine.cores} cores, ${fixed(machine.memory_bytes / 2 ** 30, 0)} GiB, ` +
      `${machine.os} (kernel ${machine.kernel}), ${machine.compiler}, Redis ${machine.redis}; ` +
      `load average ${machine.load_average_at_start} at the start. Every tool runs its own ` +
      '`redis-server` and `splitstream serve` on this machine, load tools on the same cores.');
  out();
}

out('## The whole race');
out();
if (race) {
  out(`${thousands(race.runners)} runners, ${race.timing_points} timing points (${race.devices} devices: a main and ` +
      `a backup line each), raw duplicates +${fixed(race.duplicates * 100, 0)}%, played by \`splitstream-sim race ` +
      `--speed ${race.speed ?? 'max'}\` while ${thousands(race.viewers)} viewers watched${ok(race)}.`);
  out();
  out('| figure | value |');
  out('|---|---|');
  out(`| reads sent and acknowledged | ${thousands(race.reads_sent)} (stream: ${thousands(race.stream_entries)}) |`);
  out(`| **race played in** | **${fixed(race.played_s)} s** (${thousands(race.reads_per_s)} reads/s); all applied after ${fixed(race.applied_s)} s |`);
  out(`| **device to viewer p99** (p50) | **${thousands(race.latency_ms.p99)} ms** (${thousands(race.latency_ms.p50)} ms), ${thousands(race.latency_ms.samples)} messages |`);
  out(`| **peak memory** | **server ${mb(race.server_peak_rss_bytes)}**, redis-server ${mb(race.redis_peak_rss_bytes)} (used_memory_peak ${mb(race.redis_used_memory_peak_bytes)}) |`);
  out(`| server CPU | ${fixed(race.server_cpu_s)} s |`);
  out(`| finishers; results equal \`splitstream results\` on the reads sent | ${thousands(race.finishers)}; ${race.results_equal ? 'yes' : '**no**'} |`);
  if (race.late_node_ready_s !== undefined) {
    out(`| **a node started after the race, ready in** | **${fixed(race.late_node_ready_s)} s** from the checkpoint; ` +
        `${fixed(race.late_node_replaying_ready_s)} s replaying the whole stream; answers equal: ${race.late_nodes_equal ? 'yes' : '**no**'} |`);
  }
  out();
} else {
  out('Not run.');
  out();
}

out('## Race engine (in memory)');
out();
if (engine) {
  out('| benchmark | result |');
  out('|---|---|');
  for (const b of engine.benchmarks ?? []) {
    const name = b.name.replace(/\/iterations:\d+$/, '');
    let result;
    if (b.reads_per_s) result = `${thousands(b.reads_per_s)} reads/s (${fixed(b.real_time, 0)} ${b.time_unit}), engine ${fixed(b.engine_MiB, 0)} MiB`;
    // Inverted rates (kInvert): Google Benchmark writes them in seconds.
    else if (b.ns_per_update) result = `${fixed(b.ns_per_update * 1e6, 2)} µs per standings update`;
    else if (b.ns_per_runner) result = `${fixed(b.real_time, 1)} ${b.time_unit} for ${thousands(b.running)} runners (${fixed(b.ns_per_runner * 1e9, 0)} ns each)`;
    else result = `${fixed(b.real_time, 1)} ${b.time_unit}`;
    out(`| \`${name}\` | ${result} |`);
  }
  out();
} else {
  out('Not run.');
  out();
}

out('## Ingest (device to Redis, acknowledged)');
out();
if (ingest) {
  out('| figure | value |');
  out('|---|---|');
  out(`| **acked reads/s** | **${thousands(ingest.acked_reads_per_s)}** (${thousands(ingest.reads_acked)} reads, ${ingest.devices} devices)${ok(ingest)} |`);
  out(`| Redis reference: pipelined \`XADD\` | ${thousands(ingest.redis_xadd_per_s)}/s |`);
  out(`| **ratio to the reference** | **${fixed(ingest.ratio_to_xadd, 2)}** (to \`XADD\` + reading it back: ${fixed(ingest.ratio_to_xadd_and_read_back, 2)}) |`);
  out(`| ack latency p50 / p99 | ${fixed(ingest.ack_latency_ms.p50, 0)} / ${fixed(ingest.ack_latency_ms.p99, 0)} ms |`);
  out(`| CPU s: server / Redis | ${fixed(ingest.cpu_s.splitstream)} / ${fixed(ingest.cpu_s.redis)} |`);
  out();
} else {
  out('Not run.');
  out();
}

out('## Durability modes (ingest_bench --durability)');
out();
if (Object.values(ingestByMode).some(Boolean)) {
  out('| mode | acked reads/s | ack latency p50 / p99 | WAIT mean (calls) | CPU s: server / Redis |');
  out('|---|---|---|---|---|');
  for (const [mode, run] of Object.entries(ingestByMode)) {
    if (!run) {
      out(`| ${mode} | not run | | | |`);
      continue;
    }
    const wait = mode === 'replicated' ? `${fixed(run.redis_wait_mean_ms, 2)} ms (${thousands(run.redis_wait_calls)})` : '-';
    out(`| ${mode} | ${thousands(run.acked_reads_per_s)}${ok(run)} | ${fixed(run.ack_latency_ms.p50, 0)} / ` +
        `${fixed(run.ack_latency_ms.p99, 0)} ms | ${wait} | ${fixed(run.cpu_s.splitstream)} / ${fixed(run.cpu_s.redis)}` +
        `${mode === 'replicated' ? ` + replica ${fixed(run.cpu_s.redis_replica)}` : ''} |`);
  }
  out();
} else {
  out('Not run.');
  out();
}

out('## Push (WebSocket viewers)');
out();
if (push) {
  out('| figure | value |');
  out('|---|---|');
  out(`| viewers subscribed | ${thousands(push.subscribed)} of ${thousands(push.viewers)}${ok(push)} |`);
  out(`| memory per idle connection | ${fixed(push.bytes_per_idle_connection / 1024, 1)} KB |`);
  out(`| messages delivered | ${thousands(push.messages)} (${thousands(push.messages_per_s)}/s) at ${thousands(push.rate)} reads/s |`);
  out(`| latency p50 / p99 | ${fixed(push.latency_ms.p50)} / ${fixed(push.latency_ms.p99)} ms |`);
  out(`| server CPU | ${fixed(push.server_cpu_s)} s in ${fixed(push.feed_s)} s |`);
  out();
} else {
  out('Not run.');
  out();
}
out('## Fan-out against a Node `ws` broadcast server');
out();
if (fanout) {
  const cores = fanout.server_cpu < 0 ? 'shared' : `server on ${fanout.server_cpu}, load client on ${fanout.client_cpu}`;
  out('| figure | value |');
  out('|---|---|');
  out(`| viewers, messages each | ${thousands(fanout.viewers)}, ${thousands(fanout.messages_each)} (${fixed(fanout.average_bytes, 0)} B average)${ok(fanout)} |`);
  out(`| splitstream | ${thousands(fanout.splitstream.per_cpu_s)} messages per server CPU-second |`);
  out(`| ws (Node) | ${thousands(fanout.ws.per_cpu_s)} messages per server CPU-second |`);
  out(`| ratio | ${fixed(fanout.ratio, 2)} (cores: ${cores}) |`);
  out();
} else {
  out('Not run.');
  out();
}
out('## Vendor adapters against the native protocol');
out();
if (adapters) {
  out(`One race of ${thousands(adapters.runners)} runners (${adapters.timing_points} timing points, ${adapters.mat_lines} mat ` +
      'lines) played as fast as acknowledged by `splitstream-sim race --protocol P`, each protocol against a ' +
      `flushed Redis and a new server; reads/s until the server applied them all${adapters.ok === false ? ' (**FAILED**)' : ''}.`);
  out();
  out('| protocol | reads applied (of sent) | seconds | **reads/s** | ratio to native | from the first read: reads/s, ratio | server CPU s |');
  out('|---|---|---|---|---|---|---|');
  for (const r of adapters.runs ?? []) {
    out(`| ${r.protocol}${r.ok ? '' : ' (**FAILED**)'} | ${thousands(r.reads_applied)} (${thousands(r.reads_sent)}) | ` +
        `${fixed(r.seconds, 2)} | **${thousands(r.reads_per_s)}** | ${fixed(r.ratio_to_native, 2)} | ` +
        `${thousands(r.reads_per_s_after_first)}, ${fixed(r.ratio_to_native_after_first, 2)} | ${fixed(r.server_cpu_s)} |`);
  }
  out();
} else {
  out('Not run.');
  out();
}
out('## Stream follower (reply parsing)');
out();
if (follower) {
  out(`\`follow_stream\` from "0" over ${thousands(follower.entries)} stream entries until caught up${ok(follower)}: ` +
      `**${thousands(follower.entries_per_s)} entries/s** (${fixed(follower.wall_s, 2)} s), follower CPU ` +
      `${fixed(follower.follower_cpu_s, 2)} s (${fixed(follower.follower_cpu_us_per_entry, 2)} µs per entry), Redis CPU ${fixed(follower.redis_cpu_s, 2)} s.`);
  out();
} else {
  out('Not run.');
  out();
}
out('Reproduce: `scripts/bench.sh` (see docs/benchmarks.md for what each tool measures).');
console.log(lines.join('\n'));
