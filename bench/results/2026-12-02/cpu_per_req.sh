#!/bin/bash
# usage: cpu_per_req.sh BINARY LABEL [extra bench args]: one 10 s refresh run (ES256, scope profile, c=32,
# SQLite) of BINARY, printing req/s and the server process's CPU per request, sampled from /proc
# over 5 s in the middle of the run (BENCH: the portcullis-bench binary)
bin=$1; label=$2; shift 2
"${BENCH:-target/release/portcullis-bench}" --spawn "$bin" --alg ES256 --scope profile --scenario refresh --concurrency 32 --duration 10 "$@" > /tmp/cpr-$label.txt 2>&1 &
bench=$!
sleep 4
pid=$(pgrep -f "^$bin start" | head -1); [ -z "$pid" ] && pid=$(pgrep -f "$bin" | grep -v $bench | head -1)
t0=$(awk '{print $14+$15}' /proc/$pid/stat); s0=$(date +%s.%N)
sleep 5
t1=$(awk '{print $14+$15}' /proc/$pid/stat); s1=$(date +%s.%N)
wait $bench
rps=$(grep -o "c=32: [0-9]* req/s" /tmp/cpr-$label.txt | grep -o "[0-9]* req" | grep -o "[0-9]*" | tail -1)
tck=$(getconf CLK_TCK)
python3 -c "
cpu=($t1-$t0)/$tck; dt=$s1-$s0; rps=$rps
print('$label', 'req/s', rps, 'server cores %.2f' % (cpu/dt), 'cpu us/req %.0f' % (cpu/dt/rps*1e6))"
