#!/usr/bin/env bash
# Builds the root file system the container image's base layer is made of, from the build
# machine's JDK: a jlink'd Java runtime in /opt/java, the shared libraries it links (glibc, zlib,
# ... exactly the files the build machine's dynamic linker resolves them to), a non-root user
# and writable /tmp and data directories. The image therefore needs no base image from a
# registry and runs the Java runtime the gateway was built and tested with.
#
#   java-runtime.sh <output directory> [<JDK home>]
set -euo pipefail

out=$1
jdk=${2:-${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}}
modules=java.se,jdk.unsupported,jdk.crypto.ec,jdk.crypto.cryptoki,jdk.charsets,jdk.localedata,jdk.management,jdk.naming.dns,jdk.net,jdk.zipfs,jdk.jfr

if [[ "$(uname -s)" != Linux ]]; then
  echo "java-runtime.sh: the image's Java runtime is built on Linux only" >&2
  exit 1
fi

rm -rf "$out"
mkdir -p "$out/opt" "$out/etc" "$out/tmp" "$out/srv/carerelay/data"
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
  --output "$out/opt/java"
# the gateway runs headless: no X11 toolkit, splash screen or sound (and none of their libraries)
rm -f "$out"/opt/java/lib/{libawt_xawt.so,libsplashscreen.so,libjsound.so}
# the JDK's trusted CA certificates (a symbolic link into /etc on Debian) as a real file
cp -L "$jdk/lib/security/cacerts" "$out/opt/java/lib/security/cacerts" 2>/dev/null || true

# shared libraries of every executable and library of the runtime, outside the runtime itself
libs=$(find "$out/opt/java" -type f \( -name '*.so' -o -path '*/bin/*' -o -name jspawnhelper \) \
         -exec ldd {} \; 2>/dev/null \
       | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' \
       | grep -v "^$out" | sort -u)
for lib in $libs; do
  # keep the name the linker asks for (e.g. /lib64/ld-linux-x86-64.so.2), copy the file behind it
  case "$lib" in
    /usr/lib/*|/lib/*|/lib64/*) ;;
    *) echo "java-runtime.sh: unexpected library location $lib" >&2; exit 1 ;;
  esac
  mkdir -p "$out$(dirname "$lib")"
  cp -L "$lib" "$out$lib"
done
# the dynamic linker searches /lib/<triplet> and /usr/lib/<triplet>; keep both where /lib is /usr/lib
for dir in "$out"/usr/lib/*-linux-gnu; do
  [[ -d "$dir" ]] || continue
  triplet=$(basename "$dir")
  mkdir -p "$out/lib/$triplet"
  cp -n "$dir"/* "$out/lib/$triplet/"
done

cat > "$out/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/sbin/nologin
carerelay:x:10001:10001:CareRelay gateway:/srv/carerelay:/sbin/nologin
PASSWD
cat > "$out/etc/group" <<GROUP
root:x:0:
carerelay:x:10001:
GROUP
echo "hosts: files dns" > "$out/etc/nsswitch.conf"
