import Foundation
import PackagePlugin

/// Stamps the git commit the binary is built from into the pgha-play target (`pgha-play --version`).
/// The commit is read each time the package is planned and passed as an argument, so a new commit
/// reruns the generator and nothing else; without git or a checkout it is "unknown".
@main
struct StampBuildInfo: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "BuildInfo.swift")
        let commit = Self.gitCommit(in: context.package.directoryURL) ?? "unknown"
        return [
            .buildCommand(
                displayName: "Stamping the build with commit \(commit)",
                executable: try context.tool(named: "BuiltinContentGenerator").url,
                arguments: ["build-info", output.path, commit],
                inputFiles: [],
                outputFiles: [output])
        ]
    }

    /// `git rev-parse --short=12 HEAD` in `directory`, or nil (no git, no repository, an error).
    static func gitCommit(in directory: URL) -> String? {
        let candidates = ["/usr/bin/git", "/usr/local/bin/git", "/opt/homebrew/bin/git"]
        guard let git = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: git)
        process.arguments = ["-C", directory.path, "rev-parse", "--short=12", "HEAD"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return nil
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let commit = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return commit.allSatisfy(\.isHexDigit) && !commit.isEmpty ? commit : nil
    }
}
