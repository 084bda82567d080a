internal import CNftables
import Foundation

/// libnftables' text of a failed command.
public struct NftablesError: Error, Sendable, CustomStringConvertible {
    /// What libnftables printed to its error buffer.
    public var message: String
    public var description: String { message }

    /// Creates an error with libnftables' text.
    public init(message: String) { self.message = message }
}

/// One libnftables context. Not thread-safe (libnftables contexts are not): own one per task or
/// serialise access. Commands may be nft syntax or the JSON API (auto-detected by the library).
public final class NftablesContext {
    private let context: OpaquePointer

    /// Creates a context that answers in JSON (with handles; `terse` omits set contents).
    /// - Throws: `NftablesError` when libnftables cannot allocate one.
    public init(terse: Bool = false) throws(NftablesError) {
        guard let context = nft_ctx_new(UInt32(NFT_CTX_DEFAULT)) else {
            throw NftablesError(message: "nft_ctx_new failed")
        }
        self.context = context
        var flags = nft_ctx_output_get_flags(context) | UInt32(NFT_CTX_OUTPUT_JSON) | UInt32(NFT_CTX_OUTPUT_HANDLE)
        if terse { flags |= UInt32(NFT_CTX_OUTPUT_TERSE) }
        nft_ctx_output_set_flags(context, flags)
        _ = nft_ctx_buffer_output(context)
        _ = nft_ctx_buffer_error(context)
    }

    deinit { nft_ctx_free(context) }

    /// Runs `command` (one transaction) and returns the library's output.
    /// - Throws: `NftablesError` with the library's error text.
    public func run(_ command: String) throws(NftablesError) -> String {
        let status = nft_run_cmd_from_buffer(context, command)
        let output = nft_ctx_get_output_buffer(context).map { String(cString: $0) } ?? ""
        let error = nft_ctx_get_error_buffer(context).map { String(cString: $0) } ?? ""
        guard status == 0 else {
            throw NftablesError(
                message: error.isEmpty ? "libnftables returned \(status)" : error.trimmingTrailingNewlines())
        }
        return output
    }

    /// The library version from a listing's metainfo (needs CAP_NET_ADMIN), e.g. `1.0.6`.
    public func version() throws(NftablesError) -> String {
        let output = try run("list tables")
        guard let range = output.range(of: "\"version\": \"") ?? output.range(of: "\"version\":\"") else {
            return "unknown"
        }
        return String(output[range.upperBound...].prefix { $0 != "\"" })
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var out = self
        while out.last == "\n" { out.removeLast() }
        return out
    }
}
