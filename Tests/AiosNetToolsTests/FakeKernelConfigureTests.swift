import AiosCore
import AiosCurl
import AiosLinux
import AiosStore
import AiosTesting
import Foundation
import Logging
import Testing

@testable import AiosNetTools

/// `net.configure` planned and applied through the real pipeline against rtnetlink in memory:
/// no root, no namespace, milliseconds.
@Suite("net.configure against a fake kernel")
struct FakeKernelConfigureTests {
    struct Harness {
        let orchestrator: Orchestrator
        let kernel: FakeNetworkKernel
        let http = FakeHTTP()
        let store: Store
        let directory: String
        let eth0: Int32

        init() throws {
            kernel = FakeNetworkKernel()
            eth0 = kernel.addLink("eth0")
            store = try Store.temporary()
            directory =
                FileManager.default.temporaryDirectory.appendingPathComponent("aios-fakenet-\(UUID().uuidString)")
                .path
            var registry = ToolRegistry()
            try registry.install(
                NetModule(
                    kernel: kernel, http: http, store: store,
                    settings: NetSettings(
                        dataDirectory: directory, hookBinary: "/bin/true",
                        resolvConf: directory + "/resolv.conf"),
                    logger: Logger(label: "test")))
            orchestrator = Orchestrator(
                registry: registry, policies: PolicyHolder(.permissive), audit: store, guards: store,
                redactor: Redactor(), logger: Logger(label: "test"))
        }

        func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

        func configure(_ input: JSONValue) async throws -> CallOutcome {
            try await call("net.configure", input)
        }

        func call(_ tool: String, _ input: JSONValue) async throws -> CallOutcome {
            try await orchestrator.execute(ToolCall(tool: tool, input: input, origin: .user))
        }

        func addresses() throws -> [String] {
            try kernel.addresses().filter { $0.index == eth0 }.map { "\($0.address)/\($0.prefixLength)" }
        }
    }

    @Test("a static address: link up, MTU, address in the kernel; the same again is unchanged; a new one replaces it")
    func staticAddress() async throws {
        let lab = try Harness()
        defer { lab.tearDown() }
        let first = try await lab.configure([
            "interface": "eth0", "method": "static", "addresses": ["10.0.0.5/24"], "mtu": 1400,
        ])
        #expect(first.status == .applied, "\(first)")
        let link = try #require(try lab.kernel.links().first { $0.name == "eth0" })
        #expect(link.flags & UInt32(IFF_UP) != 0)
        #expect(link.mtu == 1400)
        #expect(try lab.addresses() == ["10.0.0.5/24"])
        #expect(lab.kernel.changes.contains("add address 10.0.0.5/24 on \(lab.eth0)"))

        let changes = lab.kernel.changes.count
        let again = try await lab.configure([
            "interface": "eth0", "method": "static", "addresses": ["10.0.0.5/24"], "mtu": 1400,
        ])
        #expect(again.status == .unchanged)
        #expect(lab.kernel.changes.count == changes, "nothing sent to the kernel")

        let moved = try await lab.configure([
            "interface": "eth0", "method": "static", "addresses": ["10.0.0.6/24"], "mtu": 1400,
        ])
        #expect(moved.status == .applied)
        #expect(try lab.addresses() == ["10.0.0.6/24"])
    }

    @Test("bad input is refused naming its field, and the kernel is not touched")
    func refused() async throws {
        let lab = try Harness()
        defer { lab.tearDown() }
        for (input, field) in [
            (
                ["interface": "eth0", "method": "static", "addresses": ["10.0.0.0/24"]] as JSONValue,
                "input.addresses[0]"
            ),
            (["interface": "eth9", "method": "static", "addresses": ["10.0.0.5/24"]], "input.interface"),
            (
                ["interface": "eth0", "method": "static", "addresses": ["10.0.0.5/24"], "gateway": "10.9.0.1"],
                "input.gateway"
            ),
        ] {
            do {
                _ = try await lab.configure(input)
                Issue.record("\(input) was accepted")
            } catch let error as AiosError {
                #expect(error.location?.field == field, "\(error)")
            }
        }
        #expect(lab.kernel.changes.isEmpty)
    }

    @Test("net.http_probe: a URL that answers gives its status; no answer or a 500 fails, saying which")
    func httpProbe() async throws {
        let lab = try Harness()
        defer { lab.tearDown() }
        lab.http.answer("https://api.example/health", status: 204)
        lab.http.answer("https://broken.example/", status: 500)
        lab.http.fail("https://down.example/", message: "Could not resolve host: down.example")
        let up = try await lab.call("net.http_probe", ["url": "https://api.example/health"])
        #expect(up.output?["status"]?.intValue == 204, "\(up)")
        #expect(up.output?["reachable"] == .bool(true))
        for (url, words) in [
            ("https://down.example/", "not reachable: Could not resolve host"), ("https://broken.example/", "HTTP 500"),
        ] {
            do {
                _ = try await lab.call("net.http_probe", ["url": .string(url)])
                Issue.record("\(url) passed")
            } catch let error as AiosError {
                #expect(error.code == .failed)
                #expect(error.message.contains(words), "\(error)")
            }
        }
        let requests = lab.http.requests
        let full = requests.filter { !$0.headOnly }.count
        #expect(requests.count == 3)
        #expect(full == 0, "a probe asks for headers only")
    }
}
