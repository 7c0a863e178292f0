// TEMPORARY (lab branch only): a minimal root command so `pgha-play lab` can be tried before the
// lead registers LabCommand in the real root command.
import ArgumentParser

struct PGHAPlayLabOnly: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pgha-play", subcommands: [LabCommand.self])
}

do {
    var command = try PGHAPlayLabOnly.parseAsRoot()
    if var asyncCommand = command as? AsyncParsableCommand {
        try await asyncCommand.run()
    } else {
        try command.run()
    }
} catch {
    PGHAPlayLabOnly.exit(withError: error)
}
