#!/usr/bin/env bash
# Builds VictoriaMetrics single-node (app/victoria-metrics), pinned here,
# into the path given (default bin/victoria-metrics): the Makefile's
# bin/victoria-metrics target, for `make test-integration`. Built inside a
# copy of its module's source like Thanos (tools/gomodbuild.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../gomodbuild.sh" github.com/VictoriaMetrics/VictoriaMetrics v1.151.0 ./app/victoria-metrics "${1:-bin/victoria-metrics}" netgo
