# lib.bash: what bench/run and bench/compose share, sourced by both: the
# processes they start (and kill, with their descendants), free ports,
# wrk measurements with the CPU every process spent, hitload's open loop,
# and the results they record. It expects from the script: top, tmp (a
# temp folder), S, C (seconds and connections a measurement), and the
# arrays pids (what it started) it fills; results go to
# $tmp/results.jsonl, servers' output to $tmp/servers.log.
# shellcheck shell=bash disable=SC2154 # free_port VAR sets VAR with printf -v

# descendants PID...: the PIDs and all their descendants, one a line.
descendants() {
    local p kids
    for p in "$@"; do
        echo "$p"
        kids=()
        read -ra kids 2>/dev/null <"/proc/$p/task/$p/children" || true
        [ ${#kids[@]} -eq 0 ] || descendants "${kids[@]}"
    done
}
# kill_all: SIGKILL the servers this script started, with all their
# descendants (nginx's workers outlive a master killed alone), and reap
# them quietly. The last started first: a worker killed after its Redis
# could log a redis_lost, which tests/bench.t's log scan would take for
# a fault.
kill_all() {
    [ ${#pids[@]} -gt 0 ] || return 0
    local rev=() i
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do rev+=("${pids[i]}"); done
    # shellcheck disable=SC2046 # pids, one word each
    kill -KILL $(descendants "${rev[@]}") 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
    pids=()
}

say() { printf '%s\n' "$*" >&2; }
# free_port VAR: set VAR to a port nothing listens on, below the kernel's
# ephemeral range (32768 up: a port no one listens on there may still be
# some connection's own end), and not handed out already (it may not be
# listening yet).
given=' '
free_port() {
    local fp
    while :; do
        fp=$((20000 + RANDOM % 12000))
        case $given in *" $fp "*) continue ;; esac
        (exec 3<>"/dev/tcp/127.0.0.1/$fp") 2>/dev/null && continue
        given="$given$fp "
        printf -v "$1" '%s' "$fp"
        return
    done
}
# free_ports VAR N: set VAR to the first of N consecutive free ports, none
# of them handed out already.
free_ports() {
    local first p ok
    while :; do
        free_port first
        ok=1
        for ((p = first + 1; p < first + $2; p++)); do
            case $given in *" $p "*) ok=0 ;; esac
            (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && ok=0
        done
        [ "$ok" = 1 ] || continue
        for ((p = first + 1; p < first + $2; p++)); do given="$given$p "; done
        printf -v "$1" '%s' "$first"
        return
    done
}
# wait_port PORT [TRIES]: until something listens on PORT, TRIES times
# 50 ms (default 200: 10 s); exit 111 when nothing does.
wait_port() {
    for _ in $(seq "${2:-200}"); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    say "bench: nothing listens on port $1; the servers said:"
    tail -n 5 "$tmp/servers.log" >&2
    exit 111
}
start() { "$@" >>"$tmp/servers.log" 2>&1 & pids+=($!); }
record() { printf '{"name":"%s",%s\n' "$1" "${2#\{}" >>"$tmp/results.jsonl"; }

# cpu_snap [LABEL:]PID...: "pid name ticks" for each process of the PIDs'
# trees, named by LABEL if given, else by its command name (a Sentinel:
# redis-sentinel). A process's
# ticks count its children that ended, as their parent reaped them: the
# fence's redis-cli (redis/node), a Redis node's rewrite, a worker killed
# and reaped by its runsv.
cpu_snap() {
    local a p label
    for a in "$@"; do
        for p in $(descendants "${a#*:}"); do
            label=${a%:*}
            # A Sentinel is a redis-server too; its title says which.
            case $({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null) in
            *'[sentinel]'*) label=redis-sentinel ;;
            esac
            awk -v p="$p" -v label="$label" '{ sub(/^[0-9]+ \(/, ""); c = $0
                sub(/\).*/, "", c); sub(/^[^)]*\) /, "")
                print p, (label ~ /^[0-9]+$/ ? c : label), $12 + $13 + $14 + $15 }' \
                "/proc/$p/stat" 2>/dev/null || true # it may have just died
        done
    done
}
hz=$(getconf CLK_TCK)
# cpu_json BEFORE AFTER REQUESTS WRK_SECONDS: {"comm":us,...}, the CPU
# microseconds a request cost each kind of process, wrk's among them.
cpu_json() {
    awk -v hz="$hz" -v n="$3" -v wrk="$4" '
        FNR == NR { t0[$1] = $3; next }
        { d[$2] += $3 - ($1 in t0 ? t0[$1] : 0) }
        END { printf "{\"wrk\":%.1f", wrk * 1e6 / n
              for (c in d) if (d[c] > 0) printf ",\"%s\":%.1f", c, d[c] * 1e6 / hz / n
              printf "}" }' "$1" "$2"
}

