import Foundation
import OrderedCollections
import PGHACore
import Playbook
import Transport
import Vault

/// One task on one host: conditions, loop, retries, the action itself, result conditions and
/// registration. Holds only values, so hosts run in parallel without sharing state.
struct HostInvocation: Sendable {
    let task: Task
    let host: String
    let variables: VariableStack
    let delegate: (name: String, variables: VariableStack)?
    let isHandler: Bool
    let options: RunOptions
    let templating: Templating
    let connector: any Connector
    let connections: ConnectionPool
    let loader: any DynamicLoader
    let redactor: Redactor
    let vault: VaultContext
    let sink: any EventSink
    /// When the task started and every request it sends its host, counted (see `TaskMeter`).
    let meter = TaskMeter()
    /// The names and topics the play's handlers answer to (nil when some are templated, so
    /// unknowable): a changed task notifying anything else stops the run.
    var handlerNames: Set<String>? = nil

    func run() async -> TaskOutcome {
        meter.started = Date()
        do {
            if let loop = task.loop {
                let outcome = try await runLoop(loop)
                return stoppedByInterrupt(outcome) ? Self.interrupted(host) : outcome
            }
            let (holds, failedCondition) = try templating.conditionsHold(task.keywords.when, variables)
            if !holds {
                return finish(skippedResult(failedCondition), status: .skipped)
            }
            var outcome = try await runWithRetries(variables, item: nil)
            if stoppedByInterrupt(outcome) { return Self.interrupted(host) }
            report(outcome, itemLabel: nil)
            registerIfNeeded(&outcome)
            markDelegatedFacts(&outcome)
            return outcome
        } catch where _Concurrency.Task.isCancelled {
            // Ctrl-C: whatever the action threw on its way out, the run is stopping.
            return Self.interrupted(host)
        } catch let error as PGHAError {
            let failure = failureOutcome(error)
            report(failure, itemLabel: nil)
            return failure
        } catch {
            let failure = failureOutcome(PGHAError(.execution, "\(error)", at: task.location))
            report(failure, itemLabel: nil)
            return failure
        }
    }

    /// Ctrl-C stopped the action (its command was killed, its channel closed): it did not fail on
    /// its own, so it is neither reported nor counted.
    private func stoppedByInterrupt(_ outcome: TaskOutcome) -> Bool {
        _Concurrency.Task.isCancelled && (outcome.status == .failed || outcome.status == .unreachable)
    }

    static func interrupted(_ host: String) -> TaskOutcome {
        var outcome = TaskOutcome(host: host, status: .skipped, result: ["changed": false, "msg": "interrupted"])
        outcome.interrupted = true
        return outcome
    }

    private func skippedResult(_ condition: String?) -> Value {
        var result: OrderedDictionary<String, Value> = [
            "changed": false, "skip_reason": "Conditional result was False", "skipped": true,
        ]
        if let condition { result["false_condition"] = .string(condition) }
        return .dict(result)
    }

    private func finish(_ result: Value, status: HostStatus) -> TaskOutcome {
        var outcome = TaskOutcome(host: host, status: status, result: result)
        report(outcome, itemLabel: nil)
        registerIfNeeded(&outcome)
        return outcome
    }

    private func markDelegatedFacts(_ outcome: inout TaskOutcome) {
        if let delegate, task.extra["delegate_facts"].map(Templating.truthy) == true {
            outcome.factsDelegatedTo = delegate.name
        }
    }

    private func registerIfNeeded(_ outcome: inout TaskOutcome) {
        if let name = task.register { outcome.registered = (name, outcome.result) }
    }

    private func failureOutcome(_ error: PGHAError) -> TaskOutcome {
        let message = redactor.redact(error.description)
        let status: HostStatus = error.kind == .unreachable ? .unreachable : .failed
        var result: OrderedDictionary<String, Value> = ["changed": false, "msg": .string(message)]
        if status == .unreachable { result["unreachable"] = true } else { result["failed"] = true }
        var outcome = TaskOutcome(host: host, status: status, result: .dict(result))
        outcome.ignored = status == .failed && ((try? ignoreErrors(variables)) ?? false)
        registerIfNeeded(&outcome)
        return outcome
    }

