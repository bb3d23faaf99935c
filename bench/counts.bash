# counts.bash: what a request costs, in counts the machine's noise does
# not move: instructions (callgrind) and syscalls by kind (perf's syscall
# tracepoints), for each server of the bench and for the Redis behind it.
# Sourced by bench/run after lib.bash; expects what lib.bash expects, and
# K (requests counted by callgrind).
# shellcheck shell=bash disable=SC2154 # free_port VAR sets VAR with printf -v

# ---- instructions: callgrind, one request at a time ----------------------
#
# Every server runs under callgrind, each with the Redis it uses (one,
# appendfsync no, also under callgrind): a request's instructions are the
# same on a busy or quiet machine. Two loads (bench/requests): one
# request at a time on one connection, a request's cost alone; and 16
# at once on 16 connections, where the worker's group commit lets hits
# share a Redis call, as they do under load (callgrind slows every
# process alike, so the 16 are all there when the worker reads). What
# each process does while idle (Redis's cron, a worker's pings) is
# counted apart and taken off.

declare -A cg_pid # name => pid of its process under callgrind
# cg_start NAME CMD...: CMD under callgrind, as NAME.
cg_start() {
    local name=$1
    shift
    start valgrind -q --tool=callgrind --callgrind-out-file="$tmp/cg/$name.out" "$@"
    cg_pid[$name]=${pids[-1]}
}
# cg_all CMD NAME...: callgrind_control CMD (-z zero, -d dump) for each.
cg_all() {
    local cmd=$1 n
    shift
    for n in "$@"; do callgrind_control "$cmd" "${cg_pid[$n]}" >/dev/null 2>&1; done
}
# cg_last NAME: the instructions in NAME's newest dump.
cg_last() {
    # shellcheck disable=SC2012 # our own file names
    sed -n 's/^summary: \([0-9]*\).*/\1/p' "$(ls -t "$tmp/cg/$1.out".* | head -n 1)"
}

# count_run DESIGN TO ID_MODE LABEL:NAME...: K requests to TO
# (PORT[/PATH]) in ID_MODE (id, noid), after 200 to warm up, at each
# load; records the instructions a request of each process NAME, as
# LABEL, its idle share taken off: instructions_DESIGN (one at a time)
# and instructions_DESIGN_x16.
declare -A idle_rate # name => instructions a second while idle
count_run() {
    local design=$1 to=$2 mode=$3 t0 t1 p json ir names=() b as
    shift 3
    for p in "$@"; do names+=("${p#*:}"); done
    for b in 1 16; do
        as=$design
        [ "$b" = 1 ] || as=${design}_x$b
        "$top/bench/requests" -c "$b" 200 "$to" "cw-$as-$$" "$mode"
        cg_all -z "${names[@]}"
        t0=$(date +%s%N)
        "$top/bench/requests" -c "$b" "$K" "$to" "c-$as-$$" "$mode"
        t1=$(date +%s%N)
        cg_all -d "${names[@]}"
        json=''
        for p in "$@"; do
            ir=$(cg_last "${p#*:}")
            ir=$(awk -v ir="$ir" -v r="${idle_rate[${p#*:}]}" -v s="$(((t1 - t0) / 1000000))" \
                -v k="$K" 'BEGIN { v = (ir - r * s / 1000) / k; printf "%.0f", v < 0 ? 0 : v }')
            json="$json,\"${p%%:*}\":$ir"
        done
        record "instructions_$as" "{\"requests\":$K,\"at_once\":$b${json}}"
        say "  instructions a request, $as: ${json#,}"
    done
}

# cg_proxy NAME PORT UPSTREAM_PORT: the proxy (proxy/render's, one
# process) on PORT to UPSTREAM_PORT, under callgrind as NAME.
cg_proxy() {
    mkdir -p "$tmp/cg/$1"
    UPSTREAMS=127.0.0.1:$3 LISTEN=127.0.0.1:$2 STATE=$tmp/cg/$1 WORKER_PROCESSES=1 \
        "$top/proxy/render" >"$tmp/cg/$1/nginx.conf"
    cg_start "$1" nginx -e stderr -g 'master_process off;' -p "$tmp/cg/$1/" \
        -c "$tmp/cg/$1/nginx.conf"
}

