#!/bin/sh
# DNS-01 hook for the peers, writing to the bench's BIND with RFC 2136 updates (nsupdate -k). It adds or removes
# only its own TXT value, because apex and wildcard share one _acme-challenge name.
#   lego exec provider:  txt-record.sh present|cleanup FQDN VALUE
#   certbot --manual:    txt-record.sh certbot-auth|certbot-cleanup   (CERTBOT_DOMAIN, CERTBOT_VALIDATION)
# Environment from the bench: BENCH_BIND_PORT, BENCH_DNS_ZONE, BENCH_TSIG_KEY_FILE.
set -eu
case "$1" in
present) fqdn=$2 value=$3 action=add ;;
cleanup) fqdn=$2 value=$3 action=delete ;;
certbot-auth) fqdn="_acme-challenge.$CERTBOT_DOMAIN." value=$CERTBOT_VALIDATION action=add ;;
certbot-cleanup) fqdn="_acme-challenge.$CERTBOT_DOMAIN." value=$CERTBOT_VALIDATION action=delete ;;
*) exit 0 ;; # other lego exec commands (e.g. "timeout") need no answer
esac
if [ "$action" = add ]; then ttl=" 60"; else ttl=""; fi
printf 'server 127.0.0.1 %s\nzone %s\nupdate %s %s%s TXT "%s"\nsend\n' \
    "$BENCH_BIND_PORT" "$BENCH_DNS_ZONE" "$action" "$fqdn" "$ttl" "$value" | nsupdate -k "$BENCH_TSIG_KEY_FILE"
