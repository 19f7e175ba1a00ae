#!/usr/bin/env bash
# The commands of the CI examples (github-actions.yml, gitlab-ci.yml), in the order the
# pipelines run them, for one environment. The workflows call this script, and the test
# suite runs it against the emulator, so the examples cannot drift from what works.
#
#   examples/ci/steps.sh pull-request ENV   validate, check, plan --out, summary
#   examples/ci/steps.sh merge ENV          apply exactly the plan a pull request made
#
# Environment: CLOUDBRIDGE (the binary, default `cloudbridge`), OUT (where plan files and
# summaries go, default `ci-out`). Credentials come from the standard AWS chain: in the
# workflows, OIDC has already put a short-lived session for the deploy role there.
set -euo pipefail
stage="${1:?usage: steps.sh pull-request|merge ENV}"
env="${2:?usage: steps.sh pull-request|merge ENV}"
cb="${CLOUDBRIDGE:-cloudbridge}"
out="${OUT:-ci-out}"
mkdir -p "$out"

case "$stage" in
pull-request)
  # 1. The files are well-formed and every rule passes (no AWS call). SARIF goes to code
  #    scanning; errors fail the job here, before anything reads AWS.
  "$cb" validate -e "$env"
  "$cb" check -e "$env" --format sarif > "$out/check-$env.sarif" || { cat "$out/check-$env.sarif" >&2; exit 1; }
  # 2. The plan, saved: apply on merge uses exactly this file. --detailed-exitcode: 0 no
  #    changes, 2 changes, 1 error; only 1 fails the job.
  set +e
  "$cb" plan -e "$env" --out "$out/$env.plan" --detailed-exitcode > "$out/plan-$env.txt"
  code=$?
  set -e
  if [ "$code" -eq 1 ]; then
    cat "$out/plan-$env.txt"
    exit 1
  fi
  echo "$code" > "$out/$env.exitcode"
  # 3. The summary the bot posts (or updates) as the pull request's comment, and the
  #    JSON contract for other tools.
  "$cb" show --format markdown "$out/$env.plan" > "$out/summary-$env.md"
  "$cb" show --json "$out/$env.plan" > "$out/plan-$env.json"
  ;;
merge)
  # Exactly the reviewed plan: cloudbridge refuses it if the state changed since (another
  # apply ran), and the pipeline must then plan again.
  if [ ! -f "$out/$env.plan" ]; then
    echo "no saved plan $out/$env.plan: run the pull-request stage (or download its artifact) first" >&2
    exit 1
  fi
  "$cb" apply --json "$out/$env.plan" > "$out/apply-$env.jsonl"
  ;;
*)
  echo "unknown stage \`$stage\`: pull-request or merge" >&2
  exit 1
  ;;
esac
