#!/usr/bin/python3
"""tests/deploy_check.py: checks the files of deploy/ as far as a machine without Docker allows.

    tests/deploy_check.py --bin BUILD/bin/splitstream [--build-dir BUILD] --source SOURCE_DIR

Against the real server (`splitstream serve --help` lists the settings, so a renamed or missing
setting fails here):
  - every YAML file parses; compose.yaml (Redis with an append-only file, two nodes, a load
    balancer, secrets, SPLITSTREAM_* names), the Kubernetes manifests (probes, ports, grace
    period, ConfigMap names, Services), the example config's keys, prometheus.yml's targets,
    the Grafana dashboard's variables;
  - haproxy.cfg with `haproxy -c`; the systemd unit with `systemd-analyze verify`;
  - the Dockerfile: stages, COPY sources, the scripts it runs, the runtime packages, and that
    every shared library of the binaries comes from runtime-packages.txt or the base image;
  - deploy/build-release.sh stages a release from the binary's build tree; the staged server,
    started from the example config next to a real redis-server, becomes ready and serves the
    browser app and /metrics with every metric the dashboard uses; HAProxy, started from
    haproxy.cfg aimed at it, passes HTTP and WebSockets, denies /metrics, and carries a
    simulated device's reads over the device port.
One line per check (`ok`, `FAIL`, `skip`); exit status 1 when any check failed.
"""

import argparse
import base64
import ctypes
import fnmatch
import hashlib
import http.client
import json
import os
import re
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

try:
    import yaml
except ImportError:
    print("FAIL  python3-yaml is not installed (scripts/setup.sh installs it)")
    sys.exit(1)

# Packages of debian:12-slim itself: libraries from these need no runtime package.
BASE_IMAGE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}
# Library packages of scripts/setup.sh that only tests, benchmarks or fuzzing need.
NOT_FOR_THE_BUILD = {"libgtest-dev", "libgmock-dev", "libbenchmark-dev", "libclang-rt-14-dev"}
# Tools the build stage needs besides the -dev packages.
BUILD_TOOLS = {"build-essential", "cmake", "ninja-build", "pkg-config", "protobuf-compiler"}
# Variables the server reads that are not settings of their own.
EXTRA_ENV = {"SPLITSTREAM_DEVICE_TOKENS", "SPLITSTREAM_ADMIN_TOKEN", "SPLITSTREAM_CONFIG"}
PREFIX_IN_IMAGE = "/opt/splitstream"


class Report:
    def __init__(self):
        self.failed = 0
        self.passed = 0
        self.skipped = 0

    def ok(self, what):
        self.passed += 1
        print(f"ok    {what}", flush=True)

    def fail(self, what):
        self.failed += 1
        print(f"FAIL  {what}", flush=True)

    def skip(self, what):
        self.skipped += 1
        print(f"skip  {what}", flush=True)

    def check(self, condition, what, detail=""):
        if condition:
            self.ok(what)
        else:
            self.fail(what + (f": {detail}" if detail else ""))
        return condition


R = Report()


def section(name):
    """Runs a group of checks; an exception inside fails the group instead of the whole run."""

    def wrap(fn):
        def run(*args, **kwargs):
            print(f"--- {name}", flush=True)
            try:
                return fn(*args, **kwargs)
            except Exception as e:  # noqa: BLE001 - any error here is a failed check
                R.fail(f"{name}: {type(e).__name__}: {e}")
                return None

        return run

    return wrap


# --- the server's settings ------------------------------------------------------------------------


class Settings:
    """The settings `splitstream serve --help` prints: name, variable and default."""

    def __init__(self, binary):
        out = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True,
                             timeout=30, env=clean_env())
        self.names = {}  # name -> default text or None
        self.env = {}  # SPLITSTREAM_NAME -> name
        lines = out.stdout.splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"^  --([a-z0-9-]+)(?: [A-Z]+)?  \((SPLITSTREAM_[A-Z0-9_]+)\)$", line)
            if not m:
                continue
            helptext = lines[i + 1] if i + 1 < len(lines) else ""
            d = re.search(r"\[default: (.*)\]$", helptext)
            self.names[m.group(1)] = d.group(1) if d else None
            self.env[m.group(2)] = m.group(1)
        if len(self.names) < 20 or "drain-timeout" not in self.names:
            raise RuntimeError("could not read the settings from `splitstream serve --help`:\n"
                               + out.stdout + out.stderr)

    def file_key_ok(self, key):
        return key in self.names and key != "config"

    def env_ok(self, var):
        return var in self.env or var in EXTRA_ENV

    def default_int(self, name):
        return int(self.names[name])


def clean_env():
    """This environment without SPLITSTREAM_* variables, which would change what is checked."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SPLITSTREAM_")}


def bad_env_names(names, settings):
    return sorted(n for n in names if n.startswith("SPLITSTREAM_") and not settings.env_ok(n))


def config_file_keys(text):
    """(line number, key, commented) of each `key = value` line, commented-out ones included."""
    keys = []
    for no, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        m = re.match(r"^(#\s*)?([a-z][a-z0-9-]*)\s*=", line)
        if m:
            keys.append((no, m.group(2), bool(m.group(1))))
    return keys


def check_token_lines(where, text, event_devices):
    """Example device tokens: `device-id token` lines for the demo event's devices, placeholders."""
    lines = [ln.split() for ln in text.splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    unknown = [f[0] for f in lines if f[0] not in event_devices]
    R.check(lines and all(len(f) == 2 for f in lines) and not unknown,
            f"{where}: `device-id token` lines for the demo event's devices", ", ".join(unknown))
    R.check(all(len(f) == 2 and "REPLACE-ME" in f[1] for f in lines),
            f"{where}: the tokens are placeholders (REPLACE-ME)")


# --- YAML -----------------------------------------------------------------------------------------


@section("YAML files parse")
def parse_yaml(deploy):
    docs = {}
    for dirpath, _, files in os.walk(deploy):
        for f in sorted(files):
            if f.endswith((".yaml", ".yml")):
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, deploy)
                try:
                    with open(path, encoding="utf-8") as fh:
                        docs[rel] = [d for d in yaml.safe_load_all(fh) if d is not None]
                    R.ok(f"{rel} parses ({len(docs[rel])} documents)")
                except yaml.YAMLError as e:
                    R.fail(f"{rel} does not parse: {e}")
    return docs


