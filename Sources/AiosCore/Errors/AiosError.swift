/// The one error type that crosses module boundaries.
///
/// Adapters throw their own small errors; the tool that called them wraps them here, keeping the
/// cause. `message` is one sentence for a person, saying what to do next. The default description
/// never includes the cause's secrets: only `code`, `message` and `location` are printed.
public struct AiosError: Error, Sendable, CustomStringConvertible {
    /// A stable, machine-readable category.
    public var code: Code
    /// One sentence for a person, with what to do next.
    public var message: String
    /// Where bad input was found: file, line, field path.
    public var location: InputLocation?
    /// The underlying error, if any.
    public var cause: (any Error & Sendable)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, location: InputLocation? = nil, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.location = location
        self.cause = cause
    }

    public var description: String {
        if let location, !location.description.isEmpty { return "\(location): \(message)" }
        return message
    }

    /// A stable error category. A struct over a private enum, so adding a code breaks no switch.
    public struct Code: Hashable, Sendable, CustomStringConvertible, Codable {
        private enum Value: String, CaseIterable {
            case invalidInput = "invalid_input"
            case policyDenied = "policy_denied"
            case needsConfirmation = "needs_confirmation"
            case notFound = "not_found"
            case kernel = "kernel"
            case unavailable = "unavailable"
            case permissionDenied = "permission_denied"
            case rolledBack = "rolled_back"
            case failed = "failed"
            case `internal` = "internal"
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// Input (a call's JSON, a policy or goal file) is malformed or out of range.
        public static let invalidInput = Code(.invalidInput)
        /// The policy gate refused the call.
        public static let policyDenied = Code(.policyDenied)
        /// The policy wants a person to confirm (`--yes`).
        public static let needsConfirmation = Code(.needsConfirmation)
        /// A named thing (tool, interface, rule, guard) does not exist.
        public static let notFound = Code(.notFound)
        /// The kernel refused an operation.
        public static let kernel = Code(.kernel)
        /// A service (daemon, database, program) cannot be reached.
        public static let unavailable = Code(.unavailable)
        /// The caller is not allowed (e.g. a non-root peer on the control socket).
        public static let permissionDenied = Code(.permissionDenied)
        /// A guarded change was applied, then undone because its probe failed.
        public static let rolledBack = Code(.rolledBack)
        /// The operation failed for another reason.
        public static let failed = Code(.failed)
        /// A bug in aios-net.
        public static let `internal` = Code(.internal)

        /// The wire name (`invalid_input`, …).
        public var description: String { value.rawValue }

        /// Parses a wire name; unknown names become `failed` so old clients survive new codes.
        public init(wireName: String) { self.value = Value(rawValue: wireName) ?? .failed }

        public init(from decoder: any Decoder) throws {
            self.init(wireName: try decoder.singleValueContainer().decode(String.self))
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(value.rawValue)
        }
    }
}

/// Where in some input a problem is: a file and line for documents, a field path for JSON.
public struct InputLocation: Sendable, Codable, Equatable, CustomStringConvertible {
    /// The file the input came from, if any.
    public var file: String?
    /// 1-based line, if known.
    public var line: Int?
    /// 1-based column, if known.
    public var column: Int?
    /// Dotted field path (`rules[2].decision`), if known.
    public var field: String?

    /// Creates a location.
    public init(file: String? = nil, line: Int? = nil, column: Int? = nil, field: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
    }

    public var description: String {
        var parts: [String] = []
        if let file {
            var where_ = file
            if let line { where_ += ":\(line)" }
            if let line, let column, line > 0 { where_ += ":\(column)" }
            parts.append(where_)
        } else if let line {
            parts.append("line \(line)")
        }
        if let field, !field.isEmpty { parts.append(field) }
        return parts.joined(separator: ": ")
    }
}
