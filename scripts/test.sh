#!/usr/bin/env bash
# The test command. Installs what the suite needs beyond cargo when it is missing — curl and prlimit, xmllint
# (libxml2-utils) to validate SOAP messages against the WSDL's schema, Python zeep, node-soap, PHP's
# SoapClient (php-soap) and Java's wsimport (jaxws, with the JDK) to consume the WSDL as real SOAP toolkits, standardwebhooks to verify webhook signatures as receivers do, prometheus-client to parse /metrics as a scraper does, schemathesis to test the served OpenAPI document, Redocly CLI to lint it, openapi-python-client to generate a client from it, PyJWT to verify access tokens with a JOSE library independent of
# ours, and Chromium with playwright-core to click through Swagger UI — then runs the integration suite. Extra arguments go to `cargo test`.
set -euo pipefail
# Downloaded packages are cleaned away as soon as installed: CI machines are short of disk (one ran
# out while compiling the tests).
cd "$(dirname "$0")/.."

if ! command -v curl >/dev/null 2>&1 || ! command -v prlimit >/dev/null 2>&1; then
  echo "installing curl and util-linux (the README's requests; a server started under prlimit)…" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl util-linux >/dev/null && apt-get clean
fi
if ! command -v xmllint >/dev/null 2>&1; then
  echo "installing libxml2-utils (xmllint)…" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libxml2-utils >/dev/null && apt-get clean
fi
if ! php -r 'exit(extension_loaded("soap") ? 0 : 1);' >/dev/null 2>&1 || ! command -v wsimport >/dev/null 2>&1 \
  || ! command -v javac >/dev/null 2>&1; then
  echo "installing php-cli, php-soap, jaxws and a JDK (PHP's SoapClient and Java's wsimport, as SOAP clients)…" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq php-cli php-soap jaxws default-jdk-headless >/dev/null && apt-get clean
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium…" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null && apt-get clean
fi
if [ ! -d tests/clients/node_modules/playwright-core ] || [ ! -d tests/clients/node_modules/soap ] \
  || [ ! -x tests/clients/node_modules/.bin/redocly ]; then
  echo "installing playwright-core (drives Debian's chromium; downloads no browser), node-soap and Redocly CLI…" >&2
  npm install --prefix tests/clients --no-save --no-audit --no-fund playwright-core@1.64.1 soap@1.13.0 @redocly/cli@2.77.0 >/dev/null
fi
if ! python3 -c 'import zeep, jwt, cryptography, standardwebhooks, prometheus_client, schemathesis' >/dev/null 2>&1 \
  || ! command -v openapi-python-client >/dev/null 2>&1; then
  echo "installing zeep, PyJWT, cryptography, standardwebhooks, prometheus-client, schemathesis, openapi-python-client…" >&2
  python3 -m pip install -q --no-cache-dir --disable-pip-version-check zeep pyjwt cryptography standardwebhooks prometheus-client \
    schemathesis==4.32.5 openapi-python-client==0.29.1
fi

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "== test suite on PostgreSQL (TEST_DATABASE_URL)" >&2
else
  echo "== test suite on SQLite (set TEST_DATABASE_URL=postgres://… to run it on PostgreSQL)" >&2
fi
cargo test "$@"