def env_of(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {k: ("" if v is None else str(v)) for k, v in env.items()}


def port_of(endpoint):
    return int(str(endpoint).rsplit(":", 1)[1])


def haproxy_servers(cfg_text):
    """(backend, host, port, check port or None) of each `server` line of haproxy.cfg."""
    servers, backend = [], None
    for line in cfg_text.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] in ("backend", "frontend", "listen", "defaults", "global", "resolvers"):
            backend = words[1] if len(words) > 1 else None
        elif words[0] == "server" and len(words) >= 3:
            host, port = words[2].rsplit(":", 1)
            check_port = None
            if "port" in words[3:]:
                check_port = int(words[words.index("port", 3) + 1])
            servers.append((backend, host, int(port), check_port))
    return servers


@section("compose.yaml")
def check_compose(deploy, docs, settings, image_paths):
    compose = docs["compose.yaml"][0]
    services = compose.get("services") or {}

    redis = services.get("redis") or {}
    command = redis.get("command", "")
    command = " ".join(command) if isinstance(command, list) else str(command)
    R.check(re.search(r"--appendonly\s+yes\b", command),
            "compose: redis runs with --appendonly yes", command)
    R.check(re.search(r"--appendfsync\s+(everysec|always)\b", command),
            "compose: redis fsyncs its append-only file (everysec or always)", command)
    R.check(any(str(v).endswith(":/data") for v in redis.get("volumes", [])),
            "compose: redis keeps /data on a volume")

    nodes = {name: s for name, s in services.items()
             if isinstance(s.get("build"), dict) and
             str(s["build"].get("dockerfile", "")).endswith("Dockerfile")}
    R.check(len(nodes) >= 2, "compose: at least two splitstream services built from the Dockerfile",
            ", ".join(nodes))
    for name, s in nodes.items():
        build = s["build"]
        dockerfile = os.path.normpath(os.path.join(deploy, build.get("context", "."),
                                                   build["dockerfile"]))
        R.check(os.path.isfile(dockerfile), f"compose: {name} builds from an existing Dockerfile",
                dockerfile)
    R.check("lb" in services, "compose: a load balancer service `lb`")

    for name, s in services.items():
        env = env_of(s)
        bad = bad_env_names(env, settings)
        if any(k.startswith("SPLITSTREAM_") for k in env):
            R.check(not bad, f"compose: {name}: every SPLITSTREAM_* variable is a setting",
                    ", ".join(bad))
        for key, value in env.items():
            if key in ("SPLITSTREAM_EVENT", "SPLITSTREAM_WEB_ROOT") and \
                    value.startswith(PREFIX_IN_IMAGE):
                image_paths.add((f"compose.yaml {name} {key}", value))
        # Mounted files and directories of this repository exist.
        for v in s.get("volumes", []):
            src = str(v).split(":", 1)[0]
            if src.startswith("."):
                R.check(os.path.exists(os.path.join(deploy, src)),
                        f"compose: {name} mounts {src}, which exists")

    top_secrets = compose.get("secrets") or {}
    for name, s in nodes.items():
        env = env_of(s)
        mounted = set()
        for sec in s.get("secrets", []):
            sec_name = sec if isinstance(sec, str) else sec.get("source")
            target = sec_name if isinstance(sec, str) else sec.get("target", sec_name)
            R.check(sec_name in top_secrets, f"compose: {name}: secret {sec_name} is defined")
            mounted.add(target if target.startswith("/") else f"/run/secrets/{target}")
        for key in ("SPLITSTREAM_DEVICE_TOKENS_FILE", "SPLITSTREAM_ADMIN_TOKEN_FILE"):
            R.check(env.get(key) in mounted, f"compose: {name}: {key} is a mounted secret",
                    f"{env.get(key)} not in {sorted(mounted)}")
        # Behind the load balancer every connection comes from its address.
        for key in ("SPLITSTREAM_HTTP_CONNECTIONS_PER_ADDRESS",
                    "SPLITSTREAM_DEVICE_CONNECTIONS_PER_ADDRESS"):
            R.check(env.get(key) == "0", f"compose: {name}: {key} is 0 (limited at the LB)",
                    repr(env.get(key)))
    for sec_name, sec in top_secrets.items():
        path = os.path.join(deploy, sec.get("file", ""))
        R.check(os.path.isfile(path) or os.path.isfile(path + ".example"),
                f"compose: secret {sec_name}: {sec.get('file')} or its .example exists")

    # The load balancer's servers are these nodes, on their HTTP and device ports.
    with open(os.path.join(deploy, "haproxy.cfg"), encoding="utf-8") as fh:
        servers = haproxy_servers(fh.read())
    R.check(servers, "haproxy.cfg: has servers")
    for backend, host, port, check_port in servers:
        node = nodes.get(host)
        if not R.check(node is not None, f"haproxy.cfg: {backend}/{host} is a compose node"):
            continue
        env = env_of(node)
        ports = {port_of(env.get("SPLITSTREAM_HTTP", settings.names["http"])),
                 port_of(env.get("SPLITSTREAM_DEVICES", settings.names["devices"]))}
        R.check(port in ports, f"haproxy.cfg: {backend}/{host}:{port} is a port of the node",
                f"node ports {sorted(ports)}")
        if check_port is not None:
            R.check(check_port in ports, f"haproxy.cfg: {backend}/{host} checks port {check_port}"
                    " of the node")

    # Prometheus scrapes the nodes (or the LB's stats port) on ports they listen on.
    prom = docs["prometheus/prometheus.yml"][0]
    targets = [t for job in prom.get("scrape_configs", [])
               for sc in job.get("static_configs", []) for t in sc.get("targets", [])]
    scraped = {t.rsplit(":", 1)[0] for t in targets}
    R.check(set(nodes) <= scraped, "prometheus.yml: scrapes every splitstream node",
            f"missing {sorted(set(nodes) - scraped)}")
    for t in targets:
        host, port = t.rsplit(":", 1)
        if host in nodes:
            http_port = port_of(env_of(nodes[host]).get("SPLITSTREAM_HTTP",
                                                         settings.names["http"]))
            R.check(int(port) == http_port, f"prometheus.yml: {t} is the node's HTTP port")
        else:
            R.check(host in services, f"prometheus.yml: {t} is a compose service")


# --- Kubernetes -----------------------------------------------------------------------------------


def container_ports(pod_spec):
    ports = {}
    for c in pod_spec.get("containers", []):
        for p in c.get("ports", []):
            ports[p["containerPort"]] = p.get("name")
            if p.get("name"):
                ports[p["name"]] = p["containerPort"]
    return ports


def resolve_port(port, ports):
    """The number of a probe's or Service's target port, or None if no container declares it."""
    if isinstance(port, int):
        return port if port in ports else None
    value = ports.get(port)
    return value if isinstance(value, int) else None