    private func ignoreErrors(_ stack: VariableStack) throws -> Bool {
        try templating.bool(task.keywords.ignoreErrors, stack, at: task.location) ?? false
    }

    private func noLog(_ stack: VariableStack) -> Bool {
        (try? templating.bool(task.keywords.noLog, stack, at: task.location)) ?? false
    }

    // MARK: - Loops

    private func runLoop(_ loop: Loop) async throws -> TaskOutcome {
        let items: [Value]
        do {
            items = try LoopExpander.items(for: loop, variables: variables, templating: templating, task: task)
        } catch let error as PGHAError where error.kind == .undefinedVariable {
            // A loop over something undefined is not an error when the task's conditions, checked
            // without an item, already skip it (Ansible's task executor defers the loop's error).
            if case (false, let failedCondition)? = try? templating.conditionsHold(task.keywords.when, variables) {
                return finish(skippedResult(failedCondition), status: .skipped)
            }
            throw error
        }
        var results: [Value] = []
        var anyChanged = false
        var anyFailed = false
        var allSkipped = !items.isEmpty
        var combined = TaskOutcome(host: host, status: .ok, result: .null)
        // set_fact in a loop sees what earlier items set.
        var base = variables
        for (index, item) in items.enumerated() {
            let itemStarted = Date()
            let itemRoundTrips = meter.roundTrips
            var stack = base
            stack.set(loop.loopVar, item)
            stack.set("ansible_loop_var", .string(loop.loopVar))
            if let indexVar = loop.indexVar { stack.set(indexVar, .int(index)) }
            if loop.extended {
                stack.set("ansible_loop", LoopExpander.loopInfo(index: index, items: items))
            }
            let label = try loop.label.map { try templating.renderString(Templating.display($0), stack, at: loop.location) }
                ?? Templating.display(item)
            var outcome: TaskOutcome
            // Ctrl-C: the items left do not start, and the one under way is not reported.
            try _Concurrency.Task.checkCancellation()
            let (holds, failedCondition) = try templating.conditionsHold(task.keywords.when, stack)
            if holds {
                do {
                    outcome = try await runWithRetries(stack, item: item)
                } catch let error as PGHAError {
                    outcome = failureOutcome(error)
                }
                try _Concurrency.Task.checkCancellation()
                allSkipped = false
            } else {
                outcome = TaskOutcome(host: host, status: .skipped, result: skippedResult(failedCondition))
            }
            var itemResult = outcome.result.dictValue ?? [:]
            itemResult[loop.loopVar] = item
            itemResult["ansible_loop_var"] = .string(loop.loopVar)
            if let indexVar = loop.indexVar {
                itemResult[indexVar] = .int(index)
                itemResult["ansible_index_var"] = .string(indexVar)
            }
            if loop.extended { itemResult["ansible_loop"] = LoopExpander.loopInfo(index: index, items: items) }
            outcome.result = .dict(itemResult)
            var shownItem = outcome
            shownItem.ignored = false  // "...ignoring" belongs to the whole loop, not an item
            report(
                shownItem, itemLabel: noLog(stack) ? "(censored due to no_log)" : label, started: itemStarted,
                roundTrips: meter.roundTrips - itemRoundTrips)
            base.push(outcome.setFacts)
            results.append(outcome.result)
            if outcome.status == .changed { anyChanged = true }
            if outcome.status == .failed { anyFailed = true }
            if outcome.status == .unreachable {
                combined.status = .unreachable
            }
            for (k, v) in outcome.setFacts { combined.setFacts[k] = v }
            for (k, v) in outcome.includedVars { combined.includedVars[k] = v }
            for (k, v) in outcome.facts { combined.facts[k] = v }
            for (k, v) in outcome.moduleFacts { combined.moduleFacts[k] = v }
            combined.includes += outcome.includes
            combined.addHosts += outcome.addHosts
            if let pause = loop.pause, pause > 0 { try await _Concurrency.Task.sleep(nanoseconds: UInt64(pause * 1e9)) }
        }
        var result: OrderedDictionary<String, Value> = ["results": .list(results)]
        result["changed"] = .bool(anyChanged)
        if anyFailed {
            result["failed"] = true
            result["msg"] = "One or more items failed"
        } else {
            result["msg"] = "All items completed"
        }
        if allSkipped {
            result["skipped"] = true
            result["msg"] = "All items skipped"
        }
        if combined.status != .unreachable {
            combined.status = anyFailed ? .failed : allSkipped ? .skipped : anyChanged ? .changed : .ok
        }
        combined.result = .dict(result)
        if anyFailed { combined.ignored = try ignoreErrors(variables) }
        if anyChanged { (combined.notify, combined.missingHandler) = try notifications(variables) }
        if items.isEmpty {
            combined.status = .skipped
            combined.result = ["changed": false, "results": [], "skipped": true, "skipped_reason": "No items in the list"]
            report(combined, itemLabel: "")
        }
        registerIfNeeded(&combined)
        markDelegatedFacts(&combined)
        return combined
    }

