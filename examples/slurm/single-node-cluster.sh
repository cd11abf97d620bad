#!/usr/bin/env bash
# A Slurm cluster of one node on this machine, for trying tag-corpus.sbatch (and for AudioNet's Slurm test):
#   single-node-cluster.sh start DIR   starts munged, slurmctld and slurmd with their files in DIR and prints the
#                                      line to export (SLURM_CONF=DIR/slurm.conf) before sbatch, squeue, sacct…
#   single-node-cluster.sh stop DIR    stops them.
# Needs Debian's slurmctld, slurmd, slurm-client and munge, and root (slurmd starts jobs as their users).
set -euo pipefail
action=${1:-}; dir=${2:-}
[ -n "$action" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 1; }
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)

stop() {
    local pids=""
    for daemon in slurmd slurmctld munged; do
        [ -f "$dir/$daemon.pid" ] && pids="$pids $(cat "$dir/$daemon.pid")"
    done
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086
    kill $pids 2>/dev/null || true
    for _ in $(seq 100); do
        # shellcheck disable=SC2086
        alive=$(for pid in $pids; do kill -0 "$pid" 2>/dev/null && echo "$pid"; done)
        [ -z "$alive" ] && break
        sleep 0.1
    done
    # shellcheck disable=SC2086
    [ -n "$alive" ] && kill -KILL $alive 2>/dev/null
    rm -f "$dir"/*.pid
}

if [ "$action" = stop ]; then stop; exit 0; fi
[ "$action" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 1; }
for tool in munged slurmctld slurmd sbatch; do
    command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install slurmctld slurmd slurm-client munge" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "slurmd runs jobs as their users: start the cluster as root" >&2; exit 1; }

# Ports above the usual 6817/6818, so that a real Slurm on the machine is left alone.
port=$(( 20000 + RANDOM % 20000 ))
host=$(hostname -s)
cpus=$(nproc)
memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 700 "$dir/munge"
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 600 "$dir/munge/munge.key"
cat > "$dir/slurm.conf" <<CONF
ClusterName=audionet-test
SlurmctldHost=$host
SlurmUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/munge/socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MpiDefault=none
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
# The daemons keep no descriptor of the caller's: a caller waiting for this script's output, or watching a
# descriptor it handed down to learn that the script ended (as Swift's Process does), would wait for them too.
for fd in $(ls /proc/$$/fd); do
    [ "$fd" -gt 2 ] && [ "$fd" -lt 255 ] && eval "exec $fd>&-" 2>/dev/null || true
done
exec 3>&1 4>&2 </dev/null >/dev/null 2>>"$dir/start.log"
# Signal dispositions reset too: a daemon that inherits an ignored signal (a Swift test runner ignores glibc's
# thread-cancellation signal) does not stop on SIGTERM.
env --default-signal munged --force --socket="$dir/munge/socket" --key-file="$dir/munge/munge.key" --pid-file="$dir/munged.pid" \
       --log-file="$dir/munged.log" --seed-file="$dir/munge/seed" 3>&- 4>&-
env --default-signal slurmctld -i -f "$SLURM_CONF" 3>&- 4>&-
env --default-signal slurmd -f "$SLURM_CONF" 3>&- 4>&-
for _ in $(seq 100); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qx idle; then echo "export SLURM_CONF=$SLURM_CONF" >&3; exit 0; fi
    sleep 0.2
done
echo "the node did not come up in 20 s; see $dir/start.log, slurmctld.log and slurmd.log" >&4
stop
exit 1
