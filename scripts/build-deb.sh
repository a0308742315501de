#!/bin/sh
# build-deb.sh: builds build/callroute_VERSION_ARCH.deb with debhelper from a
# clean copy of the source tree (what git tracks; without git, everything
# but build/), so a build never picks up local objects.
set -eu
cd "$(dirname "$0")/.."
version=$(sed -n 's/^callroute (\([^)]*\)).*/\1/p;q' debian/changelog)
src=build/deb-src/callroute-$version
rm -rf build/deb-src
mkdir -p "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -C "$src" -xf -
else
    tar --exclude=./build -cf - . | tar -C "$src" -xf -
fi
(cd "$src" && dpkg-buildpackage -us -uc -b -j2 >../build.log 2>&1) || {
    tail -40 build/deb-src/build.log >&2
    exit 1
}
arch=$(dpkg --print-architecture)
mv "build/deb-src/callroute_${version}_$arch.deb" build/
echo "build/callroute_${version}_$arch.deb"
