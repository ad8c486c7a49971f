#!/usr/bin/env bash
# Runs in: a root shell on a Debian machine (CI, a developer's VM). Brings up a single-node Slurm cluster:
# munge as its own user, slurmctld and slurmd as root without systemd or cgroups, no accounting database,
# and two fake GPUs (character devices) behind --gres=gpu. Idempotent: a cluster already up with the same
# configuration is left alone. Prints how long it took. The recipe and its pitfalls:
# /work/shared/design/slurm-notes.md, and docs/slurm.md.
set -euo pipefail

started=$(date +%s%N)
state=${EMONAS_SLURM_DIR:-/var/tmp/emonas-slurm}
conf_dir=/etc/slurm
node=$(hostname -s)

say() { echo "slurm up: $*"; }
fail() { echo "slurm up: $*" >&2; exit 1; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

[ "$(id -u)" -eq 0 ] || fail "must run as root (it installs packages and starts daemons)."

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt_log=$(mktemp)
  install() { apt-get install -y -qq --no-install-recommends slurm-wlm munge >>"$apt_log" 2>&1; }
  install || { apt-get update -qq >>"$apt_log" 2>&1 && install; } \
    || { cat "$apt_log" >&2; fail "apt-get could not install slurm-wlm and munge."; }
  rm -f "$apt_log"
  say "installed slurm-wlm and munge"
fi

# munge: the package makes the key; a key is generated only when it is missing. munged refuses to run as
# root (its seed directory belongs to munge), and without systemd nobody creates /run/munge.
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
mkdir -p /run/munge
chown munge:munge /run/munge
if ! alive /run/munge/munged.pid; then
  runuser -u munge -- /usr/sbin/munged
fi
for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
munge -n | unmunge >/dev/null || fail "munged does not answer; see /var/log/munge/munged.log."

mkdir -p "$state" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm "$conf_dir"
# GRES files must be character or block devices; these are copies of /dev/null.
for i in 0 1; do
  [ -c "$state/fakegpu$i" ] || mknod "$state/fakegpu$i" c 1 3
done

cpus=$(nproc)
memory_mb=$(awk '/^MemTotal:/ { print int($2 / 1024) - 512 }' /proc/meminfo)
new_conf=$(cat <<CONF
# Written by scripts/slurm/up.sh: a single-node test cluster without accounting.
ClusterName=emonas-ci
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# Requeued jobs wait for the old launch credential to expire before they start again (120 s by default).
AuthInfo=cred_expire=10
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# Look at pending tasks every second (not every minute), so an array's next wave starts at once.
SchedulerParameters=sched_interval=1
MpiDefault=none
ReturnToService=2
# Finished jobs stay visible to squeue for 10 minutes: that replaces sacct, which needs accounting.
MinJobAge=600
KillWait=10
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
GresTypes=gpu
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory_mb Gres=gpu:2 State=UNKNOWN
# Up to 4 jobs share a core (GPUs are never shared), so test suites that overlap do not starve each other.
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
)
new_gres="NodeName=$node Name=gpu File=$state/fakegpu[0-1]"

same=false
if [ -f "$conf_dir/slurm.conf" ] && [ "$(cat "$conf_dir/slurm.conf")" = "$new_conf" ] \
  && [ -f "$conf_dir/gres.conf" ] && [ "$(cat "$conf_dir/gres.conf")" = "$new_gres" ]; then
  same=true
fi
if ! $same; then
  for pidfile in /run/slurmd.pid /run/slurmctld.pid; do
    if alive "$pidfile"; then
      pid=$(cat "$pidfile")
      kill "$pid"
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
  done
  printf '%s\n' "$new_conf" >"$conf_dir/slurm.conf"
  printf '%s\n' "$new_gres" >"$conf_dir/gres.conf"
fi

alive /run/slurmctld.pid || /usr/sbin/slurmctld -i
alive /run/slurmd.pid || /usr/sbin/slurmd

node_state=unknown
for _ in $(seq 300); do
  node_state=$(sinfo -h -n "$node" -o %t 2>/dev/null || true)
  case "$node_state" in idle | mix | alloc) break ;; esac
  sleep 0.1
done
case "$node_state" in
  idle | mix | alloc) ;;
  *) fail "node $node is '$node_state', not idle, after 30 s; see /var/log/slurm/slurmd.log and slurmctld.log." ;;
esac

elapsed=$((($(date +%s%N) - started) / 1000000))
say "node $node is $node_state with 2 fake GPUs ($cpus CPUs); took $((elapsed / 1000)).$(printf '%03d' $((elapsed % 1000))) s"
