import AiosCore
import Testing

@testable import AiosFirewallTools

@Suite("rule inputs that the kernel or libnftables would choke on are refused or folded")
struct RuleValidationTests {
    @Test(
        "interfaces: names and trailing wildcards pass; a bare *, an inner * and kernel-invalid names do not",
        arguments: [
            ("eth0", true), ("eth*", true), ("wg-mesh*", true), ("*", false), ("**", false), ("eth*0", false),
            ("e*th*", false), ("", false), ("a/b", false), ("sixteen-chars-xx", false),
        ])
    func interfaces(name: String, valid: Bool) {
        #expect((EntryRule.interfaceProblem(name) == nil) == valid)
    }

    @Test(
        "ports: repeats and overlaps fold into one range; lists without either keep their order",
        arguments: [
            ([8181, 8181], ["8181"]), ([443, 80], ["443", "80"]), ([80, 80, 443], ["80", "443"]),
        ])
    func ports(numbers: [Int], expected: [String]) throws {
        let spec = try PortSpec(tree: .array(numbers.map { .number(Double($0)) }), field: "input.port")
        #expect(try spec.ranges(field: "input.port").map(\.text) == expected)
    }

    @Test("overlapping texts fold: 79-81 and 80 are one range")
    func overlapping() throws {
        let spec = try PortSpec(tree: .array([.string("79-81"), .number(80), .string("100-200")]), field: "p")
        #expect(try spec.ranges(field: "p").map(\.text) == ["79-81", "100-200"])
    }

    @Test("a port text is digits only", arguments: ["+80", "0x50", "8 0", "80-+90", "-80", "1e2"])
    func digitsOnly(text: String) throws {
        let spec = try PortSpec(tree: .string(text), field: "input.port")
        let error = #expect(throws: AiosError.self) { try spec.ranges(field: "input.port") }
        #expect(error?.location?.field == "input.port")
    }

    @Test("a stored rule with a bare * interface is one the start quarantines")
    func storedProblem() throws {
        let rule = try EntryRule(
            specText:
                #"{"chain":"input","destination":"any","interface":"*","ports":[{"high":80,"low":80}],"protocolName":"tcp","source":"any","verdict":"allow"}"#
        )
        #expect(rule.storedProblem?.contains("every interface") == true)
        var fine = rule
        fine.interface = "eth*"
        #expect(fine.storedProblem == nil)
    }
}

@Suite("comments are one line of text")
struct CommentTests {
    @Test(
        "a NUL, newline or other control character in a comment is refused, naming the field",
        arguments: ["web\u{0}hidden", "web\nforged", "bell\u{7}"])
    func refused(comment: String) throws {
        let error = #expect(throws: AiosError.self) {
            try RuleInput(members: ["port": 80, "comment": .string(comment)], field: "input")
        }
        #expect(error?.location?.field == "input.comment")
    }
}
