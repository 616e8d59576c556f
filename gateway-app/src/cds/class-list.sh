#!/usr/bin/env bash
# Class-data sharing (CDS), build step: starts the unpacked application once with its built-in
# defaults (embedded PostgreSQL and Artemis, no config/ overlay) in a scratch directory, on loopback
# ports the system chooses, lets it start completely (web server, MLLP listener, routes, JMS
# listeners, the FHIR validator's warm-up), stops it with SIGTERM, records the classes it loaded
# (its shutdown's included; neither the lambda proxies nor the classes of multi-release jars'
# version directories: see below) and puts that class list and carerelay-cds.sh, which turns it
# into an archive where the gateway runs, next to carerelay.jar. Run by the package phase. The
# archive is an optimisation: when the recording start fails (e.g. the embedded PostgreSQL cannot
# run on the build machine), the build goes on without a class list, with a warning, and the
# gateway starts as before.
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

# stop the recording start (SIGTERM; timeout, which runs it, sends SIGKILL 30 s later) and the
# embedded PostgreSQL it started, whatever became of the run
pid=
stop_all() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  local pidfile="$scratch/data/postgres/postmaster.pid" pg
  [ -f "$pidfile" ] || return 0
  pg=$(head -n 1 "$pidfile" 2>/dev/null) || return 0
  kill -INT "$pg" 2>/dev/null || return 0
  for _ in $(seq 1 300); do kill -0 "$pg" 2>/dev/null || return 0; sleep 0.1; done
  kill -QUIT "$pg" 2>/dev/null || true
}
trap stop_all EXIT

# failed <what went wrong> [<log>]: warns (with the log's end) and ends without a class list
failed() {
  local log=${2:-$scratch/start.log}
  tail -n 20 "$log" >&2
  echo "[WARNING] class-list.sh: $1 (log: $log);" \
    "no carerelay.classlist, so carerelay-cds.sh cannot write an archive and the gateway starts without one" >&2
  exit 0
}

# a clean environment: no CARERELAY_* setting or Spring profile of the build machine reaches the run;
# ports 0 on loopback: nothing already listening stops the recording, and nothing outside reaches it.
# timeout ends the JVM after 10 minutes even if this script is killed and never stops it.
: >"$scratch/start.log"
(cd "$scratch" && exec env -i PATH="$PATH" HOME="$scratch" LANG=C.UTF-8 timeout -k 30s 10m \
    "$jdk/bin/java" -Xmx1g -XX:DumpLoadedClassList="$scratch/loaded.classlist" -jar "$app/carerelay.jar" \
    --server.address=127.0.0.1 --server.port=0 --carerelay.hl7.host=127.0.0.1 --carerelay.hl7.port=0 \
    >"$scratch/start.log" 2>&1) &
pid=$!
# up to 5 minutes for the start (health UP follows "Started" within a second)
for _ in $(seq 1 3000); do
  kill -0 "$pid" 2>/dev/null || failed "the start that records the classes ended before it was up"
  grep -q 'Started CareRelayApplication' "$scratch/start.log" && break
  sleep 0.1
done
grep -q 'Started CareRelayApplication' "$scratch/start.log" || failed "the start that records the classes was not up within 5 minutes"
# then up to a minute for the validator's warm-up, which runs beside the first requests (the two
# lines of org.carerelay.gateway.fhir.Validation)
warmed=
for _ in $(seq 1 600); do
  kill -0 "$pid" 2>/dev/null || break
  if grep -qE 'FHIR validator \(fast path\) ready|FHIR validator warm-up failed' "$scratch/start.log"; then
    warmed=yes
    break
  fi
  sleep 0.1
done
sleep 1 # what the warm-up's thread loads as it ends, after its log line
stop_all
status=0
wait "$pid" || status=$?
pid=
[ "$status" -eq 143 ] || failed "the start that records the classes ended with status $status, not by SIGTERM"
[ -s "$scratch/loaded.classlist" ] || failed "the start that records the classes wrote no class list"
[ -n "$warmed" ] || echo "[WARNING] class-list.sh: the FHIR validator's warm-up did not finish within a minute;" \
  "the class list lacks some of its classes" >&2
# without the classes of multi-release jars' version directories (VersionedClasses.java says why)
"$jdk/bin/java" "$here/VersionedClasses.java" "$app/carerelay.jar" >"$scratch/versioned.classes" 2>"$scratch/versioned.log" \
  || failed "listing the classes of multi-release jars failed" "$scratch/versioned.log"
# and without the lambda proxies: JDK 17's -Xshare:dump crashes on some of them
# (SystemDictionaryShared::adjust_lambda_proxy_class_dictionary); their classes are generated at run time
awk 'FILENAME == ARGV[1] { versioned[$1]; next } !/^@lambda-proxy/ && !($1 in versioned)' \
  "$scratch/versioned.classes" "$scratch/loaded.classlist" >"$scratch/filtered.classlist" \
  || failed "filtering the class list failed"
mv "$scratch/filtered.classlist" "$app/carerelay.classlist"
echo "class-list.sh: $(grep -vc '^[@#]' "$app/carerelay.classlist") classes in $app/carerelay.classlist"
