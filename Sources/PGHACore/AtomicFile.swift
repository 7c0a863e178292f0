import Foundation

/// Files the controller writes (fetched files, known_hosts): a reader, a crash or a Ctrl-C sees
/// the old content or the new, never a part of it.
public enum AtomicFile {
    /// Replaces `path` with `bytes`: written to a temporary file in the same directory, flushed to
    /// disk, then renamed over it. An existing file keeps its permissions; a new one gets `mode`.
    /// A symbolic link is followed, so the file it points at is replaced, not the link.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        let target = resolvingLink(path)
        let directory = (target as NSString).deletingLastPathComponent
        let name = (target as NSString).lastPathComponent
        func failure(_ what: String) -> PGHAError {
            PGHAError(.io, "cannot write \(target): \(what): \(String(cString: strerror(errno)))", at: SourceLocation(file: target))
        }
        var template = Array(((directory.isEmpty ? "." : directory) + "/." + name + ".pgha-tmp.XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            return mkstemp(base)
        }
        guard descriptor >= 0 else { throw failure("creating a temporary file") }
        // Close-on-exec: a process another thread starts meanwhile must not inherit the file.
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        let temporary = template.withUnsafeBufferPointer { buffer in
            buffer.baseAddress.map { String(cString: $0) } ?? ""
        }
        var renamed = false
        defer {
            close(descriptor)
            if !renamed { unlink(temporary) }
        }
        var existing = stat()
        let permissions = stat(target, &existing) == 0 ? existing.st_mode & 0o7777 : mode
        guard fchmod(descriptor, permissions) == 0 else { throw failure("setting permissions") }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Foundation.write(descriptor, buffer.baseAddress! + offset, bytes.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw failure("writing")
            }
            offset += written
        }
        guard fsync(descriptor) == 0 else { throw failure("flushing") }
        guard rename(temporary, target) == 0 else { throw failure("renaming") }
        renamed = true
        // The rename itself reaches the disk with the directory.
        let directoryDescriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// Runs `body` holding an exclusive lock on the directory of `path` (`flock`), so that several
    /// threads or processes that read, change and replace a file there do it one at a time. The
    /// directory is locked rather than the file, which each replacement swaps for a new one.
    public static func withDirectoryLock<T>(for path: String, _ body: () throws -> T) throws -> T {
        let directory = (resolvingLink(path) as NSString).deletingLastPathComponent
        let descriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw PGHAError(.io, "cannot lock \(directory): \(String(cString: strerror(errno)))", at: SourceLocation(file: path))
        }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                throw PGHAError(.io, "cannot lock \(directory): \(String(cString: strerror(errno)))", at: SourceLocation(file: path))
            }
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }

    /// The file a symbolic link points at (the path itself when it is not a link or does not exist).
    static func resolvingLink(_ path: String) -> String {
        guard let destination = try? FileManager.default.destinationOfSymbolicLink(atPath: path) else { return path }
        if destination.hasPrefix("/") { return destination }
        return ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(destination)
    }
}
