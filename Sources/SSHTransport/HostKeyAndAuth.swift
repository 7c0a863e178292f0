import CLibSSH2
import Foundation
import PGHACore
import Transport

extension SSHSession {
    // MARK: - Host key

    /// The name known_hosts entries are matched against: `host`, or `[host]:port` off port 22.
    var knownHostsName: String {
        let name = options.hostKeyAlias ?? options.host
        return options.port == 22 ? name : "[\(name)]:\(options.port)"
    }

    /// Checks the server's key against every known_hosts file as OpenSSH does (plain and hashed names,
    /// `[host]:port`), and refuses unknown or changed keys before anything is sent to the server.
    func checkHostKey(_ session: OpaquePointer) throws {
        var keyLength = 0
        var keyType: Int32 = 0
        guard let key = libssh2_session_hostkey(session, &keyLength, &keyType) else {
            throw unreachable("\(endpoint) sent no host key")
        }
        if options.hostKeyPolicy == .off { return }
        let fingerprint = sha256Fingerprint(session: session) ?? "(no fingerprint)"
        guard let type = HostKeyType(libssh2Type: keyType) else {
            throw unreachable("\(endpoint) offered a host key of a type libssh2 cannot check (\(keyType))")
        }
        guard let known = libssh2_knownhost_init(session) else {
            throw unreachable("libssh2 could not allocate a known_hosts collection")
        }
        defer { libssh2_knownhost_free(known) }
        let files = options.knownHostsFiles.map(expandTilde)
        for file in files { loadKnownHosts(known, file: file) }

        let lookupName = options.hostKeyAlias ?? options.host
        let displayName = knownHostsName
        let typeMask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | type.knownHostBits
        var entry: UnsafeMutablePointer<libssh2_knownhost>?
        let result = libssh2_knownhost_checkp(
            known, lookupName, Int32(options.port), key, keyLength, typeMask, &entry)
        switch result {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH:
            return
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
            // Seen once under load: libssh2 reported a mismatch for a key its own file listed.
            // A plain entry naming this host with exactly this key settles it; anything else refuses.
            if plainEntryMatches(files: files, name: displayName, key: Data(bytes: key, count: keyLength)) { return }
            throw unreachable(
                "REMOTE HOST IDENTIFICATION HAS CHANGED for \(displayName)! The \(type.label) key it sent now "
                    + "(\(fingerprint)) differs from the one recorded in \(files.joined(separator: " or ")). "
                    + "Someone could be intercepting the connection (man-in-the-middle), or the host was "
                    + "reinstalled. Nothing was sent to it.",
                hint: "if the change is expected, remove the old key with "
                    + "'ssh-keygen -R \(shellQuote(displayName)) -f \(shellQuote(files.first ?? "~/.ssh/known_hosts"))' "
                    + "and connect again")
        case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
            // A different key type known for this name shows up as a mismatch when asked with that type.
            if mayRetryHostKeyAlgorithm,
                let other = HostKeyType.all.first(where: { candidate in
                    candidate.knownHostBits != type.knownHostBits
                        && libssh2_knownhost_checkp(
                            known, lookupName, Int32(options.port), key, keyLength,
                            LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | candidate.knownHostBits, nil)
                            == LIBSSH2_KNOWNHOST_CHECK_MISMATCH
                })
            {
                throw RetryWithHostKeyAlgorithm(name: other.name)
            }
            if options.hostKeyPolicy == .acceptNew {
                try recordHostKey(name: displayName, type: type, key: key, length: keyLength, file: files.first)
                return
            }
            throw unreachable(
                "host key of \(displayName) is not known: the server sent a \(type.label) key with fingerprint "
                    + "\(fingerprint), and no known_hosts file (\(files.joined(separator: ", "))) lists it",
                hint: "check the fingerprint on the host ('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub'), then "
                    + "accept it with 'ssh-keyscan -p \(options.port) -t \(type.name) \(options.host) >> "
                    + "\(files.first ?? "~/.ssh/known_hosts")' or use host key policy accept-new")
        default:
            throw unreachable("checking the host key of \(displayName) failed: \(lastError())")
        }
    }

