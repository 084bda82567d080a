import AiosCore
import AiosTesting
import Testing

@Suite("input schema validation")
struct SchemaTests {
    let schema = FakeSetTool.descriptor.inputSchema

    @Test(
        "bad input is rejected with the offending field named",
        arguments: [
            (JSONValue.object(["value": 5]), "input.value", "expected a string, got integer"),
            (["value": "on", "colour": "red"], "input.colour", "unknown field"),
            ([:], "input.value", "required field is missing"),
            (JSONValue("not an object"), "input", "expected an object, got string"),
            (["value": .string(String(repeating: "x", count: 65))], "input.value", "at most 64"),
        ] as [(JSONValue, String, String)])
    func rejects(input: JSONValue, field: String, fragment: String) throws {
        let error = try #require(throws: AiosError.self) { try schema.validate(input) }
        #expect(error.code == .invalidInput)
        #expect(error.location?.field == field)
        #expect(error.message.contains(fragment), "\(error.message)")
    }

    @Test("every example in the fake tools' schemas validates")
    func examplesValidate() throws {
        for descriptor in [FakeSetTool.descriptor, FakeProbeTool.descriptor, FakeTweakTool.descriptor] {
            #expect(!descriptor.inputSchema.examples.isEmpty)
            for example in descriptor.inputSchema.examples { try descriptor.inputSchema.validate(example) }
        }
    }

    @Test("enum, pattern and bounds are enforced")
    func keywords() throws {
        let schema = JSONSchema.object([
            "mode": .string(values: ["a", "b"]), "name": .string(pattern: "^[a-z]+$"),
            "port": .integer(minimum: 1, maximum: 65535),
            "list": .array(of: .integer(), minItems: 1),
        ])
        try schema.validate(["mode": "a", "name": "eth", "port": 22, "list": [1]])
        #expect(throws: AiosError.self) { try schema.validate(["mode": "c"]) }
        #expect(throws: AiosError.self) { try schema.validate(["name": "Eth0"]) }
        #expect(throws: AiosError.self) { try schema.validate(["port": 70000]) }
        #expect(throws: AiosError.self) { try schema.validate(["port": 1.5]) }
        #expect(throws: AiosError.self) { try schema.validate(["list": []]) }
    }

    @Test("with several bad fields the one named is the first by name, every time")
    func firstByName() throws {
        let schema = JSONSchema.object(["a": .integer(), "m": .integer(), "z": .integer()])
        for _ in 0..<20 {
            let error = try #require(throws: AiosError.self) {
                try schema.validate(["z": "x", "m": "y", "q": 1, "a": 1])
            }
            #expect(error.location?.field == "input.m")
        }
        #expect(schema.secretValues(in: ["a": 1]).isEmpty)
        let secret = JSONSchema.object(["key": .string(secret: true)])
        #expect(secret.secretValues(in: ["key": "k1"]) == ["k1"])
    }

    @Test("a secret field's value never appears in a validation error")
    func secretNotEchoed() throws {
        let schema = JSONSchema.object(["key": .string(pattern: "^sk-", secret: true)])
        let error = try #require(throws: AiosError.self) { try schema.validate(["key": "hunter2-topsecret"]) }
        #expect(!error.description.contains("hunter2"))
    }
}
