#!/usr/bin/env bash
# Shows that `ksmsim report` works at a million pages in a real browser: writes the report
# of workloads/bench/report_1m_pages.json (1,048,576 pages), fails when it takes more than
# 10 MB, runs the same workload with `run --out`, then loads the report in headless
# Chromium with tools/check-report.js appended, which checks through the page's own
# handlers: no horizontal overflow beyond the window (1280 and 800 px wide), the
# per-snapshot counter table equal to --out's entries, the counter plots drawn, the tree
# view opening on a click, the search by page finding a page in the stable tree, one in the
# unstable tree and one in neither, the event log counting every pass with rows from each
# and its filter. Saves two screenshots: the top of the page and the opened tree view.
#
#   tools/check-report.sh [SCREENSHOT.png]      (default build/report-screenshot.png;
#                                                the trees: SCREENSHOT-trees.png)
#
# Environment: KSMSIM (default build/release/tools/ksmsim), CHROMIUM (default: chromium,
# else chromium-browser on PATH), WORKLOAD (default the 1M-page one; its SEARCH pages are
# then not checked unless it is the default). Exit 0 when every check held, 1 when one
# failed, 2 when Chromium, python3 or ksmsim is missing.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo_root}"

screenshot="${1:-build/report-screenshot.png}"
ksmsim="${KSMSIM:-build/release/tools/ksmsim}"
default_workload="workloads/bench/report_1m_pages.json"
workload="${WORKLOAD:-${default_workload}}"
max_bytes=$((10 * 1000 * 1000))

chromium="${CHROMIUM:-}"
if [[ -z "${chromium}" ]]; then
  for c in chromium chromium-browser; do
    if command -v "${c}" >/dev/null 2>&1; then
      chromium="${c}"
      break
    fi
  done
fi
if [[ -z "${chromium}" ]] || ! command -v "${chromium}" >/dev/null 2>&1; then
  echo "check-report: chromium is not installed (apt-get install -y chromium); cannot check" \
    "that the report renders" >&2
  exit 2
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "check-report: python3 is needed to read run --out's document" >&2
  exit 2
fi
if [[ ! -x "${ksmsim}" ]]; then
  echo "check-report: ${ksmsim} not found; build first (tools/setup.sh) or set KSMSIM" >&2
  exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT
html="${tmp}/report.html"
mkdir -p "$(dirname "${screenshot}")"
screenshot="$(cd "$(dirname "${screenshot}")" && pwd)/$(basename "${screenshot}")"
trees_shot="${screenshot%.png}-trees.png"

fail() {
  echo "check-report: FAILED: $*" >&2
  exit 1
}

start_ns=$(date +%s%N)
"${ksmsim}" report "${workload}" -o "${html}" || fail "ksmsim report ${workload} exited $?"
ms=$((($(date +%s%N) - start_ns) / 1000000))
seconds="$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
bytes=$(stat -c %s "${html}")
echo "check-report: ${workload}: report of ${bytes} bytes made in ${seconds} s"
((bytes <= max_bytes)) || fail "the report takes ${bytes} bytes, more than ${max_bytes}"
"${ksmsim}" run -q "${workload}" --out "${tmp}/result.json" || fail "ksmsim run exited $?"

# The page to check: the report, the expected table, the pages to search, the checks.
python3 - "${tmp}/result.json" "${tmp}/expected.js" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
def flat(j, prefix, out):
    if isinstance(j, dict):
        for k, v in j.items(): flat(v, prefix + "." + k, out)
    elif isinstance(j, list):
        for i, v in enumerate(j): flat(v, prefix + "." + str(i), out)
    else:
        out[prefix[1:]] = j if isinstance(j, str) else json.dumps(j)
expected = []
for e in doc["results"]:
    values = {}
    for group in ("ksm", "vmstat", "procs", "machine"):
        if group in e: flat(e[group], "." + group, values)
    expected.append({"step": e["step"], "values": values})
open(sys.argv[2], "w").write("var EXPECTED = " + json.dumps(expected) + ";\n")
EOF
search='[]'
if [[ "${workload}" == "${default_workload}" ]]; then
  # a:heap[5] holds a cycle page (stable), c:heap[200000] a unique page (unstable), and
  # d:heap[100] a page rewritten before the last pass (in neither tree).
  search='[["a:heap[5]", "is in the stable tree: stable node"],
           ["c:heap[200000]", "is in the unstable tree"],
           ["d:heap[100]", "is in neither tree"]]'
fi
page="${tmp}/check.html"
{
  sed '$d' "${html}"  # all but the closing </body></html>
  echo "<script>"
  cat "${tmp}/expected.js"
  echo "var SEARCH = ${search};"
  cat tools/check-report.js
  echo "</script></body></html>"
} >"${page}"
tail -n1 "${html}" | grep -q '</body></html>' || fail "the report does not end with </body></html>"

browser=("${chromium}" --headless --no-sandbox --disable-gpu --hide-scrollbars
         --user-data-dir="${tmp}/profile")
for width in 1280 800; do
  if ! timeout 300 "${browser[@]}" --window-size="${width},1000" --dump-dom "file://${page}" \
      >"${tmp}/dom.html" 2>"${tmp}/chromium-dom.log"; then
    cat "${tmp}/chromium-dom.log" >&2
    fail "chromium --dump-dom did not finish (log above)"
  fi
  verdict="$(grep -oE '<pre id="check-result">CHECK-(OK|FAIL)[^<]*' "${tmp}/dom.html" |
    head -n1 | sed 's/^<pre id="check-result">//' || true)"
  [[ -n "${verdict}" ]] || fail "the checks did not run at ${width} px (no verdict in the DOM)"
  [[ "${verdict}" == CHECK-OK* ]] || fail "at ${width} px: ${verdict}"
  echo "check-report: ${width} px: ${verdict}"
done

rm -f "${screenshot}" "${trees_shot}"
for shot in "${screenshot}|" "${trees_shot}|#shot=trees"; do
  file="${shot%%|*}"
  hash="${shot#*|}"
  if ! timeout 300 "${browser[@]}" --screenshot="${file}" --window-size=1280,2000 \
      "file://${page}${hash}" >"${tmp}/chromium-shot.log" 2>&1; then
    cat "${tmp}/chromium-shot.log" >&2
    fail "chromium --screenshot did not finish (log above)"
  fi
  [[ -s "${file}" ]] || fail "no screenshot written to ${file}"
  [[ "$(head -c 8 "${file}" | od -An -tx1 | tr -d ' \n')" == "89504e470d0a1a0a" ]] ||
    fail "${file} is not a PNG"
done

echo "check-report: ok: ${workload} renders in $("${chromium}" --version 2>/dev/null |
  head -n1); report ${bytes} bytes in ${seconds} s; screenshots ${screenshot} ${trees_shot}"
