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
        let threads = AcceptThreads(listener: listener, name: "aios-control") { server.serve($0) }
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

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        if let refusal = refusal(for: connection) {
            respond(connection, .failure(refusal))
            // Take the request off the socket (briefly) before closing: closing with it unread
            // resets the connection, and the client may lose the refusal to EPIPE.
            UnixSocket.setTimeout(connection, seconds: 1)
            var reader = LineReader(fd: connection)
            _ = try? reader.next()
            return
        }
        var reader = LineReader(fd: connection)
        while let line = try? reader.next() {
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

    private func refusal(for connection: Int32) -> AiosError? {
        guard let peer = try? UnixSocket.peerCredentials(connection) else {
            return AiosError(.permissionDenied, "cannot read the peer's credentials; refusing")
        }
        if peer.uid == 0 { return nil }
        if let allowedGroup, peer.gid == allowedGroup || ProcessGroups.of(pid: peer.pid).contains(allowedGroup) {
            return nil
        }
        logger.warning("refused control connection from uid \(peer.uid) pid \(peer.pid)")
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
