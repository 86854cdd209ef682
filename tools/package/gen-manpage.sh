#!/usr/bin/env bash
# Writes ksmsim(1), made from the help texts of the ksmsim binary given, so that it cannot
# miss a subcommand or an option:
#   tools/package/gen-manpage.sh KSMSIM OUT.1
# help2man ($HELP2MAN, else from $PATH) makes NAME, SYNOPSIS, DESCRIPTION and OPTIONS from `ksmsim --help` and
# `--version`; this script adds COMMANDS, one subsection per subcommand (nested ones
# too) from its --help, and FILES and SEE ALSO. The build runs it after linking ksmsim
# (tools/package/CMakeLists.txt); the page is installed as share/man/man1/ksmsim.1.gz.
set -euo pipefail
bin="$1"
out="$2"
source "$(dirname "${BASH_SOURCE[0]}")/help-lib.sh"

top_footer="$(ksmsim_help "${bin}" | awk '/^Exit status:/ { print; exit }')"

# One subcommand's help as man(7) text: the first lines (what it does) as a paragraph, the
# usage line, each option or positional as a tagged paragraph, the footer as paragraphs
# (without the top-level exit status footer that CLI11 repeats under every subcommand).
roff_command() {
  ksmsim_help "${bin}" "$@" | awk -v footer="${top_footer}" '
    function esc(s) { gsub(/\\/, "\\e", s); if (s ~ /^[.'\'']/) s = "\\&" s; return s }
    function opt(s) { gsub(/-/, "\\-", s); return s }
    function flush() {
      if (term != "") {
        split(term, tok, " ")
        names = tok[1]; rest = substr(term, length(tok[1]) + 1)
        sub(/\{[^}]*\}$/, "", names)
        names = opt(esc(names))
        gsub(/,/, "\\fR, \\fB", names)
        print ".TP"
        print "\\fB" names "\\fR" esc(rest)
        if (desc != "") print esc(desc)
      }
      term = ""; desc = ""
    }
    /^Usage: / { flush(); sub(/^Usage: /, ""); print ".PP"; print "Usage: \\fB" opt(esc($0)) "\\fR"; next }
    $0 == footer { flush(); next }
    /^$/ { flush(); next }
    /^[^ ].*:$/ { flush(); print ".PP"; print "\\fI" esc($0) "\\fR"; next }
    /^      / { line = $0; sub(/^ +/, "", line); desc = desc (desc == "" ? "" : " ") line; next }
    /^  [^ ]/ {
      flush()
      line = $0; sub(/^  /, "", line)
      split(line, cols, /  +/)
      term = cols[1]
      desc = substr(line, length(cols[1]) + 1); sub(/^ +/, "", desc)
      if (desc == "" && substr(line, 28, 1) == " " && substr(line, 27, 1) != " " &&
          substr(line, 29, 1) != " ") {
        term = substr(line, 1, 27); desc = substr(line, 29)
      }
      next
    }
    { flush(); print ".PP"; print esc($0) }
    END { flush() }'
}

include="$(mktemp)"
trap 'rm -f "${include}"' EXIT
{
  echo "[COMMANDS]"
  echo "Each subcommand has its own options; \\fBksmsim\\fR \\fISUBCOMMAND\\fR \\fB\\-\\-help\\fR"
  echo "prints the same text."
  while IFS= read -r p; do
    [[ -z "${p}" ]] && continue
    read -ra argv <<<"${p}"
    echo ".SS \"ksmsim ${p}\""
    roff_command "${argv[@]}"
  done < <(ksmsim_command_paths "${bin}")
  # The top-level footer "Exit status: 0 ...; 1 ...; 2 ...; 3 ..." as a list.
  echo "[EXIT STATUS]"
  printf '%s\n' "${top_footer#Exit status: }" | awk '{
    n = split($0, parts, /; /)
    for (i = 1; i <= n; i++) {
      if (parts[i] ~ /^[0-9] /) {
        if (item != "") print item
        item = ".TP\n" substr(parts[i], 1, 1) "\n" substr(parts[i], 3)
      } else {
        item = item "; " parts[i]
      }
    }
    if (item != "") print item
  }' | sed -e 's/\\/\\e/g' -e 's/--\([a-z-]*\)/\\fB\\-\\-\1\\fR/g; s/\(\\-[a-z]*\)-/\1\\-/g'
  echo "[FILES]"
  echo ".TP"
  echo "\\fIPREFIX\\fB/share/doc/ksmsim/\\fR"
  echo "the documentation, laid out as in the source repository: README.md; docs/"
  echo "(WORKLOAD-FORMAT.md, the workload format; workload.schema.json, also printed by"
  echo "\\fBksmsim schema\\fR; TEACHING.md and labs/, exercises); workloads/examples/ and"
  echo "workloads/labs/ (workloads to start from, and the labs' workloads)"
  echo ".TP"
  echo "\\fIPREFIX\\fB/libexec/ksmsim/ksmsim\\-guest\\fR"
  echo "the static program \\fBksmsim oracle\\fR boots as /init under QEMU"
  echo ".PP"
  echo "\\fIPREFIX\\fR is \\fI/usr\\fR for the Debian package and \\fI/usr/local\\fR for"
  echo "\\fBcmake \\-\\-install\\fR unless given \\fB\\-\\-prefix\\fR."
  echo "[SEE ALSO]"
  echo "The kernel's Documentation/admin-guide/mm/ksm.rst and mm/ksm.c (Linux 6.1)."
} >"${include}"

"${HELP2MAN:-help2man}" --no-info --no-discard-stderr --section=1 \
  --name="simulate Linux 6.1's kernel samepage merging (KSM)" \
  --include="${include}" --output="${out}.tmp" "${bin}"
mv "${out}.tmp" "${out}"
