#!/usr/bin/env bash
# Builds Thanos (./cmd/thanos), pinned here, into the path given (default
# bin/thanos): the Makefile's bin/thanos target, for `make test-integration`.
# v0.40.1 is the newest Thanos that builds with this project's Go. It has
# replace directives, so it is built inside a copy of its module's source
# (tools/gomodbuild.sh), not with `go install`; the slicelabels tag is
# required (without it the store gateway panics on its first answer).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../gomodbuild.sh" github.com/thanos-io/thanos v0.40.1 ./cmd/thanos "${1:-bin/thanos}" netgo,slicelabels
