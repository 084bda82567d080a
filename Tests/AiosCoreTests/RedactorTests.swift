import AiosCore
import AiosTesting
import Testing

@Suite("secrets and redaction")
struct RedactorTests {
    @Test("Secret prints, dumps and encodes as <redacted>")
    func secretType() throws {
        let secret = Secret("hunter2-very-secret")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("hunter2"))
        #expect(try JSONValue(encoding: ["key": secret]).jsonText == #"{"key":"<redacted>"}"#)
        #expect(secret.reveal() == "hunter2-very-secret")
    }

    @Test("schema-marked, secret-named and registered values are removed")
    func redaction() {
        let redactor = Redactor()
        redactor.register("AKIA-registered-value")
        let input: JSONValue = [
            "token": "s3cr3t-token", "api_key": "sk-abc123456", "note": "key is AKIA-registered-value", "name": "eth0",
        ]
        let out = redactor.redact(input, schema: FakeSetTool.descriptor.inputSchema)
        #expect(out["token"] == "<redacted>")
        #expect(out["api_key"] == "<redacted>")
        #expect(out["note"] == "key is <redacted>")
        #expect(out["name"] == "eth0")
        #expect(redactor.redact("log AKIA-registered-value here") == "log <redacted> here")
    }

    @Test("a planted secret reaches no log line, audit row or output")
    func plantedSecret() async throws {
        let pipeline = try Pipeline()
        let secret = "planted-secret-\(UInt64.random(in: 1_000_000...9_999_999))"
        let outcome = try await pipeline.call("fake.set", ["value": "on", "token": .string(secret)])
        _ = try? await pipeline.call("fake.set", ["value": 3, "token": .string(secret)])
        let haystack = [
            pipeline.log.text, try JSONValue(encoding: outcome).jsonText,
            try JSONValue(encoding: pipeline.audit.events).jsonText,
        ].joined(separator: "\n")
        #expect(!haystack.contains(secret))
        #expect(haystack.contains("<redacted>"))
    }
}