    // MARK: - One execution (with until/retries)

    private func runWithRetries(_ stack: VariableStack, item: Value?) async throws -> TaskOutcome {
        guard let until = task.until else {
            return try await runOnce(stack)
        }
        var retries = 3
        if let value = task.retries {
            let rendered = try templating.render(value, stack, at: task.location)
            retries = rendered.intValue ?? Int(Templating.display(rendered)) ?? 3
        }
        retries = retries <= 0 ? 1 : retries + 1
        var delay = 5.0
        if let value = task.delay {
            let rendered = try templating.render(value, stack, at: task.location)
            delay = Double(Templating.display(rendered)) ?? 5
        }
        var attempt = 0
        while true {
            attempt += 1
            var outcome = try await runOnce(stack)
            var scoped = stack
            if let register = task.register { scoped.set(register, outcome.result) }
            scoped.push(outcome.result.dictValue ?? [:])
            let satisfied = try templating.evaluate(until, scoped)
            var result = outcome.result.dictValue ?? [:]
            result["attempts"] = .int(attempt)
            if satisfied || attempt >= retries {
                if !satisfied {
                    // Ansible reports one attempt fewer than it ran when retries run out.
                    result["attempts"] = .int(attempt - 1)
                    result["failed"] = true
                    outcome.status = .failed
                    outcome.ignored = try ignoreErrors(stack)
                }
                outcome.result = .dict(result)
                return outcome
            }
            sink.handle(.warning("FAILED - RETRYING: [\(host)]: \(task.displayName) (\(retries - attempt) retries left)."))
            if delay > 0 { try await _Concurrency.Task.sleep(nanoseconds: UInt64(delay * 1e9)) }
        }
    }

    /// Runs the action once, then applies changed_when / failed_when / ignore_errors.
    private func runOnce(_ stack: VariableStack) async throws -> TaskOutcome {
        let actionResult: ActionResult
        do {
            let limit = try TaskTimeout.seconds(of: task, stack, templating: templating)
            actionResult = try await TaskTimeout.run(seconds: limit, host: host) { try await perform(stack) }
        } catch let error as PGHAError where error.kind == .unreachable {
            await connections.drop(delegate?.name ?? host)
            throw error
        }
        var result = actionResult.values
        var changed = result["changed"]?.boolValue ?? false
        var failed = result["failed"]?.boolValue ?? false
        let skipped = result["skipped"]?.boolValue ?? false
        if task.changedWhen != nil || task.failedWhen != nil {
            var scoped = stack
            scoped.push(result)
            if let register = task.register { scoped.set(register, .dict(result)) }
            if let conditions = task.changedWhen {
                changed = try conditions.isEmpty ? false : templating.conditionsHold(conditions, scoped).0
                result["changed"] = .bool(changed)
            }
            if let conditions = task.failedWhen {
                // A list of failed_when conditions is joined with `and`, like `when`.
                failed = try conditions.isEmpty ? false : templating.conditionsHold(conditions, scoped).0
                result["failed_when_result"] = .bool(failed)
                result["failed"] = .bool(failed)
            }
        }
        var status: HostStatus = skipped ? .skipped : failed ? .failed : changed ? .changed : .ok
        if result["unreachable"]?.boolValue == true { status = .unreachable }
        var outcome = TaskOutcome(host: host, status: status, result: .dict(result))
        outcome.setFacts = actionResult.setFacts
        outcome.includedVars = actionResult.includedVars
        outcome.facts = actionResult.facts
        outcome.moduleFacts = actionResult.moduleFacts
        outcome.includes = actionResult.includes
        outcome.addHosts = actionResult.addHosts
        outcome.diffs = actionResult.diffs
        outcome.showResult = actionResult.verboseAlways
        if status == .failed { outcome.ignored = try ignoreErrors(stack) }
        if status == .changed { (outcome.notify, outcome.missingHandler) = try notifications(stack) }
        return outcome
    }

