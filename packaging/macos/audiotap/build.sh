#!/usr/bin/env bash
# Builds recap-audiotap (universal: arm64 + x86_64) into packaging/build/recap-audiotap.
# Needs Xcode 15.3+ (the macOS 14.4 SDK: CATapDescription, AudioHardwareCreateProcessTap).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../build/recap-audiotap}"
mkdir -p "$(dirname "$out")"
for arch in arm64 x86_64; do
  swiftc -O -target "$arch-apple-macos14.4" -o "$out-$arch" "$here/main.swift"
done
lipo -create -output "$out" "$out-arm64" "$out-x86_64"
rm -f "$out-arm64" "$out-x86_64"
echo "$out"
