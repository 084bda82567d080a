public import AiosCore
import AiosStore
import Foundation
import Logging

extension GoalReconciler {
    /// A source read `path`: its goals become the desired ones (new ones applied, changed ones
    /// reconciled, dropped ones retracted). An invalid file changes nothing: its goals keep their
    /// last generation in force and say `invalid`; the error is logged once.
    public func fileChanged(_ path: String, content: Result<String, AiosError>) async {
        await filesChanged([(path, content)])
    }

    /// Several files read at once (a source's first reading, a burst of drops): every goal is
    /// queued before the first suspension, so one pass takes them all, and the files' records
    /// are written in one transaction.
    public func filesChanged(_ changes: [(path: String, content: Result<String, AiosError>)]) async {
        let records = changes.map { read($0.path, content: $0.content) }
        try? await store.saveGoalFiles(records)
    }

    /// Takes one file's reading into the desired goals; the record to store for it.
    func read(_ path: String, content: Result<String, AiosError>) -> GoalFileRecord {
        let now = clock.nowMs()
        let previous = files[path] ?? []
        let parsed = content.flatMap { text in
            Result { try GoalFile.parse(text, file: path, kinds: kinds) }.mapError {
                $0 as? AiosError ?? AiosError(.invalidInput, "\($0)", location: InputLocation(file: path))
            }
        }
        .flatMap { documents -> Result<[GoalDocument], AiosError> in
            for document in documents {
                if let (other, _) = files.first(where: { $0.key != path && $0.value.contains(document.name) }) {
                    return .failure(
                        AiosError(
                            .invalidInput, "the name \(document.name) is already used by a goal in \(other)",
                            location: InputLocation(file: path, field: "name")))
                }
            }
            return .success(documents)
        }
        switch parsed {
        case .failure(let error):
            let text = error.description
            if fileErrors[path] != text { logger.error("goal file refused: \(text)") }
            fileErrors[path] = text
            for name in previous where desired[name] != nil {
                let generation = records[name]?.appliedGeneration ?? "none"
                invalid[name] = "\(text) — keeping generation \(generation)"
                enqueue(name)
            }
            return GoalFileRecord(path: path, error: text, names: previous, updatedMs: now)
        case .success(let documents):
            fileErrors[path] = nil
            let names = documents.map(\.name)
            for name in previous where !names.contains(name) {
                desired[name] = nil
                invalid[name] = nil
                enqueue(name)
            }
            for document in documents {
                let wasInvalid = invalid.removeValue(forKey: document.name) != nil
                let record = records[document.name]
                if desired[document.name] != document || wasInvalid || record == nil
                    || record?.generation != document.generation || record?.phase != "applied"
                {
                    desired[document.name] = document
                    enqueue(document.name)
                }
            }
            files[path] = names
            requeueConflicts()
            return GoalFileRecord(path: path, error: nil, names: names, updatedMs: now)
        }
    }

    /// Goals in conflict look again when the goals change: a rival that went away or now agrees
    /// lets them apply.
    func requeueConflicts() {
        for (name, record) in records where record.phase == "conflict" { enqueue(name) }
    }

    /// A source's file is gone: its goals are retracted.
    public func fileRemoved(_ path: String) async {
        fileErrors[path] = nil
        for name in files.removeValue(forKey: path) ?? [] {
            desired[name] = nil
            invalid[name] = nil
            enqueue(name)
        }
        requeueConflicts()
        try? await store.deleteGoalFile(path)
    }

    /// A source finished its first reading of `paths` under `prefix`: goals of files it no longer
    /// has (deleted while the daemon was down) are retracted.
    public func sourceSynced(prefix: String, paths: Set<String>) async {
        defer { sourcesRead.open() }
        for path in files.keys where path.hasPrefix(prefix) && !paths.contains(path) {
            await fileRemoved(path)
        }
        // Goals stored without a file record (a crash between the two) whose file is gone.
        for (name, record) in records {
            let file = String(record.source.split(separator: ":").first ?? "")
            if file.hasPrefix(prefix), !paths.contains(file), !files.values.contains(where: { $0.contains(name) }) {
                desired[name] = nil
                enqueue(name)
            }
        }
    }
}