    /// Whether a plain (unhashed) known_hosts line lists `name` with exactly `key` (any type).
    private func plainEntryMatches(files: [String], name: String, key: Data) -> Bool {
        let encoded = key.base64EncodedString()
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count >= 3, !fields[0].hasPrefix("|"), !fields[0].hasPrefix("@"), !fields[0].hasPrefix("#")
                else { continue }
                if fields[0].split(separator: ",").contains(where: { $0 == name }) && fields[2] == encoded { return true }
            }
        }
        return false
    }

    /// Feeds a known_hosts file line by line, because libssh2's own reader stops at the first line it
    /// cannot parse (markers such as @cert-authority, key types it lacks).
    private func loadKnownHosts(_ known: OpaquePointer, file: String) {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return }
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix("@") { continue }
            let bytes = Array(trimmed.utf8)
            _ = bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) {
                    libssh2_knownhost_readline(known, $0.baseAddress, $0.count, LIBSSH2_KNOWNHOST_FILE_OPENSSH)
                }
            }
        }
    }

    /// Appends `name type base64` to the known_hosts file (creating it and ~/.ssh as ssh does).
    private func recordHostKey(
        name: String, type: HostKeyType, key: UnsafePointer<CChar>, length: Int, file: String?
    ) throws {
        guard let file else { throw unreachable("host key policy accept-new needs a known_hosts file to write") }
        let blob = Data(bytes: key, count: length).base64EncodedString()
        let line = "\(name) \(type.name) \(blob)\n"
        let directory = (file as NSString).deletingLastPathComponent
        do {
            if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            // Read, add, replace whole under a lock: concurrent additions (hosts connecting in
            // parallel, several runs at once) each keep every other's line, and a reader never
            // sees a half-written file.
            try AtomicFile.withDirectoryLock(for: file) {
                var bytes = FileManager.default.contents(atPath: file).map { [UInt8]($0) } ?? []
                if String(decoding: bytes, as: UTF8.self).split(separator: "\n").contains(where: { $0 + "\n" == line }) {
                    return
                }
                // A file without a final newline would glue our entry to its last line.
                if let last = bytes.last, last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
                bytes += Array(line.utf8)
                try AtomicFile.write(bytes, to: file, mode: 0o600)
            }
        } catch {
            throw unreachable("cannot record the host key of \(name) in \(file): \(error)")
        }
    }

    // MARK: - Authentication

    func authenticate(_ session: OpaquePointer) throws {
        let user = options.user
        let userLength = UInt32(user.utf8.count)
        var offered: String?
        let since = monotonicSeconds()
        while offered == nil {
            if let list = libssh2_userauth_list(session, user, userLength) {
                offered = String(cString: list)
            } else if libssh2_userauth_authenticated(session) != 0 {
                return  // the server accepted "none"
            } else if libssh2_session_last_errno(session) == LIBSSH2_ERROR_EAGAIN {
                try waitSocket(deadline: nil, timeoutMessage: "", activitySince: since)
            } else {
                throw unreachable("asking \(endpoint) for its authentication methods failed: \(lastError())")
            }
        }
        let serverMethods = Set(offered!.split(separator: ",").map(String.init))
        let methods = options.authentication.isEmpty ? SSHOptions.defaultAuthentication() : options.authentication
        var failures: [String] = []
        var triedRSA = false
        for method in methods {
            switch method {
            case .privateKey(let path, let passphrase):
                guard serverMethods.contains("publickey") else { continue }
                let expanded = expandTilde(path)
                guard FileManager.default.isReadableFile(atPath: expanded) else {
                    failures.append("key \(expanded): cannot read the file")
                    continue
                }
                let keyType = privateKeyType(path: expanded)
                let rc = try retry {
                    libssh2_userauth_publickey_fromfile_ex(
                        session, user, userLength, nil, expanded, passphrase)
                }
                if rc == 0 { return }
                if keyType == "ssh-rsa" { triedRSA = true }
                if rc == LIBSSH2_ERROR_FILE {
                    failures.append(
                        "key \(expanded): cannot load it ("
                            + (passphrase == nil ? "encrypted and no passphrase given, or " : "wrong passphrase, or ")
                            + "a format libssh2 cannot read)")
                } else {
                    failures.append("key \(expanded)\(keyType.map { " (\($0))" } ?? ""): refused by the server")
                }
            case .agent(let socketPath):
                guard serverMethods.contains("publickey") else { continue }
                if let outcome = try agentAuthenticate(session, socketPath: socketPath) {
                    if outcome.rsaOnly { triedRSA = true }
                    failures.append(outcome.failure)
                } else {
                    return
                }
            case .password(let password):
                guard serverMethods.contains("password") else { continue }
                let rc = try retry {
                    libssh2_userauth_password_ex(
                        session, user, userLength, password, UInt32(password.utf8.count), nil)
                }
                if rc == 0 { return }
                failures.append("password: refused")
            case .keyboardInteractive(let password):
                guard serverMethods.contains("keyboard-interactive") else { continue }
                context.interactivePassword = password
                defer { context.interactivePassword = nil }
                let rc = try retry {
                    libssh2_userauth_keyboard_interactive_ex(
                        session, user, userLength, keyboardInteractiveResponder)
                }
                if rc == 0 { return }
                failures.append("keyboard-interactive: refused")
            }
            if libssh2_userauth_authenticated(session) != 0 { return }
        }
        var message = "authentication as \(options.user) to \(options.host):\(options.port) failed"
        message += failures.isEmpty
            ? ": none of the configured methods (\(methods.map(\.description).joined(separator: ", "))) is "
                + "offered by the server (it offers: \(offered!))"
            : " (" + failures.joined(separator: "; ") + ")"
        if triedRSA {
            message += ". RSA keys cannot work here: libssh2 1.10 signs only with ssh-rsa (SHA-1), which "
                + "OpenSSH 8.8 and later reject"
            throw unreachable(
                message,
                hint: "use an ed25519 key: 'ssh-keygen -t ed25519', add the .pub file to the user's "
                    + "authorized_keys, and point the private key setting at it")
        }
        throw unreachable(
            message, hint: "check the user name, that the public key is in ~\(options.user)/.ssh/authorized_keys, "
                + "and the password or passphrase")
    }

    /// Tries each agent identity; nil on success, else why it failed.
    private func agentAuthenticate(
        _ session: OpaquePointer, socketPath: String?
    ) throws -> (failure: String, rsaOnly: Bool)? {
        guard let agent = libssh2_agent_init(session) else { return ("ssh-agent: libssh2 could not use it", false) }
        defer {
            _ = libssh2_agent_disconnect(agent)
            libssh2_agent_free(agent)
        }
        if let socketPath { libssh2_agent_set_identity_path(agent, socketPath) }
        guard libssh2_agent_connect(agent) == 0 else {
            return ("ssh-agent: cannot connect to \(socketPath ?? "SSH_AUTH_SOCK")", false)
        }
        guard libssh2_agent_list_identities(agent) == 0 else { return ("ssh-agent: cannot list its keys", false) }
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
        var count = 0
        var rsaCount = 0
        while libssh2_agent_get_identity(agent, &identity, previous) == 0, let current = identity {
            previous = current
            count += 1
            let blob = UnsafeBufferPointer(start: current.pointee.blob, count: Int(current.pointee.blob_len))
            if blob.count > 11, Array(blob[4..<11]) == Array("ssh-rsa".utf8) { rsaCount += 1 }
            let rc = try retry { libssh2_agent_userauth(agent, options.user, current) }
            if rc == 0 { return nil }
        }
        if count == 0 { return ("ssh-agent: holds no keys", false) }
        return ("ssh-agent: none of its \(count) keys was accepted", rsaCount == count)
    }
}
