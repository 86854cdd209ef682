#!/usr/bin/env python3
"""Prints the observed kernel results of tools/oracle/cases/*.result.json as Markdown tables
(the "Observed" section of docs/ORACLE.md).

    tools/oracle/table.py [RESULT.json ...]
"""
import glob
import json
import os
import sys


def main(paths):
    here = os.path.dirname(os.path.abspath(__file__))
    if not paths:
        paths = sorted(glob.glob(os.path.join(here, "cases", "*.result.json")))
    for path in paths:
        doc = json.load(open(path))
        case = os.path.basename(path).replace(".result.json", ".json")
        print(f"#### `{case}`: {doc['workload']}\n")
        print("| step | label | full_scans | shared | sharing | unshared | volatile | chains "
              "| dups | procs (merging/rmap_items) | cow_ksm | pswpout/pswpin |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in doc["results"]:
            k, v = r["ksm"], r["vmstat"]
            procs = ", ".join(f"{p} {c['ksm_merging_pages']}/{c['ksm_rmap_items']}"
                              for p, c in r["procs"].items())
            print(f"| {r['step']} | {r['label'] or r['op']} | {k['full_scans']} "
                  f"| {k['pages_shared']} | {k['pages_sharing']} | {k['pages_unshared']} "
                  f"| {k['pages_volatile']} | {k['stable_node_chains']} | {k['stable_node_dups']} "
                  f"| {procs} | {v['cow_ksm']} | {v['pswpout']}/{v['pswpin']} |")
        for e in doc["errors"]:
            print(f"\nerror: {e}")
        for n in doc.get("notes", []):
            print(f"\n- note: {n}")
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
