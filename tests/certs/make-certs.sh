#!/bin/sh
# FOR TESTS ONLY: the keys are public (committed), so these certificates
# prove nothing outside tests/. Never use them for a real migration.
#
# Writes, next to this script, the certificates ckpt's tests use for
# migration's TLS (client/xport.c): a CA (ca.pem, ca-key.pem), a server
# and a client certificate it signed (server.pem server-key.pem, client.pem
# client-key.pem), and a second, unrelated CA (other-ca.pem) with a
# certificate it signed (other.pem other-key.pem): a peer without the right
# certificate. Valid from 2020 to 2120 (not from the day they were made, so
# a test machine whose clock lags is fine; 100 years, so the committed
# files need no renewing): the tests need no certtool. Needs certtool (Debian: gnutls-bin):
#	sh tests/certs/make-certs.sh
set -e
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

key() {
	certtool --generate-privkey --key-type ecdsa --curve secp256r1 \
		--outfile "$1" 2>/dev/null
}

# ca NAME CN: a self-signed CA
ca() {
	cat >"$tmp/$1.tmpl" <<-T
	cn = "$2"
	organization = "ckpt tests"
	serial = 1
	activation_date = "2020-01-01 00:00:00 UTC"
	expiration_date = "2120-01-01 00:00:00 UTC"
	ca
	cert_signing_key
	T
	key "$1-key.pem"
	certtool --generate-self-signed --load-privkey "$1-key.pem" \
		--template "$tmp/$1.tmpl" --outfile "$1.pem" 2>/dev/null
}

# leaf NAME CN CA SERIAL: a certificate CA signed, fit for either end of a
# connection (ckptctl migrate is the TLS client, ckptctl receive the server)
leaf() {
	cat >"$tmp/$1.tmpl" <<-T
	cn = "$2"
	organization = "ckpt tests"
	serial = $4
	activation_date = "2020-01-01 00:00:00 UTC"
	expiration_date = "2120-01-01 00:00:00 UTC"
	signing_key
	tls_www_server
	tls_www_client
	T
	key "$1-key.pem"
	certtool --generate-certificate --load-privkey "$1-key.pem" \
		--load-ca-certificate "$3.pem" --load-ca-privkey "$3-key.pem" \
		--template "$tmp/$1.tmpl" --outfile "$1.pem" 2>/dev/null
}

ca ca "ckpt test CA"
leaf server "ckpt test server" ca 2
leaf client "ckpt test client" ca 3
ca other-ca "ckpt test other CA"
leaf other "ckpt test other" other-ca 2
# other-ca's key signs nothing more
rm -f other-ca-key.pem
chmod 0644 ./*.pem
