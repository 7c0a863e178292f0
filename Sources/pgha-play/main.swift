import ArgumentParser
import Foundation

// Exit codes follow ansible-playbook's, so wrapper scripts keep working:
// 0 ok, 1 error, 2 a host failed, 4 unreachable or parse error, 5 bad options, 99 interrupted.
SignalHandling.installInterruptHandler()
let arguments = Array(CommandLine.arguments.dropFirst())
let code = await CommandLineEntry.run(arguments)
// Everything is written and every connection closed by now. _exit, not exit: exit's handlers
// include OpenSSL's cleanup, which crashed ("double free or corruption") once a libssh2 thread
// was still winding down; there is nothing left for them to do.
fflush(nil)  // every output stream
_exit(code)
