#!/usr/bin/env bash
# Regenerates the example cluster's status and the seed scenarios' expected plans with Pacemaker's own
# crm_simulate (Debian 12's pacemaker-cli-utils 2.1.5), so that ha's answers can be compared with them.
#   cib.xml                  config.xml + the status Pacemaker reaches from it (everything started, DRBD
#                            promoted on alpha): one simulated transition, then stable.
#   scenarios/NAME.args      the what-if, as crm_simulate arguments (a line `attr NODE NAME VALUE SECTION`
#                            first sets an attribute with crm_attribute)
#   scenarios/NAME.summary   crm_simulate -S's output for it
set -euo pipefail
cd "$(dirname "$0")"
command -v crm_simulate >/dev/null || { echo "needs crm_simulate (apt-get install pacemaker-cli-utils)" >&2; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

cp config.xml "$work/cib.xml"
crm_simulate -x "$work/cib.xml" --in-place >/dev/null 2>&1
cp "$work/cib.xml" cib.xml

for args in scenarios/*.args; do
  name=$(basename "$args" .args)
  cp cib.xml "$work/case.xml"
  sim=()
  while read -r kind a b c d; do
    case "$kind" in
      attr) CIB_file="$work/case.xml" crm_attribute -N "$a" -n "$b" -v "$c" -t "$d" ;;
      sim) sim+=("$a" "$b") ;;
      ""|"#"*) ;;
      *) echo "$args: unknown line kind '$kind'" >&2; exit 1 ;;
    esac
  done < "$args"
  crm_simulate -x "$work/case.xml" -S "${sim[@]}" 2>/dev/null \
    | sed -E -e 's/ocf::/ocf:/g' > "scenarios/$name.summary"
  echo "$name: $(grep -c '^  \* ' "scenarios/$name.summary") summary lines"
done
