#!/usr/bin/env python3
"""Mutation fuzz of `ksmsim validate` and `ksmsim run` (issue 15's acceptance test).

Mutates workloads/examples and workloads/labs (deleted keys, wrong types, huge and negative
numbers, overlapping ranges, deep nesting, long strings, duplicated and shuffled steps), then
runs `validate` and, on every valid mutant, `run --check --progress` with a 10 s timeout.
A finding is: a signal or a crash, an allocation failure, an exit code outside 0-3, a run
killed at 10 s that printed no progress line, or an invariant violation (--check).

    tools/dev/mutate-fuzz.py KSMSIM [--seconds 300] [--jobs 2] [--seed 1] [--keep DIR]

Prints the counts at the end; exits 1 when anything was found (the mutants are kept in DIR).
"""
import argparse
import concurrent.futures
import copy
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

HUGE = [2**31, 2**32, 2**32 + 1, 2**35, 2**35 + 1, 2**40, 2**53, 2**63 - 1, 2**64 - 1,
        10**8, 10**9, 10**12, 10**12 + 1, 6 * 10**8]


def paths(node, prefix=()):
    """Every (container, key) pair in the document."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield node, k
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield node, i
            yield from paths(v, prefix + (i,))


def steps_lists(doc):
    out = []

    def walk(steps):
        if isinstance(steps, list):
            out.append(steps)
            for s in steps:
                if isinstance(s, dict) and isinstance(s.get("steps"), list):
                    walk(s["steps"])
    walk(doc.get("steps"))
    return out


def mutate(doc, rng):
    kind = rng.choice(["delete", "type", "huge", "negative", "range", "nest", "string",
                       "dup", "shuffle", "repeat", "number", "machine"])
    items = list(paths(doc))
    if kind == "delete" and items:
        c, k = rng.choice(items)
        if isinstance(c, dict):
            del c[k]
        elif c:
            c.pop(k)
    elif kind == "type" and items:
        c, k = rng.choice(items)
        c[k] = rng.choice([None, True, "x", [], {}, 1.5, -1, [1, 2], {"a": 1}, "1e3"])
    elif kind in ("huge", "negative", "number"):
        nums = [(c, k) for c, k in items
                if isinstance(c[k], (int, float)) and not isinstance(c[k], bool)]
        if nums:
            c, k = rng.choice(nums)
            if kind == "huge":
                c[k] = rng.choice(HUGE)
            elif kind == "negative":
                c[k] = -rng.choice([1, 2**31, 2**63])
            else:
                c[k] = rng.choice([0, 1, 2, 255, 256, 4095, 4096, 65535, 65536])
    elif kind == "range":
        steps = [s for l in steps_lists(doc) for s in l if isinstance(s, dict) and "region" in s]
        if steps:
            s = rng.choice(steps)
            a = rng.choice([0, 1, 5, 100, 999, 2**20, 2**35 - 1])
            b = a + rng.choice([1, 2, 10, 1000, 2**20, 2**34])
            s["range"] = rng.choice([[a, b], [b, a], [a, a], [a], [a, b, b]])
    elif kind == "nest":
        depth = rng.choice([2, 5, 20, 60, 200])
        body = doc.get("steps", [])
        for _ in range(depth):
            body = [{"op": "repeat", "times": rng.choice([1, 2, 10, 10**4]), "steps": body}]
        doc["steps"] = body
    elif kind == "string":
        strs = [(c, k) for c, k in items if isinstance(c[k], str)]
        if strs:
            c, k = rng.choice(strs)
            n = rng.choice([1000, 100000])  # characters: long, not a 600 MB file
            c[k] = ((c[k] or "y") * n)[:n]
    elif kind in ("dup", "shuffle"):
        lists = steps_lists(doc)
        if lists:
            l = rng.choice(lists)
            if l and kind == "dup":
                i = rng.randrange(len(l))
                l.insert(rng.randrange(len(l) + 1), copy.deepcopy(l[i]))
            else:
                rng.shuffle(l)
    elif kind == "repeat":
        lists = steps_lists(doc)
        if lists:
            l = rng.choice(lists)
            if l:
                i = rng.randrange(len(l))
                j = min(len(l), i + rng.choice([1, 2, 4]))
                l[i:j] = [{"op": "repeat", "times": rng.choice([2, 100, 10**4, 10**8, 2**32 - 1]),
                           "steps": l[i:j]}]
    elif kind == "machine":
        m = doc.setdefault("machine", {})
        if isinstance(m, dict):
            key = rng.choice(["swap_mib", "memory_block_mib", "nodes"])
            if key == "nodes":
                m["nodes"] = [{"memory_mib": rng.choice([1, 64, 2**20, 2**32, 2**32 + 1])}
                              for _ in range(rng.choice([1, 2, 4, 1024, 1025]))]
            else:
                m[key] = rng.choice([0, 1, 128, 2**20, 2**24 - 1, 2**24, 2**32])


def run(cmd, timeout):
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout,
                           preexec_fn=lambda: __import__("resource").setrlimit(
                               __import__("resource").RLIMIT_AS, (8 << 30, 8 << 30)))
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"), \
            time.monotonic() - t0, False
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        err = (e.stderr or b"").decode(errors="replace")
        return None, out, err, timeout, True


def one(args, seed_docs, n, tmpdir):
    rng = random.Random(args.seed * 1_000_003 + n)
    name, doc = rng.choice(seed_docs)
    doc = copy.deepcopy(doc)
    for _ in range(rng.choice([1, 1, 2, 3])):
        mutate(doc, rng)
    text = json.dumps(doc)
    if rng.random() < 0.05:  # numbers JSON cannot hold in 64 bits
        text = text.replace("1000", "1e999", 1)
    path = os.path.join(tmpdir, f"m{n}.json")
    with open(path, "w") as f:
        f.write(text)
    res = {"n": n, "from": name, "path": path}
    rc, out, err, _, _ = run([args.ksmsim, "validate", path], 10)
    res["validate"] = rc
    problems = []
    if rc not in (0, 2):
        problems.append(f"validate exit {rc}")
    if rc == 0:
        rc, out, err, secs, killed = run(
            [args.ksmsim, "run", path, "--check", "--progress", "--quiet"], 10)
        res["run"] = "timeout" if killed else rc
        res["secs"] = secs
        res["progress"] = "progress:" in err or "note:" in err
        if killed and not res["progress"]:
            problems.append("run over 10 s without progress output")
        if not killed and (rc is None or rc < 0 or rc > 3):
            problems.append(f"run exit {rc}")
        if "bad_alloc" in err or "terminate called" in err or "overflow" in err:
            problems.append("allocation failure or abort: " + err[-300:])
        if "invariant violated" in out + err:
            problems.append("invariant violated")
    res["problems"] = problems
    if not problems:
        os.unlink(path)
    return res


def main():
    # Deeply nested mutants (repeats 200 deep) need deep recursion in deepcopy and json.
    sys.setrecursionlimit(20000)
    threading.stack_size(256 << 20)
    ap = argparse.ArgumentParser()
    ap.add_argument("ksmsim")
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", default=None)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    seed_docs = []
    for d in ("workloads/examples", "workloads/labs"):
        for f in sorted(os.listdir(os.path.join(root, d))):
            if f.endswith(".json") and not f.startswith("bench_"):
                with open(os.path.join(root, d, f)) as fh:
                    seed_docs.append((f, json.load(fh)))
    tmpdir = args.keep or tempfile.mkdtemp(prefix="ksmsim-mutate-")
    os.makedirs(tmpdir, exist_ok=True)
    counts = {"mutants": 0, "validate_ok": 0, "validate_invalid": 0, "run_0": 0, "run_1": 0,
              "run_2": 0, "run_3": 0, "run_timeout_with_progress": 0, "findings": 0}
    findings = []
    deadline = time.monotonic() + args.seconds
    n = 0
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        pending = set()
        while time.monotonic() < deadline or pending:
            while time.monotonic() < deadline and len(pending) < args.jobs:
                pending.add(ex.submit(one, args, seed_docs, n, tmpdir))
                n += 1
            done, pending = concurrent.futures.wait(
                pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for fut in done:
                r = fut.result()
                counts["mutants"] += 1
                counts["validate_ok" if r["validate"] == 0 else "validate_invalid"] += 1
                if "run" in r:
                    key = "run_timeout_with_progress" if r["run"] == "timeout" else f"run_{r['run']}"
                    counts[key] = counts.get(key, 0) + 1
                if r["problems"]:
                    counts["findings"] += 1
                    findings.append(r)
                    print(f"FINDING {r['path']} (from {r['from']}): {r['problems']}", flush=True)
    print(json.dumps(counts, indent=1))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
