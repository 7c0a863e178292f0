import CLibSSH2
import Foundation
import PGHACore
import Transport

extension SSHSession {
    /// Environment exports, `cd` and the command, one per line so the command keeps its own syntax.
    func composeScript(_ request: CommandRequest) throws -> String {
        var lines: [String] = []
        if !request.environment.isEmpty {
            // sshd accepts only AcceptEnv names through setenv requests, so the shell sets them instead.
            var exports: [String] = []
            for (name, value) in request.environment {
                guard let first = name.unicodeScalars.first, first == "_" || first.properties.isAlphabetic,
                    name.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic)
                        || ("0"..."9").contains($0) })
                else {
                    throw PGHAError(.execution, "invalid environment variable name '\(name)'", host: hostName)
                }
                exports.append("\(name)=\(shellQuote(value))")
            }
            lines.append("export " + exports.joined(separator: " "))
        }
        if let directory = request.workingDirectory {
            lines.append("cd \(shellQuote(directory)) || exit 1")
        }
        lines.append(request.command)
        return lines.joined(separator: "\n")
    }

    /// The login shell execs the command, so signals and exit statuses are the command's own. A timed
    /// command first reports its process group (sshd makes the login shell lead a new session), so a
    /// timeout can kill everything it started.
    private func announcingProcessGroup(_ command: String, timed: Bool) -> String {
        (timed ? "printf '\\001pgha-pgid %d\\n' $$ >&2; " : "") + "exec " + command
    }

    func runCommand(_ request: CommandRequest) throws -> CommandResult {
        let script = try composeScript(request)
        let stdin = request.stdin ?? []
        if let key = keptShell(for: request),
            let outcome = try runInKeptShell(script, key, subshell: request.subshellAllowed)
        {
            return CommandResult(
                stdout: outcome.stdout, stderr: outcome.stderr, exitStatus: outcome.exitStatus, signal: outcome.signal)
        }
        guard let become = request.become else {
            let spec = ExecSpec(
                command: announcingProcessGroup("/bin/sh -c " + shellQuote(script), timed: request.timeout != nil),
                stdin: stdin, timeout: request.timeout)
            let outcome = try execKillingOnTimeout(spec, become: nil)
            return CommandResult(
                stdout: outcome.stdout, stderr: outcome.stderr, exitStatus: outcome.exitStatus, signal: outcome.signal)
        }
        return try runBecome(script, become: become, stdin: stdin, timeout: request.timeout)
    }

    private func execKillingOnTimeout(_ spec: ExecSpec, become: Become?) throws -> ExecOutcome {
        do {
            return try exec(spec)
        } catch let timedOut as CommandTimedOut {
            if let group = timedOut.processGroup, group > 1 {
                // TERM first: sudo passes it on to a command it runs in its own pty; KILL catches the rest.
                // procps kill: dash's builtin cannot address a process group.
                let kill =
                    "/bin/kill -TERM -- -\(group) 2>/dev/null; (sleep 1; /bin/kill -KILL -- -\(group)) >/dev/null 2>&1 &"
                _ = try? runCommand(CommandRequest(kill, become: become, timeout: 10))
            }
            throw PGHAError(
                .execution, "command timed out after \(format(spec.timeout ?? 0)) s and was killed", host: hostName,
                hint: "raise the task's timeout if the command needs longer")
        }
    }

    /// sudo's command line for `script` as `become.user`, and the dialog that answers its prompt and
    /// recognises the escalated shell's first line.
    func sudoInvocation(_ become: Become, script: String) -> (command: String, dialog: SudoDialog) {
        let success = "PGHA-BECOME-OK-" + randomHex(8)
        var sudo = "sudo -H -S "
        var dialog = SudoDialog(successMarker: Array(success.utf8))
        if let password = become.password {
            // A random prompt cannot be mistaken for output; the password goes to stdin only when it shows.
            let prompt = "[pgha-sudo-\(randomHex(8))] "
            sudo += "-p \(shellQuote(prompt)) "
            dialog.promptMarker = Array(prompt.utf8)
            dialog.password = Array(password.utf8)
        } else {
            sudo += "-n "
        }
        sudo += "-u \(shellQuote(become.user)) /bin/sh -c " + shellQuote("echo \(success)\n" + script)
        return (sudo, dialog)
    }

    private func runBecome(_ script: String, become: Become, stdin: [UInt8], timeout: Double?) throws -> CommandResult {
        guard become.method == "sudo" else {
            throw PGHAError(
                .execution, "become method '\(become.method)' is not supported", host: hostName,
                hint: "use become_method: sudo")
        }
        let (sudo, dialog) = sudoInvocation(become, script: script)
        var spec = ExecSpec(
            command: announcingProcessGroup(sudo, timed: timeout != nil), stdin: stdin, dialog: dialog,
            timeout: timeout)
        var outcome = try execSudo(spec, become: become)
        if !outcome.becameUser && Self.sudoWantsTerminal(outcome.stderr) {
            guard stdin.isEmpty else {
                throw PGHAError(
                    .execution, "sudo on this host requires a terminal (requiretty), and input cannot be passed "
                        + "through one", host: hostName, hint: "remove 'Defaults requiretty' from the sudoers file")
            }
            spec.pty = true
            outcome = try execSudo(spec, become: become)
        }
        if !outcome.becameUser {
            throw sudoFailure(
                become, said: spec.pty ? outcome.stdout : outcome.stderr, pty: spec.pty, exitStatus: outcome.exitStatus)
        }
        return CommandResult(
            stdout: outcome.stdout, stderr: outcome.stderr, exitStatus: outcome.exitStatus, signal: outcome.signal)
    }

    /// sudo did not let us in: what it said (the password masked) and what to do about it.
    func sudoFailure(_ become: Become, said output: [UInt8], pty: Bool, exitStatus: Int32) -> PGHAError {
        var said = String(decoding: output, as: UTF8.self)
        if let password = become.password, !password.isEmpty {
            said = said.replacingOccurrences(of: password, with: Redactor.mask)
        }
        said = said.trimmingCharacters(in: .whitespacesAndNewlines)
        let needsPassword = said.contains("password is required")
        return PGHAError(
            .execution,
            "sudo to \(become.user) failed" + (said.isEmpty ? " (exit status \(exitStatus))" : ": \(said)"),
            host: hostName,
            hint: needsPassword
                ? "sudo wants a password for \(options.user): set the become password, or give the user NOPASSWD"
                : "check that \(options.user) may run commands as \(become.user) with sudo")
    }

    func sudoPasswordRejectedError() -> PGHAError {
        PGHAError(
            .execution, "sudo rejected the become password of \(options.user) (incorrect password)", host: hostName,
            hint: "check the become password (ansible_become_password / --ask-become-pass)")
    }

    private func execSudo(_ spec: ExecSpec, become: Become) throws -> ExecOutcome {
        do {
            return try execKillingOnTimeout(spec, become: become)
        } catch is SudoPasswordRejected {
            throw sudoPasswordRejectedError()
        }
    }

    static func sudoWantsTerminal(_ stderr: [UInt8]) -> Bool {
        let text = String(decoding: stderr, as: UTF8.self)
        return text.contains("a terminal is required") || text.contains("must have a tty")
    }

    // MARK: - Files

    func putFile(_ data: [UInt8], to path: String, attributes: FileAttributes, become: Become?) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        guard !name.isEmpty, path.hasPrefix("/") || !path.contains("/") || !directory.isEmpty else {
            throw PGHAError(.execution, "cannot write '\(path)': not a file path", host: hostName)
        }
        let dir = directory.isEmpty ? "." : directory
        let temp = "\(dir)/.\(name).pgha-\(randomHex(6))"
        let target = shellQuote(path)
        var settle: [String] = []
        if let mode = attributes.mode {
            settle.append("chmod \(String(mode, radix: 8)) \"$t\"")
        } else {
            // Like `cp` over an existing file: a replaced file keeps its permissions.
            settle.append("{ [ ! -e \(target) ] || chmod --reference=\(target) \"$t\"; }")
        }
        if attributes.owner != nil || attributes.group != nil {
            let spec = (attributes.owner ?? "") + (attributes.group.map { ":\($0)" } ?? "")
            settle.append("chown \(shellQuote(spec)) \"$t\"")
        } else if become?.user == "root" {
            settle.append("{ [ ! -e \(target) ] || chown --reference=\(target) \"$t\"; }")
        }
        // Only a complete copy is renamed over the target (a write cut short by an interrupted
        // channel or a full disk leaves the old file), and in the same directory, so the rename is atomic.
        let complete = "[ \"$(wc -c < \"$t\")\" -eq \(data.count) ]"
        let finish = ([complete] + settle).joined(separator: " && ") + " && mv -f \"$t\" \(target)"

        guard let become else {
            do {
                try sftpWrite(data, to: temp, mode: attributes.mode ?? 0o644)
            } catch let error as PGHAError where error.kind == .execution && lastSFTPStatus == UInt(LIBSSH2_FX_FAILURE) {
                // OpenSSH's SFTP server reports a full disk or a quota only as "failure": the same
                // write through the shell fails again, saying why (or succeeds, if space was freed).
                removePartialUpload(temp, after: error)
                let mode = String(attributes.mode ?? 0o644, radix: 8)
                let script =
                    "t=\(shellQuote(temp))\n"
                    + "umask 077; cat > \"$t\" && chmod \(mode) \"$t\" && \(finish)\nrc=$?; [ $rc -eq 0 ] || rm -f \"$t\"; exit $rc"
                let result = try runCommand(CommandRequest(script, stdin: data))
                if !result.succeeded { throw putFailure(path, result) }
                return
            } catch {
                removePartialUpload(temp, after: error)
                throw error
            }
            let script = "t=\(shellQuote(temp))\n\(finish) || { rc=$?; rm -f \"$t\"; exit $rc; }"
            let result = try runCommand(CommandRequest(script))
            if !result.succeeded {
                sftpUnlink(temp)
                throw putFailure(path, result)
            }
            return
        }
        let script: String
        var stdin: [UInt8]? = nil
        var upload: String?
        if become.user == "root" {
            let privateDir = try privateDirectory()
            let privateUpload = "\(privateDir)/\(randomHex(8))"
            upload = privateUpload
            do {
                try sftpWrite(data, to: privateUpload, mode: 0o600)
            } catch {
                removePartialUpload(privateUpload, after: error)
                throw error
            }
            script =
                "t=\(shellQuote(temp)); u=\(shellQuote(upload!))\n"
                + "umask 077; cp \"$u\" \"$t\" && chmod 644 \"$t\" && \(finish)\nrc=$?; rm -f \"$t\" \"$u\"; exit $rc"
        } else {
            // Another user cannot read the login user's private upload, so the bytes go through stdin.
            stdin = data
            script =
                "t=\(shellQuote(temp))\n"
                + "umask 077; cat > \"$t\" && chmod 644 \"$t\" && \(finish)\nrc=$?; rm -f \"$t\"; exit $rc"
        }
        let result: CommandResult
        do {
            result = try runCommand(CommandRequest(script, stdin: stdin, become: become))
        } catch {
            if let upload { removePartialUpload(upload, after: error) }
            throw error
        }
        if !result.succeeded { throw putFailure(path, result) }
    }

    /// Removes what a transfer that failed or was interrupted left of `path`. A libssh2 call
    /// abandoned half-way (Ctrl-C, a task's timeout) leaves the session in the middle of a packet,
    /// so that session is dropped and the file is removed once a new one is open: by the next
    /// request, or by `shutdown` at the end of the run. A host that is gone keeps the file.
    func removePartialUpload(_ path: String, after error: any Error) {
        let kind = (error as? PGHAError)?.kind
        guard kind != .unreachable else { return }
        pendingRemovals.append(path)
        if kind == .execution {
            removePendingUploads()
        } else {
            disconnect()
        }
    }

    /// Removes `pendingRemovals` over the open session, even while the run is being interrupted.
    func removePendingUploads() {
        guard !pendingRemovals.isEmpty, session != nil else { return }
        let paths = pendingRemovals
        pendingRemovals = []
        let wasCancelled = isCancelled
        isCancelled = { false }
        defer { isCancelled = wasCancelled }
        _ = try? runCommand(CommandRequest("rm -f -- " + paths.map(shellQuote).joined(separator: " "), timeout: 10))
    }

    private func putFailure(_ path: String, _ result: CommandResult) -> PGHAError {
        PGHAError(
            .execution,
            "writing \(path) failed: " + result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
                + " (exit status \(result.exitStatus))", host: hostName)
    }

    func getFile(_ path: String, become: Become?) throws -> [UInt8] {
        guard let become else { return try sftpRead(path) }
        let result = try runCommand(CommandRequest("cat -- \(shellQuote(path))", become: become))
        if !result.succeeded {
            throw PGHAError(
                .execution,
                "reading \(path) as \(become.user) failed: "
                    + result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines), host: hostName)
        }
        return result.stdout
    }

    /// Removes the private upload directory and ends the session; the session cannot be used again.
    func shutdown() {
        // A session dropped by an interrupted transfer is opened again to remove what it left.
        if session == nil, !pendingRemovals.isEmpty {
            let wasCancelled = isCancelled
            isCancelled = { false }
            _ = try? ensureConnected()
            isCancelled = wasCancelled
        }
        if let directory = privateTempDirectory, session != nil {
            _ = try? runCommand(CommandRequest("rm -rf \(shellQuote(directory))", timeout: 5))
            privateTempDirectory = nil
        }
        disconnect()
        closed = true
    }
}
