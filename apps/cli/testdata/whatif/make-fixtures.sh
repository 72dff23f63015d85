#!/usr/bin/env bash
# Regenerates the what-if fixtures: for each NAME.args, NAME.xml is what Pacemaker's own tools make of the
# example cluster (examples/pg-drbd/cib.xml) — crm_simulate 2.1.5 (-O, the CIB after its modifications,
# before any transition runs) and crm_attribute. test/WhatIf.test.ts applies ha's what-ifs and compares.
#   attr NODE NAME VALUE SECTION   crm_attribute -N NODE -n NAME -v VALUE -t SECTION (nodes or status)
#   prop NAME VALUE                crm_attribute -n NAME -v VALUE (a cluster property)
#   sim ARGS…                      crm_simulate ARGS… (e.g. --node-fail alpha, --op-inject db_stop_0@alpha=1)
set -euo pipefail
cd "$(dirname "$0")"
command -v crm_simulate >/dev/null || { echo "needs crm_simulate (apt-get install pacemaker-cli-utils)" >&2; exit 1; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for args in *.args; do
  name=$(basename "$args" .args)
  cp ../../../../examples/pg-drbd/cib.xml "$work/case.xml"
  sim=()
  while read -r kind rest; do
    read -r -a a <<<"$rest"
    case "$kind" in
      attr) CIB_file="$work/case.xml" crm_attribute -N "${a[0]}" -n "${a[1]}" -v "${a[2]}" -t "${a[3]}" ;;
      prop) CIB_file="$work/case.xml" crm_attribute -n "${a[0]}" -v "${a[1]}" ;;
      sim) sim+=("${a[@]}") ;;
      ""|"#"*) ;;
      *) echo "$args: unknown line kind '$kind'" >&2; exit 1 ;;
    esac
  done < "$args"
  if ((${#sim[@]})); then
    crm_simulate -x "$work/case.xml" "${sim[@]}" -O "$name.xml" >/dev/null 2>&1
  else
    cp "$work/case.xml" "$name.xml"
  fi
  echo "$name.xml"
done