@section("Kubernetes manifests")
def check_k8s(deploy, docs, settings, event_devices, image_paths):
    k8s = {rel: d for rel, d in docs.items() if rel.startswith("k8s/")}
    objects = []
    for rel, ds in sorted(k8s.items()):
        for d in ds:
            name = (d.get("metadata") or {}).get("name")
            R.check(d.get("apiVersion") and d.get("kind") and name,
                    f"{rel}: {d.get('kind')}/{name} has apiVersion, kind and metadata.name")
            objects.append((rel, d))
    by_kind = {}
    for rel, d in objects:
        by_kind.setdefault(d.get("kind"), []).append(d)

    config = {}
    for cm in by_kind.get("ConfigMap", []):
        data = cm.get("data") or {}
        bad = bad_env_names(data, settings)
        bad += [k for k in data if not k.startswith("SPLITSTREAM_")]
        R.check(not bad,
                f"ConfigMap {cm['metadata']['name']}: every key is a SPLITSTREAM_* setting",
                ", ".join(bad))
        config.update({k: str(v) for k, v in data.items()})
        for key in ("SPLITSTREAM_EVENT", "SPLITSTREAM_WEB_ROOT"):
            if str(data.get(key, "")).startswith(PREFIX_IN_IMAGE):
                image_paths.add((f"ConfigMap {key}", data[key]))
    drain = int(config.get("SPLITSTREAM_DRAIN_TIMEOUT", settings.default_int("drain-timeout")))

    secrets = {s["metadata"]["name"]: s for s in by_kind.get("Secret", [])}
    configmaps = {c["metadata"]["name"] for c in by_kind.get("ConfigMap", [])}
    workloads = by_kind.get("Deployment", []) + by_kind.get("StatefulSet", [])

    deployments = by_kind.get("Deployment", [])
    R.check(deployments, "k8s: a Deployment")
    for dep in deployments:
        name = dep["metadata"]["name"]
        spec = dep["spec"]
        pod = spec["template"]["spec"]
        ports = container_ports(pod)
        R.check(spec.get("replicas", 1) >= 2, f"Deployment {name}: 2 or more replicas")
        for c in pod["containers"]:
            cname = f"Deployment {name}/{c['name']}"
            ready = (c.get("readinessProbe") or {}).get("httpGet") or {}
            live = (c.get("livenessProbe") or {}).get("httpGet") or {}
            http_port = port_of(config.get("SPLITSTREAM_HTTP", settings.names["http"]))
            R.check(ready.get("path") == "/readyz" and
                    resolve_port(ready.get("port"), ports) == http_port,
                    f"{cname}: readinessProbe GET /readyz on the declared http port", str(ready))
            R.check(live.get("path") == "/healthz" and
                    resolve_port(live.get("port"), ports) == http_port,
                    f"{cname}: livenessProbe GET /healthz on the declared http port", str(live))
            R.check((c.get("resources") or {}).get("requests"), f"{cname}: resource requests")
            env_names = [e["name"] for e in c.get("env", [])]
            bad = bad_env_names(env_names, settings)
            R.check(not bad, f"{cname}: every SPLITSTREAM_* variable is a setting", ", ".join(bad))
            for ef in c.get("envFrom", []):
                ref = (ef.get("configMapRef") or {}).get("name")
                if ref:
                    R.check(ref in configmaps, f"{cname}: envFrom ConfigMap {ref} exists")
            # The *_FILE variables point at keys of a mounted Secret.
            mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
            files = {}
            for vol in pod.get("volumes", []):
                sec = vol.get("secret")
                if sec and vol["name"] in mounts:
                    keys = set((secrets.get(sec["secretName"]) or {}).get("stringData", {}))
                    keys |= set((secrets.get(sec["secretName"]) or {}).get("data", {}))
                    R.check(sec["secretName"] in secrets,
                            f"{cname}: Secret {sec['secretName']} is in the manifests")
                    for k in keys:
                        files[f"{mounts[vol['name']].rstrip('/')}/{k}"] = k
            for e in c.get("env", []):
                if e["name"] in ("SPLITSTREAM_DEVICE_TOKENS_FILE", "SPLITSTREAM_ADMIN_TOKEN_FILE"):
                    R.check(e.get("value") in files,
                            f"{cname}: {e['name']} is a mounted Secret key",
                            f"{e.get('value')} not in {sorted(files)}")
            pre_stop = ((c.get("lifecycle") or {}).get("preStop") or {}).get("exec", {})
            sleep = 0
            cmd = pre_stop.get("command") or []
            if cmd and cmd[0].endswith("sleep") and len(cmd) > 1:
                sleep = int(cmd[1])
            grace = pod.get("terminationGracePeriodSeconds", 30)
            R.check(grace > drain + sleep,
                    f"Deployment {name}: terminationGracePeriodSeconds {grace} > drain-timeout "
                    f"{drain} + preStop {sleep}")

    for svc in by_kind.get("Service", []):
        name = svc["metadata"]["name"]
        selector = (svc.get("spec") or {}).get("selector") or {}
        matched = [w for w in workloads if selector and selector.items() <=
                   (w["spec"]["template"]["metadata"].get("labels") or {}).items()]
        if not R.check(matched, f"Service {name}: its selector matches a workload", str(selector)):
            continue
        ports = container_ports(matched[0]["spec"]["template"]["spec"])
        for p in svc["spec"].get("ports", []):
            target = p.get("targetPort", p.get("port"))
            R.check(resolve_port(target, ports) is not None,
                    f"Service {name}: targetPort {target} is a declared container port")

    for sts in by_kind.get("StatefulSet", []):
        for c in sts["spec"]["template"]["spec"]["containers"]:
            if str(c.get("image", "")).startswith("redis"):
                args = " ".join(str(a) for a in c.get("command", []) + c.get("args", []))
                R.check(re.search(r"--appendonly\s+yes\b", args),
                        f"StatefulSet {sts['metadata']['name']}: redis with --appendonly yes")

    for sec in secrets.values():
        where = f"Secret {sec['metadata']['name']}"
        for key, value in (sec.get("stringData") or {}).items():
            if key == "device-tokens":
                check_token_lines(f"{where} {key}", str(value), event_devices)
            else:
                R.check("REPLACE-ME" in str(value), f"{where}: {key} is a placeholder (REPLACE-ME)")

    kust = [d for d in k8s.get("k8s/kustomization.yaml", [])]
    if kust:
        listed = set(kust[0].get("resources", []))
        files = {os.path.basename(r) for r in k8s if not r.endswith("kustomization.yaml")}
        R.check(listed == files, "k8s/kustomization.yaml lists every manifest",
                f"listed {sorted(listed)}, files {sorted(files)}")


# --- config file, secrets, systemd ----------------------------------------------------------------


