#!/usr/bin/env bash
# Generates the full Twins corpus (more than f twins) at test time and checks it: at
# least 1,000 scenarios per class, each with every honest replica's stream.
set -euo pipefail
out="$TEST_TMPDIR/corpus"
tests/sim/twins_corpus --out="$out" --per_class="${TWINS_CORPUS_PER_CLASS:-1000}"
for class in same_view_conflict cross_view_conflict no_violation; do
  count=$(find "$out/$class" -mindepth 1 -maxdepth 1 -type d | wc -l)
  echo "$class: $count scenarios"
  [[ $count -ge ${TWINS_CORPUS_PER_CLASS:-1000} ]] || { echo "too few $class scenarios"; exit 1; }
  sample=$(find "$out/$class" -mindepth 1 -maxdepth 1 -type d -print -quit)
  [[ -s "$sample/scenario.json" ]] || { echo "missing scenario.json in $sample"; exit 1; }
  [[ $(find "$sample" -name 'replica-*.records' -size +0 | wc -l) -eq 2 ]] ||
    { echo "expected two non-empty honest streams in $sample"; exit 1; }
done
