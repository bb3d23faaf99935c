# shellcheck shell=bash disable=SC2034,SC2154 # chaos/killer's variables
# chaos/faults/local.bash: the local stack's kinds of fault (runit services
# under STATE/sv), and what the other backends share of them (majority,
# in_sync). Sourced by chaos/killer, whose helpers (kind, record, pause,
# sigkill, tick) it uses.

# ---- the local stack: runit services under STATE/sv ---------------------

# pid_of SERVICE: the pid its runsv reports, or nothing while it is down.
pid_of() {
    local pid
    pid=$(cat "$STATE/sv/$1/supervise/pid" 2>/dev/null || true)
    case $pid in '' | 0 | *[!0-9]*) ;; *) echo "$pid" ;; esac
}

# running_worker: set w (its service) and pid to a random worker of those
# running; false when none runs (after a Redis kill every worker may be
# down a moment: each exits on losing Redis, and the turn passes only
# then). Exits 111 when STATE has no workers at all.
running_worker() {
    local ws=("$STATE"/sv/w*) s up=()
    [ -d "${ws[0]}" ] || { echo "killer: no workers under $STATE/sv" >&2; exit 111; }
    for s in "${ws[@]}"; do
        [ -z "$(pid_of "${s##*/}")" ] || up+=("${s##*/}")
    done
    [ ${#up[@]} -gt 0 ] || return 1
    w=${up[RANDOM % ${#up[@]}]}
    pid=$(pid_of "$w") && [ -n "$pid" ]
}

# A random worker of those running.
kind local workers ready='event=ready' \
    timed="the new process's \`event=ready\`, at the time the line gives (\`unix_ms\`, by the clock the kills are stamped with). runsv restarts a worker at once, or after 1 s when it had run for less than 1 s"
fault_local_workers() {
    local w pid
    running_worker || return 0
    sigkill "$pid" && record "$w" "$pid"
}

# majority ANSWER...: print the answer more than half of them give, or
# nothing.
majority() {
    local n=$#
    printf '%s\n' "$@" | sort | uniq -c | awk -v n="$n" '$1 > n / 2 { print $2; exit }'
}

# redis_master: set node to the Redis node of the local stack that is
# master now (redis1, redis2...), and node_port to its port, as a
# majority of the Sentinels name it
# (as redis/node asks): a node deposed while it was away may still say
# master (ROLE), and one Sentinel may not have heard of a failover yet.
# With no Sentinels, redis1. '' when no majority names one.
redis_master() {
    local d p m answers=()
    node='' node_port=''
    if [ ! -d "$STATE/sv/sentinel1" ]; then
        node=redis1
        node_port=$(sed -n 's/^port //p' "$STATE/redis1.conf" 2>/dev/null)
        return
    fi
    for d in "$STATE"/sentinel*; do
        p=$(sed -n 's/^port //p' "$d/sentinel.conf" 2>/dev/null)
        answers+=("$(timeout 1 redis-cli -p "${p:-0}" --raw SENTINEL \
            get-master-addr-by-name crashonly 2>/dev/null | tail -n 1)")
    done
    m=$(majority "${answers[@]}")
    for d in "$STATE"/sv/redis*; do
        p=$(sed -n 's/^port //p' "$STATE/$(basename "$d").conf" 2>/dev/null)
        [ -n "$m" ] && [ "$p" = "$m" ] && node=$(basename "$d") && node_port=$p && return
    done
}

# An upgrade, or a rollback: a random running worker's run file switched
# to the other build, build/crashonly <-> build/next/crashonly (the same
# worker with the next version of its library, whose ids are laid out in
# the next schema: mk/embed --next), then the worker killed: runsv starts
# the other build in its place. A worker of the next build loads its
# library over the one before; to the one before, no worker goes back by
# itself, so the killer rolls the library back first, as an operator
# would (FUNCTION LOAD REPLACE, on the master). The library changes
# version at nearly every turn, the workers are a mixed fleet all the
# run long, and retries cross versions and schemas both ways. chaos/run
# puts every worker and the library back on build/crashonly after it.
kind local upgrade ready='event=ready' \
    timed="the new process's \`event=ready\` (\`unix_ms\`), of the other build, which runsv started in the place of the one killed (its run file switched first)"
fault_local_upgrade() {
    local w pid run from to node node_port
    running_worker || return 0
    run=$STATE/sv/$w/run
    to=$top/build/next/crashonly
    if ! grep -q " $top/build/crashonly\$" "$run"; then
        to=$top/build/crashonly
        redis_master
        [ -n "$node" ] && library_local "$node_port" || return 0
    fi
    switch_build "$run" "$to" || return 0
    sigkill "$pid" && record "$w" "$pid"
}

# switch_build RUN BINARY: the worker of the run file RUN started from
# BINARY (a build of build/) at its next start.
switch_build() {
    sed -E "s| $top/build/([a-z]+/)?crashonly\$| $2|" "$1" >"$1.new" &&
        chmod +x "$1.new" && mv "$1.new" "$1"
}

# library_local [PORT]: the library of build/crashonly, loaded over
# whichever the Redis at PORT (the master) has.
library_local() {
    local node node_port=${1:-}
    [ -n "$node_port" ] || redis_master
    [ "$(timeout 2 redis-cli -p "${node_port:-0}" -x FUNCTION LOAD REPLACE \
        <"$top/crashonly/function.lua" 2>/dev/null)" = crashonly ]
}

# rollback_local (--rollback): every worker back on build/crashonly, with
# its library, each killed once to start on it.
rollback_local() {
    local w
    for w in "$STATE"/sv/w*; do switch_build "$w/run" "$top/build/crashonly"; done
    library_local || return 1
    for w in "$STATE"/sv/w*; do sv kill "$w" >/dev/null; done
}

kind local redis outage=redis ready='Ready to accept connections' \
    timed="the new redis-server's \`Ready to accept connections\`, after it has loaded the AOF (svlogd's stamp); runsv restarts it" \
    counted="after a Redis kill the stack counted again after %s: from the kill to the first 100 ms of hitload's series with a hit acknowledged after the outage. A worker restarted before Redis was ready exits again, and runsv waits 1 s before it starts it once more."
fault_local_redis() {
    local node node_port pid
    redis_master
    [ -n "$node" ] || return 0
    pid=$(pid_of "$node") && [ -n "$pid" ] || return 0
    sigkill "$pid" && record "$node" "$pid"
}

# in_sync: true when the Redis at $node_port (the master) has a replica
# online that the Sentinels may promote: one whose fence (redis/node) has
# raised its replica-priority, its data whole on its own disk. A master
# whose replica is still syncing, or has synced but not yet written its
# data to its disk, holds the only copy of the hits that counts:
# destroying it then is two hosts lost at once, the residual risk the
# stack does not claim to survive (docs/replication.md), and the
# Sentinels would wait for the replica (seen on compose: 13 s with no
# hit counted); so redis-host passes its turn, as for a target that is
# down. One with no replica at all may be one the Sentinels have just
# deposed, which partition would cut off for nothing. The same check,
# as sh, runs in a node's container on compose (compose_in_sync).
# shellcheck disable=SC2016 # expanded by the sh that runs it
PROMOTABLE='for r in $(redis-cli $AT INFO replication |
    sed -n "s/^slave[0-9]*:ip=\([^,]*\),port=\([0-9]*\),state=online.*/\1:\2/p"); do
    redis-cli $AS -h "${r%:*}" -p "${r##*:}" INFO replication |
        grep -q "^slave_priority:[1-9]" && exit 0
done
exit 1'
in_sync() {
    AT="-p ${node_port:-0}" AS='' timeout 2 sh -c "$PROMOTABLE" 2>/dev/null
}

# What counting again means after a master's destruction, on every
# backend (compose.bash's redis-host says it too).
redis_host_counted="after a master's destruction the stack counted again after %s: the failover, the workers' restart on the new master, and the empty node synced as its replica, since a hit is acknowledged only on two disks."
# The disk goes first: Redis writes on into the files it has open, and
# the node restarts to an empty folder.
kind local redis-host outage=redis failover=yes \
    ready='Ready to accept connections' \
    timed="the destroyed node's \`Ready to accept connections\`, as a replica (svlogd's stamp): runsv restarts it at once, and it waits, empty, until the Sentinels name another master" \
    counted="$redis_host_counted"
fault_local_redis-host() {
    local node node_port pid
    redis_master
    [ -n "$node" ] || return 0
    in_sync || return 0
    pid=$(pid_of "$node") && [ -n "$pid" ] || return 0
    rm -rf "${STATE:?}/${node:?}"/*
    sigkill "$pid" && record "$node" "$pid"
}

# A pause is no crash: nothing restarts, and there is no recovery to time.
kind local,compose pause fault=pause noun=workers \
    about="A paused worker holds the requests nginx gave it until nginx's \`proxy_read_timeout\` (sized from the workers' \`REDIS_TIMEOUT_MS\`), which then sends them to another worker with the same \`X-Request-Id\`, and passes the paused worker by for \`fail_timeout\`; \`least_conn\` sends it no more than its share meanwhile. Resumed, it answers what it had (to nobody) and, its watchdog seeing that it was the one that stopped, serves on."
fault_local_pause() {
    local ws=("$STATE"/sv/w*) w pid
    w=$(basename "${ws[RANDOM % ${#ws[@]}]}")
    pid=$(pid_of "$w") && [ -n "$pid" ] || return 0
    pause "$pid" "$w"
}

kind local,compose pause-redis fault=pause noun=redis outage=redis \
    about="A paused Redis master answers nobody: a worker whose call is older than \`REDIS_TIMEOUT_MS\` exits 113 and is restarted, and a pause past the Sentinels' 1 s is a failover; hitload retries with the same key, and the calls a Redis finds in its sockets when it runs again are counted once, by their ids (or refused, by a master turned replica)."
fault_local_pause-redis() {
    local node node_port pid
    redis_master
    [ -n "$node" ] || return 0
    pid=$(pid_of "$node") && [ -n "$pid" ] || return 0
    pause "$pid" "$node"
}

# The master first, so that it cannot fork a worker in place of one
# killed before it; its children as they were just before.
kind local nginx outage=nginx ready='start worker processes' \
    timed="the new master's \`start worker processes\`, logged once it has bound its port again (svlogd's stamp); runsv restarts it"
fault_local_nginx() {
    local pid children
    pid=$(pid_of nginx) && [ -n "$pid" ] || return 0
    children=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null || true)
    sigkill "$pid" || return 0
    # shellcheck disable=SC2086 # children: pids, one word each
    [ -z "$children" ] || kill -KILL $children 2>/dev/null || true
    record nginx "$pid"
}
