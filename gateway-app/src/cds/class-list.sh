#!/usr/bin/env bash
# Class-data sharing (CDS), build step: starts the unpacked application once with the embedded
# defaults in a scratch directory (ports chosen by the system), lets it start completely (web server,
# MLLP listener, routes, JMS listeners, the FHIR validator's warm-up), stops it with SIGTERM, records
# the classes it loaded until then, and puts that class list and carerelay-cds.sh, which turns it
# into an archive where the gateway runs, next to carerelay.jar. Run by the package phase. The
# archive is an optimisation: when the recording start fails (e.g. the embedded PostgreSQL cannot run
# on the build machine), the build goes on without a class list, with a warning, and the gateway
# starts as before.
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

# stop the recording start and the embedded PostgreSQL it started, whatever became of the run
# (SIGTERM closes both; should the JVM be gone without that: fast shutdown, then immediate)
pid=
stop_all() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  local pidfile="$scratch/data/postgres/postmaster.pid" pg
  [ -f "$pidfile" ] || return 0
  pg=$(head -n 1 "$pidfile")
  kill -INT "$pg" 2>/dev/null || return 0
  for _ in $(seq 1 300); do kill -0 "$pg" 2>/dev/null || return 0; sleep 0.1; done
  kill -QUIT "$pg" 2>/dev/null || true
}
trap stop_all EXIT

failed() {
  tail -n 20 "$scratch/start.log" >&2
  echo "[WARNING] class-list.sh: $1 (log: $scratch/start.log);" \
    "no carerelay.classlist, so carerelay-cds.sh cannot write an archive and the gateway starts without one" >&2
  exit 0
}

# a clean environment: no CARERELAY_* setting or Spring profile of the build machine reaches the run;
# ports 0: a gateway or test already listening on the defaults does not stop the recording
(cd "$scratch" && exec env -i PATH="$PATH" HOME="$scratch" LANG=C.UTF-8 \
    "$jdk/bin/java" -Xmx1g -XX:DumpLoadedClassList="$scratch/loaded.classlist" \
    -jar "$app/carerelay.jar" --server.port=0 --carerelay.hl7.port=0 >"$scratch/start.log" 2>&1) &
pid=$!
# started (health UP follows within a second), then the validator's warm-up, which runs beside the
# first requests; at most 5 minutes in all
for _ in $(seq 1 3000); do
  kill -0 "$pid" 2>/dev/null || failed "the start that records the classes ended before it was up"
  grep -q 'Started CareRelayApplication' "$scratch/start.log" && break
  sleep 0.1
done
grep -q 'Started CareRelayApplication' "$scratch/start.log" || failed "the start that records the classes was not up within 5 minutes"
for _ in $(seq 1 600); do
  grep -q 'FHIR validator .* ready\|FHIR validator warm-up failed' "$scratch/start.log" && break
  sleep 0.1
done
sleep 1
stop_all # SIGTERM: the JVM writes out the list as it exits; SIGKILL after 60 s
wait "$pid" || true # 143 after SIGTERM
pid=
[ -s "$scratch/loaded.classlist" ] || failed "the start that records the classes wrote no class list"
# without the lambda proxies: JDK 17's -Xshare:dump crashes on some of them
# (SystemDictionaryShared::adjust_lambda_proxy_class_dictionary); their classes are generated at run time
grep -v '^@lambda-proxy' "$scratch/loaded.classlist" >"$app/carerelay.classlist"
echo "class-list.sh: $(grep -vc '^[@#]' "$app/carerelay.classlist") classes in $app/carerelay.classlist"
