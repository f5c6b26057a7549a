#!/bin/sh
# Undo one of chapter 14's optimizations in a copy of the crate and measure both, in one session.
#
#   tools/ablate.sh flush   Adam without its flush of subnormal moments (chapter 4): whole
#                           `default` runs on one thread, interleaved, 7 of each (medians of wall
#                           and of user CPU time); the two checkpoints compared; the share of
#                           `Adam::step` in each under `perf record`.
#   tools/ablate.sh depth   `gemm_nt` without its copies for depths 4 and 8 (every depth through
#                           `lane_band::<0>`): `cargo bench --bench tensor -- "A·Bᵀ"` in both,
#                           twice each, alternating.
#
# Run from the crate's root. The copy and its build go to a temporary directory (a full build:
# a few minutes); the crate itself is built in its own `target/` and not edited.
set -e
mode=${1:?usage: tools/ablate.sh flush|depth}
root=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$tmp"
case $mode in
flush)
    file=src/adam.rs
    from='let flush = |x: f32| if x.abs() < f32::MIN_POSITIVE { 0.0 } else { x };'
    to='let flush = |x: f32| x;'
    ;;
depth)
    file=src/tensor.rs
    from='^ *[48] => lane_band::<[48]>('
    to=''
    ;;
*) echo "unknown mode $mode" >&2; exit 2 ;;
esac
if [ "$mode" = flush ]; then
    grep -qF "$from" "$tmp/$file" || { echo "not found in $file: $from" >&2; exit 1; }
    sed -i "s/let flush = |x: f32| if x.abs() < f32::MIN_POSITIVE { 0.0 } else { x };/$to/" "$tmp/$file"
else
    grep -q "$from" "$tmp/$file" || { echo "depth arms not found in $file" >&2; exit 1; }
    sed -i "/$from/d" "$tmp/$file"
fi
echo "edited $file:"
diff "$root/$file" "$tmp/$file" || true

median() { sort -n | sed -n 4p; }
if [ "$mode" = flush ]; then
    cargo build --release --quiet --bin pendulum
    (cd "$tmp" && cargo build --release --quiet --bin pendulum)
    uptime
    for i in 1 2 3 4 5 6 7; do
        /usr/bin/time -f "%e %U" target/release/pendulum --quiet --threads 1 --out "$tmp/with" 2>>"$tmp/with.t" >/dev/null
        /usr/bin/time -f "%e %U" "$tmp/target/release/pendulum" --quiet --threads 1 --out "$tmp/without" 2>>"$tmp/without.t" >/dev/null
    done
    uptime
    for build in with without; do
        wall=$(cut -d' ' -f1 <"$tmp/$build.t" | median)
        cpu=$(cut -d' ' -f2 <"$tmp/$build.t" | median)
        echo "$build the flush: median wall $wall s, median user CPU $cpu s (wall: $(cut -d' ' -f1 <"$tmp/$build.t" | tr '\n' ' '))"
    done
    cmp "$tmp/with/policy.ckpt" "$tmp/without/policy.ckpt" && echo "policy.ckpt: the same bytes"
    if command -v perf >/dev/null; then
        for build in with without; do
            bin=target/release/pendulum
            [ $build = without ] && bin=$tmp/target/release/pendulum
            perf record -q -o "$tmp/$build.data" "$bin" --quiet --threads 1 --out "$tmp/p$build" >/dev/null 2>&1
            share=$(perf report -i "$tmp/$build.data" --no-children --stdio 2>/dev/null \
                | grep 'Adam::step' | awk '{ print $1 }' | head -1)
            echo "Adam::step share of samples, $build the flush: ${share:-below perf's listing}"
        done
    fi
else
    cargo bench --quiet --bench tensor --no-run 2>/dev/null
    (cd "$tmp" && cargo bench --quiet --bench tensor --no-run 2>/dev/null)
    uptime
    # Twice each, alternating, so that a change in the machine's load shows as disagreement.
    for round in 1 2; do
        echo "== round $round, with the depth copies (the crate)"
        cargo bench --quiet --bench tensor -- "A·Bᵀ" 2>/dev/null | grep -E "^matmul|time:"
        echo "== round $round, without them (every depth through lane_band::<0>)"
        (cd "$tmp" && cargo bench --quiet --bench tensor -- "A·Bᵀ" 2>/dev/null | grep -E "^matmul|time:")
    done
    uptime
fi
