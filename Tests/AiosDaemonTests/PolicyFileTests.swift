import AiosCore
import Testing

@testable import AiosDaemon

@Suite("malformed policy files")
struct PolicyFileTests {
    @Test(
        "a malformed policy is rejected with file, line and field",
        arguments: [
            ("unknown-key.yaml", 6, "rules[0].decison", "unknown field"),
            ("bad-decision.yaml", 4, "rules[0].decision", ""),
            ("bad-syntax.yaml", 4, nil, "YAML syntax error"),
            ("bad-origin.yaml", 3, "rules[0].origins[1]", "unknown origin \"robot\""),
            ("bad-duration.yaml", 4, "limits.max_expiry", "not a duration"),
            ("repeated-unit.yaml", 4, "limits.max_expiry", "not a duration"),
            ("zero-probe-interval.yaml", 5, "guard.probe_interval", "outside the allowed 100ms–5m"),
            ("zero-window.yaml", 4, "guard.window", "outside the allowed 1s–1h"),
            ("huge-window.yaml", 4, "guard.window", "outside the allowed 1s–1h"),
            ("zero-max-expiry.yaml", 4, "limits.max_expiry", "outside the allowed 1s–366d"),
            ("probe-over-window.yaml", 5, "guard.probe_interval", "longer than the window"),
        ] as [(String, Int, String?, String)])
    func rejected(file: String, line: Int, field: String?, fragment: String) throws {
        let path = Paths.fixture(file)
        let error = try #require(throws: AiosError.self) { try PolicyLoader.load(path: path) }
        #expect(error.code == .invalidInput)
        #expect(error.location?.file == path)
        #expect(error.location?.line == line, "\(error)")
        if let field { #expect(error.location?.field == field, "\(error)") }
        #expect(error.message.contains(fragment), "\(error.message)")
    }

    @Test("a missing policy file is not found")
    func missing() {
        #expect(throws: AiosError.self) { try PolicyLoader.load(path: "/nonexistent/policy.yaml") }
    }
}
