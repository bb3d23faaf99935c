# shellcheck shell=bash disable=SC2034,SC2154 # chaos/killer's variables
# chaos/faults/swarm.bash: the swarm's kinds of fault (hosts that are
# containers running their own engine). Sourced by chaos/killer after
# compose.bash.

# ---- the swarm: hosts that are containers running their own engine -----

# host_ctr N: host N's container (swarm/up's names).
host_ctr() { echo "$SWARM_NAME-h$1"; }
# on N ARGS...: docker ARGS on host N, within 10 s (swarm/docker's).
on() {
    local n=$1
    shift
    timeout 10 docker exec "$(host_ctr "$n")" docker "$@" </dev/null 2>/dev/null
}
# hosts_running: the numbers of the hosts whose container runs.
hosts_running() {
    docker ps --filter "label=crashonly.swarm=$SWARM_NAME" --filter status=running \
        --format '{{.Names}}' | sed -n "s/^$SWARM_NAME-h\([0-9]*\)\$/\1/p"
}
# hosts_all: the numbers of every host, running or not.
hosts_all() {
    docker ps -a --filter "label=crashonly.swarm=$SWARM_NAME" \
        --format '{{.Names}}' | sed -n "s/^$SWARM_NAME-h\([0-9]*\)\$/\1/p"
}

# swarm_tasks: set tasks_at to the running tasks of every host that runs
# and is not cut off, a line each: HOST SERVICE CONTAINER. One 'docker ps'
# a host, all at once: each is a docker exec into the host, about half a
# second on a busy machine, and a victim picked one exec at a time took
# 9 s (20 of them), past the run's end.
declare -A cut_until # host => epoch ms its partition heals
swarm_tasks() {
    local n
    tick
    tasks_at=$(for n in $(hosts_running); do
        [ "${cut_until[$n]:-0}" -le "$now" ] || continue
        on "$n" ps --format "$n {{.Label \"com.docker.swarm.service.name\"}} {{.Names}}" &
    done
    wait)
}