    /// The handler names a changed task notifies, and the first that no handler answers to.
    private func notifications(_ stack: VariableStack) throws -> ([String], missing: String?) {
        let names = try task.notify.map { try templating.renderString($0, stack, at: task.location) }
        return (names, handlerNames.flatMap { known in names.first { !known.contains($0) } })
    }

    // MARK: - Reporting

    /// Emits the host result; `started` and `roundTrips` are a loop item's own (the task's by default).
    private func report(_ outcome: TaskOutcome, itemLabel: String?, started: Date? = nil, roundTrips items: Int? = nil) {
        // A loop reports its items one by one; the whole-loop outcome is not printed again.
        if task.loop != nil && itemLabel == nil && outcome.result["results"] != nil { return }
        if outcome.missingHandler != nil { return }
        let itemLabel = itemLabel == "" ? nil : itemLabel
        let hidden = noLog(variables)
        var shown = redactor.redact(value: outcome.result)
        if case .list(let entries)? = outcome.result["diff"], var fields = shown.dictValue {
            fields["diff"] = .list(entries.map { entry in
                guard var fields = entry.dictValue, let before = fields["before"]?.stringValue,
                    let after = fields["after"]?.stringValue
                else { return redactor.redact(value: entry) }
                let redacted = redactor.redact(before: before, after: after)
                fields["before"] = .string(redacted.before)
                fields["after"] = .string(redacted.after)
                return redactor.redact(value: .dict(fields))
            })
            shown = .dict(fields)
        }
        if hidden {
            shown = [
                "censored": "the output has been hidden due to the fact that 'no_log: true' was specified for this result",
                "changed": .bool(outcome.status == .changed),
            ]
        }
        let diffs = hidden ? [] : outcome.diffs.map { diff -> DiffText in
            let redacted = redactor.redact(before: diff.before, after: diff.after)
            return DiffText(
                before: redacted.before, after: redacted.after, beforeHeader: diff.beforeHeader,
                afterHeader: diff.afterHeader)
        }
        sink.handle(
            .hostResult(
                task: task.displayName,
                HostResult(
                    host: host, action: task.action, status: outcome.status, result: shown, itemLabel: itemLabel, ignored: outcome.ignored,
                    delegatedTo: delegate?.name, diffs: options.diff ? diffs : [], showResult: outcome.showResult,
                    started: (started ?? meter.started).timeIntervalSince1970,
                    duration: Date().timeIntervalSince(started ?? meter.started),
                    roundTrips: items ?? meter.roundTrips, role: task.role?.name)))
    }

    // MARK: - The action

    private func perform(_ stack: VariableStack) async throws -> ActionResult {
        if let error = task.deferredError { throw error }
        let context = ActionContext(invocation: self, variables: stack)
        switch ActionRegistry.runner(for: task.action) {
        case .engine(let action)?: return try await action.run(context)
        case .module(let module)?: return try await ModuleAction.run(module, context)
        case nil: throw PGHAError(.semantic, "unknown module '\(task.actionAsWritten)'", at: task.location)
        }
    }

    /// The host's (or delegate's) connection, its requests counted for this task.
    func connection() async throws -> any Connection {
        let key = delegate?.name ?? host
        let shared = try await connections.connection(
            for: key, variables: delegate?.variables ?? variables, connector: connector)
        return CountingConnection(shared, meter: meter)
    }
}
