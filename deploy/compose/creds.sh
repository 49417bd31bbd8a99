#!/bin/sh
# The compose demo's credentials (docs/security.md), made once into the `creds` volume: the cluster
# CA, a certificate per NATS server (named by its compose host name), one per dcnet node and an
# `admin` for `dcnet ctl`. Kept across `docker compose up`; `docker compose down -v` drops them.
set -eu
D=/creds
[ -f "$D/ca.crt" ] || dcnet creds init --cluster demo --dir "$D"
for i in 1 2 3; do
  [ -f "$D/nats-$i.crt" ] || dcnet creds server "nats-$i" --dns "nats-$i" --dir "$D"
  [ -f "$D/dcnet-$i.pem" ] || dcnet creds node "dcnet-$i" --dir "$D"
done
[ -f "$D/admin.pem" ] || dcnet creds user admin --role admin --dir "$D"
dcnet creds ls --dir "$D"
