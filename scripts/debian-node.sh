#!/usr/bin/env bash
# Debian bookworm's own nodejs (the Node that Raspberry Pi OS installs with `apt install nodejs`) for one
# architecture, unpacked into a folder beside the system's Node:
#
#   scripts/debian-node.sh amd64|arm64|armhf [DEST]      (default DEST: out/debian-node/<arch>)
#
# It never installs nodejs itself: `apt-get download` fetches Debian's packages and `dpkg -x` unpacks them
# into DEST, so the system's Node (20 here) stays as it is. Afterwards DEST/run-node runs that node:
#   - amd64: natively, with DEST's libraries first on LD_LIBRARY_PATH (the system's libc). Debian's node
#     loads a few builtins (acorn, cjs-module-lexer, undici) from /usr/share/nodejs, which Debian's
#     node-acorn, node-cjs-module-lexer and node-undici packages hold: they must be installed (as root:
#     apt-get install node-acorn node-cjs-module-lexer node-undici; .ci/run does).
#   - arm64/armhf: under qemu-user (qemu-aarch64-static / qemu-arm-static, Debian's qemu-user-static)
#     with QEMU_LD_PREFIX=DEST, which holds the whole library closure, Debian's libc and loader included,
#     and /usr/share/nodejs.
# A foreign architecture is added to dpkg (dpkg --add-architecture) and apt's lists are updated once, so
# the first run as root needs the network to Debian's archive. Exit codes: 0 ready, 2 usage, 3 the
# archive has no packages for this architecture (not reachable, or not configured), 1 anything else.
set -euo pipefail

arch=${1:-}
case "$arch" in
  amd64 | arm64 | armhf) ;;
  *) echo "usage: $0 amd64|arm64|armhf [DEST]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
dest=${2:-out/debian-node/$arch}
dest=$(mkdir -p "$dest" && cd "$dest" && pwd)
host=$(dpkg --print-architecture)
# One preparation at a time (tests of two architectures may start together; apt takes one lock anyway).
exec 9>"$(dirname "$dest")/.lock"
flock 9

# The node builds' runtime libraries (libnode108's Depends). The C runtime is the system's on the host
# architecture and Debian's own in the prefix of a foreign one.
libs=(libnode108 libuv1 libicu72 libbrotli1 libc-ares2 libnghttp2-14)
[ "$arch" != "$host" ] && libs+=(libc6 libgcc-s1 libstdc++6 libssl3 zlib1g)
builtins=(node-acorn node-cjs-module-lexer node-undici)

if [ -x "$dest/run-node" ] && "$dest/run-node" -e 'process.exit(0)' 2>/dev/null; then
  echo "$dest: Debian's node $("$dest/run-node" --version) for $arch is ready"
  exit 0
fi

if [ "$arch" != "$host" ] && ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
  echo "debian-node: adding the $arch architecture to dpkg and updating apt's lists"
  dpkg --add-architecture "$arch"
  apt-get update -qq || true
fi
# The version of Debian's libnode108 for that architecture; nodejs must be the same version (another
# repository's nodejs, e.g. NodeSource's, may be the candidate of `nodejs` itself).
version=$(apt-cache madison "libnode108:$arch" 2>/dev/null | awk -F'|' 'NR==1 {gsub(/ /, "", $2); print $2}')
if [ -z "$version" ]; then
  # Lists may be old or missing: update once and ask again.
  apt-get update -qq >/dev/null 2>&1 || true
  version=$(apt-cache madison "libnode108:$arch" 2>/dev/null | awk -F'|' 'NR==1 {gsub(/ /, "", $2); print $2}')
fi
if [ -z "$version" ]; then
  echo "debian-node: Debian's archive for $arch is not reachable here (no libnode108:$arch in apt's lists)" >&2
  exit 3
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
wanted=("nodejs:$arch=$version" "libnode108:$arch=$version")
for lib in "${libs[@]}"; do [ "$lib" = libnode108 ] || wanted+=("$lib:$arch"); done
wanted+=("${builtins[@]}")
# apt's sandbox user cannot write into a root-only temp folder; the download itself is the same.
chmod 0755 "$work"
if ! (cd "$work" && apt-get download -q "${wanted[@]}" >"$work/download.log" 2>&1); then
  cat "$work/download.log" >&2
  echo "debian-node: apt-get download failed for $arch: Debian's archive is not reachable" >&2
  exit 3
fi
rm -rf "$dest" && mkdir -p "$dest"
for deb in "$work"/*.deb; do dpkg -x "$deb" "$dest"; done
# Merged /usr, as on Raspberry Pi OS and Debian bookworm systems (libc6 still ships /lib): qemu's loader
# path lookups in the prefix go wrong with a separate /lib (armhf's loader then misses libc.so.6).
if [ -d "$dest/lib" ] && [ ! -L "$dest/lib" ]; then
  cp -a "$dest/lib/." "$dest/usr/lib/" && rm -rf "$dest/lib" && ln -s usr/lib "$dest/lib"
fi

triplet=$(dpkg-architecture -a"$arch" -qDEB_HOST_MULTIARCH 2>/dev/null || true)
case "$arch" in
  amd64) triplet=${triplet:-x86_64-linux-gnu} ;;
  arm64) triplet=${triplet:-aarch64-linux-gnu}; qemu=qemu-aarch64-static ;;
  armhf) triplet=${triplet:-arm-linux-gnueabihf}; qemu=qemu-arm-static ;;
esac
# NODE_OPTIONS is dropped: what the host's Node 20 tools put there (node-tap's coverage hook in the
# processes a test starts) is not for this node, and a device runs the agent without it.
if [ "$arch" = "$host" ]; then
  cat >"$dest/run-node" <<EOF
#!/bin/sh
# Debian bookworm's node $version ($arch), run natively from this folder (made by scripts/debian-node.sh).
unset NODE_OPTIONS
LD_LIBRARY_PATH="$dest/usr/lib/$triplet\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$dest/usr/bin/node" "\$@"
EOF
else
  cat >"$dest/run-node" <<EOF
#!/bin/sh
# Debian bookworm's node $version ($arch), run under $qemu with this folder as its root for libraries and
# /usr/share/nodejs (made by scripts/debian-node.sh).
unset NODE_OPTIONS
QEMU_LD_PREFIX="$dest" exec $qemu "$dest/usr/bin/node" "\$@"
EOF
fi
chmod 0755 "$dest/run-node"
echo "$version" >"$dest/VERSION"

if ! out=$("$dest/run-node" -e 'console.log(process.version, process.arch)' 2>&1); then
  echo "$out" >&2
  if [ "$arch" = "$host" ] && [ ! -e /usr/share/nodejs/undici/undici-fetch.js ]; then
    echo "debian-node: Debian's node needs its builtins in /usr/share/nodejs: apt-get install ${builtins[*]}" >&2
  elif [ "$arch" != "$host" ] && ! command -v "$qemu" >/dev/null; then
    echo "debian-node: $qemu is missing: apt-get install qemu-user-static" >&2
  fi
  exit 1
fi
echo "$dest: Debian's node $out ($version) is ready; run it with $dest/run-node"
