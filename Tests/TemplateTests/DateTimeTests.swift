import Foundation
import OrderedCollections
import PGHACore
import Testing

@testable import Template

/// `now()` and the `strftime` filter, as Ansible's templating provides them (values checked
/// against Python's time.strftime / datetime for the same instants).
@Suite struct DateTimeTests {
    let engine = TemplateEngine()
    let here = SourceLocation(file: "play.yml", line: 3, column: 5)

    private func render(_ text: String) throws -> Value {
        try engine.render(text, variables: DictionaryVariables([:]), location: here)
    }

    @Test func strftimeFilterFormatsAGivenEpochInUTC() throws {
        // python3 -c "import time; print(time.strftime('%Y-%m-%d %H:%M:%S %a %j', time.gmtime(1700000000)))"
        #expect(try render("{{ '%Y-%m-%d %H:%M:%S %a %j' | strftime(1700000000, utc=true) }}") == "2023-11-14 22:13:20 Tue 318")
        #expect(try render("{{ '%s' | strftime(second='86400.7', utc=true) }}") != "")
        #expect(throws: PGHAError.self) { try render("{{ '%Y' | strftime('soon') }}") }
    }

    @Test func nowIsADatetimeWithAttributesAndMethods() throws {
        let before = Date()
        let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: before).year!
        #expect(try render("{{ now(utc=true).year }}") == .int(year))
        #expect(try render("{{ now(true, '%Y') }}") == .string(String(year)))
        let printed = try render("{{ now(utc=true) }}").stringValue ?? ""
        // Python's str(datetime): "YYYY-MM-DD HH:MM:SS" with ".ffffff" unless the microseconds are 0.
        #expect(printed.range(of: #"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{6})?$"#, options: .regularExpression) != nil, "\(printed)")
        let iso = try render("{{ now(utc=true).isoformat() }}").stringValue ?? ""
        #expect(iso.contains("T"))
        #expect(try render("{{ now(utc=true).strftime('%Y') }}") == .string(String(year)))
        guard case .double(let stamp) = try render("{{ now().timestamp() }}") else {
            Issue.record("timestamp() is not a float")
            return
        }
        #expect(abs(stamp - before.timeIntervalSince1970) < 60)
    }
}
