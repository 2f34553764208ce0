#!/usr/bin/env python3
"""Reads/s each vendor adapter sustains end to end, against the native device protocol, in one run.

    bench/adapters_bench.py [--bin DIR] [--runners N] [--json OUT] [--protocols LIST]
                            [--timeout S] [--keep]

Generates an event (`splitstream-sim event --runners N --timing-points 6 --waves 2`; its chips
made hex, "SS0000000001" -> "E20000000001", since an Impinj reader reports EPCs), writes a
decoders.json into it that covers every timing point and line once per vendor protocol (RACE
RESULT: one decoder per mat line, each dialled on a port of its own; CTP01 and MYLAPS: one
decoder each, listening on a port, a location name per mat line; Impinj: one decoder, antenna
ports 1..n) and a tokens file (the event's devices and the Impinj decoder), starts its own
redis-server (no persistence: --save '' --appendonly no) and then, per protocol (native first,
then raceresult, ctp01, mylaps, impinj), flushes Redis, starts `splitstream serve` on the event
and plays the same race with `splitstream-sim race --speed max --seed 1 --protocol P`.

The clock runs from the moment the sim starts sending (its "playing ..." line; for RACE RESULT,
whose decoders the server dials, the sim listens first and the clock starts when the server is
started) until the server's /readyz reports the final count of reads applied: the sim has exited
0 and the count has not moved for a second. CTP01, MYLAPS and Impinj reads carry no read number,
so identical raw reads (same chip, mat line and time) merge: their count may be a little lower
than native's. reads/s = reads applied / seconds; the ratio is to native in the same run.

Exit status 0 when every run finished (sim exit status 0, count reached in time).
"""

import argparse
import csv
import datetime
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

PROTOCOLS = ["native", "raceresult", "ctp01", "mylaps", "impinj"]
REDIS_PERSISTENCE = ["--save", "", "--appendonly", "no"]
POLL_S = 0.02  # how often /readyz is asked during a run
STABLE_S = 1.0  # the applied count must not move for this long after the sim exited
MIN_APPLIED_SHARE = 0.95  # of the reads sent, or the run failed (reads refused, not merged)


def fmt(value, spec):
    return "n/a" if value is None else format(value, spec)


sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from free_port import free_port  # noqa: E402  below the ephemeral range, reserved


def listening_ports():
    """Loopback TCP ports in LISTEN state on this machine (from /proc/net/tcp)."""
    ports = set()
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[3] == "0A":
                ports.add(int(fields[1].split(":")[1], 16))
    return ports


# --- a minimal Redis client (RESP) ---------------------------------------------------------------


def redis_command(port, *args, timeout=10.0):
    """One command on a new connection; the reply (str, int, list or None); raises on an error."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        request = f"*{len(args)}\r\n".encode()
        for a in args:
            data = str(a).encode()
            request += f"${len(data)}\r\n".encode() + data + b"\r\n"
        s.sendall(request)
        reader = s.makefile("rb")
        return _read_reply(reader)


def _read_reply(reader):
    line = reader.readline()
    if not line:
        raise ConnectionError("redis closed the connection")
    kind, rest = line[:1], line[1:].rstrip(b"\r\n")
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError("redis: " + rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = reader.read(n + 2)
        return data[:-2].decode()
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_reply(reader) for _ in range(n)]
    raise RuntimeError(f"redis: unexpected reply {line!r}")


def redis_cpu_s(port):
    info = redis_command(port, "INFO", "cpu")
    values = dict(l.split(":", 1) for l in info.splitlines() if ":" in l)
    return float(values["used_cpu_user"]) + float(values["used_cpu_sys"])


# --- the server ----------------------------------------------------------------------------------


def http_get(port, path, timeout=2.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        conn.close()


APPLIED = re.compile(r"(\d+) reads applied")


def reads_applied(port):
    """The count in /readyz's detail ("N reads applied, ..."); None when it does not answer."""
    try:
        status, body = http_get(port, "/readyz")
    except OSError:
        return None
    m = APPLIED.search(body)
    return int(m.group(1)) if status == 200 and m else None


