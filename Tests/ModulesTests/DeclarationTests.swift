import Foundation
import PGHACore
import Testing

@testable import Modules

/// Every module is declared once, in a file named after it, and reads only arguments its
/// declaration has: a misspelt argument name fails here, not on every host at run time.
@Suite struct DeclarationTests {
    static let sources: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url.appendingPathComponent("Sources/Modules").path
            }
        }
        return "Sources/Modules"
    }()

    static func files(_ folder: String) throws -> [(name: String, text: String)] {
        let directory = sources + "/" + folder
        return try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".swift") }.sorted()
            .map { ($0, try String(contentsOfFile: directory + "/" + $0, encoding: .utf8)) }
    }

    static func typeName(_ module: any Module.Type) -> String { String(describing: module) }

    /// The argument names a source text reads through `args`, with whether the read assumes the
    /// value is always there (`requiredString` and friends).
    static func reads(in text: String) -> [(name: String, assumesPresent: Bool)] {
        let pattern = #/args(?:\.(string|bool|int|stringItems|required|requiredString|requiredBool|requiredInt)\(|\[)"([A-Za-z_]+)"/#
        return text.matches(of: pattern).map { match in
            (String(match.output.2), match.output.1.map { $0.hasPrefix("required") } ?? false)
        }
    }

    @Test func everyModuleLivesInAFileNamedAfterIt() throws {
        let library = try Self.files("Library")
        let declared = library.flatMap { file in
            file.text.matches(of: #/public enum (\w+): Module \{/#).map { (file.name, String($0.output.1)) }
        }
        // One module per file, the file named after the type (CopyModule in Copy.swift).
        for (file, type) in declared {
            #expect(file == type.replacingOccurrences(of: "Module", with: "") + ".swift", "\(type) is in \(file)")
        }
        #expect(Set(declared.map(\.0)).count == declared.count, "a file declares more than one module")
        #expect(library.count == declared.count, "Library/ holds files that are not modules")
        // And each is registered.
        let registered = Set(ModuleRegistry.all.map(Self.typeName))
        #expect(registered == Set(declared.map(\.1)), "ModuleRegistry.all and Library/ differ")
    }

    @Test func modulesReadOnlyDeclaredArguments() throws {
        let byType = Dictionary(uniqueKeysWithValues: ModuleRegistry.all.map { (Self.typeName($0), $0) })
        var checked = 0
        for file in try Self.files("Library") {
            let typeName = file.name.replacingOccurrences(of: ".swift", with: "Module")
            let module = try #require(byType[typeName], "\(file.name) holds no registered module")
            let spec = module.declaration.arguments
            for read in Self.reads(in: file.text) {
                checked += 1
                let argument = spec.argument(named: read.name)
                let isFreeForm = read.name == "_raw_params" && spec.freeForm != .none
                #expect(argument != nil || isFreeForm, "\(file.name) reads '\(read.name)', which \(module.name) does not declare")
                if read.assumesPresent, let argument {
                    #expect(
                        argument.required || argument.defaultValue != nil,
                        "\(file.name) reads '\(read.name)' as always given, but it is neither required nor defaulted")
                }
            }
        }
        #expect(checked > 300, "only \(checked) argument reads found: has the pattern gone stale?")
    }

    @Test func supportCodeReadsArgumentsSomeModuleDeclares() throws {
        let all = Set(ModuleRegistry.all.flatMap { $0.declaration.arguments.arguments.map(\.name) })
        for file in try Self.files("Support") {
            for read in Self.reads(in: file.text) {
                #expect(all.contains(read.name), "\(file.name) reads '\(read.name)', which no module declares")
            }
        }
    }

    @Test func guaranteedReadsThrowInsteadOfCrashing() throws {
        let spec = ArgumentSpec([.init("name", .string, required: true), .init("state", .string, default: "present"), .init("note", .string)])
        let args = try spec.validate(["name": "x"], module: "demo", locations: [:], taskLocation: SourceLocation(file: "t"), allowTemplates: false)
        #expect(try args.requiredString("name") == "x")
        #expect(try args.requiredString("state") == "present")
        // Not guaranteed by the spec, or not declared at all: an error naming the module, no crash.
        let optional = #expect(throws: PGHAError.self) { try args.requiredString("note") }
        #expect(optional?.message == "module 'demo' reads 'note' as always given, but its spec neither requires it nor gives a default")
        let typo = #expect(throws: PGHAError.self) { try args.requiredString("nmae") }
        #expect(typo?.message == "module 'demo' reads 'nmae', which its spec does not declare")
        #expect(throws: PGHAError.self) { try args.requiredBool("name") }
    }
}
