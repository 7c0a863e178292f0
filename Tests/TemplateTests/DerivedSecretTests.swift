import Foundation
import OrderedCollections
import PGHACore
import Testing

@testable import Template

/// Strings templates compute from a secret are secrets too, so transformed secrets stay masked.
@Suite struct DerivedSecretTests {
    private let here = SourceLocation(file: "play.yml", line: 3, column: 5)

    private func render(_ text: String, _ redactor: Redactor) throws -> String {
        var engine = TemplateEngine()
        engine.derivedSecrets = redactor
        let variables = DictionaryVariables(["pw": "Derived-Secret-8080", "user": "admin", "host": "db1.example"])
        return Py.str(try engine.render(text, variables: variables, location: here))
    }

    @Test func filtersSlicesAndMethodsOfASecretAreRegistered() throws {
        let redactor = Redactor()
        redactor.register("Derived-Secret-8080")
        for template in [
            "{{ pw | b64encode }}", "{{ (user ~ ':' ~ pw) | b64encode }}", "{{ pw | hash('sha256') }}", "{{ pw | upper }}",
            "{{ pw[3:-3] }}", "{{ pw.lower() }}", "{{ pw | regex_replace('-', '_') }}", "{{ 'x=%s' | format(pw) | b64encode }}",
        ] {
            let derived = try render(template, redactor)
            #expect(redactor.redact("shown: " + derived) == "shown: " + Redactor.mask, "\(template) -> \(derived)")
        }
    }

    @Test func stringsWithoutASecretStayVisible() throws {
        let redactor = Redactor()
        redactor.register("Derived-Secret-8080")
        for template in ["{{ user | b64encode }}", "{{ host | upper }}", "{{ host[0:3] }}", "{{ pw | length }}"] {
            let shown = try render(template, redactor)
            #expect(redactor.redact(shown) == shown, "\(template)")
        }
        // Without a redactor nothing is tracked.
        let untracked = Redactor()
        #expect(try TemplateEngine().render("{{ pw | b64encode }}", variables: DictionaryVariables(["pw": "Derived-Secret-8080"]), location: here)
            == .string(Base64.encode("Derived-Secret-8080")))
        #expect(untracked.isEmpty)
    }
}
