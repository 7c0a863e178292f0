import ArgumentParser
import Foundation
import PGHACore
import Synchronization

/// Parses the command line and maps every failure to ansible-playbook's exit codes.
enum CommandLineEntry {
    static func run(_ arguments: [String]) async -> Int32 {
        do {
            var command = try PGHAPlay.parseAsRoot(arguments)
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            return 0
        } catch let exit as ExitCode {
            return exit.rawValue
        } catch let error as PGHAError {
            FileHandle.standardError.write(Data(("ERROR! " + error.withSourceLine().description + "\n").utf8))
            switch error.kind {
            case .syntax, .semantic, .undefinedVariable, .template, .inventory, .unreachable: return 4
            case .usage: return 5
            case .interrupted: return 99
            default: return 1
            }
        } catch {
            let message = PGHAPlay.message(for: error)
            let exitCode = PGHAPlay.exitCode(for: error)
            if exitCode == .success {
                print(message)
                return 0
            }
            FileHandle.standardError.write(Data((message + "\n").utf8))
            if exitCode == .validationFailure {
                FileHandle.standardError.write(Data("See 'pgha-play --help'.\n".utf8))
                return 5
            }
            return exitCode.rawValue == 64 ? 5 : 1
        }
    }
}

/// The root command: `pgha-play [options] PLAYBOOK...` runs playbooks; `pgha-play init` writes an
/// inventory directory for a cluster; `roles` and `playbooks` list (and export) the built-in ones;
/// `pgha-play lab ...` manages the local test hosts; `pgha-play vault ...` works on ansible-vault
/// files; `pgha-play doc ...` documents the actions and modules; `pgha-play status` shows the
/// cluster; `pgha-play ca ...` manages the cluster CA.
struct PGHAPlay: AsyncParsableCommand {
    /// This release; `--version` adds the git commit the binary was built from.
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "pgha-play",
        abstract: "Run Ansible-style playbooks over SSH; deploy and operate a PostgreSQL HA cluster.",
        version: "pgha-play \(version) (commit \(BuildInfo.commit))",
        subcommands: [
            RunCommand.self, InitCommand.self, RolesCommand.self, PlaybooksCommand.self, LabCommand.self, VaultCommand.self,
            DocCommand.self, StatusCommand.self, CACommand.self,
        ],
        defaultSubcommand: RunCommand.self
    )
}

enum SignalHandling {
    nonisolated(unsafe) static var source: DispatchSourceSignal?
    /// While playbooks run: stops the run (the tasks under way are cancelled, none starts after
    /// them, the recap is printed and pgha-play exits 99).
    private static let stopRun = Mutex<(@Sendable () -> Void)?>(nil)

    /// Ctrl-C ends the run with ansible-playbook's "interrupted" status: during a run, after the
    /// recap of what ran (a second Ctrl-C exits at once); otherwise at once.
    static func installInterruptHandler() {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            if let stop = stopRun.withLock({ current -> (@Sendable () -> Void)? in
                defer { current = nil }
                return current
            }) {
                FileHandle.standardError.write(Data("\n[ERROR]: User interrupted execution\n".utf8))
                stop()
                return
            }
            VaultCommand.interruptCleanup.removeNow()
            FileHandle.standardError.write(Data("\n[ERROR]: User interrupted execution\n".utf8))
            exit(99)
        }
        source.resume()
        self.source = source
    }

    /// Runs `body` so that the first Ctrl-C cancels it instead of ending the process.
    static func stoppable<T: Sendable>(_ body: sending @escaping () async throws -> T) async throws -> T {
        let task = Task { try await body() }
        stopRun.withLock { $0 = { task.cancel() } }
        defer { stopRun.withLock { $0 = nil } }
        return try await task.value
    }
}
