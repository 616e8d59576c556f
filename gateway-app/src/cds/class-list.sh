#!/usr/bin/env bash
# Class-data sharing (CDS), build step: starts the unpacked application once with the embedded
# defaults in a scratch directory until its Spring context is refreshed (spring.context.exit=onRefresh:
# beans created, database migrated, nothing listening yet), records the classes it loaded, and
# puts that class list and carerelay-cds.sh, which turns it into an archive where the gateway
# runs, next to carerelay.jar. Run by the package phase. The archive is an optimisation: when the
# recording start fails (e.g. the embedded PostgreSQL cannot run on the build machine), the build
# goes on without a class list, with a warning, and the gateway starts as before.
#
#   class-list.sh <unpacked application directory> <scratch directory> [<JDK home>]
set -euo pipefail

app=$(cd "$1" && pwd)
rm -rf "$2"
mkdir -p "$2"
scratch=$(cd "$2" && pwd)
jdk=${3:-${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}}
here=$(cd "$(dirname "$0")" && pwd)

rm -f "$app/carerelay.classlist"
install -m 0755 "$here/carerelay-cds.sh" "$app/carerelay-cds.sh"

# spring.context.exit ends the JVM without its shutdown hooks: stop the embedded PostgreSQL it
# started, whatever became of the run (fast shutdown, then immediate)
stop_postgres() {
  local pidfile="$scratch/data/postgres/postmaster.pid" pid
  [ -f "$pidfile" ] || return 0
  pid=$(head -n 1 "$pidfile")
  kill -INT "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -QUIT "$pid" 2>/dev/null || true
}
trap stop_postgres EXIT

# a clean environment: no CARERELAY_* setting or Spring profile of the build machine reaches the run
if ! (cd "$scratch" && env -i PATH="$PATH" HOME="$scratch" LANG=C.UTF-8 \
      "$jdk/bin/java" -Xmx1g -XX:DumpLoadedClassList="$scratch/loaded.classlist" \
      -Dspring.context.exit=onRefresh -jar "$app/carerelay.jar" >"$scratch/start.log" 2>&1); then
  tail -n 20 "$scratch/start.log" >&2
  echo "[WARNING] class-list.sh: the start that records the classes failed (log: $scratch/start.log);" \
    "no carerelay.classlist, so carerelay-cds.sh cannot write an archive and the gateway starts without one" >&2
  exit 0
fi
# without the lambda proxies: JDK 17's -Xshare:dump crashes on some of them
# (SystemDictionaryShared::adjust_lambda_proxy_class_dictionary); their classes are generated at run time
grep -v '^@lambda-proxy' "$scratch/loaded.classlist" >"$app/carerelay.classlist"
echo "class-list.sh: $(grep -vc '^[@#]' "$app/carerelay.classlist") classes in $app/carerelay.classlist"
