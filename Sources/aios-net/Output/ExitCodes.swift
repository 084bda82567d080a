import AiosCore
import ArgumentParser

/// The one exit-code table (documented in the README).
///
/// | code | meaning |
/// |---|---|
/// | 0 | success |
/// | 1 | failed: the tool or kernel failed, a guarded change was rolled back, doctor found a failure |
/// | 64 | usage error: unknown flag, missing argument |
/// | 65 | invalid input: bad JSON, wrong or unknown field, malformed policy file |
/// | 66 | not found: unknown tool, interface or guard |
/// | 69 | daemon unreachable |
/// | 75 | needs confirmation: run again with `--yes` |
/// | 77 | denied: by policy, or not allowed on the control socket |
enum ExitCodes {
    static let success: Int32 = 0
    static let failed: Int32 = 1
    static let usage: Int32 = 64
    static let invalidInput: Int32 = 65
    static let notFound: Int32 = 66
    static let unreachable: Int32 = 69
    static let needsConfirmation: Int32 = 75
    static let denied: Int32 = 77

    static func code(for error: AiosError) -> Int32 {
        switch error.code {
        case .invalidInput: invalidInput
        case .notFound: notFound
        case .unavailable: unreachable
        case .needsConfirmation: needsConfirmation
        case .policyDenied, .permissionDenied: denied
        default: failed
        }
    }
}
