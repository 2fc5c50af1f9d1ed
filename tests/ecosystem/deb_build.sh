#!/usr/bin/env bash
# Builds the .deb with cpack -G DEB from the build tree into OUT (a fixture for deb_contents.sh and
# deb_install.sh). Needs the build to be complete, as the tests do.
#   deb_build.sh BUILD_DIR OUT_DIR CPACK
set -euo pipefail
build=$1 out=$2 cpack=${3:-cpack}
rm -rf "$out"
mkdir -p "$out"
# -B keeps cpack's staging tree (_CPack_Packages) out of the build tree.
if ! "$cpack" --config "$build/CPackConfig.cmake" -G DEB -B "$out" >"$out/cpack.log" 2>&1; then
  cat "$out/cpack.log" >&2
  echo "FAIL: cpack -G DEB failed" >&2
  exit 1
fi
debs=("$out"/*.deb)
if [ "${#debs[@]}" -ne 1 ] || [ ! -f "${debs[0]}" ]; then
  cat "$out/cpack.log" >&2
  echo "FAIL: expected one .deb in $out, found: ${debs[*]}" >&2
  exit 1
fi
rm -rf "$out/_CPack_Packages"
echo "built ${debs[0]}"
