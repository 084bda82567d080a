import AiosCore
import AiosStore
import Foundation
import Logging
import Testing

@testable import AiosDNSTools

/// `dns.resolv_conf` through the pipeline on files in a temporary directory: bad input changes
/// nothing; a write keeps the old content as its undo and beside it; the undo restores a link.
@Suite("dns.resolv_conf")
struct ResolvConfToolTests {
    struct Harness {
        let directory: String
        let orchestrator: Orchestrator
        var path: String { "\(directory)/resolv.conf" }

        init() throws {
            directory =
                FileManager.default.temporaryDirectory.appendingPathComponent("aios-resolv-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            var registry = ToolRegistry()
            try registry.add(ResolvConfTool())
            let store = try Store.temporary()
            orchestrator = Orchestrator(
                registry: registry, policies: PolicyHolder(.permissive), audit: store, guards: store,
                logger: Logger(label: "test"))
        }

        func call(_ input: JSONValue) async throws -> CallOutcome {
            try await orchestrator.execute(ToolCall(tool: "dns.resolv_conf", input: input, origin: .user))
        }

        func text(_ path: String? = nil) -> String? { try? String(contentsOfFile: path ?? self.path, encoding: .utf8) }
    }

    @Test("bad input names its field and leaves the file as it was")
    func badInput() async throws {
        let lab = try Harness()
        defer { try? FileManager.default.removeItem(atPath: lab.directory) }
        try "nameserver 10.0.0.1\n".write(toFile: lab.path, atomically: true, encoding: .utf8)
        let cases: [(JSONValue, String)] = [
            (["path": "resolv.conf", "servers": ["127.0.0.1"]], "input.path"),
            (["path": .string(lab.path), "servers": ["not-an-address"]], "input.servers[0]"),
            (["path": .string(lab.path), "servers": ["127.0.0.1"], "search": ["a b"]], "input.search[0]"),
            (["path": .string(lab.path), "servers": ["127.0.0.1"], "content": "x"], "input.servers"),
            (["path": .string(lab.path)], "input.servers"),
        ]
        for (input, field) in cases {
            do {
                _ = try await lab.call(input)
                Issue.record("accepted \(input.jsonText)")
            } catch let error as AiosError {
                #expect(error.code == .invalidInput, "\(error)")
                #expect(error.location?.field == field, "\(input.jsonText): \(error)")
            }
            #expect(lab.text() == "nameserver 10.0.0.1\n")
        }
        #expect(!FileManager.default.fileExists(atPath: lab.path + ".aios-net.orig"))
    }

    @Test("a write keeps the old content (its undo, and once beside it); again changes nothing; a link comes back")
    func writeAndUndo() async throws {
        let lab = try Harness()
        defer { try? FileManager.default.removeItem(atPath: lab.directory) }
        try "nameserver 10.0.0.1\n".write(toFile: "\(lab.directory)/upstream.conf", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: lab.path, withDestinationPath: "upstream.conf")
        let written = try await lab.call(["path": .string(lab.path), "servers": ["127.0.0.1"], "search": ["lan"]])
        #expect(written.status == .applied)
        #expect(lab.text()?.contains("search lan\nnameserver 127.0.0.1\n") == true, "\(lab.text() ?? "")")
        #expect(lab.text(lab.path + ".aios-net.orig") == nil, "a link has no content to keep")
        let again = try await lab.call(["path": .string(lab.path), "servers": ["127.0.0.1"], "search": ["lan"]])
        #expect(again.status == .unchanged)
        // The undo the pipeline would run: the link again, its target untouched.
        _ = try await lab.call(["path": .string(lab.path), "link": "upstream.conf"])
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: lab.path) == "upstream.conf")
        #expect(lab.text() == "nameserver 10.0.0.1\n")
        // From a plain file: the old content is kept beside it once.
        try FileManager.default.removeItem(atPath: lab.path)
        try "nameserver 10.0.0.9\n".write(toFile: lab.path, atomically: true, encoding: .utf8)
        _ = try await lab.call(["path": .string(lab.path), "servers": ["127.0.0.1"]])
        #expect(lab.text(lab.path + ".aios-net.orig") == "nameserver 10.0.0.9\n")
        _ = try await lab.call(["path": .string(lab.path), "content": "nameserver 10.0.0.9\n"])
        #expect(lab.text() == "nameserver 10.0.0.9\n")
    }
}
