#!/usr/bin/env bash
# The real test stack: Pebble (Let's Encrypt's test CA), BIND 9 (named, tsig-keygen) and nsupdate/dig.
set -euo pipefail
exec bash "$(dirname "$0")/install-debian-packages.sh" pebble bind9 bind9-dnsutils
