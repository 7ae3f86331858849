#!/bin/sh
# How example.com.signed (NSEC) and example.net.signed (NSEC3, salt aabbccdd, 1 iteration,
# opt-out) were made from example.com.zone with BIND 9.18 (apt-get install bind9-dnsutils
# bind9-utils). Keys are random: a new run gives other keys and signatures. Not run by tests.
set -e
cd "$(mktemp -d)"
cp "$OLDPWD/example.com.zone" .
sed 's/example\.com/example.net/g; s/ns2\.example\.net\./ns2.example.org./' example.com.zone > example.net.zone
for z in example.com example.net; do
  dnssec-keygen -q -a ECDSAP256SHA256 -f KSK $z
  dnssec-keygen -q -a ECDSAP256SHA256 $z
  cat K$z.*.key >> $z.zone
done
dnssec-signzone -q -o example.com -s 20240101000000 -e 20340101000000 -f example.com.signed example.com.zone
dnssec-signzone -q -3 aabbccdd -H 1 -A -o example.net -s 20240101000000 -e 20340101000000 -f example.net.signed example.net.zone
cp example.com.signed example.net.signed "$OLDPWD"
