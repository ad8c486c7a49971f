#!/usr/bin/env bash
# Runs in: a root shell. Stops the single-node Slurm cluster started by up.sh (slurmd, slurmctld, munged),
# each by its PID file, waiting for each to exit. Stopping a cluster that is not running is not an error.
set -uo pipefail

stop() {
  local pidfile=$1 pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$pidfile"
}

stop /run/slurmd.pid
stop /run/slurmctld.pid
stop /run/munge/munged.pid
echo "slurm down: stopped"
