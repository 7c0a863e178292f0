import Foundation

/// How to reach and authenticate to one host over SSH.
public struct SSHOptions: Sendable {
    /// What to do with a host key that no known_hosts file lists.
    public enum HostKeyPolicy: String, Sendable {
        /// Refuse unknown keys (OpenSSH `StrictHostKeyChecking=yes`).
        case strict
        /// Record unknown keys in the first known_hosts file; still refuse changed ones.
        case acceptNew
        /// No checking at all (OpenSSH `StrictHostKeyChecking=no` with `/dev/null` as known_hosts).
        case off
    }

    /// One way to prove who we are; tried in the order given, skipping methods the server does not offer.
    public enum Authentication: Sendable, CustomStringConvertible {
        /// A private key file (OpenSSH, PEM or PKCS#8); the public key is derived from it.
        case privateKey(path: String, passphrase: String? = nil)
        /// Keys held by ssh-agent; nil reads `SSH_AUTH_SOCK`.
        case agent(socketPath: String? = nil)
        case password(String)
        /// Answers every keyboard-interactive prompt with this password (PAM's usual single prompt).
        case keyboardInteractive(String)

        /// Never shows secrets, so options can be logged.
        public var description: String {
            switch self {
            case .privateKey(let path, _): return "publickey (\(path))"
            case .agent: return "ssh-agent"
            case .password: return "password"
            case .keyboardInteractive: return "keyboard-interactive"
            }
        }
    }

    public var host: String
    public var port: Int
    public var user: String
    /// Seconds allowed for the TCP connection and for the SSH handshake, each.
    public var connectTimeout: Double
    /// Seconds between keepalive requests while waiting on the server; 0 disables them (and with them
    /// the inactivity check, since a quiet command would then look like a dead host).
    public var keepaliveInterval: Int
    /// Seconds without a single byte from the server (keepalive replies included) after which the host
    /// counts as unreachable.
    public var inactivityTimeout: Double
    /// Tried in order; empty means ssh-agent (when `SSH_AUTH_SOCK` is set) then ~/.ssh/id_ed25519 and
    /// ~/.ssh/id_ecdsa when they exist.
    public var authentication: [Authentication]
    /// Every file is read for checking; an accepted new key is appended to the first one.
    public var knownHostsFiles: [String]
    public var hostKeyPolicy: HostKeyPolicy
    /// The name looked up in known_hosts instead of `host` (OpenSSH `HostKeyAlias`).
    public var hostKeyAlias: String?
    /// Run plain commands (no stdin, no become, no time limit) in one shell kept open on the session
    /// instead of an exec request each (see `PersistentShell`).
    public var persistentShell = true
    /// Run become commands without stdin or time limit in a shell escalated once with sudo and kept
    /// open (one per become user), instead of starting sudo for each (see `PersistentShell`).
    public var persistentBecomeShell = true

    public init(
        host: String, port: Int = 22, user: String, connectTimeout: Double = 10, keepaliveInterval: Int = 10,
        inactivityTimeout: Double = 30, authentication: [Authentication] = [],
        knownHostsFiles: [String] = SSHOptions.defaultKnownHostsFiles, hostKeyPolicy: HostKeyPolicy = .strict,
        hostKeyAlias: String? = nil
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.connectTimeout = connectTimeout
        self.keepaliveInterval = keepaliveInterval
        self.inactivityTimeout = inactivityTimeout
        self.authentication = authentication
        self.knownHostsFiles = knownHostsFiles
        self.hostKeyPolicy = hostKeyPolicy
        self.hostKeyAlias = hostKeyAlias
    }

    /// The files OpenSSH reads by default: the user's, then the system-wide one.
    public static var defaultKnownHostsFiles: [String] {
        ["~/.ssh/known_hosts", "/etc/ssh/ssh_known_hosts"]
    }

    /// The methods used when `authentication` is empty.
    static func defaultAuthentication() -> [Authentication] {
        var methods: [Authentication] = []
        if let socket = ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"], !socket.isEmpty {
            methods.append(.agent(socketPath: socket))
        }
        for name in ["id_ed25519", "id_ecdsa"] {
            let path = expandTilde("~/.ssh/\(name)")
            if FileManager.default.isReadableFile(atPath: path) { methods.append(.privateKey(path: path)) }
        }
        return methods
    }
}

func expandTilde(_ path: String) -> String {
    guard path == "~" || path.hasPrefix("~/") else { return path }
    let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
    return home + path.dropFirst()
}