# measure NAME URL MODE THREADS [LABEL:]PID...: a 1 s warm-up, then S
# seconds of wrk; the CPU of the PIDs' process trees is read before and
# after.
# MODE id sends a unique X-Request-Id; noid sends the same bytes under
# another header name, so both loads cost wrk the same.
round=0
measure() {
    local name=$1 url=$2 mode=$3 t=$4 json n wcpu TIMEFORMAT='%3U %3S'
    shift 4
    wrk -t "$t" -c "$C" -d 1s -s "$top/chaos/wrk/ids.lua" "$url" -- "warm-$name" "$mode" >/dev/null
    cpu_snap "$@" >"$tmp/cpu0"
    # In a subshell: time counts wrk alone, not a killer reaped meanwhile.
    (time wrk -t "$t" -c "$C" -d "${S}s" -s "$top/chaos/wrk/ids.lua" "$url" \
        -- "$name-$round-$$" "$mode" >"$tmp/wrk.out") 2>"$tmp/wrk.cpu"
    cpu_snap "$@" >"$tmp/cpu1"
    json=$(grep '^{' "$tmp/wrk.out")
    n=1
    [[ $json =~ \"requests\":([1-9][0-9]*) ]] && n=${BASH_REMATCH[1]}
    wcpu=$(tail -n 1 "$tmp/wrk.cpu" | awk '{ print $1 + $2 }')
    json="${json%\}},\"round\":$round,\"cpu_us\":$(cpu_json "$tmp/cpu0" "$tmp/cpu1" "$((n > 0 ? n : 1))" "$wcpu")}"
    record "$name" "$json"
    say "  $name: $(echo "$json" | sed 's/.*"rps":\([0-9.]*\).*"p99_us":\([0-9]*\).*/\1 req\/s, p99 \2 us/')"
}
# open_loop NAME URL RATE: S seconds of hitload at RATE requests/s, with
# an Idempotency-Key on each: latency without coordinated omission.
open_loop() {
    local name=$1 url=$2 rate=$3
    "$top/build/hitload" -d "$S" -c "$C" -R "$rate" --run "$name-$$" \
        --summary "$tmp/open.json" "$url" >/dev/null
    # A peer's 200 has no X-Hits: hitload calls it rejected; it is answered.
    record "$name" "$(perl -MJSON::PP -e '
        my $j = decode_json(do { local $/; <STDIN> });
        print encode_json({ rate => $j->{rate},
            answered => $j->{acknowledged} + $j->{rejected},
            failed => $j->{indeterminate}, retries => $j->{retries},
            map { ("${_}_us" => $j->{latency_us}{$_}) } qw(p50 p99 p999 max) })' \
        <"$tmp/open.json")"
    say "  $name: $rate req/s, open loop: $(perl -MJSON::PP -e '
        my $l = decode_json(do { local $/; <STDIN> })->{latency_us};
        printf "p50 %d p99 %d p99.9 %d us", @$l{qw(p50 p99 p999)}' <"$tmp/open.json")"
}
# half_rate NAME...: half the smallest of the NAMEs' median req/s so far:
# the open-loop rate at which each of them has room to spare. The median
# is bench/table's: of an even count, the mean of the two middle values.
half_rate() {
    perl -MJSON::PP -e '
        my (%v, $min);
        while (<STDIN>) { my $j = decode_json($_); push @{ $v{ $j->{name} } }, $j->{rps} if defined $j->{rps} }
        for (@ARGV) { my @s = sort { $a <=> $b } @{ $v{$_} };
            my $m = @s % 2 ? $s[$#s / 2] : ($s[@s / 2 - 1] + $s[@s / 2]) / 2;
            $min = $m if !defined $min || $m < $min }
        print int($min / 2)' "$@" <"$tmp/results.jsonl"
}
