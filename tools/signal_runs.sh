#!/bin/sh
# Chapter 13's signal and same-directory tries, as a script: 24 long training runs, each sent
# SIGINT, SIGTERM or SIGKILL (8 of each, in a shuffled order) at a random moment in its first
# 3 s, counting the temporary files each leaves and checking that the next run in a killed
# run's directory removes them; then two runs started at the same instant on one directory,
# five times, counting how often exactly one ran and the other was refused.
#
#   cargo build --release --bin pendulum && tools/signal_runs.sh [SEED]
#
# The moments are random (SEED picks them), so the counts of temporary files vary from one
# call to the next; that a caught signal leaves none, and that the next run removes any,
# should not.
set -u
bin=target/release/pendulum
seed=${1:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
temporaries() { find "$1" -maxdepth 1 -name '.*tmp-*' | wc -l; }

plan=$(awk -v seed="$seed" 'BEGIN {
    srand(seed)
    for (i = 0; i < 24; i++) { sig[i] = (i < 8) ? "INT" : (i < 16) ? "TERM" : "KILL"; key[i] = rand() }
    for (i = 0; i < 24; i++) for (j = i + 1; j < 24; j++) if (key[j] < key[i]) {
        t = key[i]; key[i] = key[j]; key[j] = t; t = sig[i]; sig[i] = sig[j]; sig[j] = t }
    for (i = 0; i < 24; i++) printf "%s %.2f\n", sig[i], 0.05 + 2.95 * rand()
}')
caught=0 caught_clean=0 killed=0 killed_left=0 cleaned=0
run=0
echo "$plan" > "$tmp/plan"
while read -r sig delay; do
    run=$((run + 1))
    out=$tmp/run-$run
    $bin --quiet --total-timesteps 1024000 --out "$out" >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -"$sig" "$pid"
    { wait "$pid"; } 2>/dev/null
    left=$(temporaries "$out")
    if [ "$sig" = KILL ]; then
        killed=$((killed + 1))
        [ "$left" -gt 0 ] && killed_left=$((killed_left + 1))
        $bin --quiet --total-timesteps 2048 --out "$out" >/dev/null 2>&1
        [ "$(temporaries "$out")" -eq 0 ] && cleaned=$((cleaned + 1))
    else
        caught=$((caught + 1))
        [ "$left" -eq 0 ] && caught_clean=$((caught_clean + 1))
    fi
done < "$tmp/plan"
echo "caught signals (SIGINT, SIGTERM): $caught runs, $caught_clean left no temporary file"
echo "SIGKILL: $killed runs, $killed_left left a temporary file; the next run in the directory left none $cleaned times"

one_ran=0
for i in 1 2 3 4 5; do
    out=$tmp/same-$i
    $bin --quiet --total-timesteps 20480 --out "$out" >/dev/null 2>&1 &
    a=$!
    $bin --quiet --total-timesteps 20480 --out "$out" >/dev/null 2>&1 &
    b=$!
    wait "$a"; sa=$?
    wait "$b"; sb=$?
    if { [ $sa -eq 0 ] && [ $sb -eq 1 ]; } || { [ $sa -eq 1 ] && [ $sb -eq 0 ]; }; then
        one_ran=$((one_ran + 1))
    fi
done
echo "two runs at the same instant on one directory: 5 times, one ran and the other was refused $one_ran times"