@section("splitstream.conf.example and secrets")
def check_config_example(deploy, settings, event_devices, image_paths):
    with open(os.path.join(deploy, "splitstream.conf.example"), encoding="utf-8") as fh:
        text = fh.read()
    keys = config_file_keys(text)
    bad = [f"line {no}: {k}" for no, k, _ in keys if not settings.file_key_ok(k)]
    R.check(keys and not bad, "splitstream.conf.example: every key (commented ones too) is a "
            "setting", ", ".join(bad))
    values = {}
    for line in text.splitlines():
        m = re.match(r"^([a-z][a-z0-9-]*)\s*=\s*(.*)$", line.strip())
        if m:
            values[m.group(1)] = m.group(2)
    for key in ("event", "web-root"):
        if values.get(key, "").startswith(PREFIX_IN_IMAGE):
            image_paths.add((f"splitstream.conf.example {key}", values[key]))

    with open(os.path.join(deploy, "secrets", "device-tokens.example"), encoding="utf-8") as fh:
        check_token_lines("secrets/device-tokens.example", fh.read(), event_devices)
    with open(os.path.join(deploy, "secrets", "admin-token.example"), encoding="utf-8") as fh:
        admin = fh.read().split()
    R.check(len(admin) == 1 and "REPLACE-ME" in admin[0],
            "secrets/admin-token.example: one token, a placeholder (REPLACE-ME)")
    return values


@section("systemd unit")
def check_systemd(deploy, binary, settings, config_values, tmp):
    path = os.path.join(deploy, "systemd", "splitstream.service")
    with open(path, encoding="utf-8") as fh:
        unit = fh.read()

    def directive(name):
        found = re.findall(rf"^{name}=(.*)$", unit, re.M)
        return found[-1].strip() if found else None

    expected = f"{PREFIX_IN_IMAGE}/bin/splitstream serve --config /etc/splitstream/splitstream.conf"
    R.check(directive("ExecStart") == expected, "unit: ExecStart runs serve --config",
            str(directive("ExecStart")))
    R.check(directive("User") == "splitstream", "unit: User=splitstream")
    R.check(directive("Restart") == "on-failure", "unit: Restart=on-failure")
    R.check(directive("KillSignal") == "SIGTERM", "unit: KillSignal=SIGTERM")
    R.check(directive("LimitNOFILE") == "1048576", "unit: LimitNOFILE=1048576")
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp"):
        R.check(directive(key) == "yes", f"unit: {key}=yes")
    R.check(directive("ProtectSystem") == "strict", "unit: ProtectSystem=strict")
    R.check("redis-server.service" in (directive("After") or "") and
            "redis-server.service" in (directive("Wants") or ""),
            "unit: After= and Wants= redis-server.service")
    drain = int(config_values.get("drain-timeout", settings.default_int("drain-timeout")))
    stop = directive("TimeoutStopSec") or "90"
    R.check(stop.isdigit() and int(stop) > drain,
            f"unit: TimeoutStopSec {stop} > drain-timeout {drain} of the example config")

    if shutil.which("systemd-analyze") is None:
        R.skip("systemd-analyze verify: systemd-analyze is not installed")
        return
    # A copy whose ExecStart is the built binary: verify checks that it is executable.
    copy = os.path.join(tmp, "splitstream.service")
    with open(copy, "w", encoding="utf-8") as fh:
        fh.write(unit.replace(f"ExecStart={PREFIX_IN_IMAGE}/bin/splitstream",
                              f"ExecStart={os.path.abspath(binary)}"))
    out = subprocess.run(["systemd-analyze", "verify", copy], capture_output=True, text=True,
                         timeout=60)
    # Unknown or misspelt directives are only warnings: any line about this unit fails it.
    about = [ln for ln in (out.stdout + out.stderr).splitlines() if "splitstream.service" in ln]
    R.check(out.returncode == 0 and not about, "systemd-analyze verify splitstream.service",
            "\n" + "\n".join(about or [out.stdout + out.stderr]))


# --- HAProxy --------------------------------------------------------------------------------------


@section("haproxy.cfg")
def check_haproxy_static(deploy):
    cfg = os.path.join(deploy, "haproxy.cfg")
    out = subprocess.run(["haproxy", "-c", "-f", cfg], capture_output=True, text=True, timeout=60)
    # Names that resolve only inside Docker's network are expected warnings, nothing else.
    other = [ln for ln in (out.stdout + out.stderr).splitlines()
             if ("[WARNING]" in ln or "[ALERT]" in ln) and "could not resolve address" not in ln]
    R.check(out.returncode == 0 and not other, "haproxy -c -f deploy/haproxy.cfg",
            "\n" + "\n".join(other or [out.stdout + out.stderr]))
    with open(cfg, encoding="utf-8") as fh:
        text = fh.read()
    R.check(re.search(r"^\s*stick-table .*conn_cur", text, re.M) and
            re.search(r"tcp-request connection reject if \{ sc0_conn_cur gt \d+ \}", text),
            "haproxy.cfg: limits connections per source address (stick-table)")
    R.check(re.search(r"^\s*timeout tunnel\s+\d+[hm]\b", text, re.M),
            "haproxy.cfg: a long tunnel timeout for WebSockets and devices")


# --- Dockerfile -----------------------------------------------------------------------------------


def dockerfile_stages(text):
    """Stages as dicts: image, name, instructions [(KEYWORD, args)]."""
    joined, stages = [], []
    cont = ""
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("#"):
            continue  # comments and parser directives, also between continued lines
        if s.endswith("\\"):
            cont += s[:-1] + " "
            continue
        cont += s
        if cont.strip():
            joined.append(cont.strip())
        cont = ""
    for line in joined:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append({"image": words[0], "name": name, "instructions": []})
        elif stages:
            stages[-1]["instructions"].append((keyword, args.strip()))
    return stages


def dockerignored(path, patterns):
    """Whether .dockerignore's patterns leave PATH (or a directory above it) out of the context."""
    parts = path.strip("/").split("/")
    ignored = False
    for pat in patterns:
        negate = pat.startswith("!")
        pat = pat.lstrip("!").strip("/")
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            if fnmatch.fnmatch(prefix, pat) or \
                    (pat.startswith("**/") and fnmatch.fnmatch(parts[i - 1], pat[3:])):
                ignored = not negate
    return ignored


def package_list(path):
    with open(path, encoding="utf-8") as fh:
        return [ln.split("#", 1)[0].strip() for ln in fh if ln.split("#", 1)[0].strip()]


def setup_packages(source):
    with open(os.path.join(source, "scripts", "setup.sh"), encoding="utf-8") as fh:
        text = fh.read()
    block = re.search(r"^SPLITSTREAM_PACKAGES=\((.*?)^\)", text, re.S | re.M).group(1)
    return {w for ln in block.splitlines() for w in ln.split("#", 1)[0].split()}


