#!/usr/bin/env bash
# Class-data sharing (CDS), build step: starts the unpacked application once with the embedded
# defaults in a scratch directory until its Spring context is refreshed (spring.context.exit=onRefresh:
# beans created, database migrated, nothing listening yet), records the classes it loaded, and
# puts that class list and carerelay-cds.sh, which turns it into an archive where the gateway
# runs, next to carerelay.jar. Run by the package phase.
#
#   class-list.sh <unpacked application directory> <scratch directory> [<JDK home>]
set -euo pipefail

app=$(readlink -f "$1")
scratch=$(readlink -m "$2")
jdk=${3:-${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}}
here=$(dirname "$(readlink -f "$0")")

rm -rf "$scratch"
mkdir -p "$scratch"
# a clean environment: no CARERELAY_* setting or Spring profile of the build machine reaches the run
if ! (cd "$scratch" && env -i PATH="$PATH" HOME="$scratch" LANG=C.UTF-8 \
      "$jdk/bin/java" -Xmx1g -XX:DumpLoadedClassList="$scratch/loaded.classlist" \
      -Dspring.context.exit=onRefresh -jar "$app/carerelay.jar" >"$scratch/start.log" 2>&1); then
  tail -n 40 "$scratch/start.log" >&2
  echo "class-list.sh: the start that records the class list failed (log: $scratch/start.log)" >&2
  exit 1
fi
# spring.context.exit ends the JVM without its shutdown hooks: stop the embedded PostgreSQL it started
pidfile="$scratch/data/postgres/postmaster.pid"
if [ -f "$pidfile" ]; then
  kill -INT "$(head -n 1 "$pidfile")" 2>/dev/null || true
  for _ in $(seq 1 300); do [ -f "$pidfile" ] || break; sleep 0.1; done
fi
# without the lambda proxies: JDK 17's -Xshare:dump crashes on some of them
# (SystemDictionaryShared::adjust_lambda_proxy_class_dictionary); their classes are generated at run time
grep -v '^@lambda-proxy' "$scratch/loaded.classlist" >"$app/carerelay.classlist"
install -m 0755 "$here/carerelay-cds.sh" "$app/carerelay-cds.sh"
echo "class-list.sh: $(grep -vc '^@' "$app/carerelay.classlist") classes in $app/carerelay.classlist"
