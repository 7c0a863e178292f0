import Foundation
import PGHACore
import Testing

@testable import Playbook

/// Random damage to valid files must end in a result or a located `PGHAError`, never a crash.
@Suite struct FuzzTests {
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let seed = """
        - hosts: all
          vars: {a: 1}
          roles:
            - role: r
              tags: [x]
          tasks:
            - name: t
              copy: src=a dest=/b
              when: a == 1
              notify: h
            - block:
                - command: echo {{ a }}
                  loop: [1, 2]
              rescue:
                - debug: msg=r
            - import_tasks: inc.yml
            - include_tasks: inc.yml
          handlers:
            - name: h
              ping:
        """

    static func mutate(_ text: String, _ rng: inout SplitMix64) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let pieces = [":", "-", " ", "{", "}", "[", "]", "'", "\"", "{{", "block:", "- ", "  ", "\t", "&a", "*a", "<<: *a", "!vault", "|", ">", "#", "~", "%", "@"]
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let index = Int.random(in: 0..<lines.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: lines.remove(at: index)
            case 1: lines.insert(lines[index], at: index)
            case 2: lines[index] = "  " + lines[index]
            case 3: lines[index] = String(lines[index].dropFirst(2))
            default:
                var chars = Array(lines[index])
                let at = chars.isEmpty ? 0 : Int.random(in: 0...chars.count, using: &rng)
                chars.insert(contentsOf: pieces.randomElement(using: &rng)!, at: at)
                lines[index] = String(chars)
            }
            if lines.isEmpty { lines = [""] }
        }
        return lines.joined(separator: "\n")
    }

    @Test func damagedPlaybooksNeverCrash() throws {
        let project = try Project([
            "roles/r/tasks/main.yml": "- ping:\n", "inc.yml": "- debug: msg=inc\n", "files/a": "a\n",
            "site.yml": Self.seed,
        ])
        _ = try project.load()
        var rng = SplitMix64(state: 20_261_127)
        var failures = 0
        for _ in 0..<400 {
            try project.write("site.yml", Self.mutate(Self.seed, &rng))
            do {
                _ = try project.load()
            } catch let error as PGHAError {
                failures += 1
                #expect(error.location?.file == project.path("site.yml"), "\(error)")
                #expect(!error.message.isEmpty)
            }
        }
        // Most damage is detected; a fuzzer that never breaks anything would test nothing.
        #expect(failures > 100)
    }
}
