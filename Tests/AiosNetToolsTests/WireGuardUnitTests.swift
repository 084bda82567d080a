import AiosCore
import Foundation
import Testing

@testable import AiosLinux
@testable import AiosNetTools

@Suite("WireGuard keys and configuration encoding")
struct WireGuardUnitTests {
    static func bytes(_ hex: String) -> [UInt8] { WireGuardKey.fromHex(hex)! }

    @Test("the public key is RFC 7748's X25519 of the private key (Alice's test vector)")
    func publicKey() throws {
        let alice = Self.bytes("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
        #expect(
            WireGuardKey.hex(try WireGuardKey.publicKey(of: alice))
                == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        let generated = WireGuardKey.generate()
        #expect(generated.count == 32 && WireGuardKey.decode(WireGuardKey.base64(generated)) == generated)
        #expect(WireGuardKey.decode("short") == nil)
    }

    @Test("a configuration renders the UAPI lines wireguard-go expects")
    func uapiLines() {
        let key = Self.bytes(String(repeating: "ab", count: 32))
        let peer = Self.bytes(String(repeating: "cd", count: 32))
        let configuration = WireGuardConfiguration(
            privateKey: key, listenPort: 51820, replacePeers: true,
            peers: [
                .init(
                    publicKey: peer, endpointAddress: "2001:db8::1", endpointPort: 51820, keepalive: 25,
                    allowedIPs: [CIDR("10.44.0.2/32")!]),
                .init(publicKey: key, remove: true),
            ])
        #expect(
            configuration.uapiLines == [
                "private_key=\(String(repeating: "ab", count: 32))", "listen_port=51820", "replace_peers=true",
                "public_key=\(String(repeating: "cd", count: 32))", "endpoint=[2001:db8::1]:51820",
                "persistent_keepalive_interval=25", "replace_allowed_ips=true", "allowed_ip=10.44.0.2/32",
                "public_key=\(String(repeating: "ab", count: 32))", "remove=true",
            ])
    }

    @Test("endpoints go to the kernel as sockaddr and come back as text", arguments: ["192.0.2.1", "2001:db8::7"])
    func endpoints(address: String) throws {
        let raw = try #require(WireGuardNetlink.sockaddr(address, 51820))
        let text = try #require(WireGuardNetlink.endpoint(raw))
        #expect(text == (address.contains(":") ? "[\(address)]:51820" : "\(address):51820"))
    }

    @Test("endpoints parse as HOST:PORT and [V6]:PORT; peers need 44-character keys and CIDRs")
    func peers() throws {
        #expect(
            try Endpoint.parse("vpn.example.com:51820", field: "e") == Endpoint(host: "vpn.example.com", port: 51820))
        #expect(try Endpoint.parse("[2001:db8::1]:443", field: "e") == Endpoint(host: "2001:db8::1", port: 443))
        #expect(throws: (any Error).self) { try Endpoint.parse("no-port", field: "e") }
        let good = WireGuardPeer(
            publicKey: WireGuardKey.base64(WireGuardKey.generate()), endpoint: nil, allowedIPs: ["10.0.0.5/24"],
            keepalive: nil)
        #expect(try good.validated(field: "p").allowedIPs == ["10.0.0.0/24"])
        #expect(throws: (any Error).self) {
            try WireGuardPeer(publicKey: "x", endpoint: nil, allowedIPs: [], keepalive: nil).validated(field: "p")
        }
    }
}

@Suite("static configuration validation")
struct StaticConfigTests {
    @Test(
        "bad addresses and gateways are refused with the field named",
        arguments: [
            (["300.1.1.1/24"], nil as String?, "input.addresses[0]"), (["10.0.0.2/40"], nil, "input.addresses[0]"),
            (["10.0.0.2"], nil, "input.addresses[0]"), (["10.0.0.0/24"], nil, "input.addresses[0]"),
            (["10.0.0.255/24"], nil, "input.addresses[0]"), (["10.0.0.2/24"], "10.9.0.1", "input.gateway"),
            (["10.0.0.2/24"], "fd00::1", "input.gateway"),
        ])
    func refused(addresses: [String], gateway: String?, field: String) {
        do {
            _ = try StaticConfig.parse(addresses: addresses, gateway: gateway, metric: nil, mtu: nil, dns: nil)
            Issue.record("accepted \(addresses) \(gateway ?? "")")
        } catch let error as AiosError {
            #expect(error.location?.field == field, "\(error)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test("a valid configuration is normalised")
    func accepted() throws {
        let config = try StaticConfig.parse(
            addresses: ["192.168.1.10/24", "fd00:1::10/64"], gateway: "192.168.1.1", metric: nil, mtu: 1500,
            dns: ["192.168.1.1"])
        #expect(config.addresses == ["192.168.1.10/24", "fd00:1::10/64"])
        #expect(config.metric == 100)
    }
}

@Suite("generic netlink: the path the kernel WireGuard module is driven through")
struct GenericNetlinkTests {
    @Test("the controller resolves its own family over NETLINK_GENERIC (id 0x10), in one request")
    func controllerFamily() throws {
        let socket = try WireGuardNetlink.socket(nil, operation: "test")
        #expect(try WireGuardNetlink.familyID("nlctrl", socket) == 0x10)
        // The socket is reusable after the acknowledgement: a second request answers too.
        #expect(try WireGuardNetlink.familyID("nlctrl", socket) == 0x10)
    }

    @Test("an unknown family is ENOENT, and kernel support matches /sys/module/wireguard")
    func wireguardFamily() throws {
        let socket = try WireGuardNetlink.socket(nil, operation: "test")
        do {
            let id = try WireGuardNetlink.familyID("aiosnofamily", socket)
            Issue.record("resolved to \(id)")
        } catch {
            #expect(error.errno == ENOENT, "\(error)")
        }
        #expect(WireGuardNetlink().kernelSupport() == FileManager.default.fileExists(atPath: "/sys/module/wireguard"))
    }
}
