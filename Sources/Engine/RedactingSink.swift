import PGHACore

/// Masks every known secret in the events passing to `inner`: the last door before any output, so
/// a secret that reached a task name, a warning or a result through a path nobody foresaw still
/// never leaves the process.
struct RedactingSink: EventSink {
    let inner: any EventSink
    let redactor: Redactor

    func handle(_ event: EngineEvent) {
        guard !redactor.isEmpty else { return inner.handle(event) }
        switch event {
        case .playStart(let name, let hosts, let location):
            inner.handle(.playStart(name: redactor.redact(name), hosts: hosts, location: location))
        case .taskStart(let name, let location, let isHandler, let hosts):
            inner.handle(.taskStart(name: redactor.redact(name), location: location, isHandler: isHandler, hosts: hosts))
        case .hostResult(let task, var result):
            result.result = redactor.redact(value: result.result)
            result.itemLabel = result.itemLabel.map(redactor.redact)
            result.diffs = result.diffs.map { diff in
                DiffText(
                    before: redactor.redact(diff.before), after: redactor.redact(diff.after),
                    beforeHeader: redactor.redact(diff.beforeHeader), afterHeader: redactor.redact(diff.afterHeader))
            }
            inner.handle(.hostResult(task: redactor.redact(task), result))
        case .included(let file, let hosts, let itemLabel):
            inner.handle(.included(file: redactor.redact(file), hosts: hosts, itemLabel: itemLabel.map(redactor.redact)))
        case .progress(let task, let running, let elapsed):
            inner.handle(.progress(task: redactor.redact(task), running: running, elapsed: elapsed))
        case .noHostsMatched(let pattern):
            inner.handle(.noHostsMatched(pattern: redactor.redact(pattern)))
        case .warning(let message):
            inner.handle(.warning(redactor.redact(message)))
        case .noHostsRemaining, .recap:
            inner.handle(event)
        }
    }
}
