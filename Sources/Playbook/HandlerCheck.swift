import Foundation
import OrderedCollections
import PGHACore

/// Every `notify` of a task certain to run names one of the play's handlers or a topic one
/// listens to. Tasks that may not run (under a condition, in a rescue, handlers, included files)
/// are checked by the engine when they notify, as Ansible checks them.
struct HandlerCheck {
    let session: LoadSession

    func checkNotifications(_ play: Play) throws {
        if session.handlersUnknowable { return }
        var names: Set<String> = session.dynamicHandlerNames
        for handler in play.handlers {
            if let name = handler.name {
                if Diagnostics.isTemplated(name) { return }
                names.insert(name)
                if let role = handler.role { names.insert("\(role.name) : \(name)") }
            }
            for topic in handler.listen {
                if Diagnostics.isTemplated(topic) { return }
                names.insert(topic)
                if let role = handler.role { names.insert("\(role.name) : \(topic)") }
            }
        }
        let sortedNames = names.sorted()
        func check(_ task: Task) throws {
            for (index, notified) in task.notify.enumerated() where !names.contains(notified) {
                if Diagnostics.isTemplated(notified) { continue }
                let location = index < task.notifyLocations.count ? task.notifyLocations[index] : task.location
                let error = Diagnostics.error(
                    "notify: no handler named '\(notified)' and no handler listening to it in this play"
                        + Diagnostics.suggestion(for: notified, in: sortedNames),
                    at: location,
                    hint: names.isEmpty ? "this play has no handlers" : nil)
                guard session.collectErrors else { throw error }
                session.record(error)
            }
        }
        func walk(_ nodes: [TaskNode]) throws {
            for node in nodes {
                switch node {
                case .task(let task) where task.keywords.when.isEmpty: try check(task)
                case .task: continue
                case .block(let block):
                    try walk(block.block)
                    try walk(block.always)
                }
            }
        }
        try walk(play.preTasks)
        try walk(play.roles)
        try walk(play.tasks)
        try walk(play.postTasks)
    }

    static func flattenHandlers(_ nodes: [TaskNode]) throws -> [Task] {
        var result: [Task] = []
        for node in nodes {
            switch node {
            case .task(let task): result.append(task)
            case .block(let block):
                result += try flattenHandlers(block.block)
            }
        }
        return result
    }
}
