import Foundation
import PGHACore

#if canImport(Glibc)
    import Glibc
#endif

/// Builds the Debian 12 base image once per recipe and caches it.
///
/// The cache key is a hash of lab/image-recipe.sh and lab/packages.txt, so editing either builds
/// a new image next time while hosts made from the old one keep theirs.
public struct ImageBuilder: Sendable {
    public var paths: LabPaths
    public var runner: ProcessRunner
    public var log: @Sendable (String) -> Void

    public init(paths: LabPaths, runner: ProcessRunner, log: @escaping @Sendable (String) -> Void) {
        self.paths = paths
        self.runner = runner
        self.log = log
    }

    /// The file a finished image contains; an image directory without it is not trusted.
    public static let marker = "etc/pgha-lab-image"

    /// The image key for a recipe script and package list: 16 hex digits of SHA-256.
    public static func recipeHash(recipe: Data, packages: Data) -> String {
        var message = Data("pgha-lab-recipe-v1\0".utf8)
        message += recipe
        message += Data("\0".utf8)
        message += packages
        return String(Digest.sha256([UInt8](message)).prefix(16))
    }

    /// The hash of the recipe files on disk.
    public func currentHash() throws -> String {
        guard let recipe = FileManager.default.contents(atPath: paths.recipeScript),
            let packages = FileManager.default.contents(atPath: paths.packageList)
        else {
            throw PGHAError(
                .environment, "lab image recipe not found in \(paths.recipeDir)",
                hint: "run from the pgha-play checkout or set PGHA_LAB_RECIPE_DIR to its lab/ directory")
        }
        return Self.recipeHash(recipe: recipe, packages: packages)
    }

    public func isBuilt(_ hash: String) -> Bool {
        FileManager.default.fileExists(atPath: paths.image(hash) + "/" + Self.marker)
    }

    /// The image for the current recipe, building it first when it is not cached.
    /// - Returns: the recipe hash.
    @discardableResult
    public func ensure() throws -> String {
        let hash = try currentHash()
        if isBuilt(hash) { return hash }
        // Labs with different state dirs share this cache: build under its own lock.
        try FileManager.default.createDirectory(atPath: paths.cacheDir, withIntermediateDirectories: true)
        let lock = try FileLock(paths.cacheDir + "/lock", waiting: { log("waiting for another lab image build") })
        defer { lock.release() }
        if isBuilt(hash) { return hash }
        let final = paths.image(hash)
        let partial = final + ".partial"
        let buildLog = paths.cacheDir + "/build-\(hash).log"
        try FileManager.default.createDirectory(atPath: paths.cacheDir, withIntermediateDirectories: true)
        try Filesystem.removeTree(partial, runner: runner)
        try Filesystem.removeTree(final, runner: runner)
        log("building lab image \(hash) with debootstrap (a few minutes; log: \(buildLog))")
        let started = Date()
        let result = try runner.run(
            ["/bin/sh", "-c", "exec /bin/sh \"$0\" \"$1\" \"$2\" >\"$3\" 2>&1",
             paths.recipeScript, partial, paths.packageList, buildLog])
        // debootstrap mounts /proc and /sys inside the tree and may leave them behind on failure.
        try Filesystem.unmountAll(under: partial, runner: runner)
        guard result.succeeded else {
            let tail = (try? String(contentsOfFile: buildLog, encoding: .utf8))?
                .split(separator: "\n").suffix(15).joined(separator: "\n") ?? ""
            throw PGHAError(
                .execution, "building the lab image failed (exit \(result.status)):\n\(tail)",
                hint: "full log: \(buildLog); rerun `pgha-play lab up` once the cause is fixed")
        }
        try Data("recipe \(hash)\nbuilt \(Date())\n".utf8).write(to: URL(fileURLWithPath: partial + "/" + Self.marker))
        try FileManager.default.moveItem(atPath: partial, toPath: final)
        log("lab image \(hash) built in \(Int(Date().timeIntervalSince(started))) s")
        return hash
    }

    /// Removes cached images other than `keep` that no running host (of any lab) boots from.
    public func prune(keeping keep: Set<String>) throws {
        let lock = try FileLock(paths.cacheDir + "/lock", waiting: {})
        defer { lock.release() }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: paths.cacheDir)) ?? []
        let inUse = HostRuntime.imagesInUse()
        for entry in entries where entry.hasPrefix("image-") {
            let hash = String(entry.dropFirst("image-".count))
            if keep.contains(hash) || inUse.contains(paths.cacheDir + "/" + entry) { continue }
            log("removing old lab image \(entry)")
            try Filesystem.removeTree(paths.cacheDir + "/" + entry, runner: runner)
            try? FileManager.default.removeItem(atPath: paths.cacheDir + "/build-\(hash).log")
            // systemd-nspawn's lock file for that image.
            try? FileManager.default.removeItem(atPath: paths.cacheDir + "/.#\(entry).lck")
        }
    }
}

/// Careful deletion: never descend into something mounted inside the tree.
public enum Filesystem {
    /// Mount points at or below `path`, deepest first, from /proc/self/mountinfo.
    public static func mounts(under path: String) -> [String] {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        let prefix = path.hasSuffix("/") ? path : path + "/"
        var found: [String] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { continue }
            let point = unescape(String(fields[4]))
            if point == path || point.hasPrefix(prefix) { found.append(point) }
        }
        return found.sorted { $0.count > $1.count }
    }

    public static func unmountAll(under path: String, runner: ProcessRunner) throws {
        for point in mounts(under: path) {
            try runner.check(["umount", "--lazy", point])
        }
    }

    /// `rm -rf` that first unmounts anything below `path` and never crosses a filesystem boundary.
    public static func removeTree(_ path: String, runner: ProcessRunner) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        try unmountAll(under: path, runner: runner)
        try runner.check(["rm", "-rf", "--one-file-system", "--", path])
    }

    /// mountinfo escapes space, tab, newline and backslash as octal.
    static func unescape(_ text: String) -> String {
        var result = ""
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            if chars[i] == "\\", i + 3 < chars.count, let code = UInt8(String(chars[(i + 1)...(i + 3)]), radix: 8) {
                result.append(Character(UnicodeScalar(code)))
                i += 4
            } else {
                result.append(chars[i])
                i += 1
            }
        }
        return result
    }
}

/// An exclusive flock held until `release` (or until the process ends).
final class FileLock {
    private var fd: Int32

    init(_ path: String, waiting: () -> Void) throws {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PGHAError(.io, "cannot open \(path): errno \(errno)") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            waiting()
            guard flock(fd, LOCK_EX) == 0 else {
                close(fd)
                throw PGHAError(.io, "cannot lock \(path)")
            }
        }
    }

    func release() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    deinit { release() }
}
