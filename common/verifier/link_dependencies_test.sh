#!/usr/bin/env bash
# Proves the certificate verifier needs nothing but libsodium and the C/C++ runtime,
# so a PoW node can link it without pulling in gRPC, protobuf, absl or RocksDB.
set -euo pipefail
library="common/verifier/libmetronome_verifier.so"
[[ -f "$library" ]] || { echo "missing $library"; exit 1; }
needed=$(readelf -d "$library" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "NEEDED: $(echo $needed)"
echo "$needed" | grep -q '^libsodium\.so' || { echo "libsodium is not linked"; exit 1; }
allowed='^(libsodium\.so|libstdc\+\+\.so|libm\.so|libgcc_s\.so|libc\.so|ld-linux)'
unexpected=$(echo "$needed" | grep -Ev "$allowed" || true)
if [[ -n "$unexpected" ]]; then
  echo "unexpected link dependencies: $unexpected"
  exit 1
fi
echo "ok: verifier links only libsodium and the C/C++ runtime"