# swarm_pick SERVICE [known]: set host (its number) and name (its
# container there) for a random running task of crashonly_SERVICE, from
# the tasks swarm_tasks lists (anew, unless known is given); false when
# there is none.
swarm_pick() {
    local c tasks=()
    [ -n "${2:-}" ] || swarm_tasks
    mapfile -t tasks < <(awk -v s="crashonly_$1" '$2 == s { print $1 "/" $3 }' <<<"$tasks_at")
    [ ${#tasks[@]} -gt 0 ] || return 1
    c=${tasks[RANDOM % ${#tasks[@]}]}
    host=${c%%/*} name=${c#*/}
}

# swarm_master: set master_host and master_name for the Redis master's
# task, as a majority of the three Sentinels name it (asked all at once,
# each within 10 s: two docker execs, which took more than 5 s under load
# here, and the kinds that ask passed their first turns); false when none
# is named or its task does not run.
swarm_master() {
    local s answers=() host name
    swarm_tasks
    mapfile -t answers < <(for s in sentinel1 sentinel2 sentinel3; do
        if swarm_pick "$s" known; then
            {
                a=$(timeout 10 docker exec "$(host_ctr "$host")" docker exec \
                    "$name" redis-cli -p 26379 --raw SENTINEL get-master-addr-by-name \
                    crashonly 2>/dev/null </dev/null | head -n 1)
                echo "${a:-none}"
            } &
        else
            echo none
        fi
    done
    wait)
    master=$(majority "${answers[@]}")
    case $master in redis[0-9]*) swarm_pick "$master" known || return 1 ;; *) return 1 ;; esac
    master_host=$host master_name=$name
}

# swarm_steady: true when every host runs, none is cut off, and every
# node of the swarm is Ready: the one host down at a time.
swarm_steady() {
    local n
    tick
    [ "$(hosts_running | wc -l)" = "$(hosts_all | wc -l)" ] || return 1
    for n in "${!cut_until[@]}"; do [ "${cut_until[$n]}" -le "$now" ] || return 1; done
    ! on "$(hosts_running | head -n 1)" node ls --format '{{.Status}}' | grep -qv '^Ready$'
}

# swarm_victim: set host to a random host that may be lost now: the swarm
# steady, and when it holds the Redis master, a replica promotable
# (in_sync, in the master's container); false otherwise.
swarm_victim() {
    local hosts=() master master_host master_name
    swarm_steady || return 1
    mapfile -t hosts < <(hosts_running)
    host=${hosts[RANDOM % ${#hosts[@]}]}
    swarm_master || return 1
    [ "$master_host" != "$host" ] || swarm_in_sync
}

# swarm_in_sync: in_sync for the master's task (swarm_master's), asked
# inside it through its host's engine (two docker execs, each seconds
# under load on this machine: within 10 s, as on).
swarm_in_sync() {
    # shellcheck disable=SC2016 # expanded in the container
    timeout 10 docker exec "$(host_ctr "$master_host")" docker exec "$master_name" sh -c \
        'AT="--user $NODE_USER" AS=$AT; '"$PROMOTABLE" </dev/null >/dev/null 2>&1
}

# swarm_manager: print the number of a host that runs and is not cut off,
# to ask the swarm's managers through (every host is one).
swarm_manager() {
    local n
    tick
    for n in $(hosts_running); do
        [ "${cut_until[$n]:-0}" -le "$now" ] || continue
        echo "$n"
        return 0
    done
    return 1
}

# The workers kind: the pid the task's runsv reports, killed inside the
# container, which tells the time of the kill (the same clock as ours).
kind swarm workers ready='event=ready' \
    timed="the new worker process's \`event=ready\` in its task's log (\`unix_ms\`). The runsv inside the task's container restarts it; the task stays up"
fault_swarm_workers() {
    local host name t pid
    tick
    [ $((now - start)) -lt $((seconds * 1000)) ] || return 0
    swarm_pick worker || return 0
    tick # the pick takes seconds on a busy machine: no kill after the run
    [ $((now - start)) -lt $((seconds * 1000)) ] || return 0
    # shellcheck disable=SC2016 # expanded in the container
    read -r t pid < <(timeout 10 docker exec "$(host_ctr "$host")" docker exec \
        "$name" sh -c 'p=$(cat /run/crashonly/supervise/pid) && [ -n "$p" ] &&
         t=$(date +%s%3N) && kill -KILL "$p" && echo "$t $p"' 2>/dev/null </dev/null) ||
        return 0
    now=$t
    record "h$host/$name" "$pid"
}

# A host lost: its container's pid 1 (dockerd) SIGKILLed from here, and
# with it every task on it; the container stays down (it has no restart
# policy) until the heal starts it again, with its volume: its disk.
# A host's loss stops counting until a second Redis node is in sync: 4 s
# when the managers' leader survives (the node's task started elsewhere
# once its host is marked down, 3 missed heartbeats of a second), 23 s
# measured when the host was the leader too (Raft elects another first,
# 10 to 20 s at Docker's election tick, not settable on engine 26.1):
# 120 attempts back off for 30 to 60 s (docs/swarm-chaos.md, "Losing a host").
kind swarm node outage=redis workers=yes attempts=120 \
    timed="every worker up again (chaos/run's count of worker processes, a sample a second): the lost host's workers started elsewhere once the managers marked it down, or on it once it came back" \
    counted="after a host was lost the stack counted again after %s: 0 when it held no Redis node (the other hosts' proxies and workers count on); else the failover (its master) or the node started again elsewhere, empty, and synced (its replica), since a hit is acknowledged only on two disks." \
    about="A host lost (\`node\`) is its container's pid 1, \`dockerd\`, SIGKILLed: every task on it dies at once, its published proxy port refuses, and hitload moves on to the next host's. It comes back after \`NODE_DOWN_MS\` with its disk (or never), rejoins the swarm, and the managers shut down what it ran that runs elsewhere by then."
fault_swarm_node() {
    local host init workers down=${NODE_DOWN_MS:-20000}
    tick
    [ $((now - start)) -lt $((seconds * 1000)) ] || return 0
    swarm_victim || return 0
    init=$(docker inspect -f '{{.State.Pid}}' "$(host_ctr "$host")") || return 0
    workers=$(awk -v h="$host" '$1 == h && $2 == "crashonly_worker"' <<<"$tasks_at" | wc -l)
    sigkill "$init" || return 0
    record "h$host" "$init" "$down" "workers=$workers"
    [ "$down" != never ] || return 0
    (
        trap '' INT TERM HUP # the host must come back, whatever stops the killer
        sleep "$(awk -v ms="$down" 'BEGIN { printf "%.3f", ms / 1000 }')"
        docker start "$(host_ctr "$host")" >/dev/null ||
            echo "killer: could not start $(host_ctr "$host") again" >&2
    ) &
    heals+=($!)
}

# A host cut off: its container disconnected from the swarm's one network
# for PARTITION_MS, then connected again at the address its swarm knows
# it by (swarm/up gives each host a fixed one).
kind swarm node-partition fault=partition outage=redis attempts=120 \
    counted="after a host was cut off the stack counted again after %s: 0 when it held no Redis node; else the failover (its master) or the wait for it back (its replica)." \
    about="A host cut off (\`node-partition\`) keeps running, but reaches no other host and no client: its published port refuses, and hitload moves on to the next host's. Its tasks lose Redis and restart in a loop until it is connected again at its address."
fault_swarm_node-partition() {
    local host init ip ms=${PARTITION_MS:-3000}
    tick
    [ $((now - start)) -lt $((seconds * 1000)) ] || return 0
    swarm_victim || return 0
    init=$(docker inspect -f '{{.State.Pid}}' "$(host_ctr "$host")") || return 0
    ip=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$SWARM_NAME\").IPAddress}}" \
        "$(host_ctr "$host")") || return 0
    tick
    docker network disconnect "$SWARM_NAME" "$(host_ctr "$host")" >/dev/null 2>&1 || return 0
    cut_until[$host]=$((now + ms + 5000))
    record "h$host" "$init" "$ms"
    (
        trap '' INT TERM HUP # the heal must come, whatever stops the killer
        sleep "$(awk -v ms="$ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
        docker network connect --ip "$ip" "$SWARM_NAME" "$(host_ctr "$host")" >/dev/null ||
            echo "killer: could not connect $(host_ctr "$host") again" >&2
    ) &
    heals+=($!)
}

# crash_task N CONTAINER init|redis [DIR]: SIGKILL, inside host N, the
# task's pid 1 (init) or the redis-server its pid 1 started (redis), the
# contents of DIR (a path on host N) deleted first; print the epoch ms of
# the kill (host N's clock is ours: one kernel) and the pid killed, in
# host N's numbering. False when the task or its redis-server is gone.
# One docker exec, into the host: the task's pids are not this machine's.
# (A children file is "PID " with no newline: read would fail on it.)
# shellcheck disable=SC2016 # expanded in the host
CRASH_TASK='i=$(docker inspect -f "{{.State.Pid}}" "$1") && [ "$i" -gt 0 ] && p=$i &&
    if [ "$2" = redis ]; then p=$(cat "/proc/$i/task/$i/children") && p=${p%% *} &&
        [ "$(cat "/proc/$p/comm")" = redis-server ]; fi &&
    if [ -n "$3" ]; then find "$3" -mindepth 1 -delete; fi &&
    t=$(date +%s%3N) && kill -KILL "$p" && echo "$t $p"'
crash_task() {
    timeout 10 docker exec "$(host_ctr "$1")" sh -c "$CRASH_TASK" sh "$2" "$3" "${4:-}" \
        </dev/null 2>/dev/null
}

# swarm_crash_master init|redis [data]: crash_task for the Redis master's
# task (only while its replica is promotable, see below), its volume
# emptied first when data is given; recorded as its service (the report
# reads the new task's log, wherever it starts, through the service).
swarm_crash_master() {
    local master master_host master_name data='' t pid
    tick
    [ $((now - start)) -lt $((seconds * 1000)) ] || return 0
    swarm_master || return 0
    swarm_in_sync || return 0
    if [ -n "${2:-}" ]; then
        data=$(on "$master_host" inspect -f \
            '{{range .Mounts}}{{if eq .Destination "/data"}}{{.Source}}{{end}}{{end}}' \
            "$master_name") || return 0
        case $data in /*/volumes/*_data) ;; *) return 0 ;; esac # a volume's, nothing else
    fi
    tick # the questions take seconds on a busy machine: no kill after the run
    [ $((now - start)) -lt $((seconds * 1000)) ] || return 0
    read -r t pid < <(crash_task "$master_host" "$master_name" "$1" "$data") || return 0
    now=$t
    record "$master" "$pid"
}

# The master's redis-server, SIGKILLed in its host: its task's pid 1
# (tini) exits with it, and the engine starts a new task, placed anew: on
# its host again, with its volume, or on another host with its
# crashonly-redis unit free, with that host's copy of the volume: empty,
# or an old copy left there by an earlier move (docs/swarm.md, "A
# restarted task may move"). A move is its disk lost, as for redis-host:
# so only while its replica is promotable (in_sync), or the crash is a
# double fault. An empty node waits for the Sentinels' failover and
# starts as the new master's replica; one on an old copy, named master
# still, would start as master on it (the stale volume): redis/node's
# fence must refuse it. The new task started 1.6 to 3.9 s after the kill
# here, 7 to 9 s when the machine was busy (its old one's failure seen,
# the new one placed and created), the failover at 1.8 to 2.7 s, and the
# stack counted again after up to 10.3 s: more than 40 attempts surely
# outlast (8 to 16 s), so 120, as for a host lost (docs/swarm-chaos.md, "The
# Redis kinds and the rolling update").
kind swarm redis outage=redis failover=yes attempts=120 ready='Ready to accept connections' \
    timed="the new task's redis-server's \`Ready to accept connections\` in the service's log (\`docker service logs\` through a manager), on whichever host the swarm placed it: its own again, with its AOF, or another, empty (the node waits for the failover and starts as a replica) or on an old copy of its volume" \
    counted="after a Redis kill the stack counted again after %s: the new task started, on its host with its AOF or elsewhere after the Sentinels' failover and a full sync (a hit is acknowledged only on two disks)." \
    about="A Redis kill on the swarm (\`redis\`) is the master's \`redis-server\` SIGKILLed; its task fails and the engine starts a new one, which the swarm may place on another host, where its volume is not: then the crash cost its disk, and the node waits for the Sentinels' failover and syncs from the new master. A new task that takes more than the Sentinels' second (here: every one) is failed over on its own host too. Dealt only while the replica is promotable."
fault_swarm_redis() { swarm_crash_master redis; }

# The master destroyed: its volume emptied inside its host, then its
# task's pid 1 killed. Its new task finds an empty volume on its host, or
# another host's copy (empty, or old) if placed elsewhere.
kind swarm redis-host outage=redis failover=yes attempts=120 \
    ready='Ready to accept connections' \
    timed="the destroyed node's new task's \`Ready to accept connections\` in the service's log, as a replica: the engine starts a new task at once, on its host or another, and the node waits, empty, until the Sentinels name another master" \
    counted="$redis_host_counted"
fault_swarm_redis-host() { swarm_crash_master init data; }

# An upgrade on the swarm: a rolling update of the worker service to the
# other image, the stack's own (SWARM_IMAGES/worker) <->
# SWARM_IMAGES/worker:next (chaos/run builds it, VARIANT=next, and loads
# it into every host: no registry), by 'docker service update --image' on
# a manager (--no-resolve-image: there is no registry to ask), as
# swarm/stack.yml's update_config says: one task at a time,
# start-first; waited for (--detach=false) in the background, deaf to INT,
# TERM and HUP like a heal. Going back, the library is rolled back first,
# as on compose. A task is "running" once its container has started (the
# worker has no health check), so start-first kills the old one before
# the new worker serves: nginx sends what it holds, and the new worker's
# refusals, to another worker, with the same X-Request-Id.
kind swarm upgrade fault=rollout
fault_swarm_upgrade() {
    local n image to=${SWARM_IMAGES:-crashonly-swarm}/worker:next
    tick
    [ $((now - start)) -lt $((seconds * 1000)) ] || return 0
    [ -z "$roller" ] || ! kill -0 "$roller" 2>/dev/null || return 0
    n=$(swarm_manager) || return 0
    image=$(on "$n" service inspect -f '{{.Spec.TaskTemplate.ContainerSpec.Image}}' \
        crashonly_worker) || return 0
    if [ "$image" = "$to" ]; then
        to=${SWARM_IMAGES:-crashonly-swarm}/worker
        library_swarm || return 0
    fi
    roll "$to" timeout 300 docker exec "$(host_ctr "$n")" docker service update \
        --detach=false --quiet --no-resolve-image --image "$to" crashonly_worker &
    roller=$!
    heals+=($!)
    dealt=1 # its line is recorded at its end
}

# library_swarm: the library of build/crashonly loaded on the master's
# task, through its host's engine.
library_swarm() {
    local master master_host master_name
    swarm_master || return 1
    library_load docker exec -i "$(host_ctr "$master_host")" docker exec "$master_name"
}

# rollback_swarm (--rollback): the library of build/crashonly, and the
# worker service rolled back to the stack's own image.
rollback_swarm() {
    local n
    library_swarm || return 1
    n=$(swarm_manager) || return 1
    timeout 300 docker exec "$(host_ctr "$n")" docker service update --detach=false \
        --quiet --no-resolve-image --image "${SWARM_IMAGES:-crashonly-swarm}/worker" \
        crashonly_worker </dev/null >/dev/null
}
