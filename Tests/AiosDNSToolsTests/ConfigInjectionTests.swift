import AiosCore
import Foundation
import Testing

@testable import AiosDNSTools

/// Newline, quote and `#` payloads against every field that reaches unbound.conf, the records
/// include and the hosts section: each is refused naming its field, or written as one value.
@Suite("no value reaches a configuration file as a directive")
struct ConfigInjectionTests {
    static let payloads = [
        "10.0.0.2:53#x\nremote-control:\n    control-interface: 0.0.0.0", "10.0.0.2#a\"b", "10.0.0.2#x#y",
        "10.0.0.2#x\r", "10.0.0.2#x y", "10.0.0.2#\u{0}evil", "10.0.0.2 #x", "10.0.0.2\n",
    ]

    @Test("upstreams: a payload after # or anywhere else is no upstream", arguments: payloads)
    func upstreams(payload: String) {
        let error = #expect(throws: AiosError.self) { try Upstream.parse(payload, field: "input.upstreams[0]") }
        #expect(error?.code == .invalidInput && error?.location?.field == "input.upstreams[0]")
    }

    @Test("TLS names are host names", arguments: ["dns.quad9.net", "cloudflare-dns.com", "a.b.", "x1"])
    func hostNames(name: String) throws {
        #expect(try Upstream.parse("9.9.9.9#\(name)", field: "f").tlsName == name)
    }

    @Test("a stored setting that no longer parses is refused at render, not written")
    func storedUpstream() {
        var settings = DNSSettings(upstreams: ["10.0.0.2:53#x\nremote-control:"])
        settings.tls = true
        let config = UnboundConfig(settings: settings, paths: DNSPaths(dataDirectory: "/tmp/x"), username: "")
        #expect(throws: AiosError.self) { try config.render() }
    }

    @Test("every value is quoted: the file has one directive per line and nothing listens but as told")
    func rendered() throws {
        var settings = DNSSettings(upstreams: ["1.1.1.1#cloudflare-dns.com", "[2001:db8::1]:853"])
        settings.tls = true
        settings.accessControl = ["10.0.0.0/8"]
        let text = try UnboundConfig(settings: settings, paths: DNSPaths(dataDirectory: "/tmp/x"), username: "")
            .render()
        #expect(text.contains(#"forward-addr: "1.1.1.1@853#cloudflare-dns.com""#), "\(text)")
        #expect(text.contains(#"access-control: "10.0.0.0/8" allow"#))
        #expect(text.components(separatedBy: "control-interface:").count == 2)
        #expect(throws: AiosError.self) {
            try UnboundConfig(
                settings: settings, paths: DNSPaths(dataDirectory: "/tmp/x\"\ninclude: \"/etc/shadow"), username: ""
            ).render()
        }
    }

    @Test(
        "the one escaping function refuses control characters and quotes for unbound, quotes for sh",
        arguments: ["a\nb", "a\rb", "a\u{7f}", "a\u{1b}[2J", "a\"b"])
    func escaping(value: String) throws {
        #expect(throws: AiosError.self) { try ConfigText.unbound(value, field: "f") }
        if value != "a\"b" { #expect(throws: AiosError.self) { try ConfigText.shell(value, field: "f") } }
    }

    @Test("sh: a single quote cannot end the word")
    func shellWord() throws {
        #expect(try ConfigText.shell("/opt/it's/aios-net", field: "f") == #"'/opt/it'\''s/aios-net'"#)
    }

    @Test(
        "record and hosts names: newline, quote, # and spaces are no name",
        arguments: ["web\nlocal-zone: \".\" refuse", "a\"b.example", "a#b.example", "a b.example", "x\r.example"])
    func recordNames(name: String) {
        #expect(throws: AiosError.self) { try DNSName.normalise(name, field: "input.name", allowSingleLabel: true) }
    }
}