def apt_installs(stage):
    return [args for kw, args in stage["instructions"] if kw == "RUN" and "apt-get install" in args]


def installed_words(run):
    """The words after `apt-get install` that are not options, up to the end of that command."""
    after = run.split("apt-get install", 1)[1]
    after = re.split(r"&&|\|\||;|\|", after)[0]
    return [w for w in shlex.split(after) if not w.startswith("-")]


def check_stage_packages(stage, list_rel, packages, what):
    runs = apt_installs(stage)
    if not R.check(len(runs) == 1, f"Dockerfile {what} stage: one apt-get install", str(len(runs))):
        return
    run = runs[0]
    R.check("--no-install-recommends" in run, f"Dockerfile {what} stage: --no-install-recommends")
    literal = installed_words(run)
    if literal:
        R.check(sorted(literal) == sorted(packages),
                f"Dockerfile {what} stage installs exactly {list_rel}",
                f"installs {sorted(literal)}, list {sorted(packages)}")
        return
    # Or the list itself, copied in and fed to apt-get install.
    dests = [shlex.split(args)[-1] for kw, args in stage["instructions"]
             if kw == "COPY" and "--from" not in args and list_rel in shlex.split(args)[:-1]]
    R.check(dests and any(d in run for d in dests),
            f"Dockerfile {what} stage installs exactly {list_rel} (the file, copied in)",
            f"COPY destinations {dests}")


@section("Dockerfile")
def check_dockerfile(source, deploy, settings, runtime_packages, image_paths):
    with open(os.path.join(deploy, "Dockerfile"), encoding="utf-8") as fh:
        stages = dockerfile_stages(fh.read())
    ignore = []
    ignore_file = os.path.join(source, ".dockerignore")
    if os.path.isfile(ignore_file):
        with open(ignore_file, encoding="utf-8") as fh:
            ignore = [ln.strip() for ln in fh if ln.strip() and not ln.startswith("#")]
    by_name = {s["name"]: s for s in stages if s["name"]}
    R.check(len(stages) >= 3, "Dockerfile: web, build and runtime stages",
            str([s["name"] for s in stages]))
    web, build, runtime = by_name.get("web"), by_name.get("build"), stages[-1]
    R.check(web and web["image"] == "node:20-bookworm-slim", "Dockerfile: web stage FROM "
            "node:20-bookworm-slim")
    R.check(build and build["image"] == "debian:12", "Dockerfile: build stage FROM debian:12")
    R.check(runtime["image"] == "debian:12-slim", "Dockerfile: the final stage is FROM "
            "debian:12-slim")

    seen = set()
    for stage in stages:
        label = stage["name"] or stage["image"]
        copied = []
        for kw, args in stage["instructions"]:
            if kw == "COPY":
                words = shlex.split(args)
                opts = [w for w in words if w.startswith("--")]
                paths = [w for w in words if not w.startswith("--")]
                src = paths[:-1]
                frm = [o.split("=", 1)[1] for o in opts if o.startswith("--from=")]
                if frm:
                    R.check(frm[0] in seen, f"Dockerfile {label}: COPY --from={frm[0]} names an "
                            "earlier stage")
                    continue
                for s in src:
                    copied.append(s.rstrip("/"))
                    R.check(os.path.exists(os.path.join(source, s)) and
                            not dockerignored(s, ignore),
                            f"Dockerfile {label}: COPY {s} exists in the build context")
            elif kw == "RUN":
                for script in re.findall(r"(?:^|\s)(?:bash\s+|sh\s+|\./)?((?:scripts|deploy)/"
                                         r"[\w./-]+\.sh)\b", args):
                    in_tree = os.path.isfile(os.path.join(source, script))
                    was_copied = any(script == c or script.startswith(c + "/") for c in copied)
                    R.check(in_tree and was_copied,
                            f"Dockerfile {label}: RUN {script} exists and is copied in first")
        if stage["name"]:
            seen.add(stage["name"])

    if web:
        runs = " ".join(a for k, a in web["instructions"] if k == "RUN")
        R.check("protobuf-compiler" in runs and "scripts/build-web.sh" in runs,
                "Dockerfile web stage: installs protobuf-compiler, runs scripts/build-web.sh")
    if build:
        runs = " ".join(a for k, a in build["instructions"] if k == "RUN")
        R.check(re.search(r"deploy/build-release\.sh .*--prefix /opt/splitstream", runs),
                "Dockerfile build stage: runs deploy/build-release.sh --prefix /opt/splitstream")
        build_list = package_list(os.path.join(deploy, "build-packages.txt"))
        check_stage_packages(build, "deploy/build-packages.txt", build_list, "build")
        setup = setup_packages(source)
        R.check(set(build_list) <= setup, "build-packages.txt: each package is in setup.sh",
                ", ".join(sorted(set(build_list) - setup)))
        needed = {p for p in setup if p.endswith("-dev")} - NOT_FOR_THE_BUILD | BUILD_TOOLS
        R.check(needed <= set(build_list), "build-packages.txt: every library and tool of the "
                "build in setup.sh", "missing " + ", ".join(sorted(needed - set(build_list))))

    check_stage_packages(runtime, "deploy/runtime-packages.txt", runtime_packages, "runtime")
    ins = runtime["instructions"]
    users = [a for k, a in ins if k == "USER"]
    R.check(users and users[-1].split(":")[0] not in ("root", "0"),
            "Dockerfile runtime: runs as a non-root USER", str(users))
    exposed = {w.split("/")[0] for k, a in ins if k == "EXPOSE" for w in a.split()}
    R.check({"8080", "7070"} <= exposed, "Dockerfile runtime: EXPOSE 8080 7070", str(exposed))
    entry = [json.loads(a) for k, a in ins if k == "ENTRYPOINT"]
    cmd = [json.loads(a) for k, a in ins if k == "CMD"]
    R.check(entry and entry[-1] == [f"{PREFIX_IN_IMAGE}/bin/splitstream"],
            "Dockerfile runtime: ENTRYPOINT [\"/opt/splitstream/bin/splitstream\"]")
    R.check(cmd and cmd[-1] == ["serve"], "Dockerfile runtime: CMD [\"serve\"]")
    env = {}
    for k, a in ins:
        if k == "ENV":
            for w in shlex.split(a):
                if "=" in w:
                    key, value = w.split("=", 1)
                    env[key] = value
    bad = bad_env_names(env, settings)
    R.check(env and not bad, "Dockerfile runtime: ENV SPLITSTREAM_* are settings", ", ".join(bad))
    R.check("SPLITSTREAM_WEB_ROOT" in env, "Dockerfile runtime: ENV SPLITSTREAM_WEB_ROOT")
    for key in ("SPLITSTREAM_EVENT", "SPLITSTREAM_WEB_ROOT"):
        if env.get(key, "").startswith(PREFIX_IN_IMAGE):
            image_paths.add((f"Dockerfile ENV {key}", env[key]))
    web_copies = [a for k, a in ins if k == "COPY" and "--from=web" in a]
    R.check(web_copies and env.get("SPLITSTREAM_WEB_ROOT") in shlex.split(web_copies[0])[-1:],
            "Dockerfile runtime: the web stage's dist is copied to SPLITSTREAM_WEB_ROOT")


