#!/usr/bin/env bash
# Checks and builds template.yaml, offline (PyPI is the only network the build needs):
#   1. cfn-lint template.yaml            (app venv, $VENV,     default .venv)
#   2. sam validate --lint              (SAM CLI venv, $SAM_VENV, default .venv-sam)
#   3. sam build into .aws-sam/build    (no Docker; python3.13 for the Lambda runtime, arm64 wheels from PyPI)
#   4. drop the AWS SDK that aws-xray-sdk drags into the dependencies layer (the runtime provides it); check that the
#      layer holds arm64 binaries and tzdata
# Run from anywhere; it works in the repository root. Exit status is non-zero on the first failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

VENV="${VENV:-.venv}"
SAM_VENV="${SAM_VENV:-.venv-sam}"
export SAM_CLI_TELEMETRY=0
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-eu-north-1}"
BUILD_DIR=.aws-sam/build
DEPS_LAYER_DIR="$BUILD_DIR/DependenciesLayer/python"
PYENV_313=/root/.pyenv/versions/3.13.0

die() { echo "check.sh: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }
TIMINGS=()
step() { # step <name> <command...>: run, time, and report one step
    local name="$1"; shift
    echo "==> $name"
    local start; start=$(now_ms)
    "$@"
    local secs; secs=$(awk -v ms="$(( $(now_ms) - start ))" 'BEGIN { printf "%.1f", ms / 1000 }')
    TIMINGS+=("$(printf '%-34s %6ss' "$name" "$secs")")
    echo "<== $name: ok (${secs}s)"
}

[[ -x "$VENV/bin/cfn-lint" ]] || die "$VENV/bin/cfn-lint not found: install cfn-lint into the app venv (VENV=$VENV)"
[[ -x "$SAM_VENV/bin/sam" ]] || die "$SAM_VENV/bin/sam not found: python3 -m venv $SAM_VENV && $SAM_VENV/bin/pip install aws-sam-cli (SAM_VENV=$SAM_VENV)"

sam_build() {
    # The functions run on python3.13; sam build (PythonPipBuilder) refuses to build them without a local
    # python3.13. On these machines pyenv has one, reachable through its shims once PYENV_VERSION names it.
    if [[ -d "$PYENV_313" ]]; then
        export PYENV_VERSION=3.11.7:3.12.1:3.13.0
    fi
    if ! python3.13 -c 'import sys' >/dev/null 2>&1; then
        if [[ -d "$PYENV_313" ]]; then
            die "python3.13 is needed to build for the Lambda runtime (python3.13): $PYENV_313 exists but python3.13 does not run (pyenv shims not on PATH?)"
        fi
        die "python3.13 is needed to build for the Lambda runtime (python3.13): no python3.13 on PATH and no $PYENV_313"
    fi
    "$SAM_VENV/bin/sam" build --template-file template.yaml --build-dir "$BUILD_DIR"
}

prune_sdk_from_deps_layer() {
    # aws-lambda-powertools[tracer] -> aws-xray-sdk -> botocore (+ urllib3, python-dateutil, six). On Lambda,
    # /opt/python comes before the runtime's site-packages, so a botocore here would pair the runtime's boto3 with
    # a botocore it was not released with. The runtime provides boto3/botocore and their dependencies: drop them.
    [[ -d "$DEPS_LAYER_DIR" ]] || die "$DEPS_LAYER_DIR missing after sam build"
    (
        cd "$DEPS_LAYER_DIR"
        rm -rf boto3 boto3-*.dist-info botocore botocore-*.dist-info s3transfer s3transfer-*.dist-info \
            urllib3 urllib3-*.dist-info dateutil python_dateutil-*.dist-info six.py six-*.dist-info \
            awscrt awscrt-*.dist-info _awscrt*.so
    )
    local leftover
    leftover=$(find "$DEPS_LAYER_DIR" -maxdepth 1 \( -name 'boto3*' -o -name 'botocore*' -o -name '*awscrt*' \) -print)
    [[ -z "$leftover" ]] || die "AWS SDK still in the dependencies layer: $leftover"
    # The layer must hold arm64 (aarch64) CPython 3.13 binaries, not the build host's.
    [[ -n "$(find "$DEPS_LAYER_DIR/pydantic_core" -name '_pydantic_core.cpython-313-aarch64-linux-gnu.so')" ]] ||
        die "pydantic_core in $DEPS_LAYER_DIR is not built for cpython-313 aarch64"
    # zoneinfo falls back to the tzdata package when the runtime image has no zone files.
    [[ -f "$DEPS_LAYER_DIR/tzdata/zoneinfo/Europe/Helsinki" ]] || die "tzdata missing from $DEPS_LAYER_DIR"
    echo "dependencies layer: $(du -sh "$DEPS_LAYER_DIR/.." | cut -f1)"
}

step "cfn-lint template.yaml" "$VENV/bin/cfn-lint" template.yaml
step "sam validate --lint" "$SAM_VENV/bin/sam" validate --lint --template-file template.yaml
step "sam build (python3.13, arm64)" sam_build
step "prune AWS SDK from deps layer" prune_sdk_from_deps_layer

echo
echo "template checks passed:"
printf '  %s\n' "${TIMINGS[@]}"
