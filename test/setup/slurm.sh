#!/usr/bin/env bash
# A real one-node SLURM cluster on this machine for the sweep tests (and for trying
# `sparsity-studio run FILE --executor slurm` by hand): Debian's slurm-wlm and munge, slurmctld and
# slurmd on this host, process tracking by /proc (proctrack/linuxproc, task/none: no cgroups, so it
# runs in containers too). Idempotent: installs and configures what is missing, starts what is not
# running, and returns at once when the cluster already answers. Run as root:
#   sudo bash test/setup/slurm.sh          # set up and start
#   sudo bash test/setup/slurm.sh --stop   # stop the daemons it started
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "test/setup/slurm.sh installs packages and starts daemons: run it as root (sudo bash test/setup/slurm.sh)" >&2
  exit 1
fi

CONF=/etc/slurm/slurm.conf
MARK="# written by sparsity-studio test/setup/slurm.sh"
NODE="$(hostname -s)"
STATE=/var/spool/slurmctld
SPOOL=/var/spool/slurmd
LOGS=/var/log/slurm

stop() {
  for daemon in "$@"; do
    pid="$(pidof "$daemon" || true)"
    [ -n "$pid" ] && kill $pid && echo "stopped $daemon ($pid)"
  done
  return 0
}
if [ "${1:-}" = "--stop" ]; then
  stop slurmd slurmctld munged
  exit 0
fi

# Already up: nothing to do (the tests call this before every SLURM test file).
if command -v sinfo >/dev/null && grep -qF "$MARK" "$CONF" 2>/dev/null && pidof slurmctld >/dev/null && pidof slurmd >/dev/null &&
  sinfo --noheader --responding --format=%t 2>/dev/null | grep -Eq '^(idle|mix|alloc)'; then
  echo "slurm: the one-node cluster is up ($NODE)"
  exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  echo "slurm: installing slurm-wlm and munge (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null; }
fi

# munge: a key (the package makes one; a fresh machine without it gets one here), then the daemon.
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key --force
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
if ! pidof munged >/dev/null; then
  runuser -u munge -- /usr/sbin/munged
fi
munge -n | unmunge >/dev/null

# slurm.conf for one node with this machine's cores and memory; daemons and jobs as root.
CPUS="$(nproc --all)"
MEM_MB="$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)"
CONF_TEXT="$MARK
ClusterName=sparsity-test
SlurmctldHost=$NODE
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$STATE
SlurmdSpoolDir=$SPOOL
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
# Quick tests: a cancelled task gets 5 s to write its checkpoint; ended jobs leave squeue soon.
KillWait=5
MinJobAge=10
SchedulerParameters=sched_interval=2
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP"
install -d -m 0755 /etc/slurm "$STATE" "$SPOOL" "$LOGS"
if [ "$(cat "$CONF" 2>/dev/null)" != "$CONF_TEXT" ]; then
  if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    echo "slurm: $CONF exists and was not written by this script; leaving it alone" >&2
    exit 1
  fi
  printf '%s\n' "$CONF_TEXT" >"$CONF"
  stop slurmd slurmctld >/dev/null # a changed config needs fresh daemons
  while pidof slurmd slurmctld >/dev/null; do sleep 0.2; done
fi

pidof slurmctld >/dev/null || slurmctld
pidof slurmd >/dev/null || slurmd

# Wait for the node to register, then make sure it takes jobs (a node left DOWN by an earlier
# unclean stop comes back with RESUME).
deadline=$((SECONDS + 30))
while [ $SECONDS -lt $deadline ]; do
  state="$(timeout 5 sinfo --noheader --format=%t 2>/dev/null | head -1 || true)"
  case "$state" in
    idle | mix | alloc) break ;;
    down* | drain* | fail*) scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true ;;
  esac
  sleep 0.5
done
state="$(timeout 5 sinfo --noheader --format=%t 2>/dev/null | head -1 || true)"
case "$state" in
  idle | mix | alloc) echo "slurm: the one-node cluster is up ($NODE, $CPUS CPUs, node $state)" ;;
  *)
    echo "slurm: the node did not come up (state '$state'); see $LOGS/slurmctld.log and $LOGS/slurmd.log" >&2
    exit 1
    ;;
esac