def package_of(path):
    """The Debian package shipping a library path, trying the /usr-merged spellings."""
    candidates = [path, os.path.realpath(path)]
    for p in list(candidates):
        if p.startswith("/usr/lib/"):
            candidates.append(p[len("/usr"):])
        elif p.startswith("/lib/") or p.startswith("/lib64/"):
            candidates.append("/usr" + p)
    for p in candidates:
        out = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if out.returncode == 0:
            return out.stdout.split(":", 1)[0].split(",")[0].strip()
    return None


@section("shared libraries")
def check_libraries(binaries, runtime_packages):
    allowed = set(runtime_packages) | BASE_IMAGE_PACKAGES
    for binary in binaries:
        out = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=30)
        if not R.check(out.returncode == 0, f"ldd {binary}", out.stderr):
            continue
        problems, libs = [], 0
        for line in out.stdout.splitlines():
            m = re.match(r"^\s*(\S+)(?: => (\S+))? \(0x", line)
            if not m:
                if "not found" in line:
                    problems.append(line.strip())
                continue
            path = m.group(2) or m.group(1)
            if not path.startswith("/"):
                continue  # linux-vdso
            libs += 1
            pkg = package_of(path)
            if pkg is None:
                problems.append(f"{path}: no Debian package ships it")
            elif pkg.split(":")[0] not in allowed:
                problems.append(f"{path}: from {pkg}, not in runtime-packages.txt")
        R.check(not problems, f"{os.path.basename(binary)}: its {libs} shared libraries come from "
                "runtime-packages.txt or the base image", "; ".join(problems))


# --- Grafana --------------------------------------------------------------------------------------


def dashboard_exprs(dashboard):
    exprs = []

    def walk(panels):
        for p in panels:
            exprs.extend((p.get("title", ""), t["expr"]) for t in p.get("targets", [])
                         if t.get("expr"))
            walk(p.get("panels", []))

    walk(dashboard.get("panels", []))
    return exprs


def metric_names(expr):
    return set(re.findall(r"\b((?:splitstream|process)_[a-z0-9_]+)\b", expr))


@section("Grafana dashboard")
def check_dashboard(deploy):
    with open(os.path.join(deploy, "grafana", "splitstream.json"), encoding="utf-8") as fh:
        dash = json.load(fh)
    R.check(dash.get("schemaVersion", 0) >= 36, "dashboard: schemaVersion 36 or later",
            str(dash.get("schemaVersion")))
    variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
    ds_var = [n for n, v in variables.items()
              if v.get("type") == "datasource" and v.get("query") == "prometheus"]
    uses_input = "${DS_PROMETHEUS}" in json.dumps(dash)
    R.check(ds_var or uses_input, "dashboard: a Prometheus datasource variable")
    R.check("instance" in variables, "dashboard: an `instance` variable")
    exprs = dashboard_exprs(dash)
    R.check(len(exprs) >= 20, f"dashboard: {len(exprs)} queries")
    unbalanced = [t for t, e in exprs
                  if any(e.count(a) != e.count(b) for a, b in ("()", "[]", "{}"))]
    R.check(not unbalanced, "dashboard: brackets balance in every query", ", ".join(unbalanced))
    quantile_ok = [t for t, e in exprs
                   if "histogram_quantile" in e and not re.search(r"_bucket\{", e)]
    R.check(not quantile_ok, "dashboard: histogram_quantile only over _bucket series",
            ", ".join(quantile_ok))
    if ds_var:
        ref = "${%s}" % ds_var[0]
        bad = []

        def walk(panels):
            for p in panels:
                if p.get("type") != "row" and (p.get("datasource") or {}).get("uid") != ref:
                    bad.append(p.get("title"))
                walk(p.get("panels", []))

        walk(dash.get("panels", []))
        R.check(not bad, f"dashboard: every panel uses the datasource variable {ref}",
                ", ".join(map(str, bad)))
    wanted = {"splitstream_reads_received_total", "splitstream_reads_stored_total",
              "splitstream_reads_rejected_total", "splitstream_reads_duplicate_total",
              "splitstream_devices_connected", "splitstream_ack_latency_seconds_bucket",
              "splitstream_redis_command_seconds_bucket", "splitstream_redis_errors_total",
              "splitstream_ws_viewers_connected", "splitstream_ws_messages_sent_total",
              "splitstream_ws_messages_dropped_total", "splitstream_ws_queue_bytes",
              "splitstream_device_to_viewer_seconds_bucket",
              "splitstream_stored_to_publish_seconds_bucket", "splitstream_engine_applied_total",
              "splitstream_engine_caught_up", "splitstream_connections_refused_total",
              "splitstream_corrections_total", "process_resident_memory_bytes",
              "process_cpu_seconds_total"}
    used = set().union(*(metric_names(e) for _, e in exprs)) if exprs else set()
    R.check(wanted <= used, "dashboard: panels for ingest, Redis, viewers, latency, engine and "
            "process", "missing " + ", ".join(sorted(wanted - used)))
    return used


# --- the staged release, live ---------------------------------------------------------------------


def die_with_parent():
    """preexec_fn: the child gets SIGTERM if this script dies (ctest's timeout kills it hard)."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Processes:
    def __init__(self):
        self.procs = []

    def start(self, name, argv, log):
        fh = open(log, "wb")
        p = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, env=clean_env(),
                             preexec_fn=die_with_parent)
        self.procs.append((name, p, log))
        return p

    def stop_all(self):
        for _, p, _ in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
        deadline = time.time() + 15
        for _, p, _ in reversed(self.procs):
            try:
                p.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from free_port import free_port  # noqa: E402  below the ephemeral range, reserved


def http_get(port, path, timeout=3):
    """(status, content type, body) of GET path on 127.0.0.1:port, the path sent as it is."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": "localhost"})
        res = conn.getresponse()
        return res.status, res.getheader("Content-Type", ""), res.read()
    finally:
        conn.close()


