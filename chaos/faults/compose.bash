# shellcheck shell=bash disable=SC2034,SC2154 # chaos/killer's variables
# chaos/faults/compose.bash: the compose stack's kinds of fault (the
# project's containers). Sourced by chaos/killer after local.bash.

# ---- the compose stack: the project's containers -------------------------

# pick SERVICE: set name and init (the host pid of its pid 1) for a random
# running container of the service; false when none runs.
pick() {
    local lines=() line
    mapfile -t lines < <(docker ps --no-trunc --format '{{.Names}}' \
        --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" \
        --filter "label=com.docker.compose.service=$1" --filter status=running)
    [ ${#lines[@]} -gt 0 ] || return 1
    name=${lines[RANDOM % ${#lines[@]}]}
    line=$(docker inspect -f '{{.State.Pid}}' "$name" 2>/dev/null) || return 1
    init=$line
    [ "${init:-0}" -gt 0 ]
}

# crash_init KIND: SIGKILL the pid 1 of a random running container of the
# service, from the host: the container dies and the engine restarts it.
crash_init() {
    local name init
    pick "$1" || return 0
    if ! sigkill "$init"; then
        [ -d "/proc/$init" ] || return 0 # it died meanwhile
        echo "killer: cannot signal pid $init of $name: run as root" >&2
        exit 111
    fi
    record "$name" "$init"
}

# worker_process INIT: print the host pid of the worker process in
# the container (tini -> runsv -> crashonly), or nothing.
worker_process() {
    local runsv='' pid=''
    read -r runsv _ 2>/dev/null <"/proc/$1/task/$1/children" || true
    [ -z "$runsv" ] || read -r pid _ 2>/dev/null <"/proc/$runsv/task/$runsv/children" || true
    [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = crashonly ] && echo "$pid"
}

# A worker container's tree: tini (pid 1) -> runsv -> crashonly. From the
# host; where its pid is not ours to signal, from inside the container, as
# the worker's own user, by the pid runsv reports (the container's own
# numbering). A worker down between two runs (runsv's finish, or its 1 s
# pause after a short run) is not killed that time.
kind compose workers ready='event=ready' \
    timed="the new worker process's \`event=ready\` in its container's log, at the time the line gives (\`unix_ms\`: the engine's own stamp, \`docker logs -t\`, can come tens of ms late on a busy machine). The runsv inside the container restarts it, at once or after 1 s when it had run for less than 1 s; the container and its address stay up"
fault_compose_workers() {
    local name init pid t
    pick worker || return 0
    pid=$(worker_process "$init") || pid=''
    if [ -n "$pid" ]; then
        if sigkill "$pid"; then
            record "$name" "$pid"
            return 0
        fi
        [ -d "/proc/$pid" ] || return 0
    fi
    # The container tells the time of its kill: the same clock as ours.
    # shellcheck disable=SC2016 # expanded in the container
    read -r t pid < <(timeout 10 docker exec "$name" sh -c \
        'p=$(cat /run/crashonly/supervise/pid) && [ -n "$p" ] &&
         t=$(date +%s%3N) && kill -KILL "$p" && echo "$t $p"' 2>/dev/null) || return 0
    now=$t
    record "$name" "$pid"
}

fault_compose_pause() {
    local name init pid
    pick worker || return 0
    pid=$(worker_process "$init") || return 0
    pause "$pid" "$name"
}

fault_compose_pause-redis() {
    local name init pid
    compose_master || return 0
    pid=$(child "$init") || return 0
    pause "$pid" "$name"
}

kind compose containers ready='event=ready' \
    timed="the new worker's \`event=ready\` in the restarted container's log (\`unix_ms\`). The whole container died (its pid 1, tini, SIGKILLed), and the engine's restart policy restarts it: 100 ms, doubled for each restart of a container that ran less than 10 s"
fault_compose_containers() { crash_init worker; }
kind compose proxy outage=nginx ready='start worker processes' \
    timed="the new nginx master's \`start worker processes\` in its container's log, after the engine restarted the container"
fault_compose_proxy() { crash_init proxy; }

# compose_master: set name and init for the Redis node container that is
# master now, as a majority of the three Sentinels name it (a node cut
# off and back may still say master, ROLE, until it is fenced); false
# when none is named or it does not run.
compose_master() {
    local s service answers=()
    for s in sentinel1 sentinel2 sentinel3; do
        if pick "$s"; then
            answers+=("$(timeout 5 docker exec "$name" redis-cli -p 26379 --raw \
                SENTINEL get-master-addr-by-name crashonly 2>/dev/null | head -n 1)")
        else
            answers+=(none) # a Sentinel down counts against every answer
        fi
    done
    service=$(majority "${answers[@]}")
    case $service in redis[0-9]*) pick "$service" ;; *) return 1 ;; esac
}

# compose_in_sync: in_sync for the node container compose_master named.
compose_in_sync() {
    # shellcheck disable=SC2016 # expanded in the container
    timeout 5 docker exec "$name" sh -c 'AT="--user $NODE_USER" AS=$AT; '"$PROMOTABLE" \
        2>/dev/null
}

# child INIT: print the host pid of INIT's first child: in a node
# container, redis-server (tini -> redis-server, as redis/node execs it).
child() {
    local pid=''
    read -r pid _ 2>/dev/null <"/proc/$1/task/$1/children" || true
    [ -n "$pid" ] && echo "$pid"
}

# The master's redis-server: tini, the container's pid 1, exits with it,
# and the engine restarts the container; Redis reloads its AOF.
kind compose redis outage=redis ready='Ready to accept connections' \
    timed="the new redis-server's \`Ready to accept connections\` in its container's log, after the engine restarted the container and Redis loaded its AOF" \
    counted="after a Redis kill the stack counted again after %s: from the kill to the first 100 ms of hitload's series with a hit acknowledged after the outage. A worker restarted before Redis was ready exits again, and runsv waits 1 s before it starts it once more."
fault_compose_redis() {
    local name init pid
    compose_master || return 0
    pid=$(child "$init") || return 0
    sigkill "$pid" && record "$name" "$pid"
}

# The master destroyed: its volume emptied from the host, then its pid 1
# killed; the container comes back to an empty volume.
kind compose redis-host outage=redis failover=yes \
    ready='Ready to accept connections' \
    timed="the destroyed node's \`Ready to accept connections\` in its container's log, as a replica: the engine restarts the container at once, and the node waits, empty, until the Sentinels name another master" \
    counted="$redis_host_counted"
fault_compose_redis-host() {
    local name init data
    compose_master || return 0
    compose_in_sync || return 0
    data=$(docker inspect -f \
        '{{range .Mounts}}{{if eq .Destination "/data"}}{{.Source}}{{end}}{{end}}' \
        "$name" 2>/dev/null) || return 0
    case $data in /*/volumes/*_data) ;; *) return 0 ;; esac # a volume's, nothing else
    find "$data" -mindepth 1 -delete
    sigkill "$init" && record "$name" "$init"
}

# The master cut off from every other container (its one network) for
# PARTITION_MS (default 3000), then connected again under its service
# name; the heal runs in the background, and the killer waits for it at
# the end. No process dies: pid is its pid 1. A failover takes 2.4 to 3.1
# s here from the cut to +switch-master: a 3 s cut may heal before the
# Sentinels agree, and then the master stays master (compose.t cuts for
# 5 s, to time the failover). A longer cut is a longer outage either way:
# the new master takes no write until its one replica, the old master,
# is back and in sync.
heals=()
kind compose partition outage=redis failover=yes \
    ready='MASTER <-> REPLICA sync: Finished with success|Successful partial resynchronization' \
    timed="the old master's \`MASTER <-> REPLICA sync: Finished with success\` in its container's log: back on the network, the Sentinels made it a replica of the new master, and it synced" \
    counted="after the master was cut off the stack counted again after %s: the failover, and the workers' restart on the new master (the old one rejoins as its replica once the network is whole)."
fault_compose_partition() {
    local name init net service
    compose_master || return 0
    compose_in_sync || return 0
    service=$(docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}}' "$name")
    net=$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$name")
    net=${net%% *}
    [ -n "$net" ] || return 0
    tick
    docker network disconnect "$net" "$name" >/dev/null 2>&1 || return 0
    record "$name" "$init"
    (
        trap '' INT TERM HUP # the heal must come, whatever stops the killer
        sleep "$(awk -v ms="${PARTITION_MS:-3000}" 'BEGIN { printf "%.3f", ms / 1000 }')"
        docker network connect --alias "$service" "$net" "$name" >/dev/null 2>&1 ||
            echo "killer: could not connect $name to $net again" >&2
    ) &
    heals+=($!)
}

# An upgrade on compose: a rolling update of every worker (compose/roll,
# one container at a time, start-first) to the other image: the stack's
# own (WORKER_IMAGE, as compose.yml reads it: crashonly-worker) <->
# crashonly-worker:next (chaos/run builds it with VARIANT=next), in the background, deaf to INT, TERM and HUP like a heal;
# going back, the library is rolled back first. Never two at once: a turn
# that finds one still rolling passes. Its line is recorded at its end,
# timed from its start (ms: how long it rolled; what: the image).
roller=''
kind compose upgrade fault=rollout
fault_compose_upgrade() {
    local image to
    tick
    [ $((now - start)) -lt $((seconds * 1000)) ] || return 0
    [ -z "$roller" ] || ! kill -0 "$roller" 2>/dev/null || return 0
    pick worker || return 0
    image=$(docker inspect -f '{{.Config.Image}}' "$name" 2>/dev/null) || return 0
    to=crashonly-worker:next
    if [ "$image" = "$to" ]; then
        to=${WORKER_IMAGE:-crashonly-worker}
        library_compose || return 0
    fi
    roll "$to" env WORKER_IMAGE="$to" "$top/compose/roll" &
    roller=$!
    heals+=($!)
    dealt=1 # its line is recorded at its end
}

# roll IMAGE COMMAND...: in the background, COMMAND rolls the workers to
# IMAGE (compose/roll, or the swarm's service update); its line recorded
# at its end, timed from its start.
roll() {
    local t0 to=$1
    shift
    trap '' INT TERM HUP
    tick
    t0=$now
    "$@" >/dev/null || {
        echo "killer: the rollout to $to failed" >&2
        return 0
    }
    tick
    local ms=$((now - t0))
    now=$t0
    record worker "$BASHPID" "$ms" "$to"
}

# library_compose: the library of build/crashonly loaded on the master.
library_compose() {
    local name init
    compose_master || return 1
    library_load docker exec "$name"
}

# library_load EXEC...: the library of build/crashonly loaded on the
# master, through EXEC (the 'docker exec ... CONTAINER' that reaches its
# node, given -i and the password after its 'exec'), as the workers' own
# user (REDIS_PASSWORD, as compose.yml has it).
library_load() {
    local n=$(($# - 1))
    [ "$(timeout 5 "${@:1:n}" -i -e "REDISCLI_AUTH=${REDIS_PASSWORD:-crashonly}" \
        "${@: -1}" redis-cli --user crashonly -x FUNCTION LOAD REPLACE \
        <"$top/crashonly/function.lua" 2>/dev/null)" = crashonly ]
}

# rollback_compose (--rollback): the library of build/crashonly, and every
# worker rolled back to the stack's own image.
rollback_compose() {
    library_compose && "$top/compose/roll" >/dev/null
}

# The slow kind: for SLOW_MS (default 3000) a random worker container's
# packets to the Redis nodes, or to the proxy (one of the two links at
# random), each lost with a probability of 2 to 10 % and the rest held 50
# to 200 ms, give or take a quarter of that (uniform, the order kept).
# The kernel here has no netem (nor prio), so build/netdelay does what
# netem would: in the container's network namespace, from the host, an
# iptables rule in a chain of its own (mangle, crashonly-slow) queues
# that link's packets to it, with --queue-bypass, so that packets pass
# when it is not there. The namespace is the engine's (SandboxKey), held
# open from the start, so the rule's removal can only ever act on it,
# even after the container has gone; never the killer's own. A dropped
# packet is lost as on a wire (netdelay drops it after its sender sent
# it; an iptables DROP in OUTPUT would fail the send instead). The
# shaping, its end and the removal run in the background, deaf to INT,
# TERM and HUP like a heal, and its line is recorded at its end (with
# what netdelay counted), timed from its start. A container slowed still
# is not slowed twice.
declare -A slowed_until # container => epoch ms its slow link ends
# Nor is a slow link a crash: nothing dies.
kind compose slow fault=slow \
    about="A slow link (\`slow\`) is a worker container's packets to the Redis nodes, or to the proxy, held and dropped by \`build/netdelay\` for a few seconds. To Redis: each call takes the delay longer (its \`WAITAOF\` and \`WAIT\` too), a lost packet a retransmission; the delays stay well under \`REDIS_TIMEOUT_MS\`, but a segment lost two or three times in a row waits out TCP's doubling retransmission timeout, and a worker whose oldest call is older than that deadline exits 113 and is restarted, what it held sent on by nginx. To the proxy: the worker's answers come late; one later than \`proxy_read_timeout\` goes to another worker with the same \`X-Request-Id\`, and \`least_conn\` gives the slow worker fewer. hitload retries what times out with the same key."
fault_compose_slow() {
    local name init netns link to delay
    tick
    [ $((now - start)) -lt $((seconds * 1000)) ] || return 0
    pick worker || return 0
    [ "${slowed_until[$name]:-0}" -le "$now" ] || return 0
    netns=$(docker inspect -f '{{.NetworkSettings.SandboxKey}}' "$name" 2>/dev/null) || return 0
    case $netns in /*/netns/*) ;; *) return 0 ;; esac
    if ((RANDOM % 2)); then
        link=redis to=$(addresses redis1 redis2)
    else
        link=proxy to=$(addresses proxy)
    fi
    [ -n "$to" ] || return 0
    delay=$((50 + RANDOM % 151))
    slowed_until[$name]=$((now + ${SLOW_MS:-3000} + 1000))
    slow "$name" "$init" "$netns" "$link" "$to" "$delay" $((delay / 4)) \
        $((2 + RANDOM % 9)) "${SLOW_MS:-3000}" &
    heals+=($!)
    dealt=1 # its line is recorded at its end
}

# addresses SERVICE...: the IPv4 addresses of the project's running
# containers of those services, comma-separated.
addresses() {
    local s ids=()
    for s in "$@"; do
        mapfile -t -O ${#ids[@]} ids < <(docker ps -q --filter status=running \
            --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" \
            --filter "label=com.docker.compose.service=$s")
    done
    [ ${#ids[@]} -gt 0 ] || return 0
    docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' \
        "${ids[@]}" 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9.]+$' | paste -sd, -
}

# slow NAME INIT NETNS LINK ADDRS DELAY JITTER LOSS MS: in the background.
slow() {
    local ns own t0 rc=0 counts
    trap '' INT TERM HUP # the removal must come, whatever stops the killer
    exec {ns}<"$3" || return 0
    own=$(stat -L -c %i /proc/$$/ns/net) || return 0
    [ "$(stat -L -c %i "/dev/fd/$ns")" != "$own" ] || return 0
    in_ns() { nsenter --net="/dev/fd/$ns" "$@"; }
    local rules a addrs=()
    IFS=, read -ra addrs <<<"$5"
    rules=$'*mangle\n:OUTPUT ACCEPT [0:0]\n:crashonly-slow - [0:0]\n'
    for a in "${addrs[@]}"; do
        rules+="-A crashonly-slow -d $a/32 -j NFQUEUE --queue-num 13 --queue-bypass"$'\n'
    done
    rules+=$'-I OUTPUT -j crashonly-slow\nCOMMIT\n'
    in_ns iptables-restore -w --noflush <<<"$rules" 2>/dev/null || return 0
    tick
    t0=$now
    counts=$(in_ns "$top/build/netdelay" -q 13 -d "$6" -j "$7" -l "$8" -t "$9") || rc=$?
    in_ns iptables -w -t mangle -D OUTPUT -j crashonly-slow 2>/dev/null &&
        in_ns iptables -w -t mangle -F crashonly-slow &&
        in_ns iptables -w -t mangle -X crashonly-slow ||
        echo "killer: could not remove the slow link's rules from $1" >&2
    # The mangle table, made for that chain: gone again once empty.
    if ! in_ns iptables -w -t mangle -S 2>/dev/null | grep -qv '^-P ' &&
        in_ns nft list table ip mangle >/dev/null 2>&1; then
        in_ns nft delete table ip mangle || echo "killer: mangle table left in $1" >&2
    fi
    [ "$rc" = 0 ] || { echo "killer: netdelay failed in $1 (exit $rc)" >&2; return 0; }
    now=$t0
    record "$1" "$2" "$9" "link=$4 to=$5 delay_ms=$6 jitter_ms=$7 loss_pct=$8 $counts"
}
