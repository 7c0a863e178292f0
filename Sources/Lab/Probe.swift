import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Checks that an SSH server answers: a TCP connect and the `SSH-` banner within a deadline.
public enum SSHProbe {
    /// True when `address`:`port` sends an SSH banner within `timeout` seconds.
    public static func answers(_ address: IPv4Address, port: UInt16 = 22, timeout: Double = 1.0) -> Bool {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        sin.sin_addr.s_addr = address.value.bigEndian
        let deadline = Date().addingTimeInterval(timeout)
        let rc = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if rc != 0 && errno != EINPROGRESS { return false }
        guard wait(fd, events: Int16(POLLOUT), until: deadline) else { return false }
        var soError: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length) == 0, soError == 0 else { return false }
        var banner = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 64)
        while banner.count < 4 {
            guard wait(fd, events: Int16(POLLIN), until: deadline) else { return false }
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { return false }
            banner += buffer[0..<n]
        }
        return banner.starts(with: Array("SSH-".utf8))
    }

    private static func wait(_ fd: Int32, events: Int16, until deadline: Date) -> Bool {
        while true {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return false }
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&pfd, 1, Int32(max(1, remaining * 1000)))
            if rc > 0 { return pfd.revents & (events | Int16(POLLERR) | Int16(POLLHUP)) != 0 }
            if rc == 0 { return false }
            if errno != EINTR { return false }
        }
    }

    /// Probes many hosts at once; the result maps each address to whether it answered.
    public static func answers(_ addresses: [IPv4Address], timeout: Double = 1.0) -> [IPv4Address: Bool] {
        // One thread per probe: probes mostly wait on the network, and a pool sized to the two
        // cores here would serialise the timeouts of unreachable hosts.
        let results = LockedBox([IPv4Address: Bool]())
        let group = DispatchGroup()
        for address in addresses {
            group.enter()
            let thread = Thread {
                let ok = answers(address, timeout: timeout)
                results.withLock { $0[address] = ok }
                group.leave()
            }
            thread.start()
        }
        group.wait()
        return results.withLock { $0 }
    }
}

/// A value shared between threads behind a lock.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
