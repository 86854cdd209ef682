#!/usr/bin/env bash
# Writes ksmsim's bash and zsh completions, made from the help texts of the ksmsim binary
# given (every subcommand, nested subcommand and option it lists), so they cannot go stale:
#   tools/package/gen-completions.sh KSMSIM BASH_OUT ZSH_OUT
# The build runs it after linking ksmsim (tools/package/CMakeLists.txt); the files are
# installed as share/bash-completion/completions/ksmsim and share/zsh/vendor-completions/_ksmsim.
set -euo pipefail
bin="$1"
bash_out="$2"
zsh_out="$3"
source "$(dirname "${BASH_SOURCE[0]}")/help-lib.sh"

mapfile -t paths < <(ksmsim_command_paths "${bin}")
words() { tr '\n' ' ' | sed 's/ $//'; }
# zsh _describe entries: 'name:description', with ' and : in names quoted.
zsh_entries() {
  local name desc names n
  while IFS=$'\t' read -r names desc; do
    IFS=',' read -ra n <<<"${names}"
    for name in "${n[@]}"; do
      desc="${desc//\'/\'\\\'\'}"
      printf "      '%s:%s'\n" "${name//:/\\:}" "${desc}"
    done
  done
}

{
  echo "# bash completion for ksmsim. Generated at build time from the help texts of ksmsim"
  echo "# by tools/package/gen-completions.sh: do not edit."
  echo "_ksmsim() {"
  echo '  local cur="${COMP_WORDS[COMP_CWORD]}" cmd="" w i subs="" opts=""'
  echo "  # The subcommand words typed so far (\"trace convert\"); other words are arguments."
  echo '  for ((i = 1; i < COMP_CWORD; i++)); do'
  echo '    w="${COMP_WORDS[i]}"'
  echo '    case "${cmd:+${cmd} }${w}" in'
  for p in "${paths[@]}"; do
    [[ -n "${p}" ]] && echo "      \"${p}\") cmd=\"\${cmd:+\${cmd} }\${w}\" ;;"
  done
  echo '    esac'
  echo '  done'
  echo '  case "${cmd}" in'
  for p in "${paths[@]}"; do
    read -ra argv <<<"${p}"
    echo "    \"${p}\")"
    subs="$(ksmsim_subcommands "${bin}" "${argv[@]}" | words)"
    [[ -n "${subs}" ]] && echo "      subs=\"${subs}\""
    echo "      opts=\"$(ksmsim_options "${bin}" "${argv[@]}" | words)\" ;;"
  done
  echo '  esac'
  echo '  if [[ "${cur}" == -* ]]; then'
  echo '    mapfile -t COMPREPLY < <(compgen -W "${opts}" -- "${cur}")'
  echo '  elif [[ -n "${subs}" ]]; then'
  echo '    mapfile -t COMPREPLY < <(compgen -W "${subs}" -- "${cur}")'
  echo '  fi'
  echo "  # Otherwise nothing here: -o default completes file names."
  echo "}"
  echo "complete -o default -F _ksmsim ksmsim"
} >"${bash_out}.tmp"

{
  echo "#compdef ksmsim"
  echo "# zsh completion for ksmsim. Generated at build time from the help texts of ksmsim"
  echo "# by tools/package/gen-completions.sh: do not edit."
  echo "_ksmsim() {"
  echo '  local cmd="" w i'
  echo '  local -a subs opts'
  echo "  # The subcommand words typed so far (\"trace convert\"); other words are arguments."
  echo '  for ((i = 2; i < CURRENT; i++)); do'
  echo '    w="${words[i]}"'
  echo '    case "${cmd:+${cmd} }${w}" in'
  for p in "${paths[@]}"; do
    [[ -n "${p}" ]] && echo "      (\"${p}\") cmd=\"\${cmd:+\${cmd} }\${w}\" ;;"
  done
  echo '    esac'
  echo '  done'
  echo '  case "${cmd}" in'
  for p in "${paths[@]}"; do
    read -ra argv <<<"${p}"
    echo "    (\"${p}\")"
    echo "      subs=("
    ksmsim_described "${bin}" "${argv[@]}" subcommands | zsh_entries
    echo "      )"
    echo "      opts=("
    ksmsim_described "${bin}" "${argv[@]}" options | zsh_entries
    echo "      ) ;;"
  done
  echo '  esac'
  echo '  if [[ "${PREFIX}" == -* ]]; then'
  echo "    _describe -t options 'ksmsim option' opts"
  echo '  elif (( ${#subs} )); then'
  echo "    _describe -t commands 'ksmsim subcommand' subs"
  echo '  else'
  echo '    _files'
  echo '  fi'
  echo "}"
  echo '_ksmsim "$@"'
} >"${zsh_out}.tmp"

mv "${bash_out}.tmp" "${bash_out}"
mv "${zsh_out}.tmp" "${zsh_out}"
