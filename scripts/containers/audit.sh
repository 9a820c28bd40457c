#!/usr/bin/env bash
# What the images are made of, and the known vulnerabilities of it:
#   - Python: each image's locked requirements (uv export of its package,
#     exactly what `uv sync --frozen` installs in it), audited by pip-audit
#     against PyPI's advisory data, and a CycloneDX SBOM of them (cyclonedx-py);
#   - Debian: the packages installed in each image (dpkg-query in the image).
#     No Debian vulnerability feed is reachable from every machine (debsecan
#     needs security-tracker.debian.org): the list is written for a scanner
#     run where one is; security updates come with the base images' weekly
#     rebuild (base-images.sh).
# Writes var/images/<image>.{requirements.txt,pip-audit.json,cdx.json,debian.txt};
# prints the findings. Fails when pip-audit finds a vulnerability.
# Usage: scripts/containers/audit.sh   (make images-audit; after make images)
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/containers/engine.sh
. scripts/containers/engine.sh
UV=${UV:-uv}
PIP_AUDIT=pip-audit==2.10.1
CYCLONEDX=cyclonedx-bom==7.5.0
out=var/images
mkdir -p "$out"
services=$(sed -n 's/^\[services\.\([a-z0-9]*\)\][[:space:]]*$/\1/p' services/kit/kit/services.toml)
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml | head -n 1)
status=0
for name in $services gateway; do
  image=localhost/liaison-$name:$version
  req=$out/liaison-$name.requirements.txt
  $UV export --frozen --no-dev --package "liaison-$name" --no-emit-workspace --no-header --no-annotate >"$req"
  echo "== liaison-$name: $(grep -c '==' "$req") Python packages, locked"
  if ! $UV tool run --from "$PIP_AUDIT" pip-audit --requirement "$req" --no-deps --disable-pip \
      --vulnerability-service pypi --format json --output "$out/liaison-$name.pip-audit.json" --progress-spinner off; then
    status=1
  fi
  $UV tool run --from "$PIP_AUDIT" python - "$out/liaison-$name.pip-audit.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
found = [(d["name"], d["version"], v["id"], ",".join(v.get("fix_versions", [])))
         for d in report["dependencies"] for v in d.get("vulns", [])]
print(f"   pip-audit: {len(found)} known vulnerabilities")
for name, version, vid, fix in found:
    print(f"   {name} {version}: {vid} (fixed in {fix or 'no release yet'})")
PY
  $UV tool run --from "$CYCLONEDX" cyclonedx-py requirements "$req" --output-format JSON \
    --output-file "$out/liaison-$name.cdx.json" >/dev/null
  if "$ENGINE" image inspect "$image" >/dev/null 2>&1; then
    "$ENGINE" run --rm --network none --entrypoint dpkg-query "$image" \
      -W -f '${Package} ${Version}\n' >"$out/liaison-$name.debian.txt"
    echo "   Debian: $(wc -l <"$out/liaison-$name.debian.txt") packages ($out/liaison-$name.debian.txt)"
  else
    echo "   $image is not built (make images): no Debian package list"
  fi
done
echo "reports in $out/"
exit $status
