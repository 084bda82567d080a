public import AiosCore

/// A request on the control socket: one JSON object per line.
public struct ControlRequest: Sendable, Codable {
    /// What to do: `call`, `tools`, `describe`, `events`, `guard.list`, `guard.confirm`,
    /// `policy.reload`, `status`.
    public var method: String
    /// The method's parameters.
    public var params: JSONValue

    /// The longest request line the daemon reads (a 100k-entry firewall batch is about 5 MB);
    /// the client refuses a longer one before sending it.
    public static let maxBytes = 16 << 20

    /// Creates a request.
    public init(method: String, params: JSONValue = [:]) {
        self.method = method
        self.params = params
    }
}

/// The answer to one request: a result or an error, one JSON object per line.
public struct ControlResponse: Sendable, Codable {
    /// True when `result` holds the answer.
    public var ok: Bool
    /// The answer.
    public var result: JSONValue?
    /// Why it failed.
    public var error: WireError?

    /// A success.
    public static func success(_ result: JSONValue) -> ControlResponse {
        ControlResponse(ok: true, result: result, error: nil)
    }

    /// A failure.
    public static func failure(_ error: AiosError) -> ControlResponse {
        ControlResponse(ok: false, result: nil, error: WireError(error))
    }
}

/// An `AiosError` as it travels: `{code, message, location}` — also what `--json` prints on failure.
public struct WireError: Sendable, Codable, Equatable {
    /// The error code (`invalid_input`, …).
    public var code: String
    /// The message.
    public var message: String
    /// Where, for bad input.
    public var location: InputLocation?

    /// Wraps an error.
    public init(_ error: AiosError) {
        code = error.code.description
        message = error.message
        location = error.location
    }

    /// The error back as `AiosError`.
    public var aiosError: AiosError {
        AiosError(AiosError.Code(wireName: code), message, location: location)
    }
}

/// Parameters of `call`.
public struct CallParams: Sendable, Codable {
    /// The tool.
    public var tool: String
    /// Its input as JSON.
    public var input: JSONValue?
    /// Its input as the caller typed it (parsed by the daemon's pipeline, so bad JSON is audited).
    public var inputText: String?
    /// Stop after the plan.
    public var dryRun: Bool
    /// A person confirmed (`--yes`).
    public var yes: Bool
    /// Guard overrides.
    public var guardOptions: GuardOptions?

    /// Creates parameters.
    public init(
        tool: String, input: JSONValue? = nil, inputText: String? = nil, dryRun: Bool = false, yes: Bool = false,
        guardOptions: GuardOptions? = nil
    ) {
        self.tool = tool
        self.input = input
        self.inputText = inputText
        self.dryRun = dryRun
        self.yes = yes
        self.guardOptions = guardOptions
    }

    private enum CodingKeys: String, CodingKey {
        case tool, input, yes
        case inputText = "input_text"
        case dryRun = "dry_run"
        case guardOptions = "guard"
    }
}

/// Where things are by default, and the environment variables that move them.
public enum ControlDefaults {
    /// The control socket.
    public static let socketPath = "/run/aios-net/control.sock"
    /// The data directory.
    public static let dataDirectory = "/var/lib/aios-net"
    /// Overrides `socketPath`.
    public static let socketVariable = "AIOS_NET_SOCKET"
    /// Overrides `dataDirectory`.
    public static let dataDirectoryVariable = "AIOS_NET_DATA_DIR"
}
