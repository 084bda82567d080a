import AiosControl
import AiosCore
import AiosLinux
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Serves the control socket: one JSON request per line, one JSON response per line.
///
/// Only root, or members of the configured group, may talk to it; the check uses the peer's
/// credentials from the kernel (SO_PEERCRED), and anyone else gets a clear refusal. Blocking socket
/// work runs on dedicated threads (`AcceptThreads`), never on the cooperative pool.
struct ControlServer: Service {
    let path: String
    let handler: RequestHandler
    let allowedGroup: UInt32?
    let onReady: @Sendable () -> Void
    let logger: Logger
    let limits = ConnectionLimits()
    let refusals = RateLimitedLine(what: "refused control connection", every: .seconds(10))

    func run() async throws {
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let listener: Int32
        do {
            listener = try UnixSocket.listen(path: path, mode: 0o666)
        } catch {
            throw AiosError(.unavailable, "cannot serve the control socket \(path): \(error)", cause: error)
        }
        let server = self
        let threads = AcceptThreads(
            listener: listener, name: "aios-control", admit: { server.admit($0) }, serve: { server.serve($0) })
        threads.start()
        logger.info("control socket listening at \(path)")
        onReady()
        try? await gracefulShutdown()
        threads.stop()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        unlink(path)
        logger.info("control socket closed")
    }

    /// Runs on the accepting thread before anything is read: a peer that may not talk to the
    /// daemon, or one over the connection caps, gets its refusal and is closed at once (the
    /// client reads the refusal even when its own write failed), holding no thread.
    private func admit(_ connection: Int32) -> Bool {
        let peer = try? UnixSocket.peerCredentials(connection)
        var refusal = refusal(for: peer)
        if refusal == nil, let peer, !limits.enter(uid: peer.uid) {
            refusal = AiosError(
                .unavailable,
                "too many control connections at once (\(ConnectionLimits.total) in all, \(ConnectionLimits.perUser) per user); try again when some have finished"
            )
        }
        guard let refusal else {
            UnixSocket.setTimeout(connection, seconds: Self.idleSeconds)
            return true
        }
        // Rate-limited: a flood of refused peers must not become a flood of log lines.
        if let line = refusals.note() {
            logger.warning("\(line): uid \(peer.map { "\($0.uid)" } ?? "?") pid \(peer.map { "\($0.pid)" } ?? "?")")
        }
        respond(connection, .failure(refusal))
        close(connection)
        return false
    }

    /// A connection with no complete request for this long is closed.
    static let idleSeconds = 60
    static let requestLimit = ControlRequest.maxBytes

    private func serve(_ connection: Int32) {
        let uid = (try? UnixSocket.peerCredentials(connection))?.uid
        defer {
            close(connection)
            if let uid { limits.leave(uid: uid) }
        }
        var reader = LineReader(fd: connection, limit: Self.requestLimit)
        while true {
            let line: [UInt8]
            do {
                guard let next = try reader.next() else { return }
                line = next
            } catch {
                if error.errno == EMSGSIZE {
                    respond(
                        connection,
                        .failure(
                            AiosError(
                                .invalidInput,
                                "the request is over \(Self.requestLimit >> 20) MiB; split a big batch into several calls"
                            )))
                }
                return
            }
            guard !line.isEmpty else { continue }
            let response: ControlResponse
            // What the call leaves for afterwards starts once its answer is written (or given up).
            let deferred = DeferredWork()
            defer { deferred.start() }
            do {
                let request = try JSONValue(parsing: line).decode(as: ControlRequest.self)
                // Long calls report progress as `{"progress": …}` lines before their response.
                let progress: @Sendable (CallProgress) -> Void = { report in
                    guard let value = try? JSONValue(encoding: report) else { return }
                    _ = try? UnixSocket.writeAll(
                        connection, JSONValue.object(["progress": value]).jsonLine)
                }
                response = Self.blocking { await handler.handle(request, progress: progress, deferring: deferred) }
            } catch {
                response = .failure(AiosError(.invalidInput, "the request is not a control message: \(error)"))
            }
            guard respond(connection, response) else { return }
        }
    }

    private func refusal(for peer: PeerCredentials?) -> AiosError? {
        guard let peer else {
            return AiosError(.permissionDenied, "cannot read the peer's credentials; refusing")
        }
        if peer.uid == 0 { return nil }
        if let allowedGroup, peer.gid == allowedGroup || ProcessGroups.of(pid: peer.pid).contains(allowedGroup) {
            return nil
        }
        let group = allowedGroup.map { " or members of group \($0)" } ?? ""
        return AiosError(
            .permissionDenied,
            "permission denied: the aios-net control socket accepts only root\(group); you are uid \(peer.uid) (run with sudo)"
        )
    }

    @discardableResult
    private func respond(_ connection: Int32, _ response: ControlResponse) -> Bool {
        guard let value = try? JSONValue(encoding: response) else { return false }
        return (try? UnixSocket.writeAll(connection, value.jsonLine)) != nil
    }

    /// Runs async work from a plain thread and waits for it.
    private static func blocking(_ body: @escaping @Sendable () async -> ControlResponse) -> ControlResponse {
        let box = ResponseBox()
        Task {
            let response = await body()
            box.value.withLock { $0 = response }
            box.done.signal()
        }
        box.done.wait()
        return box.value.withLock { $0 } ?? .failure(AiosError(.internal, "no response"))
    }
}

private final class ResponseBox: Sendable {
    let value = Mutex<ControlResponse?>(nil)
    let done = DispatchSemaphore(value: 0)
}
