// TEMPORARY (lab branch only): a minimal root command so `pgha-play lab` can be tried before the
// lead registers LabCommand in the real root command.
import ArgumentParser

struct PGHAPlayLabOnly: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pgha-play", subcommands: [LabCommand.self])
}

func runAsync<C: AsyncParsableCommand>(_ command: C) async throws {
    var command = command
    try await command.run()
}

do {
    var command = try PGHAPlayLabOnly.parseAsRoot()
    if let asyncCommand = command as? any AsyncParsableCommand {
        try await runAsync(asyncCommand)
    } else {
        try command.run()
    }
} catch {
    PGHAPlayLabOnly.exit(withError: error)
}
