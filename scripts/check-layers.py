#!/usr/bin/env python3
"""scripts/check-layers.py: every #include in src/ that points up a layer, by file.

    python3 scripts/check-layers.py [--graph] [--src DIR] [--self-test]

The layers and what each may use are the splitstream_layer() calls in src/CMakeLists.txt (the
same the build enforces: a layer's include path holds only its own folder and those below it).
A file may include its own folder, any layer below it (transitively), the generated Protobuf
headers (splitstream/v1/...) and system headers. Exit status 1 when an include crosses the
layering, or when the layers form a cycle. --graph prints each layer with what it may use;
--src checks another tree; --self-test shows on small trees of its own that a crossing include
and a cycle are reported.
"""
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def read_layers():
    text = (SRC / "CMakeLists.txt").read_text()
    text = re.sub(r"#.*", "", text)
    layers = {}
    # A call may span lines: join each call's text up to its closing parenthesis.
    for match in re.finditer(r"^splitstream_layer\(([^)]*)\)", text, re.M):
        words = match.group(1).split()
        name, below, key = words[0], [], None
        for word in words[1:]:
            if word in ("LAYERS", "LIBS", "EXCLUDE"):
                key = word
            elif key == "LAYERS":
                below.append(word)
        layers[name] = below
    return layers


def self_test():
    """Small trees with a known fault each: the check must name it and fail."""
    cases = {
        "an include pointing up": (
            "splitstream_layer(low)\nsplitstream_layer(high LAYERS low)\n",
            {"low/a.hpp": '#include "high/b.hpp"\n', "high/b.hpp": '#include "low/a.hpp"\n'},
            "src/low/a.hpp:1: low includes high/b.hpp"),
        "a cycle": (
            "splitstream_layer(one LAYERS two)\nsplitstream_layer(two LAYERS one)\n",
            {"one/a.hpp": "", "two/b.hpp": ""}, "the layers form a cycle"),
        "a folder that is no layer": (
            "splitstream_layer(low)\n", {"low/a.hpp": "", "stray/b.hpp": ""},
            "src/stray/: a folder that is no layer"),
    }
    failures = 0
    for name, (cmake, files, expected) in cases.items():
        with tempfile.TemporaryDirectory() as tmp:
            src = pathlib.Path(tmp) / "src"
            for path, text in files.items():
                (src / path).parent.mkdir(parents=True, exist_ok=True)
                (src / path).write_text(text)
            (src / "CMakeLists.txt").write_text(cmake)
            run = subprocess.run([sys.executable, __file__, "--src", str(src)],
                                 capture_output=True, text=True)
            if run.returncode != 1 or expected not in run.stdout:
                print(f"self-test: {name}: expected exit 1 and '{expected}', got "
                      f"{run.returncode}:\n{run.stdout}")
                failures += 1
    print(f"check-layers self-test: {len(cases) - failures} passed, {failures} failed")
    return 1 if failures else 0


def closure(layers):
    allowed = {}

    def visit(name, path):
        if name in path:
            raise ValueError("the layers form a cycle: " + " -> ".join(path + [name]))
        if name in allowed:
            return allowed[name]
        reach = set()
        for lower in layers.get(name, []):
            if lower not in layers:
                raise ValueError(f"layer {name} names {lower}, which is not a layer")
            reach |= {lower} | visit(lower, path + [name])
        allowed[name] = reach
        return reach

    for name in layers:
        visit(name, [])
    return allowed


def main():
    global ROOT, SRC
    args = sys.argv[1:]
    if "--self-test" in args:
        return self_test()
    if "--src" in args:
        SRC = pathlib.Path(args[args.index("--src") + 1]).resolve()
        ROOT = SRC.parent
    layers = read_layers()
    # cli is an executable on top of everything; no layer may include it.
    try:
        allowed = closure(layers)
    except ValueError as e:
        print(f"check-layers: {e}")
        return 1
    if "--graph" in args:
        for name in layers:
            print(f"{name:10} may use: {' '.join(sorted(allowed[name])) or '-'}")
        return 0
    folders = sorted(p.name for p in SRC.iterdir() if p.is_dir())
    unknown = [f for f in folders if f not in layers and f != "cli"]
    problems = [f"src/{f}/: a folder that is no layer (add a splitstream_layer() call)" for f in unknown]
    checked = 0
    for path in sorted(SRC.rglob("*.[ch]pp")):
        layer = path.relative_to(SRC).parts[0]
        if layer not in layers and layer != "cli":
            continue
        may_use = allowed.get(layer, set(layers)) | {layer}  # cli: everything
        text = path.read_text()
        for match in INCLUDE.finditer(text):
            target = match.group(1)
            top = target.split("/")[0] if "/" in target else None
            if top is None or top == "splitstream" or top not in layers:
                continue  # same folder, generated Protobuf, or not ours
            if top not in may_use:
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(ROOT)}:{line}: {layer} includes {target}, "
                                f"a layer above it ({layer} may use: "
                                f"{' '.join(sorted(may_use - {layer})) or 'nothing'})")
        checked += 1
    for problem in problems:
        print(problem)
    print(f"check-layers: {checked} files, {len(layers)} layers, "
          f"{len(problems)} include(s) crossing the layering")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
