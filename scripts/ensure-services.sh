#!/usr/bin/env bash
# Make sure what the tests need is installed: a PostgreSQL server (the tests start a
# throwaway one in a temporary folder), git, a Java runtime for local Spark, promtool (Debian's
# prometheus package: the tests check /metrics and the example alerting rules with it), and Debian's
# chromium for the browser tests (driven by the Playwright Python package from the [test] extra; never
# `playwright install`, whose download cannot work here). Root installs through apt-get; others get a
# message, and the PostgreSQL, Spark, promtool and browser tests are skipped outside CI (under CI=true they fail).
set -euo pipefail

have_pg() { ls -d /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; }

need=()
have_pg || need+=(postgresql)
command -v git >/dev/null 2>&1 || need+=(git)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
[ -x "${FIRELINE_CHROMIUM:-/usr/bin/chromium}" ] || need+=(chromium)
# Java for the Spark tests (tests/test_spark.py runs the metric suite on local PySpark).
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing: ${need[*]} (install them to run every test; PostgreSQL, Spark and browser tests are skipped outside CI)" >&2
  fi
fi