def wait_for(what, fn, timeout, procs=()):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        for name, p in procs:
            if p.poll() is not None:
                raise RuntimeError(f"{name} exited ({p.returncode}) while waiting for {what}")
        try:
            last = fn()
            if last:
                return last
        except OSError as e:
            last = e
        time.sleep(0.2)
    raise RuntimeError(f"timed out after {timeout} s waiting for {what} (last: {last})")


def status_of(port, path):
    try:
        return http_get(port, path)[0]
    except (OSError, http.client.HTTPException):
        return None


def websocket_upgrade(port):
    """The status line and headers of a WebSocket handshake on /ws, Sec-WebSocket-Accept checked."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"Sec-WebSocket-Protocol: splitstream.v1.json\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
    accept = base64.b64encode(hashlib.sha1(
        (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    return head.startswith("HTTP/1.1 101") and accept in head, head.splitlines()[:1]


def exposed_metrics(text):
    """Names on /metrics: each sample's name, and histograms' base names from # TYPE lines."""
    names, histograms = set(), set()
    for line in text.splitlines():
        m = re.match(r"^# TYPE (\S+) (\S+)", line)
        if m:
            names.add(m.group(1))
            if m.group(2) == "histogram":
                histograms.add(m.group(1))
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{\s]", line, 1)[0])
    return names, histograms


def missing_metrics(used, text):
    names, histograms = exposed_metrics(text)
    missing = []
    for n in sorted(used):
        base = re.sub(r"_(bucket|sum|count)$", "", n)
        if n in names or (base != n and base in histograms):
            continue
        missing.append(n)
    return missing


