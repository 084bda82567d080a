import AiosCore
import Foundation
import Testing

@testable import AiosGoals

/// Goal files: several documents, every error with file, line, column and field; the shipped
/// examples all load.
@Suite("goal files")
struct GoalFileTests {
    let kinds: GoalKinds

    init() throws {
        kinds = try GoalLab.kinds().0
    }

    func parseError(_ text: String) -> AiosError? {
        do {
            _ = try GoalFile.parse(text, file: "/goals/x.yaml", kinds: kinds)
            return nil
        } catch {
            return error as? AiosError
        }
    }

    @Test("several documents per file, each with its kind, name, spec, expiry and labels")
    func documents() throws {
        let documents = try GoalFile.parse(
            """
            kind: FirewallRule
            name: web
            expires: 2h
            labels: {team: ops}
            spec: {action: allow, port: 80}
            ---
            kind: DNSRecords
            name: lan
            spec:
              records:
                - {name: nas.lan, address: 192.168.1.20}
            """, file: "/goals/x.yaml", kinds: kinds)
        #expect(documents.map(\.name) == ["web", "lan"])
        #expect(documents[0].expires == "2h" && documents[0].labels == ["team": "ops"])
        #expect(documents[0].spec["port"] == 80)
        #expect(documents[1].source == "/goals/x.yaml:7")
        #expect(documents[0].generation != documents[1].generation)
    }

    @Test(
        "bad files name file, line, column and field",
        arguments: [
            (
                "kind: FirewallRule\nname: web\nspec: {action: allow, port: 80}\ncolour: red\n", 4, "colour",
                "unknown field"
            ),
            ("kind: FireWallRule\nname: web\nspec: {}\n", 1, "kind", "unknown kind"),
            ("kind: FirewallRule\nname: Web_1\nspec: {action: allow}\n", 2, "name", "DNS-label"),
            (
                "kind: FirewallRule\nname: web\nspec:\n  action: allow\n  port: 80\n  chain: sideways\n", 6,
                "spec.chain", "not one of"
            ),
            ("kind: FirewallRule\nname: web\nspec:\n  action: allow\n  prot: tcp\n", 5, "spec.prot", "unknown"),
            (
                "kind: FirewallRule\nname: web\nspec: {action: allow}\n---\nkind: FirewallRule\nname: web\nspec: {action: deny}\n",
                6, "name", "twice"
            ),
            ("kind: FirewallRule\nname: web\nexpires: soon\nspec: {action: allow}\n", 3, "expires", "duration"),
            (
                "kind: ExposeService\nname: web\nspec:\n  port: 80\n  health: {tcp: nowhere}\n", 5, "spec.health.tcp",
                "HOST:PORT"
            ),
            ("kind: FirewallRule\nname: [web\n", 3, "", "YAML syntax error"),
        ] as [(String, Int, String, String)])
    func badFiles(text: String, line: Int, field: String, message: String) throws {
        let error = try #require(parseError(text))
        #expect(error.code == .invalidInput)
        #expect(error.location?.file == "/goals/x.yaml")
        #expect(error.location?.line == line, "\(error)")
        #expect(error.location?.column != nil, "\(error)")
        if !field.isEmpty { #expect(error.location?.field == field, "\(error)") }
        #expect(error.message.contains(message), "\(error)")
    }

    @Test("a YAML bomb (aliases of aliases) is refused, not expanded")
    func bomb() throws {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            text +=
                "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
                + "]\n"
        }
        text += "kind: FirewallRule\nname: boom\nspec: {action: allow}\n"
        let started = ContinuousClock.now
        let error = try #require(parseError(text))
        #expect(error.message.contains("YAML bomb"), "\(error)")
        #expect(error.location?.line != nil)
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test("a file over 1 MiB is refused")
    func huge() throws {
        let text =
            "kind: FirewallRule\nname: big\nspec: {action: allow, comment: x}\n# "
            + String(repeating: "x", count: 1 << 20)
        #expect(parseError(text)?.message.contains("over 1024 KiB") == true)
    }
}
