#!/usr/bin/python3
"""Validate event.json files against docs/event.schema.json.

Usage:
  event_schema_check.py SCHEMA EVENT_JSON [EVENT_JSON ...]
  event_schema_check.py --self-test SCHEMA [EVENT_JSON ...]

Checks the schema itself (Draft 2020-12 meta-schema), then validates each event.json and prints
every error as `FILE: PATH: message`, PATH in the loader's style (`races[0].splits[3].laps`).
--self-test also asserts that hand-written bad documents are rejected for the expected reason,
that a minimal good one is accepted, and that the ```json examples in docs/event-format.md (next to
the schema) are valid. Exit status: 0 all good, 1 any error or failed self-test, 2 usage error.

Needs Debian's python3-jsonschema (apt-get install -y python3-jsonschema). The schema covers
structure only; cross-references (ids, distances vs course) are checked by `splitstream check`.
"""

import argparse
import copy
import json
import os
import re
import sys

try:
    import jsonschema
except ImportError:  # pragma: no cover - environment problem, not a test failure to hide
    sys.stderr.write("event_schema_check: python3-jsonschema is not installed "
                     "(apt-get install -y python3-jsonschema)\n")
    sys.exit(2)


def field_path(path):
    """['races', 0, 'splits', 3, 'id'] -> 'races[0].splits[3].id' (the loader's style)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += "[%d]" % part
        else:
            out += ("." if out else "") + str(part)
    return out or "(root)"


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def make_validator(schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors_of(validator, doc):
    """All validation errors, sorted by path, as (path string, validator keyword, message)."""
    errs = sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    return [(field_path(e.absolute_path), e.validator, e.message) for e in errs]


def validate_files(validator, paths):
    bad = 0
    for path in paths:
        try:
            doc = load_json(path)
        except OSError as e:
            print("%s: cannot read: %s" % (path, e.strerror))
            bad += 1
            continue
        except json.JSONDecodeError as e:
            print("%s:%d:%d: not valid JSON: %s" % (path, e.lineno, e.colno, e.msg))
            bad += 1
            continue
        errs = errors_of(validator, doc)
        for where, _, message in errs:
            print("%s: %s: %s" % (path, where, message))
        if errs:
            bad += 1
        else:
            print("%s: ok" % path)
    return bad


# --- self-test ---------------------------------------------------------------------------------

GOOD = {
    "id": "town-10k-2025",
    "name": "Town 10K 2025",
    "timezone": "+02:00",
    "timing_points": [
        {"id": "square", "name": "Town Square", "lat": 48.0, "lon": 11.0},
        {"id": "bridge", "lat": 48.01, "lon": 11.01, "read_rule": "first", "dedup_s": 3},
    ],
    "races": [
        {
            "id": "10k",
            "name": "10 km",
            "distance_m": 10000,
            "gun_time": "2025-05-04T09:00:00+02:00",
            "course": "courses/loop.geojson",
            "laps": 2,
            "splits": [
                {"id": "start", "timing_point": "square", "distance_m": 0},
                {"id": "lap1", "timing_point": "square", "distance_m": 5000},
                {"id": "bridge2", "timing_point": "bridge", "distance_m": 7500},
                {"id": "finish", "timing_point": "square", "distance_m": 10000},
            ],
            "waves": [{"id": "A", "gun_time": "2025-05-04T09:05:00.500Z"}],
        }
    ],
    "devices": [
        {"id": "square-main", "timing_point": "square", "line": "main"},
        {"id": "square-backup", "timing_point": "square", "line": "backup"},
    ],
}


def mutated(fn):
    doc = copy.deepcopy(GOOD)
    fn(doc)
    return doc


def _set(path, value):
    def fn(doc):
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return fn


def _del(path):
    def fn(doc):
        node = doc
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return fn


# (name, document, expected error path, expected failing keyword)
BAD = [
    ("unknown top-level key", mutated(_set(["nmae"], "typo")), "(root)", "additionalProperties"),
    ("unknown key in a split", mutated(_set(["races", 0, "splits", 1, "timingpoint"], "square")),
     "races[0].splits[1]", "additionalProperties"),
    ("bad read_rule", mutated(_set(["timing_points", 1, "read_rule"], "earliest")),
     "timing_points[1].read_rule", "enum"),
    ("gun_time without offset", mutated(_set(["races", 0, "gun_time"], "2025-05-04T09:00:00")),
     "races[0].gun_time", "pattern"),
    ("wave gun_time without offset",
     mutated(_set(["races", 0, "waves", 0, "gun_time"], "2025-05-04T09:05:00.500")),
     "races[0].waves[0].gun_time", "pattern"),
    ("laps 0", mutated(_set(["races", 0, "laps"], 0)), "races[0].laps", "minimum"),
    ("laps not whole", mutated(_set(["races", 0, "laps"], 1.5)), "races[0].laps", "type"),
    ("missing gun_time", mutated(_del(["races", 0, "gun_time"])), "races[0]", "required"),
    ("missing timezone", mutated(_del(["timezone"])), "(root)", "required"),
    ("timezone without colon", mutated(_set(["timezone"], "+0200")), "timezone", "pattern"),
    ("event id not a slug", mutated(_set(["id"], "Town_10K")), "id", "pattern"),
    ("negative dedup_s", mutated(_set(["timing_points", 0, "dedup_s"], -1)),
     "timing_points[0].dedup_s", "minimum"),
    ("max_speed_mps 0", mutated(_set(["max_speed_mps"], 0)), "max_speed_mps", "exclusiveMinimum"),
    ("negative split distance", mutated(_set(["races", 0, "splits", 0, "distance_m"], -5)),
     "races[0].splits[0].distance_m", "minimum"),
    ("bad rank_by", mutated(_set(["races", 0, "rank_by"], "net")), "races[0].rank_by", "enum"),
    ("bad device line", mutated(_set(["devices", 0, "line"], "spare")), "devices[0].line", "enum"),
    ("age_groups not starting at 0", mutated(_set(["age_groups"], [18, 35])), "age_groups[0]",
     "const"),
    ("latitude out of range", mutated(_set(["timing_points", 0, "lat"], 148.0)),
     "timing_points[0].lat", "maximum"),
    ("only one split", mutated(lambda d: d["races"][0].__setitem__("splits", d["races"][0]["splits"][:1])),
     "races[0].splits", "minItems"),
    ("distance as a string", mutated(_set(["races", 0, "distance_m"], "10000")),
     "races[0].distance_m", "type"),
    ("cutoff with one-digit minutes", mutated(_set(["races", 0, "splits", 2, "cutoff"], "1:5:00")),
     "races[0].splits[2].cutoff", "pattern"),
    ("cutoff in minutes", mutated(_set(["races", 0, "splits", 2, "cutoff"], 90)),
     "races[0].splits[2].cutoff", "type"),
]

GOOD_VARIANTS = [
    ("minimal event", GOOD),
    ("UTC gun time with milliseconds", mutated(_set(["races", 0, "gun_time"], "2025-05-04T07:00:00.000Z"))),
    ("timezone Z", mutated(_set(["timezone"], "Z"))),
    ("negative offset", mutated(_set(["timezone"], "-05:00"))),
    ("cut-offs", mutated(lambda d: (d["races"][0]["splits"][2].update({"cutoff": "0:50:00"}),
                                    d["races"][0]["splits"][3].update({"cutoff": "1:10:00"})))),
    ("explicit optional fields", mutated(lambda d: d.update({
        "$schema": "../../docs/event.schema.json", "year": 2025, "max_speed_mps": 8.5,
        "age_groups": [0, 18, 40, 60], "landmarks": [{"name": "Old Mill", "lat": 48.0, "lon": 11.0}]}))),
]


def doc_examples(schema_path):
    """The ```json blocks of docs/event-format.md that are whole event.json documents."""
    doc_path = os.path.join(os.path.dirname(os.path.abspath(schema_path)), "event-format.md")
    if not os.path.exists(doc_path):
        return doc_path, []
    with open(doc_path, encoding="utf-8") as f:
        text = f.read()
    out = []
    for m in re.finditer(r"^```json\n(.*?)^```", text, re.S | re.M):
        line = text.count("\n", 0, m.start()) + 2
        try:
            value = json.loads(m.group(1))
        except json.JSONDecodeError as e:
            out.append(("%s:%d" % (doc_path, line + e.lineno - 1), None, e.msg))
            continue
        if isinstance(value, dict) and "races" in value:
            out.append(("%s:%d" % (doc_path, line), value, None))
    return doc_path, out


def self_test(validator, schema_path):
    passed = failed = 0

    def report(ok, what, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print("ok   %s" % what)
        else:
            failed += 1
            print("FAIL %s%s" % (what, (": " + detail) if detail else ""))

    for name, doc in GOOD_VARIANTS:
        errs = errors_of(validator, doc)
        report(not errs, "accepts %s" % name, "; ".join("%s: %s" % (p, m) for p, _, m in errs))
    for name, doc, want_path, want_keyword in BAD:
        errs = errors_of(validator, doc)
        hit = any(p == want_path and k == want_keyword for p, k, _ in errs)
        report(hit, "rejects %s (%s at %s)" % (name, want_keyword, want_path),
               "got " + ("; ".join("%s [%s]: %s" % e for e in errs) or "no error"))
    doc_path, examples = doc_examples(schema_path)
    if not examples:
        print("note: no event.json example found in %s" % doc_path)
    for where, value, parse_error in examples:
        if parse_error:
            report(False, "example at %s parses" % where, parse_error)
            continue
        errs = errors_of(validator, value)
        report(not errs, "accepts example at %s" % where,
               "; ".join("%s: %s" % (p, m) for p, _, m in errs))
    print("%d passed, %d failed" % (passed, failed))
    return failed


def main(argv):
    ap = argparse.ArgumentParser(description="Validate event.json files against the event schema.")
    ap.add_argument("--self-test", action="store_true",
                    help="check that known-bad documents are rejected and good ones accepted")
    ap.add_argument("schema", help="path of docs/event.schema.json")
    ap.add_argument("events", nargs="*", help="event.json files to validate")
    args = ap.parse_args(argv)
    if not args.self_test and not args.events:
        ap.error("give one or more event.json files, or --self-test")

    try:
        schema = load_json(args.schema)
    except (OSError, json.JSONDecodeError) as e:
        print("%s: cannot load schema: %s" % (args.schema, e))
        return 1
    try:
        validator = make_validator(schema)
    except jsonschema.exceptions.SchemaError as e:
        print("%s: %s: invalid schema: %s" % (args.schema, field_path(e.absolute_path), e.message))
        return 1

    status = 0
    if args.self_test and self_test(validator, args.schema):
        status = 1
    if args.events and validate_files(validator, args.events):
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
