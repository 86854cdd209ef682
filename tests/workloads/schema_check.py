#!/usr/bin/env python3
"""docs/workload.schema.json against the workloads ksmsim accepts and refuses.

Every example, lab, oracle case and difftest case must satisfy the schema; structural
mutants of them (a required key removed, a wrong type, an unknown key, a bad name, a
negative or fractional number) must be refused by the schema, and every mutant the schema
refuses must be refused by `ksmsim validate` too (exit 2): the schema never accepts less
than it should nor promises what validate does not hold.

  schema_check.py SOURCE_DIR KSMSIM
"""
import copy
import glob
import json
import os
import subprocess
import sys
import tempfile

import jsonschema

src, ksmsim = sys.argv[1], sys.argv[2]
schema = json.load(open(os.path.join(src, "docs/workload.schema.json")))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)

files = []
for pattern in ("workloads/examples/*.json", "workloads/labs/*.json",
                "tools/oracle/cases/*.json", "tests/difftest/cases/*.json"):
    files += [f for f in sorted(glob.glob(os.path.join(src, pattern)))
              if not f.endswith(".result.json")]
assert len(files) > 30, files
failures = []
docs = {}
for f in files:
    doc = json.load(open(f))
    docs[f] = doc
    errors = list(validator.iter_errors(doc))
    if errors:
        failures.append(f"{f}: the schema refuses a valid workload: {errors[0].message}")


def mutants(doc):
    """Structural mutations, each with what it does."""
    yield "top-level key removed: steps", {k: v for k, v in doc.items() if k != "steps"}
    m = copy.deepcopy(doc); m["ksmsim"] = 2; yield "version 2", m
    m = copy.deepcopy(doc); m["extra"] = 1; yield "unknown top-level key", m
    m = copy.deepcopy(doc); m.setdefault("ksm", {})["pages_to_scan"] = -1
    yield "negative knob", m
    m = copy.deepcopy(doc); m.setdefault("ksm", {})["no_such_knob"] = 1
    yield "unknown knob", m
    m = copy.deepcopy(doc); m["machine"] = {"nodes": []}; yield "no nodes", m
    m = copy.deepcopy(doc); m["machine"] = {"nodes": [{"memory_mib": 1.5}]}
    yield "fractional memory", m
    m = copy.deepcopy(doc); m["machine"] = {"page_size": 8192}; yield "page size 8192", m
    for i, step in enumerate(doc["steps"][:10]):
        op = step["op"]
        m = copy.deepcopy(doc); m["steps"][i]["op"] = op + "x"; yield f"step {i}: bad op", m
        m = copy.deepcopy(doc); m["steps"][i]["nonsense"] = 1; yield f"step {i}: unknown key", m
        for key in [k for k in step if k not in ("op", "label", "range", "expect_error", "node",
                                                  "locked", "ms", "full_scans", "ksm", "procs",
                                                  "vmstat")]:
            m = copy.deepcopy(doc); del m["steps"][i][key]
            yield f"step {i} ({op}): required {key} removed", m
        for key, value in step.items():
            if isinstance(value, (int, str)) and not isinstance(value, bool) and key != "op":
                m = copy.deepcopy(doc)
                m["steps"][i][key] = [value]
                yield f"step {i} ({op}): {key} of the wrong type", m
        if "data" in step:
            m = copy.deepcopy(doc); m["steps"][i]["data"] = {"fill": 256}
            yield f"step {i}: fill 256", m
            m = copy.deepcopy(doc); m["steps"][i]["data"] = {"fill": 1, "key": "k"}
            yield f"step {i}: two data kinds", m
        if "advice" in step:
            m = copy.deepcopy(doc); m["steps"][i]["advice"] = "merge"
            yield f"step {i}: bad advice", m


checked = 0
with tempfile.TemporaryDirectory() as tmp:
    paths = {}
    for f in files[::4]:  # every fourth workload keeps the test quick
        for what, m in mutants(docs[f]):
            if not list(validator.iter_errors(m)):
                failures.append(f"{f}: {what}: the schema accepts it")
                continue
            path = os.path.join(tmp, f"m{len(paths)}.json")
            json.dump(m, open(path, "w"))
            paths[path] = f"{f}: {what}"
    # One validate over all of them: it prints "PATH: ok (...)" for each file it accepts.
    out = subprocess.run([ksmsim, "validate", *paths], capture_output=True, text=True)
    accepted = {line.split(": ok (")[0] for line in out.stdout.splitlines() if ": ok (" in line}
    checked = len(paths)
    if out.returncode != 2:
        failures.append(f"ksmsim validate exits {out.returncode} on the mutants, not 2")
    for path in sorted(accepted):
        failures.append(f"{paths[path]}: the schema refuses it, ksmsim validate accepts it")
    if not any(": ok (" in line for line in
               subprocess.run([ksmsim, "validate", files[0]], capture_output=True,
                              text=True).stdout.splitlines()):
        failures.append("ksmsim validate no longer prints 'PATH: ok (' for a valid file")

print(f"schema_check: {len(files)} workloads valid, {checked} mutants refused by both")
for line in failures:
    print("FAIL", line)
sys.exit(1 if failures else 0)
