import ArgumentParser
import Foundation

// Exit codes follow ansible-playbook's, so wrapper scripts keep working:
// 0 ok, 1 error, 2 a host failed, 4 unreachable or parse error, 5 bad options, 99 interrupted.
SignalHandling.installInterruptHandler()
let arguments = Array(CommandLine.arguments.dropFirst())
let code = await CommandLineEntry.run(arguments)
exit(code)
