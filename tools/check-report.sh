#!/usr/bin/env bash
# Shows that `ksmsim report` renders in a real browser: writes the report of a bundled
# example with a snapshot, loads it in headless Chromium, checks the rendered DOM holds the
# counter plot (an <svg> with plotted polylines), the tree pictures (<div class="trees">
# with <rect class="node"> boxes) and the event-log filter's output (its script ran), and
# saves a screenshot.
#
#   tools/check-report.sh [SCREENSHOT.png]      (default build/report-screenshot.png)
#
# Environment: KSMSIM (default build/release/tools/ksmsim), CHROMIUM (default: chromium,
# else chromium-browser on PATH). Exit 0 when every check held, 1 when one failed, 2 when
# Chromium or ksmsim is missing.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo_root}"

screenshot="${1:-build/report-screenshot.png}"
ksmsim="${KSMSIM:-build/release/tools/ksmsim}"
workload="workloads/examples/fork_and_diverge.json"  # has a snapshot and an expect step

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
if [[ ! -x "${ksmsim}" ]]; then
  echo "check-report: ${ksmsim} not found; build first (tools/setup.sh) or set KSMSIM" >&2
  exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT
html="${tmp}/report.html"
mkdir -p "$(dirname "${screenshot}")"
screenshot="$(cd "$(dirname "${screenshot}")" && pwd)/$(basename "${screenshot}")"

fail() {
  echo "check-report: FAILED: $*" >&2
  exit 1
}

"${ksmsim}" report "${workload}" -o "${html}" || fail "ksmsim report ${workload} exited $?"

browser=("${chromium}" --headless --no-sandbox --disable-gpu --hide-scrollbars
         --user-data-dir="${tmp}/profile")
if ! timeout 180 "${browser[@]}" --dump-dom "file://${html}" >"${tmp}/dom.html" \
    2>"${tmp}/chromium-dom.log"; then
  cat "${tmp}/chromium-dom.log" >&2
  fail "chromium --dump-dom did not finish (log above)"
fi
dom="${tmp}/dom.html"
[[ -s "${dom}" ]] || fail "chromium dumped an empty DOM"

# count PATTERN: the number of matches of an extended regular expression in the DOM.
count() { grep -oE "$1" "${dom}" | wc -l; }

svgs="$(count '<svg[ >]')"
series="$(count '<polyline class="series"[^>]* points="[0-9.]+,[0-9.]+ [0-9]')"
tree_divs="$(count '<div class="trees">')"
tree_nodes="$(count '<rect class="node"')"
(( svgs >= 1 )) || fail "no <svg> element in the rendered DOM"
(( series >= 1 )) || fail "the counter plot has no plotted polyline (<polyline class=\"series\">)"
grep -q 'KSM counters</text>' "${dom}" || fail "the counter plot's title is missing"
(( tree_divs >= 1 )) || fail "no tree pictures (<div class=\"trees\">) in the rendered DOM"
(( tree_nodes >= 1 )) || fail "the tree pictures draw no node (<rect class=\"node\">)"
grep -q 'root_stable_tree\[0\]' "${dom}" || fail "the stable tree picture is not labelled"
grep -qE '<span id="count">[0-9]+ of [0-9]+ rows</span>' "${dom}" ||
  fail "the event-log filter script did not run (no 'N of M rows' count)"

rm -f "${screenshot}"
if ! timeout 180 "${browser[@]}" --screenshot="${screenshot}" --window-size=1280,2000 \
    "file://${html}" >"${tmp}/chromium-shot.log" 2>&1; then
  cat "${tmp}/chromium-shot.log" >&2
  fail "chromium --screenshot did not finish (log above)"
fi
[[ -s "${screenshot}" ]] || fail "no screenshot written to ${screenshot}"
[[ "$(head -c 8 "${screenshot}" | od -An -tx1 | tr -d ' \n')" == "89504e470d0a1a0a" ]] ||
  fail "${screenshot} is not a PNG"

echo "check-report: ok: ${workload} renders in $("${chromium}" --version 2>/dev/null |
  head -n1): ${svgs} <svg>, ${series} plotted series, ${tree_divs} tree sections with" \
  "${tree_nodes} nodes; screenshot ${screenshot}"