# cg_servers: every design's processes under callgrind; their ports in
# cg_port. One Redis without fsync for the worker, webdis and the
# stack's path; and the replicated stack's path: a worker with
# ACK_REPLICAS=1 on a master and its replica, each fsyncing every write,
# as the stack runs them. Each Redis runs its cron once a second (hz 1,
# not 10): the idle share taken off is then small beside a request's.
declare -A cg_port
cg_servers() {
    local n
    for n in redis ceiling worker webdis upstream proxy stackproxy rmaster rreplica rworker \
        rproxy; do
        free_port "cg_port[$n]"
        mkdir -p "$tmp/cg/$n"
    done
    cg_start redis redis-server --port "${cg_port[redis]}" --bind 127.0.0.1 --save '' \
        --appendonly yes --appendfsync no --dir "$tmp/cg/redis" --hz 1
    cg_start rmaster redis-server --port "${cg_port[rmaster]}" --bind 127.0.0.1 --save '' \
        --appendonly yes --appendfsync always --dir "$tmp/cg/rmaster" --hz 1 \
        --min-replicas-to-write 1 --min-replicas-max-lag 3
    cg_start rreplica redis-server --port "${cg_port[rreplica]}" --bind 127.0.0.1 --save '' \
        --appendonly yes --appendfsync always --dir "$tmp/cg/rreplica" --hz 1 \
        --replicaof 127.0.0.1 "${cg_port[rmaster]}"
    for n in redis rmaster rreplica; do wait_port "${cg_port[$n]}" 600; done
    # The master takes writes once its replica is online (and a worker
    # that starts before exits: NOREPLICAS, for its supervisor to retry).
    for _ in $(seq 600); do
        redis-cli -p "${cg_port[rmaster]}" INFO replication | grep -q 'state=online' && break
        sleep 0.1
    done
    return_200_conf "$tmp/cg/ceiling" 1 "${cg_port[ceiling]}"
    cg_start ceiling nginx -e stderr -g 'master_process off;' -c "$tmp/cg/ceiling.conf"
    PORT=${cg_port[worker]} BIND=127.0.0.1 REDIS_URL="redis://127.0.0.1:${cg_port[redis]}" \
        WORKER_NAME=cg cg_start worker "$top/build/crashonly"
    PORT=${cg_port[rworker]} BIND=127.0.0.1 REDIS_URL="redis://127.0.0.1:${cg_port[rmaster]}" \
        ACK_REPLICAS=1 WORKER_NAME=cgr cg_start rworker "$top/build/crashonly"
    webdis_conf "$tmp/cg/webdis.json" "${cg_port[webdis]}" "${cg_port[redis]}"
    cg_start webdis webdis "$tmp/cg/webdis.json"
    return_200_conf "$tmp/cg/upstream" 1 "${cg_port[upstream]}"
    cg_start upstream nginx -e stderr -g 'master_process off;' -c "$tmp/cg/upstream.conf"
    cg_proxy proxy "${cg_port[proxy]}" "${cg_port[upstream]}"
    cg_proxy stackproxy "${cg_port[stackproxy]}" "${cg_port[worker]}"
    cg_proxy rproxy "${cg_port[rproxy]}" "${cg_port[rworker]}"
    for n in "${!cg_port[@]}"; do wait_port "${cg_port[$n]}" 600; done
}

