#!/bin/sh
# Class-data sharing (CDS) for a faster start of the gateway: writes ARCHIVE, the classes listed in
# carerelay.classlist (those a start loads, recorded by the build) parsed and verified once, for the
# java command line that names JAR exactly as given here. Start the gateway with the same JVM
# options plus -XX:SharedArchiveFile=ARCHIVE:
#
#   carerelay-cds.sh ARCHIVE JAR [JVM options of the java line]
#   java [JVM options] -XX:SharedArchiveFile=ARCHIVE -jar JAR
#
# The JVM uses an archive only with the JDK that wrote it, the same class path string and the very
# same jar files (size and modification time); otherwise it starts without it, silently. So an
# ARCHIVE that the JVM accepts is kept, and any other one is written anew (about 40 s on 2 cores),
# after every new build or JDK update. The JDK's messages while writing go to ARCHIVE.log. The JVM
# maps the archive as code: write it where only those who may change the jars can write.
set -eu

if [ "$#" -lt 2 ]; then
  echo "usage: $0 ARCHIVE JAR [JVM options]" >&2
  exit 2
fi
archive=$1
jar=$2
shift 2
java=${JAVA:-java}
classlist=$(dirname "$jar")/carerelay.classlist

# A Java agent or a flight recording on the java line (-javaagent:, -agentlib:, -agentpath:, -Xrun,
# -XX:StartFlightRecording, -XX:FlightRecorderOptions) does not change which archive fits, and
# -Xshare:dump refuses to run with an agent: they are left out here. The archive works under both
# (the build's class list leaves out the classes that would not).
n=$#
while [ "$n" -gt 0 ]; do
  option=$1
  shift
  case $option in
    -javaagent:* | -agentlib:* | -agentpath:* | -Xrun* | -XX:StartFlightRecording* | -XX:FlightRecorderOptions*) ;;
    *) set -- "$@" "$option" ;;
  esac
  n=$((n - 1))
done

if [ -f "$archive" ] && "$java" "$@" -Xshare:on -XX:SharedArchiveFile="$archive" -cp "$jar" -version >/dev/null 2>&1; then
  echo "carerelay-cds.sh: $archive is up to date"
  exit 0
fi
if [ ! -f "$classlist" ]; then
  echo "carerelay-cds.sh: no $classlist next to $jar" >&2
  exit 1
fi
tmp=$(mktemp "$archive.XXXXXX")
trap 'rm -f "$tmp"' EXIT
trap 'exit 143' INT TERM
if ! "$java" "$@" -Xshare:dump -XX:SharedClassListFile="$classlist" -XX:SharedArchiveFile="$tmp" -cp "$jar" >"$archive.log" 2>&1; then
  echo "carerelay-cds.sh: writing the archive failed, see $archive.log; the gateway starts without it" >&2
  exit 1
fi
chmod 0444 "$tmp" # readable by the service user whatever the umask of the one who wrote it
mv -f "$tmp" "$archive"
trap - EXIT
echo "carerelay-cds.sh: wrote $archive"