def process_cpu_s(pid):
    """User + system CPU seconds of a running process (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self, args, log_path):
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen(args, stdout=self.log, stderr=self.log)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# --- the bench -----------------------------------------------------------------------------------


def write_decoders(event_dir, event):
    """decoders.json covering every (timing point, line) of the event for each vendor protocol;
    returns the ids of the decoders and the RACE RESULT dial ports."""
    mats = [(d["timing_point"], d["line"]) for d in event["devices"]]
    target = lambda tp, line: {"timing_point": tp, "line": line}
    decoders, dial_ports = [], []
    for tp, line in mats:
        port = free_port()
        dial_ports.append(port)
        decoders.append({"id": f"rr-{tp}-{line}", "protocol": "raceresult",
                         "dial": f"127.0.0.1:{port}", "timing_point": tp, "line": line})
    decoders.append({"id": "ctp01-1", "protocol": "ctp01", "listen": f"127.0.0.1:{free_port()}",
                     "sources": {f"{tp}-{line}": target(tp, line) for tp, line in mats}})
    # MYLAPS location names hold spaces and '=' ("21Km = 2Km").
    decoders.append({"id": "mylaps-1", "protocol": "mylaps",
                     "listen": f"127.0.0.1:{free_port()}",
                     "sources": {f"{tp} = {line}": target(tp, line) for tp, line in mats}})
    decoders.append({"id": "impinj-1", "protocol": "impinj",
                     "sources": {str(i + 1): target(tp, line) for i, (tp, line) in enumerate(mats)}})
    with open(os.path.join(event_dir, "decoders.json"), "w") as f:
        json.dump({"decoders": decoders}, f, indent=1)
    return [d["id"] for d in decoders], dial_ports


def hex_chips(participants_csv):
    """The generator's chips are "SS" and 10 digits; an Impinj reader reports EPCs, which are
    hex: "E2" and the same digits, for every protocol alike."""
    with open(participants_csv, newline="") as f:
        rows = list(csv.reader(f))
    column = rows[0].index("chip")
    for row in rows[1:]:
        if row[column].startswith("SS"):
            row[column] = "E2" + row[column][2:]
    with open(participants_csv, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def count_csv_reads(path):
    with open(path) as f:
        lines = [l for l in f if l.strip()]
    return max(0, len(lines) - 1)  # the header


class Sim:
    """splitstream-sim as a child: stdout and stderr kept, the moment it said "playing" noted."""

    def __init__(self, args, log_path):
        self.log_path = log_path
        self.lines = []
        self.playing_at = None
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         text=True, bufsize=1)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            if self.playing_at is None and line.startswith("splitstream-sim: playing "):
                self.playing_at = time.monotonic()
            self.lines.append(line.rstrip("\n"))
        with open(self.log_path, "w") as f:
            f.write("\n".join(self.lines) + "\n")

    def summary(self):
        played = [l for l in self.lines if l.startswith("played ")]
        return played[-1] if played else ""


def run_protocol(protocol, o, ctx):
    """One run: flushed Redis, a new server, the race played as `protocol`. Returns its record."""
    work, event_dir, tokens = ctx["work"], ctx["event_dir"], ctx["tokens"]
    redis_port, http_port, device_port = ctx["redis_port"], ctx["http_port"], ctx["device_port"]
    redis_command(redis_port, "FLUSHALL")
    sent_path = os.path.join(work, f"sent-{protocol}.csv")
    sim_args = [os.path.join(o.bin, "splitstream-sim"), "race", "--event", event_dir,
                "--speed", "max", "--seed", "1", "--protocol", protocol,
                "--server", f"127.0.0.1:{device_port}", "--http", f"127.0.0.1:{http_port}",
                "--device-tokens-file", tokens, "--sent-reads", sent_path]
    serve_args = [os.path.join(o.bin, "splitstream"), "serve", "--event", event_dir,
                  "--redis", f"redis://127.0.0.1:{redis_port}",
                  "--http", f"127.0.0.1:{http_port}", "--devices", f"127.0.0.1:{device_port}",
                  "--device-tokens-file", tokens, "--log-level", "error",
                  # Every client is on 127.0.0.1.
                  "--http-connections-per-address", "0", "--device-connections-per-address", "0"]
    record = {"protocol": protocol, "ok": False}
    redis_cpu_before = redis_cpu_s(redis_port)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    deadline = time.monotonic() + o.timeout
    server = None
    sim = None

    def start_server():
        nonlocal server
        started = time.monotonic()
        server = Server(serve_args, os.path.join(work, f"serve-{protocol}.log"))
        while reads_applied(http_port) is None:
            if server.process.poll() is not None or time.monotonic() > started + 60:
                raise RuntimeError(f"splitstream serve did not become ready (see {server.log.name})")
            time.sleep(POLL_S)
        return started, time.monotonic()

    try:
        if protocol == "raceresult":
            # The server dials the decoders: the sim listens first, then the server starts (a
            # dial that finds nobody waits a second before the next).
            sim = Sim(sim_args, os.path.join(work, f"sim-{protocol}.log"))
            while not set(ctx["dial_ports"]) <= listening_ports():
                if sim.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the sim's RACE RESULT decoders did not listen")
                time.sleep(POLL_S)
            start, ready = start_server()
            record["server_ready_s"] = ready - start
        else:
            start, ready = start_server()
            record["server_ready_s"] = ready - start
            sim = Sim(sim_args, os.path.join(work, f"sim-{protocol}.log"))
            while sim.playing_at is None and sim.process.poll() is None:
                time.sleep(0.005)
            start = sim.playing_at or time.monotonic()
        applied, changed_at, first_at = 0, start, None
        sim_exit, sim_done_at, timed_out = None, None, False
        while True:
            now = time.monotonic()
            count = reads_applied(http_port)
            if count is not None and count != applied:
                applied, changed_at = count, now
                if first_at is None and count > 0:
                    first_at = now
            if sim_exit is None:
                sim_exit = sim.process.poll()
                if sim_exit is not None:
                    sim_done_at = now
                    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if sim_exit is not None and sim_exit != 0:
                break
            if sim_exit is not None and now - max(changed_at, sim_done_at) >= STABLE_S:
                break
            if now > deadline:
                timed_out = True
                break
            time.sleep(POLL_S)
        sim.reader.join(timeout=5)
        record["sim_exit"] = sim_exit
        record["sim_summary"] = sim.summary()
        record["reads_sent"] = count_csv_reads(sent_path) if os.path.exists(sent_path) else None
        record["reads_applied"] = applied
        record["stream_entries"] = redis_command(redis_port, "XLEN", ctx["stream_key"])
        record["seconds"] = changed_at - start
        record["reads_per_s"] = applied / record["seconds"] if record["seconds"] > 0 else None
        record["first_read_s"] = first_at - start if first_at else None
        # The same from the first read applied on: without connecting (or, for RACE RESULT, the
        # server's start and first dial).
        record["reads_per_s_after_first"] = (
            applied / (changed_at - first_at) if first_at and changed_at > first_at else None)
        record["sim_s"] = sim_done_at - start if sim_done_at else None
        record["server_cpu_s"] = process_cpu_s(server.process.pid)
        record["redis_cpu_s"] = redis_cpu_s(redis_port) - redis_cpu_before
        if sim_exit is not None:
            record["sim_cpu_s"] = (children_after.ru_utime + children_after.ru_stime
                                   - children_before.ru_utime - children_before.ru_stime)
        sent = record["reads_sent"] or 0
        if timed_out:
            record["error"] = f"timed out after {o.timeout} s ({applied} reads applied)"
        elif sim_exit != 0:
            record["error"] = f"splitstream-sim exited {sim_exit} (see {sim.log_path})"
        elif applied < MIN_APPLIED_SHARE * sent:
            # Merged identical raw reads are a fraction of a percent; more is reads refused.
            record["error"] = (f"only {applied} of the {sent} reads sent were applied "
                               f"(see the server's /metrics and {sim.log_path})")
        else:
            record["ok"] = True
    except Exception as e:  # a failed run is reported, the others still run
        record["error"] = str(e)
    finally:
        if sim and sim.process.poll() is None:
            sim.process.terminate()
            try:
                sim.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sim.process.kill()
                sim.process.wait()
        if server:
            server.stop()
    return record


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default="build/bin", help="where splitstream and splitstream-sim are")
    p.add_argument("--runners", type=int, default=5000, help="the field [5000]")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--protocols", default=",".join(PROTOCOLS),
                   help="comma list, in order; native first for the ratios [all]")
    p.add_argument("--timeout", type=float, default=600, help="seconds per run at most [600]")
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs, event)")
    o = p.parse_args()
    o.bin = os.path.abspath(o.bin)
    protocols = [x for x in o.protocols.split(",") if x]
    unknown = [x for x in protocols if x not in PROTOCOLS]
    if unknown or not protocols or o.runners < 1:
        p.error(f"bad --protocols or --runners: {unknown or o.runners}")
    for tool in ("splitstream", "splitstream-sim"):
        if not os.access(os.path.join(o.bin, tool), os.X_OK):
            p.error(f"no {tool} in {o.bin} (--bin)")
    if not shutil.which("redis-server"):
        p.error("redis-server is not installed")

    work = tempfile.mkdtemp(prefix="adapters-bench-")
    event_dir = os.path.join(work, "event")
    redis = None
    records = []
    try:
        subprocess.run([os.path.join(o.bin, "splitstream-sim"), "event", "--out", event_dir,
                        "--runners", str(o.runners), "--timing-points", "6", "--waves", "2"],
                       check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(event_dir, "event.json")) as f:
            event = json.load(f)
        hex_chips(os.path.join(event_dir, "participants.csv"))
        decoder_ids, dial_ports = write_decoders(event_dir, event)
        tokens = os.path.join(work, "device-tokens")
        with open(tokens, "w") as f:
            for d in event["devices"]:
                f.write(f"{d['id']} tok-{d['id']}\n")
            f.write("impinj-1 tok-impinj-1\n")

        redis_port = free_port()
        redis_version = subprocess.run(["redis-server", "--version"], capture_output=True,
                                       text=True).stdout.strip()
        redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                                  "--dir", work, *REDIS_PERSISTENCE],
                                 stdout=open(os.path.join(work, "redis.log"), "wb"),
                                 stderr=subprocess.STDOUT)
        for _ in range(500):
            try:
                if redis_command(redis_port, "PING", timeout=1) == "PONG":
                    break
            except OSError:
                time.sleep(0.02)
        else:
            raise RuntimeError("redis-server did not start")

        ctx = {"work": work, "event_dir": event_dir, "tokens": tokens, "redis_port": redis_port,
               "http_port": free_port(), "device_port": free_port(), "dial_ports": dial_ports,
               "stream_key": "{ev:" + event["id"] + "}:reads"}
        print(f"adapters_bench: {o.runners} runners, {len(event['timing_points'])} timing points, "
              f"{len(event['devices'])} mat lines; redis-server on 127.0.0.1:{redis_port} "
              f"({' '.join(repr(a) if a == '' else a for a in REDIS_PERSISTENCE)}); work dir {work}",
              flush=True)
        for protocol in protocols:
            print(f"=== {protocol}", flush=True)
            r = run_protocol(protocol, o, ctx)
            records.append(r)
            if r.get("reads_per_s"):
                print(f"  {r['reads_applied']} reads applied in {r['seconds']:.2f} s: "
                      f"{r['reads_per_s']:,.0f} reads/s; first read after "
                      f"{fmt(r.get('first_read_s'), '.2f')} s, sim done after "
                      f"{fmt(r.get('sim_s'), '.2f')} s, server ready in "
                      f"{fmt(r.get('server_ready_s'), '.2f')} s\n  {r['sim_summary']}", flush=True)
            if not r["ok"]:
                print(f"  FAILED: {r.get('error')}", flush=True)
    finally:
        if redis:
            redis.terminate()
            redis.wait()

    native = next((r for r in records if r["protocol"] == "native" and r["ok"]), None)
    for r in records:
        for rate, ratio in (("reads_per_s", "ratio_to_native"),
                            ("reads_per_s_after_first", "ratio_to_native_after_first")):
            r[ratio] = (r[rate] / native[rate]
                        if native and native.get(rate) and r.get(rate) and r["ok"] else None)

    decoders_of = {"native": len(event["devices"]), "raceresult": len(event["devices"]),
                   "ctp01": 1, "mylaps": 1, "impinj": 1}
    print()
    print("| protocol | connections | reads sent | reads applied | seconds | **reads/s** | "
          "ratio to native | first read after | reads/s from it | ratio | server CPU s | "
          "Redis CPU s | sim CPU s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in records:
        name = r["protocol"] + ("" if r["ok"] else " (**FAILED**)")
        print(f"| {name} | {decoders_of[r['protocol']]} | {fmt(r.get('reads_sent'), ',')} | "
              f"{fmt(r.get('reads_applied'), ',')} | {fmt(r.get('seconds'), '.2f')} | "
              f"**{fmt(r.get('reads_per_s'), ',.0f')}** | {fmt(r.get('ratio_to_native'), '.2f')} | "
              f"{fmt(r.get('first_read_s'), '.2f')} s | "
              f"{fmt(r.get('reads_per_s_after_first'), ',.0f')} | "
              f"{fmt(r.get('ratio_to_native_after_first'), '.2f')} | "
              f"{fmt(r.get('server_cpu_s'), '.1f')} | {fmt(r.get('redis_cpu_s'), '.1f')} | "
              f"{fmt(r.get('sim_cpu_s'), '.1f')} |")

    if o.json:
        with open(o.json, "w") as f:
            json.dump({"date": datetime.datetime.now(datetime.timezone.utc).strftime(
                           "%Y-%m-%dT%H:%M:%SZ"),
                       "runners": o.runners, "timing_points": len(event["timing_points"]),
                       "mat_lines": len(event["devices"]), "decoders": decoder_ids,
                       "redis": redis_version, "redis_options": REDIS_PERSISTENCE,
                       "ok": all(r["ok"] for r in records), "runs": records}, f, indent=1)
    if o.keep or not all(r["ok"] for r in records):
        print(f"adapters_bench: logs kept in {work}", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if records and all(r["ok"] for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