# count_instructions: each design's instructions a request, at K
# requests: nginx return 200; the worker, plain and with an id; webdis;
# the proxy to return 200 (the peer), and to a worker (the stack's path:
# on one Redis that does not fsync, and replicated).
count_instructions() {
    local n t0 t1
    if ldd "$top/build/crashonly" | grep -q 'libasan'; then
        say "  instructions: not counted (valgrind cannot run a sanitizer build)"
        return
    fi
    cg_servers
    # Idle: what each does in 3 s of nothing, once warm.
    "$top/bench/requests" 100 "${cg_port[stackproxy]}" "cg-idle-$$"
    "$top/bench/requests" 100 "${cg_port[rproxy]}" "cg-ridle-$$"
    cg_all -z "${!cg_pid[@]}"
    t0=$(date +%s%N)
    sleep 3
    cg_all -d "${!cg_pid[@]}"
    t1=$(date +%s%N)
    for n in "${!cg_pid[@]}"; do
        idle_rate[$n]=$(($(cg_last "$n") * 1000 / ((t1 - t0) / 1000000)))
    done

    count_run nginx_return_200 "${cg_port[ceiling]}" noid nginx:ceiling
    count_run worker_plain "${cg_port[worker]}" noid crashonly:worker redis-server:redis
    count_run worker_ids "${cg_port[worker]}" id crashonly:worker redis-server:redis
    count_run webdis "${cg_port[webdis]}/INCR/hits" noid webdis:webdis redis-server:redis
    count_run proxy_return_200 "${cg_port[proxy]}" id nginx:proxy upstream:upstream
    count_run stack_path "${cg_port[stackproxy]}" id nginx:stackproxy crashonly:worker \
        redis-server:redis
    count_run stack_replicated_path "${cg_port[rproxy]}" id nginx:rproxy crashonly:rworker \
        redis-server:rmaster replica:rreplica
}

# ---- syscalls: perf's tracepoints, under the bench's load -----------------
#
# The syscalls each process makes under wrk's load (C connections, as the
# throughput rows), counted by the kernel for the processes given: what a
# request costs in syscalls once requests share reads, writes and Redis
# calls, as they do under load. Counted apart from the timed rounds.
SYSCALLS='read write readv writev recvfrom sendto recvmsg sendmsg epoll_wait
epoll_pwait epoll_ctl accept4 close fdatasync fsync futex connect'
# shellcheck disable=SC2086 # SYSCALLS: words
SYSCALL_EVENTS=raw_syscalls:sys_enter$(printf ',syscalls:sys_enter_%s' $SYSCALLS)
perf_ok='' # yes or no, once asked

# count_syscalls NAME URL MODE THREADS [LABEL:]PID...: S seconds of wrk
# with one perf stat a kind of process (LABEL, or its command name) over
# the PIDs' trees; records each kind's syscalls a request, by syscall.
count_syscalls() {
    local name=$1 url=$2 mode=$3 t=$4 json n p label
    shift 4
    if [ -z "$perf_ok" ]; then
        perf_ok=no
        perf stat -e raw_syscalls:sys_enter true >/dev/null 2>&1 && perf_ok=yes
    fi
    if [ "$perf_ok" = no ]; then
        say "  syscalls: not counted (perf cannot read the syscall tracepoints here)"
        return
    fi
    declare -A group=()
    while read -r p label _; do
        group[$label]="${group[$label]:+${group[$label]},}$p"
    done < <(cpu_snap "$@")
    local perfs=()
    for label in "${!group[@]}"; do
        perf stat -x, -e "$SYSCALL_EVENTS" -p "${group[$label]}" -o "$tmp/perf.$label" &
        perfs+=($!)
    done
    sleep 0.5 # perf attached
    wrk -t "$t" -c "$C" -d "${S}s" -s "$top/chaos/wrk/ids.lua" "$url" \
        -- "$name-sys-$$" "$mode" >"$tmp/wrk.out"
    kill -INT "${perfs[@]}"
    wait "${perfs[@]}" 2>/dev/null || true
    n=$(sed -n 's/.*"requests":\([0-9]*\).*/\1/p' "$tmp/wrk.out")
    json=''
    for label in "${!group[@]}"; do
        json="$json,\"$label\":$(awk -F, -v n="${n:-1}" '
            $3 ~ /sys_enter/ && $1 ~ /^[0-9]+$/ {
                k = $3; sub(/.*sys_enter_?/, "", k); if (k == "") k = "all"
                if ($1 > 0) s = s sprintf("%s\"%s\":%.3f", s ? "," : "", k, $1 / n) }
            END { printf "{%s}", s }' "$tmp/perf.$label")"
    done
    record "syscalls_$name" "{\"requests\":${n:-0},\"per_request\":{${json#,}}}"
    say "  syscalls a request, $name: $(echo "${json#,}" | sed 's/"\([^"]*\)":{"all":\([0-9.]*\)[^}]*}/\1 \2/g')"
}
