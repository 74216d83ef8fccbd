#!/usr/bin/env bash
# The peers the bench compares against (lego 4.9.1, certbot 2.1.0 from Debian), on top of the test stack.
# Idempotent: installs only what is missing. bench/run.ts calls it before it starts.
set -euo pipefail
here="$(dirname "$0")"
bash "$here/install-test-deps.sh"
exec bash "$here/install-debian-packages.sh" lego certbot
