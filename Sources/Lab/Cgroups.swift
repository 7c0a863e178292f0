import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A cgroup of its own for each host's nspawn.
///
/// Unregistered nspawn (no machined here) moves itself to `<own cgroup>/supervisor` and the
/// container to `<own cgroup>/payload`. Started from one shell, every host would share the same
/// payload cgroup, and their systemds would create and delete each other's unit cgroups: early
/// units then fail at random with status 219/CGROUP. Starting each nspawn in its own cgroup
/// (in every hierarchy systemd uses) keeps the containers apart.
public struct Cgroups: Sendable {
    /// The hierarchy roots systemd uses here: the cgroup2 root on a unified host, else the
    /// name=systemd and unified mounts of a hybrid/legacy host.
    public var roots: [String]
    /// One directory per lab under each root, named after the lab's bridge.
    public var labDir: String

    public init(bridge: String, roots: [String] = Cgroups.detectRoots()) {
        self.roots = roots
        labDir = "pgha-lab-" + bridge
    }

    public static func detectRoots() -> [String] {
        let fm = FileManager.default
        if fm.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers") { return ["/sys/fs/cgroup"] }
        return ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"].filter {
            fm.fileExists(atPath: $0 + "/cgroup.procs")
        }
    }

    public func paths(for name: String) -> [String] { roots.map { "\($0)/\(labDir)/\(name)" } }

    /// Creates the host's cgroups, returning those that could be made (none when cgroupfs is
    /// read-only; nspawn then falls back to the shared cgroup).
    public func create(for name: String) -> [String] {
        remove(for: name)
        return paths(for: name).filter { path in
            (try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)) != nil
        }
    }

    /// Removes the host's cgroups once nothing runs in them (nspawn's supervisor/payload first).
    public func remove(for name: String) {
        for path in paths(for: name) { Self.removeTree(path) }
    }

    /// Removes the lab's cgroup directories altogether (after `down`).
    public func removeAll() {
        for root in roots { Self.removeTree("\(root)/\(labDir)") }
    }

    /// rmdir depth-first: a cgroup directory goes away with rmdir once its children have.
    static func removeTree(_ path: String) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return
        }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            removeTree(path + "/" + entry)
        }
        rmdir(path)
    }
}
