#!/bin/sh
# tests/tls/certs.sh DIR — makes the test's certificates with openssl: a CA
# (ca.pem), a server certificate for 127.0.0.1 from it (server.pem/.key),
# a second one with another subject (new.pem/.key, for the reload case), a "wrong" one for
# 127.0.0.1 signed by another CA nobody trusts (rogue.pem/.key), and one
# from the right CA for another name (other.pem/.key).
set -eu
D=$1
cd "$D"
ca() { # ca NAME
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 2 \
        -subj "/CN=callroute test $1" >/dev/null 2>&1
}
leaf() { # leaf NAME CA CN
    openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$3" >/dev/null 2>&1
    printf 'subjectAltName=IP:127.0.0.1\n' >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" -days 2 \
        -extfile "$1.ext" >/dev/null 2>&1
}
ca ca
ca rogueca
leaf server ca 127.0.0.1
leaf new ca 'callroute reloaded'   # the subject tells it apart (the address is in its SAN)
leaf gw ca 127.0.0.1
leaf rogue rogueca 127.0.0.1
# from the right CA, for another name
openssl req -newkey rsa:2048 -nodes -keyout other.key -out other.csr -subj "/CN=other.example" >/dev/null 2>&1
printf 'subjectAltName=DNS:other.example\n' >other.ext
openssl x509 -req -in other.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out other.pem -days 2 \
    -extfile other.ext >/dev/null 2>&1
