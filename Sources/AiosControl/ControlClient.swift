public import AiosCore
import AiosLinux
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Talks to the daemon over its control socket. Blocking; one connection per request.
public struct ControlClient: Sendable {
    /// The socket's path.
    public var socketPath: String

    /// A client for the daemon at `socketPath`.
    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// Sends one request and returns its result.
    /// - Throws: `AiosError`: `.unavailable` when no daemon answers, `.permissionDenied` when the
    ///   socket refuses this user, or the daemon's own error.
    public func send(_ method: String, _ params: JSONValue = [:], progress: ((CallProgress) -> Void)? = nil) throws
        -> JSONValue
    {
        try send(EncodedRequest(method, params), progress: progress)
    }

    /// Sends one request encoded beforehand (a benchmark times the call, not the encoding).
    public func send(_ request: EncodedRequest, progress: ((CallProgress) -> Void)? = nil) throws -> JSONValue {
        guard request.bytes.count <= ControlRequest.maxBytes else {
            throw AiosError(
                .invalidInput,
                "the request is \(request.bytes.count >> 20) MiB, over the control socket's \(ControlRequest.maxBytes >> 20) MiB; split a big batch into several calls",
                location: InputLocation(field: "input"))
        }
        let fd: Int32
        do {
            fd = try UnixSocket.connect(path: socketPath)
        } catch {
            if error.errno == EACCES {
                throw AiosError(
                    .permissionDenied,
                    "permission denied opening the control socket \(socketPath): run as root (or a member of the daemon's control group)"
                )
            }
            throw AiosError(
                .unavailable,
                "the daemon is not reachable at \(socketPath) (\(error)); start it with `aios-net daemon` (or `systemctl start aios-net`), or point AIOS_NET_SOCKET / --socket at it",
                cause: error)
        }
        defer { close(fd) }
        // A daemon that refuses this peer answers and closes before reading the request, so the
        // write can fail (EPIPE) with the refusal already waiting to be read: read it first.
        var writeError: (any Error)?
        do {
            try UnixSocket.writeAll(fd, request.bytes)
        } catch {
            writeError = error
        }
        do {
            var reader = LineReader(fd: fd)
            var message: JSONValue
            repeat {
                guard let line = try reader.next() else {
                    if let writeError { throw writeError }
                    throw AiosError(.unavailable, "the daemon closed the connection without answering")
                }
                message = try JSONValue(parsing: line)
                if let report = message["progress"] {
                    if let progress, let value = try? report.decode(as: CallProgress.self) { progress(value) }
                }
            } while message["progress"] != nil
            let response = try message.decode(as: ControlResponse.self)
            if let error = response.error { throw error.aiosError }
            return response.result ?? .null
        } catch let error as AiosError {
            throw error
        } catch {
            let cause = writeError ?? error
            throw AiosError(.unavailable, "lost the connection to the daemon at \(socketPath): \(cause)", cause: cause)
        }
    }
}

/// One request's wire form: `ControlRequest` as one JSON line.
public struct EncodedRequest: Sendable {
    /// The line's bytes, newline included.
    public let bytes: [UInt8]

    /// `method` with `params`, written without re-encoding `params` (a 100k-entry batch).
    public init(_ method: String, _ params: JSONValue = [:]) {
        bytes = JSONValue.object(["method": .string(method), "params": params]).jsonLine
    }
}
