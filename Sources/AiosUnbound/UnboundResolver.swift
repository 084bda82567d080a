import AiosLinux
internal import CUnbound
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One DNS answer as libunbound reports it.
public struct DNSAnswer: Sendable, Hashable, Codable {
    /// The name asked for.
    public var name: String
    /// The type asked for (1 A, 28 AAAA, 5 CNAME, 15 MX, 16 TXT, …).
    public var type: Int
    /// DNS rcode (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED).
    public var rcode: Int
    /// The records of the asked type, in text form (`192.0.2.1`, `10 mail.example.`).
    public var records: [String]
    /// Their TTL in seconds (0 when there are none).
    public var ttl: Int
    /// The final name after following CNAMEs, when it differs.
    public var canonicalName: String?
    /// True when the name does not exist.
    public var nxdomain: Bool
    /// DNSSEC: validated secure / bogus (both false without trust anchors).
    public var secure: Bool
    public var bogus: Bool

    /// The rcode's name.
    public var rcodeName: String {
        switch rcode {
        case 0: "NOERROR"
        case 1: "FORMERR"
        case 2: "SERVFAIL"
        case 3: "NXDOMAIN"
        case 4: "NOTIMP"
        case 5: "REFUSED"
        default: "RCODE\(rcode)"
        }
    }
}

/// Why a lookup failed (not a DNS-level failure: those are answers with an rcode).
public struct UnboundError: Error, Sendable, CustomStringConvertible {
    /// libunbound's error code (negative), or 0 for a timeout.
    public var code: Int32
    /// Its text.
    public var message: String
    public var description: String { message }
}

/// Lookups through libunbound, each in a fresh context on a thread of its own (threads, not
/// fork: see swift-notes snag 9), with a deadline: libunbound itself would retry a silent
/// server for a long time.
public struct UnboundResolver: Sendable {
    /// Forwarders, `IP` or `IP@port`; empty means recursion from the root hints.
    public let forwarders: [String]
    /// DNS-over-TLS to the forwarders.
    public let tls: Bool

    /// A resolver asking `forwarders`.
    public init(forwarders: [String], tls: Bool = false) {
        self.forwarders = forwarders
        self.tls = tls
    }

    /// Resolves `name` (class IN) within `timeout` seconds.
    /// - Throws: `UnboundError` (bad forwarder address → syntax error; no answer in time → timeout).
    public func resolve(_ name: String, type: Int = 1, timeout: Double = 5) async throws -> DNSAnswer {
        let forwarders = forwarders
        let tls = tls
        return try await Offload.run {
            try Self.resolveBlocking(name, type: type, forwarders: forwarders, tls: tls, timeout: timeout)
        }
    }

    private static func check(_ code: Int32, _ what: String) throws {
        guard code == 0 else {
            throw UnboundError(code: code, message: "\(what): \(String(cString: ub_strerror(code)))")
        }
    }

    static func resolveBlocking(
        _ name: String, type: Int, forwarders: [String], tls: Bool, timeout: Double
    ) throws -> DNSAnswer {
        guard let context = ub_ctx_create() else { throw UnboundError(code: -2, message: "ub_ctx_create failed") }
        defer { ub_ctx_delete(context) }
        try check(ub_ctx_async(context, 1), "ub_ctx_async")
        // Forwarders on 127.0.0.x (the managed resolver) must be queried.
        try check(ub_ctx_set_option(context, "do-not-query-localhost:", "no"), "do-not-query-localhost")
        for forwarder in forwarders {
            try check(ub_ctx_set_fwd(context, forwarder), "forwarder \(forwarder)")
        }
        if tls { try check(ub_ctx_set_tls(context, 1), "ub_ctx_set_tls") }
        let box = ResultBox()
        let pointer = Unmanaged.passRetained(box).toOpaque()
        var asyncID: Int32 = 0
        let started = ub_resolve_async(context, name, Int32(type), 1, pointer, resolveCallback, &asyncID)
        if started != 0 {
            Unmanaged<ResultBox>.fromOpaque(pointer).release()
            try check(started, "resolve \(name)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        var descriptor = pollfd(fd: ub_fd(context), events: Int16(POLLIN), revents: 0)
        while !box.done {
            let remaining = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
            if remaining == 0 {
                _ = ub_cancel(context, asyncID)
                Unmanaged<ResultBox>.fromOpaque(pointer).release()
                throw UnboundError(code: 0, message: "no answer for \(name) within \(timeout) s")
            }
            let ready = poll(&descriptor, 1, min(remaining, 200))
            if ready > 0 { _ = ub_process(context) }
        }
        if box.error != 0 { try check(box.error, "resolve \(name)") }
        guard let answer = box.answer else { throw UnboundError(code: -4, message: "no result for \(name)") }
        return answer
    }
}

/// Carries the callback's result back to the polling thread.
private final class ResultBox: @unchecked Sendable {
    var done = false
    var error: Int32 = 0
    var answer: DNSAnswer?
}

private let resolveCallback: ub_callback_type = { userdata, error, result in
    guard let userdata else { return }
    let box = Unmanaged<ResultBox>.fromOpaque(userdata).takeRetainedValue()
    box.error = error
    if let result {
        box.answer = DNSAnswer(result.pointee)
        ub_resolve_free(result)
    }
    box.done = true
}

extension DNSAnswer {
    init(_ result: ub_result) {
        var records: [String] = []
        // For SERVFAIL/REFUSED libunbound leaves `data` itself NULL.
        if let data = result.data, let lengths = result.len {
            var index = 0
            while let item = data[index] {
                let bytes = Array(UnsafeRawBufferPointer(start: item, count: Int(lengths[index])))
                records.append(DNSRecordText.format(type: Int(result.qtype), rdata: bytes))
                index += 1
            }
        }
        let asked = result.qname.map { String(cString: $0) } ?? ""
        let canonical = result.canonname.map { String(cString: $0) }
        self.init(
            name: asked, type: Int(result.qtype), rcode: Int(result.rcode), records: records,
            ttl: records.isEmpty ? 0 : Int(result.ttl),
            canonicalName: canonical.flatMap {
                $0.trimmingCharacters(in: ["."]) == asked.trimmingCharacters(in: ["."]) ? nil : $0
            },
            nxdomain: result.nxdomain != 0, secure: result.secure != 0, bogus: result.bogus != 0)
    }
}
