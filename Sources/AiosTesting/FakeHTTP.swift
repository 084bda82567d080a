public import AiosCurl
import Synchronization

/// HTTPS in memory, for unit tests of what fetches: answers from a table of URLs (an unknown
/// one fails as a connection would), and records every request. Real HTTPS through libcurl is
/// tested against a local endpoint in namespaces.
public final class FakeHTTP: HTTPPerforming {
    private let state = Mutex<(answers: [String: Result<HTTPResponse, CurlError>], requests: [HTTPRequest])>(
        ([:], []))

    /// No answers yet.
    public init() {}

    /// `url` answers `status` with `body`.
    public func answer(_ url: String, status: Int = 200, body: [UInt8] = [], headers: [String: String] = [:]) {
        state.withLock {
            $0.answers[url] = .success(
                HTTPResponse(status: status, headers: headers, body: body, totalMs: 1, effectiveURL: url))
        }
    }

    /// `url` fails with `message` (as libcurl's `code`).
    public func fail(_ url: String, code: Int = 7, message: String) {
        state.withLock { $0.answers[url] = .failure(CurlError(code: code, message: message)) }
    }

    /// Every request, in order.
    public var requests: [HTTPRequest] { state.withLock { $0.requests } }

    public func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
        let answer = state.withLock { state in
            state.requests.append(request)
            return state.answers[request.url]
        }
        guard let answer else {
            throw CurlError(code: 7, message: "Failed to connect to \(request.url) (no answer in the fake)")
        }
        return try answer.get()
    }
}