def haproxy_for_test(cfg_text, node_ports, lb_ports):
    """haproxy.cfg with its servers aimed at the node under test and its binds on free ports."""
    out = []
    for line in cfg_text.splitlines():
        words = line.split()
        if words and words[0] == "server" and len(words) >= 3:
            host, port = words[2].rsplit(":", 1)
            line = line.replace(words[2], f"127.0.0.1:{node_ports[int(port)]}")
            line = re.sub(r"\bport (\d+)\b", lambda m: f"port {node_ports[int(m.group(1))]}", line)
        elif words and words[0] == "bind":
            port = int(words[1].rsplit(":", 1)[1])
            line = line.replace(words[1], f"127.0.0.1:{lb_ports.setdefault(port, free_port())}")
        elif words[:1] == ["maxconn"] and len(words) == 2:
            # HAProxy wants two descriptors per connection and will not start when this machine's
            # open-file limit is lower (the compose service raises it): fit it to the limit.
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            if hard != resource.RLIM_INFINITY:
                line = line.replace(words[1], str(min(int(words[1]), max(100, hard // 2 - 1000))))
        out.append(line)
    return "\n".join(out) + "\n"


@section("staged release")
def check_release(source, deploy, build_dir, tmp, image_paths):
    prefix = os.path.join(tmp, "prefix")
    if not R.check(os.path.isfile(os.path.join(build_dir, "CMakeCache.txt")),
                   f"{build_dir} is the binary's CMake build tree"):
        return None
    out = subprocess.run(["bash", os.path.join(deploy, "build-release.sh"), "--build-dir",
                          build_dir, "--prefix", prefix], capture_output=True, text=True,
                         timeout=600, env=clean_env())
    if not R.check(out.returncode == 0, "deploy/build-release.sh --build-dir BUILD --prefix TMP",
                   out.stdout[-3000:] + out.stderr[-3000:]):
        return None
    share = os.path.join(prefix, "share", "splitstream")
    for rel in ("bin/splitstream", "bin/splitstream-sim"):
        R.check(os.access(os.path.join(prefix, rel), os.X_OK), f"staged {rel}")
    for rel in ("events/pyongyang-2025/event.json", "splitstream.conf.example",
                "systemd/splitstream.service"):
        R.check(os.path.isfile(os.path.join(share, rel)), f"staged share/splitstream/{rel}")
    web_built = os.path.isfile(os.path.join(source, "web", "dist", "index.html"))
    if web_built:
        R.check(os.path.isfile(os.path.join(share, "web", "index.html")),
                "staged share/splitstream/web (the browser app)")
    else:
        R.skip("staged browser app: web/dist is not built (scripts/build-web.sh)")
    event = os.path.join(share, "events", "pyongyang-2025")
    out = subprocess.run([os.path.join(prefix, "bin", "splitstream"), "check", "--event", event],
                         capture_output=True, text=True, timeout=60, env=clean_env())
    R.check(out.returncode == 0, "staged splitstream check --event <staged demo event>",
            out.stdout + out.stderr)
    # Paths the files give inside the image exist in the staged tree (web only when built).
    for where, path in sorted(image_paths):
        if not web_built and path.startswith(f"{PREFIX_IN_IMAGE}/share/splitstream/web"):
            continue
        staged = os.path.join(prefix, os.path.relpath(path, PREFIX_IN_IMAGE))
        R.check(os.path.exists(staged), f"{where}: {path} exists in the staged tree")
    return prefix, web_built


@section("live: redis-server, splitstream serve, HAProxy")
def check_live(source, deploy, settings, prefix, web_built, used_metrics, tmp):
    procs = Processes()
    failed_before = R.failed
    try:
        run_live(source, deploy, settings, prefix, web_built, used_metrics, tmp, procs)
    finally:
        procs.stop_all()
        if R.failed > failed_before or sys.exc_info()[0] is not None:
            for name, p, log in procs.procs:
                with open(log, errors="replace") as fh:
                    print(f"--- {name} log (exit {p.returncode}):\n{fh.read()[-3000:]}")


def run_live(source, deploy, settings, prefix, web_built, used_metrics, tmp, procs):
    share = os.path.join(prefix, "share", "splitstream")
    redis_port, http_port, devices_port = free_port(), free_port(), free_port()
    redis = procs.start("redis-server", [
        "redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", "--dir", tmp], os.path.join(tmp, "redis.log"))

    def redis_ping():
        with socket.create_connection(("127.0.0.1", redis_port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    wait_for("redis-server", redis_ping, 15, [("redis-server", redis)])

    # The example config as it is; flags (which win) only for what differs on this machine.
    admin_token = os.path.join(tmp, "admin-token")
    shutil.copy(os.path.join(deploy, "secrets", "admin-token.example"), admin_token)
    tokens = os.path.join(deploy, "secrets", "device-tokens.example")
    argv = [os.path.join(prefix, "bin", "splitstream"), "serve",
            "--config", os.path.join(share, "splitstream.conf.example"),
            "--event", os.path.join(share, "events", "pyongyang-2025"),
            "--redis", f"redis://127.0.0.1:{redis_port}",
            "--http", f"127.0.0.1:{http_port}", "--devices", f"127.0.0.1:{devices_port}",
            "--device-tokens-file", tokens,
            "--web-root=" + (os.path.join(share, "web") if web_built else "")]
    if "admin-token-file" in settings.names:  # a server without it has failed the checks above
        argv += ["--admin-token-file", admin_token]
    server = procs.start("splitstream serve", argv, os.path.join(tmp, "serve.log"))
    alive = [("redis-server", redis), ("splitstream serve", server)]
    wait_for("/readyz 200", lambda: status_of(http_port, "/readyz") == 200, 30, alive)
    R.ok("staged server started from splitstream.conf.example: /readyz 200")
    R.check(status_of(http_port, "/healthz") == 200, "GET /healthz 200")
    if web_built:
        status, _, body = http_get(http_port, "/")
        R.check(status == 200 and b"<title>" in body, "GET / serves the browser app", str(status))
    status, ctype, _ = http_get(http_port, "/metrics")
    R.check(status == 200 and ctype.startswith("text/plain"), "GET /metrics 200 text/plain",
            f"{status} {ctype}")

    # HAProxy from haproxy.cfg, its servers aimed at this node.
    with open(os.path.join(deploy, "haproxy.cfg"), encoding="utf-8") as fh:
        cfg_text = fh.read()
    lb_ports = {}
    cfg = haproxy_for_test(cfg_text, {8080: http_port, 7070: devices_port}, lb_ports)
    cfg_path = os.path.join(tmp, "haproxy.cfg")
    with open(cfg_path, "w", encoding="utf-8") as fh:
        fh.write(cfg)
    lb = procs.start("haproxy", ["haproxy", "-db", "-f", cfg_path], os.path.join(tmp, "lb.log"))
    alive.append(("haproxy", lb))
    lb_http, lb_devices = lb_ports.get(8080), lb_ports.get(7070)
    if not R.check(lb_http and lb_devices, "haproxy.cfg binds :8080 and :7070", str(lb_ports)):
        return
    wait_for("/readyz 200 through HAProxy", lambda: status_of(lb_http, "/readyz") == 200, 30,
             alive)
    R.ok("HAProxy: /readyz 200 through the load balancer")
    if web_built:
        R.check(status_of(lb_http, "/") == 200, "HAProxy: GET / 200")
    for path in ("/metrics", "//metrics", "/%6Detrics", "/./metrics", "/metrics/"):
        status = status_of(lb_http, path)
        R.check(status == 403, f"HAProxy: GET {path} is denied on the public port", str(status))
    ok, head = websocket_upgrade(lb_http)
    R.check(ok, "HAProxy: a WebSocket upgrade on /ws passes (101, Sec-WebSocket-Accept)",
            str(head))
    if 8404 in lb_ports:
        R.check(status_of(lb_ports[8404], "/metrics") == 200,
                "HAProxy: its own metrics on the internal port")

    # A simulated device's reads through the load balancer's device port, all acknowledged.
    reads = os.path.join(tmp, "reads.csv")
    with open(os.path.join(source, "events", "pyongyang-2025", "reads.csv"),
              encoding="utf-8") as src, open(reads, "w", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if i > 300:
                break
            dst.write(line)
    out = subprocess.run([os.path.join(prefix, "bin", "splitstream-sim"), "replay",
                          "--event", os.path.join(share, "events", "pyongyang-2025"),
                          "--reads", reads, "--server", f"127.0.0.1:{lb_devices}",
                          "--device-tokens-file", tokens, "--speed", "max"],
                         capture_output=True, text=True, timeout=60, env=clean_env(),
                         preexec_fn=die_with_parent)
    R.check(out.returncode == 0, "HAProxy: splitstream-sim replays 300 reads through the device "
            "port, all acknowledged", (out.stdout + out.stderr)[-2000:])
    # After devices, viewers and reads, the node has something to count in most metrics.
    body = http_get(http_port, "/metrics")[2].decode(errors="replace")
    stored = sum(float(v) for v in re.findall(
        r"^splitstream_reads_stored_total(?:\{[^}]*\})? (\S+)", body, re.M))
    R.check(stored >= 300, f"the node stored the reads ({stored:.0f})")
    missing = missing_metrics(used_metrics, body)
    R.check(not missing, f"every metric of the dashboard ({len(used_metrics)}) is on /metrics",
            "missing " + ", ".join(missing))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="the built splitstream binary")
    ap.add_argument("--build-dir", help="the binary's CMake build tree (default: BIN/../..)")
    ap.add_argument("--source", required=True, help="the source tree")
    args = ap.parse_args()
    source = os.path.abspath(args.source)
    deploy = os.path.join(source, "deploy")
    binary = os.path.abspath(args.bin)
    build_dir = os.path.abspath(args.build_dir or os.path.dirname(os.path.dirname(binary)))
    start = time.time()

    settings = Settings(binary)
    print(f"{len(settings.names)} settings from `splitstream serve --help`")
    with open(os.path.join(source, "events", "pyongyang-2025", "event.json"),
              encoding="utf-8") as fh:
        event_devices = {d["id"] for d in json.load(fh)["devices"]}
    runtime_packages = package_list(os.path.join(deploy, "runtime-packages.txt"))
    image_paths = set()

    with tempfile.TemporaryDirectory(prefix="splitstream-deploy-check.") as tmp:
        docs = parse_yaml(deploy) or {}
        if "compose.yaml" in docs and "prometheus/prometheus.yml" in docs:
            check_compose(deploy, docs, settings, image_paths)
        else:
            R.fail("compose.yaml and prometheus/prometheus.yml are needed")
        check_k8s(deploy, docs, settings, event_devices, image_paths)
        config_values = check_config_example(deploy, settings, event_devices, image_paths) or {}
        check_systemd(deploy, binary, settings, config_values, tmp)
        check_haproxy_static(deploy)
        check_dockerfile(source, deploy, settings, runtime_packages, image_paths)
        used = check_dashboard(deploy) or set()
        staged = check_release(source, deploy, build_dir, tmp, image_paths)
        if staged:
            prefix, web_built = staged
            check_libraries([os.path.join(prefix, "bin", "splitstream"),
                             os.path.join(prefix, "bin", "splitstream-sim")], runtime_packages)
            check_live(source, deploy, settings, prefix, web_built, used, tmp)
        else:
            check_libraries([binary], runtime_packages)
            R.fail("live checks: no staged release")

    print(f"deploy_check: {R.passed} ok, {R.failed} failed, {R.skipped} skipped "
          f"in {time.time() - start:.1f} s")
    return 1 if R.failed else 0


if __name__ == "__main__":
    # SIGTERM (a runner stopping the test) unwinds like an exception: children stopped, the
    # temporary directory removed. A SIGKILL leaves the directory; the children still get
    # SIGTERM through PR_SET_PDEATHSIG.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
