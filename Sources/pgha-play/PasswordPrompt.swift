import Foundation
import PGHACore

/// Reads a password from the terminal without echo (never from a command line argument).
enum PasswordPrompt {
    static func read(_ prompt: String) throws -> String {
        guard isatty(STDIN_FILENO) == 1 else {
            throw PGHAError(.usage, "\(prompt.trimmingCharacters(in: .whitespaces)) needs a terminal to ask on")
        }
        guard let raw = getpass(prompt) else { throw PGHAError(.usage, "no password given") }
        return String(cString: raw)
    }
}
