#!/usr/bin/env bash
# Refresh the vendored Leaflet in web/static/vendor/leaflet from the npm registry (no CDN at run
# time: the map page serves these files itself). The tarball's SHA-256 is checked before use.
set -euo pipefail
version=1.9.4
sha256=84c65a256e50657896f54c33bd857b6849ebe94c817803be818bf32a3dde0b77
here="$(cd "$(dirname "$0")/.." && pwd)"
target="$here/web/static/vendor/leaflet"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "leaflet@$version" >/dev/null)
echo "$sha256  $work/leaflet-$version.tgz" | sha256sum --check --quiet
tar -xzf "$work/leaflet-$version.tgz" -C "$work"
rm -rf "$target"
mkdir -p "$target/images"
cp "$work/package/dist/leaflet.js" "$work/package/dist/leaflet.css" "$work/package/LICENSE" "$target/"
cp "$work/package/dist/images/"*.png "$target/images/"
printf 'leaflet %s from the npm registry, tarball sha256 %s (scripts/vendor-leaflet.sh)\n' "$version" "$sha256" \
    > "$target/VERSION"
echo "Leaflet $version vendored into $target"
