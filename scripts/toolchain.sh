# Sourced by the scripts that run swift: puts the Swift toolchain on PATH when it is not there
# already (Swift's tarball under /opt/swift, or Debian's swiftlang package).
if ! command -v swift >/dev/null 2>&1; then
  for dir in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
    [ -x "$dir/swift" ] && PATH="$dir:$PATH"
  done
  export PATH
fi
