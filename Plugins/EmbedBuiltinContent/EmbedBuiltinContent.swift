import Foundation
import PackagePlugin

/// Compiles the repository's roles/ and playbooks/ into the BuiltinContent target: every file under
/// them becomes an entry of one generated Swift table, so the binary carries the built-in roles and
/// playbooks and the repository keeps them in one place. The files are the command's inputs, so an
/// edited, added or removed file regenerates the table on the next build.
@main
struct EmbedBuiltinContent: BuildToolPlugin {
    static let directories = ["roles", "playbooks"]

    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        var relativePaths: [String] = []
        for directory in Self.directories {
            relativePaths += try files(under: directory, root: root)
        }
        relativePaths.sort()
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedFiles.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(relativePaths.count) files of roles/ and playbooks/",
                executable: try context.tool(named: "BuiltinContentGenerator").url,
                arguments: ["content", output.path, root.path] + relativePaths,
                inputFiles: relativePaths.map { root.appending(path: $0) },
                outputFiles: [output])
        ]
    }

    /// Regular files below `directory`, relative to `root`, hidden files and editor leftovers left out.
    private func files(under directory: String, root: URL) throws -> [String] {
        let base = root.appending(path: directory)
        guard let enumerator = FileManager.default.enumerator(
            at: base, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
        else { return [] }
        var result: [String] = []
        for case let url as URL in enumerator {
            guard try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true,
                !url.lastPathComponent.hasSuffix("~")
            else { continue }
            let relative = url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count)
            result.append(String(relative.drop(while: { $0 == "/" })))
        }
        return result
    }
}
