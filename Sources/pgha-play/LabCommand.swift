import ArgumentParser
import Foundation
import Lab
import PGHACore

/// `pgha-play lab ...`: real Debian 12 hosts in systemd-nspawn containers for trying playbooks.
struct LabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Boot and break a lab of real Debian 12 hosts (systemd-nspawn, needs root).",
        discussion: """
            Hosts: node1 10.77.0.11, node2 10.77.0.12, witness 10.77.0.13 (more with --hosts), on \
            the bridge pgha-br0 (10.77.0.1/16). Log in with the lab key, e.g. \
            ssh -i /var/lib/pgha-play/lab/id_ed25519 -o UserKnownHostsFile=/var/lib/pgha-play/lab/known_hosts \
            deploy@10.77.0.11; the inventory is inventory/lab.ini.
            """,
        subcommands: [Up.self, Down.self, Status.self, Kill.self, Start.self, Reset.self, Partition.self, Heal.self]
    )

    struct Options: ParsableArguments {
        @Flag(name: .shortAndLong, help: "Print every command the lab runs.")
        var verbose = false

        func controller() -> LabController {
            let trace: (@Sendable (String) -> Void)? = verbose ? { @Sendable line in LabCommand.say(line) } : nil
            return LabController(runner: ProcessRunner(trace: trace), log: { LabCommand.say($0) })
        }
    }

    static func say(_ line: String) {
        FileHandle.standardError.write(Data(("lab: " + line + "\n").utf8))
    }

    /// Runs `body`, turning a PGHAError into its message and exit code 1.
    static func guarded(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as PGHAError {
            FileHandle.standardError.write(Data(("error: " + error.description + "\n").utf8))
            throw ExitCode.failure
        }
    }

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Build the image if needed and boot the hosts.")
        @OptionGroup var options: Options
        @Option(help: "Number of hosts (node1, node2, witness, node3...); at least 3.")
        var hosts = 3

        func run() async throws {
            try LabCommand.guarded {
                let report = try options.controller().up(hostCount: hosts)
                for host in report.hosts { print("\(host.name)\t\(host.address)") }
                LabCommand.say(
                    "\(report.hosts.count) host(s) up (\(report.booted.count) booted) in "
                        + String(format: "%.1f", report.seconds) + " s")
            }
        }
    }

    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop all hosts and remove their disks, links and bridge (the image cache stays).")
        @OptionGroup var options: Options

        func run() async throws {
            try LabCommand.guarded { try options.controller().down() }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show hosts, addresses, state and SSH reachability.")
        @OptionGroup var options: Options

        func run() async throws {
            try LabCommand.guarded {
                let rows = try options.controller().status()
                if rows.isEmpty {
                    print("no lab hosts (run `pgha-play lab up`)")
                    return
                }
                print("NAME".padding(toLength: 12, withPad: " ", startingAt: 0)
                    + "ADDRESS".padding(toLength: 16, withPad: " ", startingAt: 0)
                    + "STATE".padding(toLength: 13, withPad: " ", startingAt: 0) + "SSH")
                for row in rows {
                    print(row.name.padding(toLength: 12, withPad: " ", startingAt: 0)
                        + row.address.description.padding(toLength: 16, withPad: " ", startingAt: 0)
                        + row.state.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)
                        + (row.sshReachable ? "yes" : "no"))
                }
            }
        }
    }

    struct Kill: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Power loss: SIGKILL a host at once; its disk stays.")
        @OptionGroup var options: Options
        @Argument(help: "Host name, e.g. node1.") var name: String

        func run() async throws {
            try LabCommand.guarded { try options.controller().kill(name) }
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Boot a stopped host again with its disk as it was.")
        @OptionGroup var options: Options
        @Argument(help: "Host name, e.g. node1.") var name: String

        func run() async throws {
            try LabCommand.guarded { try options.controller().start(name) }
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give hosts a fresh disk from the image and boot them; other hosts keep running.")
        @OptionGroup var options: Options
        @Argument(help: "Host names, e.g. node3.") var names: [String]

        func run() async throws {
            try LabCommand.guarded { try options.controller().reset(names) }
        }
    }

    struct Partition: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cut a host off the lab network (until heal).")
        @OptionGroup var options: Options
        @Argument(help: "Host name, e.g. node1.") var name: String

        func run() async throws {
            try LabCommand.guarded { try options.controller().partition(name) }
        }
    }

    struct Heal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reconnect a partitioned host.")
        @OptionGroup var options: Options
        @Argument(help: "Host name, e.g. node1.") var name: String

        func run() async throws {
            try LabCommand.guarded { try options.controller().heal(name) }
        }
    }
}
