# Sourced by gen-manpage.sh and gen-completions.sh: reads the command tree of a ksmsim
# binary from its help texts (CLI11's --help), so that the man page and the shell
# completions are made from the binary itself and cannot miss a subcommand or an option.

# help BIN [SUBCOMMAND...]: the help text, with the program named "ksmsim" (not its path).
ksmsim_help() {
  local bin="$1"
  shift
  (exec -a ksmsim "${bin}" "$@" --help)
}

# ksmsim_subcommands BIN [SUBCOMMAND...]: the names listed under "Subcommands:", one a line.
ksmsim_subcommands() {
  ksmsim_help "$@" | awk '
    /^[^ ].*:$/ { in_subs = (tolower($0) == "subcommands:"); next }
    /^$/ { in_subs = 0; next }
    in_subs && /^  [^ -]/ { print $1 }'
}

# ksmsim_options BIN [SUBCOMMAND...]: every option name (-o, --out, --no-progress ...), one
# a line, from the option lines ("  -o,--out TEXT   what it does").
ksmsim_options() {
  ksmsim_help "$@" | awk '
    /^  -/ {
      names = $1
      sub(/\{[^}]*\}$/, "", names)
      n = split(names, parts, ",")
      for (i = 1; i <= n; i++) if (parts[i] ~ /^-/) print parts[i]
    }'
}

# ksmsim_described BIN [SUBCOMMAND...] SECTION: "name<TAB>description" for each entry of
# SECTION ("subcommands" or "options"), the description joined from its continuation lines.
ksmsim_described() {
  local section="${!#}"
  ksmsim_help "${@:1:$#-1}" | awk -v want="${section}" '
    function flush() { if (name != "") print name "\t" desc; name = ""; desc = "" }
    /^[^ ].*:$/ { flush(); sec = tolower($0); sub(/:$/, "", sec); next }
    /^$/ { flush(); sec = ""; next }
    sec != want { next }
    /^      / { if (name != "") { line = $0; sub(/^ +/, "", line); desc = desc (desc == "" ? "" : " ") line }; next }
    /^  [^ ]/ {
      flush()
      line = $0; sub(/^  /, "", line)
      # CLI11 pads the indented name to 30 columns: a name of 27 characters is followed by
      # one space only (the description starts at column 31), a longer one by a line break.
      split(line, cols, /  +/)
      name = cols[1]
      desc = substr(line, length(cols[1]) + 1); sub(/^ +/, "", desc)
      if (desc == "" && substr(line, 28, 1) == " " && substr(line, 27, 1) != " " &&
          substr(line, 29, 1) != " ") {
        name = substr(line, 1, 28); sub(/ +$/, "", name)
        desc = substr(line, 29); sub(/^ +/, "", desc)
      }
      if (want == "options") { split(name, tok, " "); name = tok[1]; sub(/\{[^}]*\}$/, "", name) }
    }
    END { flush() }'
}

# ksmsim_command_paths BIN: every command path, depth first and sorted as --help lists
# them: "" (ksmsim itself), "bench", ..., "trace", "trace bench", ... one a line.
ksmsim_command_paths() {
  local bin="$1"
  _ksmsim_walk() {
    local sub
    printf '%s\n' "$*"
    for sub in $(ksmsim_subcommands "${bin}" "$@"); do
      _ksmsim_walk "$@" "${sub}"
    done
  }
  _ksmsim_walk
}
