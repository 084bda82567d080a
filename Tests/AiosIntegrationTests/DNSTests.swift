import AiosTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Topology: `DNSLab` (client with the daemon and its managed unbound ─ upstream with dnsmasq).
@Suite("dns.* with a real unbound and a real upstream", .serialized)
struct DNSTests {
    @Test(
        "allowed names resolve; blocked names and their subdomains get the block answer; allowlist and @@ exceptions win"
    )
    func blocking() async throws {
        try await Lab.with { lab in
            var dns = try DNSLab.build(lab)
            #expect(try dns.lookup("www.lab.example")["answers"] as? [String] == ["10.53.0.80"])
            let list = try dns.file(
                "ads.txt",
                "! Adblock style\n||ads.lab.example^\n@@||ok.ads.lab.example^\n||tracker.lab.example^$important\n")
            let added = try dns.call("dns.blocklist_add", #"{"name": "ads", "source": "\#(list)"}"#)
            #expect(added["unique"] as? Int == 2)
            #expect(added["exceptions"] as? Int == 1)
            #expect(try dns.lookup("www.lab.example")["rcode"] as? String == "NOERROR")
            for name in ["ads.lab.example", "x.ads.lab.example", "tracker.lab.example"] {
                let answer = try dns.lookup(name)
                #expect(answer["rcode"] as? String == "NXDOMAIN", "\(name)")
                #expect(answer["blocked"] as? Bool == true)
                #expect(answer["list"] as? String == "ads")
            }
            // @@ exception from the list, and dns.allow: both resolve although under a blocked zone.
            #expect(try dns.lookup("ok.ads.lab.example")["answers"] as? [String] == ["10.53.0.97"])
            try dns.call("dns.allow", #"{"name": "good.ads.lab.example"}"#)
            let good = try dns.lookup("good.ads.lab.example")
            #expect(good["answers"] as? [String] == ["10.53.0.96"])
            #expect(good["blocked"] as? Bool == false)
            #expect((good["allowed_by"] as? String)?.contains("dns.allow") == true)
            // A single block; block mode null answers 0.0.0.0.
            try dns.call("dns.block", #"{"name": "cdn.lab.example"}"#)
            #expect(try dns.lookup("cdn.lab.example")["list"] as? String == "dns.block")
            try dns.call(
                "dns.configure", #"{"block_mode": "null"}"#,
                [
                    "--yes", "--probe", "dns.lookup", "--probe-input",
                    #"{"name": "www.lab.example", "must_resolve": true}"#,
                ])
            #expect(try dns.lookup("ads.lab.example")["answers"] as? [String] == ["0.0.0.0"])
            #expect(try dns.lookup("cdn.lab.example", type: "AAAA")["answers"] as? [String] == ["::"])
            // The same calls again change nothing; unblock and remove undo.
            #expect(
                try dns.daemon.cli(["call", "dns.blocklist_add", #"{"name": "ads", "source": "\#(list)"}"#]).stdout
                    .contains("unchanged"))
            try dns.call("dns.unblock", #"{"name": "cdn.lab.example"}"#)
            try dns.call("dns.blocklist_remove", #"{"name": "ads"}"#)
            #expect(try dns.lookup("x.ads.lab.example")["answers"] as? [String] == ["10.53.0.98"])
            _ = dns.daemon.stop()
        }
    }

    @Test("the real lists load with the counts of SOURCES.md; hosts and Adblock forms give the same zones")
    func realLists() async throws {
        try await Lab.with { lab in
            var dns = try DNSLab.build(lab)
            let expected = [
                ("basic", "blocklistproject-basic.hosts.txt", 76_036, 47_195),
                ("basic-ags", "blocklistproject-basic.adguard.txt", 76_036, 47_195),
                ("phishing", "blocklistproject-phishing.domains.txt", 190_215, 118_083),
                ("adaway", "adaway.hosts.txt", 6_540, 4_267),
            ]
            for (name, file, unique, zones) in expected {
                let output = try dns.call(
                    "dns.blocklist_add", #"{"name": "\#(name)", "source": "\#(DNSLab.blocklists)/\#(file)"}"#)
                #expect(output["unique"] as? Int == unique, "\(name)")
                #expect(output["zones"] as? Int == zones, "\(name)")
                #expect(output["skipped"] as? Int == 0, "\(name)")
            }
            let zonesOf = { (list: String) in
                Set(
                    ((try? String(
                        contentsOfFile: "\(dns.daemon.dataDirectory)/dns/lists/\(list).zones", encoding: .utf8)) ?? "")
                        .split(separator: "\n"))
            }
            #expect(zonesOf("basic") == zonesOf("basic-ags"))
            #expect(zonesOf("basic").count == 47_195)
            let status = try dns.status()
            let blocklist = status["blocklist"] as? [String: Any]
            #expect(blocklist?["lists"] as? Int == 4)
            #expect((blocklist?["zones"] as? Int ?? 0) > 118_083)
            // A name from the phishing list is blocked by the running unbound.
            let sample = try #require(zonesOf("phishing").first)
            #expect(try dns.lookup(String(sample))["rcode"] as? String == "NXDOMAIN")
            _ = dns.daemon.stop()
        }
    }

    @Test(
        "a big list update keeps the cache (upstream not asked again, TTL counting down) and answers keep flowing"
    )
    func updateKeepsCache() async throws {
        try await Lab.with { lab in
            var dns = try DNSLab.build(lab)
            let first = try dns.lookup("www.lab.example")
            #expect(first["ttl"] as? Int == 300)
            let asked = dns.upstreamQueries("www.lab.example")
            #expect(asked >= 1)
            // A second cached name no one asks for meanwhile: it must come from the carried cache.
            #expect(try dns.lookup("x.ads.lab.example")["answers"] as? [String] == ["10.53.0.98"])
            let askedQuiet = dns.upstreamQueries("x.ads.lab.example")
            // Query the resolver every few milliseconds while a 118k-zone list goes in.
            let stop = "\(lab.directory)/prober.stop"
            let prober = try lab.spawn(
                ["ip", "netns", "exec", dns.client, "python3", "-c", Self.prober, stop], name: "prober")
            #expect(Poll.until(seconds: 10) { prober.stdout.contains("probing") })
            let added = try dns.call(
                "dns.blocklist_add",
                #"{"name": "phishing", "source": "\#(DNSLab.blocklists)/blocklistproject-phishing.domains.txt"}"#)
            // 118k zones: past what batches do quickly, a new unbound takes over beside the old.
            #expect((added["resolver"] as? [String: Any])?["replaced"] as? Bool == true, "\(added)")
            _ = FileManager.default.createFile(atPath: stop, contents: nil)
            #expect(Poll.until(seconds: 10) { prober.stdout.contains("answered") })
            let stats = prober.stdout.split(separator: "\n").last.map(String.init) ?? ""
            // "answered N failed F max_gap_ms G"
            let fields = stats.split(separator: " ")
            #expect(fields.count == 6 && Int(fields[1]) ?? 0 > 50, "\(stats)")
            #expect(fields.count == 6 && fields[3] == "0", "queries went unanswered during the update: \(stats)")
            let second = try dns.lookup("www.lab.example")
            #expect(second["answers"] as? [String] == ["10.53.0.80"])
            // The prober's name may be asked once more: a query the new process answers between
            // serving and receiving the old one's cache goes upstream.
            #expect(dns.upstreamQueries("www.lab.example") <= asked + 1, "the update flushed the cache")
            let quiet = try dns.lookup("x.ads.lab.example")
            #expect(quiet["answers"] as? [String] == ["10.53.0.98"])
            #expect((quiet["ttl"] as? Int ?? 300) < 300, "served from the carried cache, its TTL counting down")
            #expect(dns.upstreamQueries("x.ads.lab.example") == askedQuiet, "the carried cache answered it")
            let cache = try dns.status()["cache"] as? [String: Any]
            #expect((cache?["hits"] as? Int ?? 0) > 0)
            _ = dns.daemon.stop()
        }
    }

    static let prober = """
        import socket, struct, time, os, sys, random
        stop = sys.argv[1]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1.0)
        q = lambda i: struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + b"\\x03www\\x03lab\\x07example\\x00\\x00\\x01\\x00\\x01"
        answered = failed = 0; last = time.monotonic(); gap = 0.0; i = 0
        print("probing", flush=True)
        while not os.path.exists(stop):
            i = (i + 1) & 0xffff
            s.sendto(q(i), ("127.0.0.1", 53))
            try:
                while True:
                    data = s.recv(512)
                    if data[:2] == struct.pack(">H", i): break
                now = time.monotonic(); gap = max(gap, now - last); last = now; answered += 1
            except socket.timeout:
                failed += 1
            time.sleep(0.002)
        print("answered %d failed %d max_gap_ms %.1f" % (answered, failed, gap * 1000), flush=True)
        """

    @Test(
        "a refresh that changes some lines goes from the list's index and gives what a full load gives: a new parent covers its children, an exception, repeats, a moved skipped line"
    )
    func indexedRefresh() async throws {
        try await Lab.with { lab in
            var dns = try DNSLab.build(lab)
            let fillers = (0..<2000).map { "0.0.0.0 f\($0).filler.test" }
            let first =
                ["0.0.0.0 x.ads.lab.example", "tracker.lab.example", "not a name!", "0.0.0.0 localhost"]
                + fillers
            let second =
                ["ads.lab.example", "0.0.0.0 x.ads.lab.example", "@@||ok.ads.lab.example^", "0.0.0.0 localhost"]
                + fillers.dropFirst(100) + ["not a name!"] + (0..<100).map { "g\($0).filler.test" }
                + ["127.0.0.1 g5.filler.test"]
            let path = try dns.file("big.txt", first.joined(separator: "\n"))
            try dns.call("dns.blocklist_add", #"{"name": "big", "source": "\#(path)"}"#)
            func listed() throws -> [String: Any] {
                (try dns.call("dns.blocklist_list", "{}")["lists"] as? [[String: Any]])?.first ?? [:]
            }
            // The index is built after the answer.
            #expect(Poll.until(seconds: 20) { (try? listed()["indexed"] as? Bool) == true })
            #expect(try dns.lookup("tracker.lab.example")["blocked"] as? Bool == true)

            _ = try dns.file("big.txt", second.joined(separator: "\n"))
            let refreshed = try dns.call("dns.blocklist_refresh", #"{"name": "big"}"#)
            #expect(refreshed["indexed"] as? [String] == ["big"], "\(refreshed)")
            #expect(refreshed["refreshed"] as? [String] == ["big"])
            let list = try listed()
            #expect(list["unique"] as? Int == 2002)
            #expect(list["zones"] as? Int == 2001)
            #expect(list["skipped"] as? Int == 1)
            let examples = (list["report"] as? [String: Any])?["skipped_examples"] as? [[String: Any]]
            #expect(examples?.first?["line"] as? Int == 1905, "the skipped line under its new number")
            #expect(list["indexed"] as? Bool == true)
            // Exactly the zones a full load of the new content makes, in unbound's include file.
            var expected = Set(["ads.lab.example always_nxdomain", "ok.ads.lab.example transparent"])
            for index in 100..<2000 { expected.insert("f\(index).filler.test always_nxdomain") }
            for index in 0..<100 { expected.insert("g\(index).filler.test always_nxdomain") }
            #expect(Self.includeZones(dns) == expected)
            for name in ["ads.lab.example", "x.ads.lab.example", "g5.filler.test"] {
                #expect(try dns.lookup(name)["blocked"] as? Bool == true, "\(name)")
            }
            #expect(try dns.lookup("ok.ads.lab.example")["answers"] as? [String] == ["10.53.0.97"])
            #expect(try dns.lookup("tracker.lab.example")["answers"] as? [String] == ["10.53.0.95"])
            #expect(try dns.lookup("f5.filler.test")["blocked"] as? Bool == false)

            // And back: the parent goes, its child is a zone again; the exception goes.
            _ = try dns.file("big.txt", first.joined(separator: "\n"))
            let back = try dns.call("dns.blocklist_refresh", #"{"name": "big"}"#)
            #expect(back["indexed"] as? [String] == ["big"])
            var original = Set(["x.ads.lab.example always_nxdomain", "tracker.lab.example always_nxdomain"])
            for index in 0..<2000 { original.insert("f\(index).filler.test always_nxdomain") }
            #expect(Self.includeZones(dns) == original)
            #expect(try dns.lookup("ads.lab.example")["answers"] as? [String] == ["10.53.0.99"])
            #expect(try dns.lookup("x.ads.lab.example")["blocked"] as? Bool == true)
            #expect(try listed()["zones"] as? Int == 2002)
            _ = dns.daemon.stop()
        }
    }

    /// The include file's zones as `name type`.
    static func includeZones(_ dns: DNSLab) -> Set<String> {
        let text =
            (try? String(contentsOfFile: "\(dns.daemon.dataDirectory)/dns/blocklist.conf", encoding: .utf8)) ?? ""
        var out = Set<String>()
        for line in text.split(separator: "\n") where line.hasPrefix("local-zone: \"") {
            let parts = line.dropFirst(13).split(separator: " ")
            guard parts.count == 2 else { continue }
            out.insert("\(parts[0].dropLast(2)) \(parts[1])")
        }
        return out
    }

    @Test("bad sources are refused clearly and the previous content stays active; a download falls back to its cache")
    func badSources() async throws {
        try await Lab.with { lab in
            let https = try LabHTTPS(lab, address: "10.53.0.1")
            var dns = try DNSLab.build(lab, extra: ["--ca-file", https.certificate])
            let good = try dns.file("good.txt", "0.0.0.0 ads.lab.example\n")
            try dns.call("dns.blocklist_add", #"{"name": "l", "source": "\#(good)"}"#)
            let cases: [(String, String, String)] = [
                ("html.txt", "<!DOCTYPE html>\n<html><body>Download the list here</body></html>\n", "HTML page"),
                ("empty.txt", "\n\n", "empty"),
                ("binary.bin", "\u{0}\u{1}\u{2}ELF\u{0}\u{0}", "binary"),
                (
                    "prose.txt", (0..<200).map { "this is line \($0) of a readme" }.joined(separator: "\n"),
                    "not a blocklist"
                ),
            ]
            for (file, text, phrase) in cases {
                let path = try dns.file(file, text)
                let result = try dns.daemon.cli(["call", "dns.blocklist_add", #"{"name": "l", "source": "\#(path)"}"#])
                #expect(result.status == 65, "\(file): \(result.stderr)")
                #expect(result.stderr.contains(phrase), "\(file): \(result.stderr)")
                #expect(try dns.lookup("ads.lab.example")["blocked"] as? Bool == true, "\(file)")
            }
            let missing = try dns.daemon.cli([
                "call", "dns.blocklist_add", #"{"name": "l", "source": "/nonexistent/list"}"#,
            ])
            #expect(missing.status == 66, "\(missing.stderr)")
            #expect(try dns.lookup("ads.lab.example")["rcode"] as? String == "NXDOMAIN")

            // Over HTTPS (the lab's own CA): fetched, then served from the cache when the server is gone.
            let web = "\(lab.directory)/web"
            try FileManager.default.createDirectory(atPath: web, withIntermediateDirectories: true)
            try "0.0.0.0 tracker.lab.example\n".write(toFile: "\(web)/list.txt", atomically: true, encoding: .utf8)
            let server = try https.serve(lab, namespace: dns.upstream, directory: web)
            let url = "https://10.53.0.1:8443/list.txt"
            let fetched = try dns.call("dns.blocklist_add", #"{"name": "web", "source": "\#(url)", "refresh": "1h"}"#)
            #expect(fetched["from_cache"] as? Bool == false)
            #expect(try dns.lookup("tracker.lab.example")["list"] as? String == "web")
            #expect(lab.stop(server))
            let refreshed = try dns.call("dns.blocklist_refresh", #"{"name": "web"}"#)
            #expect(refreshed["from_cache"] as? [String] == ["web"])
            #expect(try dns.lookup("tracker.lab.example")["blocked"] as? Bool == true)
            let uncached = try dns.daemon.cli([
                "call", "dns.blocklist_add", #"{"name": "never", "source": "https://10.53.0.1:8443/other.txt"}"#,
            ])
            #expect(uncached.status != 0)
            #expect(uncached.stderr.contains("no cached copy"), "\(uncached.stderr)")
            _ = dns.daemon.stop()
        }
    }

    @Test(
        "local records are served; the hosts-file section keeps every other byte; a crash before the rename loses nothing"
    )
    func recordsAndHostsFile() async throws {
        try await Lab.with { lab in
            let hosts = "\(lab.directory)/hosts"
            let original = "127.0.0.1\tlocalhost\n# my own comment\n10.0.0.9  printer   # keep me\n\n::1 ip6-localhost"
            try original.write(toFile: hosts, atomically: true, encoding: .utf8)
            var dns = try DNSLab.build(lab, hostsFile: hosts)
            try dns.call("dns.records_set", #"{"name": "nas.lab.example", "addresses": ["10.53.0.20", "fd00::20"]}"#)
            #expect(try dns.lookup("nas.lab.example")["answers"] as? [String] == ["10.53.0.20"])
            #expect(try dns.lookup("nas.lab.example", type: "AAAA")["answers"] as? [String] == ["fd00::20"])
            var text = try String(contentsOfFile: hosts, encoding: .utf8)
            #expect(text.hasPrefix(original + "\n# BEGIN aios-net\n"))
            #expect(text.contains("10.53.0.20\tnas.lab.example\n"))
            #expect(text.hasSuffix("# END aios-net\n"))

            // Another record: the section changes, every line around it stays.
            try dns.call("dns.records_set", #"{"name": "nas.lab.example", "address": "10.53.0.21"}"#)
            text = try String(contentsOfFile: hosts, encoding: .utf8)
            #expect(text.hasPrefix(original + "\n# BEGIN aios-net\n"))
            #expect(text.contains("10.53.0.21\tnas.lab.example") && !text.contains("10.53.0.20"))
            let before = try String(contentsOfFile: hosts, encoding: .utf8)

            // The daemon dies between writing the new file and renaming it: the old file is intact.
            _ = dns.daemon.stop()
            try dns.daemon.start(environment: [
                "AIOS_NET_CRASH_POINT": "hosts-before-rename", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            ])
            let crashed = try dns.daemon.cli([
                "call", "dns.records_set", #"{"name": "tv.lab.example", "address": "10.53.0.30"}"#,
            ])
            #expect(crashed.status != 0)
            #expect(try String(contentsOfFile: hosts, encoding: .utf8) == before)
            // Restarted, it makes the stored records true again (the record was committed first).
            _ = dns.daemon.stop(signal: SIGKILL)
            try dns.daemon.start()
            #expect(
                Poll.until(seconds: 10) {
                    ((try? String(contentsOfFile: hosts, encoding: .utf8)) ?? "").contains("10.53.0.30\ttv.lab.example")
                })
            #expect(try String(contentsOfFile: hosts, encoding: .utf8).hasPrefix(original + "\n# BEGIN aios-net\n"))
            try dns.call("dns.records_remove", #"{"names": ["nas.lab.example", "tv.lab.example"]}"#)
            #expect(try String(contentsOfFile: hosts, encoding: .utf8) == original + "\n")
            _ = dns.daemon.stop()
        }
    }

    @Test("a daemon restart adopts the running unbound; a killed unbound is restarted with the same lists")
    func supervision() async throws {
        try await Lab.with { lab in
            var dns = try DNSLab.build(lab)
            let list = try dns.file("l.txt", "0.0.0.0 ads.lab.example\n")
            try dns.call("dns.blocklist_add", #"{"name": "l", "source": "\#(list)"}"#)
            let pid = try #require(try dns.status()["pid"] as? Int)
            _ = dns.daemon.stop()
            #expect(Lab.alive(Int32(pid)), "unbound must outlive a daemon restart")
            try dns.daemon.start()
            #expect(Poll.until(seconds: 10) { (try? dns.status()["pid"] as? Int) == pid })
            #expect(try dns.daemon.events().contains { $0["kind"] as? String == "dns.resolver_adopted" })
            kill(Int32(pid), SIGKILL)
            #expect(
                Poll.until(seconds: 15) {
                    let status = try? dns.status()
                    return status?["running"] as? Bool == true && status?["pid"] as? Int != pid
                })
            #expect(try dns.lookup("ads.lab.example")["rcode"] as? String == "NXDOMAIN")
            #expect(try dns.lookup("www.lab.example")["answers"] as? [String] == ["10.53.0.80"])
            _ = dns.daemon.stop()
        }
    }

    @Test(
        "killed halfway through loading a list, the daemon's next start finds what the adopted unbound lacks and loads it"
    )
    func adoptedResolverRepaired() async throws {
        try await Lab.with { lab in
            var dns = try DNSLab.build(lab)
            let names = (0..<20_000).map { "n\($0).crash.example" }
            let list = try dns.file("big.txt", names.joined(separator: "\n") + "\n")
            _ = dns.daemon.stop()
            try dns.daemon.start(environment: [
                "AIOS_NET_CRASH_POINT": "zones-mid-load", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            ])
            let crashed = try dns.daemon.cli(["call", "dns.blocklist_add", #"{"name": "big", "source": "\#(list)"}"#])
            #expect(crashed.status != 0, "the daemon died mid-load")
            _ = dns.daemon.stop(signal: SIGKILL)
            // The store and include file say 20,000; the unbound left running holds 5,000.
            try dns.daemon.start()
            #expect(
                Poll.until(seconds: 30) {
                    ((try? dns.daemon.events()) ?? []).contains { $0["kind"] as? String == "dns.zones_repaired" }
                })
            #expect(try dns.lookup("n19999.crash.example")["rcode"] as? String == "NXDOMAIN")
            #expect(try dns.lookup("n0.crash.example")["rcode"] as? String == "NXDOMAIN")
            #expect(try dns.lookup("www.lab.example")["answers"] as? [String] == ["10.53.0.80"])
            _ = dns.daemon.stop()
        }
    }

    @Test(
        "a list too big for batches is loaded by a new unbound beside the running one: every name in, the old one gone")
    func bigLoadReplacesResolver() async throws {
        try await Lab.with { lab in
            var dns = try DNSLab.build(lab)
            let before = try #require(try dns.status()["pid"] as? Int)
            let names = (0..<25_000).map { "n\($0).big.example" }
            let list = try dns.file("big.txt", names.joined(separator: "\n") + "\n")
            let output = try dns.call("dns.blocklist_add", #"{"name": "big", "source": "\#(list)"}"#)
            let resolver = output["resolver"] as? [String: Any]
            #expect(resolver?["replaced"] as? Bool == true, "\(output)")
            #expect(resolver?["batches"] as? Int == 0)
            let after = try #require(try dns.status()["pid"] as? Int)
            #expect(after != before && !Lab.alive(Int32(before)), "the old unbound was retired")
            #expect(try dns.lookup("n0.big.example")["rcode"] as? String == "NXDOMAIN")
            #expect(try dns.lookup("n24999.big.example")["rcode"] as? String == "NXDOMAIN")
            #expect(try dns.lookup("www.lab.example")["answers"] as? [String] == ["10.53.0.80"])
            // Replaced on purpose: not taken for a crash.
            let kinds = try dns.daemon.events().compactMap { $0["kind"] as? String }
            #expect(!kinds.contains("dns.resolver_restarted") && !kinds.contains("dns.resolver_failed"), "\(kinds)")
            // Small changes go on in batches to the new process.
            try dns.call("dns.block", #"{"name": "small.big2.example"}"#)
            #expect(try dns.lookup("small.big2.example")["rcode"] as? String == "NXDOMAIN")
            _ = dns.daemon.stop()
        }
    }

    @Test("dns.configure to an upstream that does not answer is rolled back by its lookup probe")
    func configureRollsBack() async throws {
        try await Lab.with { lab in
            var dns = try DNSLab.build(lab)
            let result = try dns.daemon.cli([
                "call", "dns.configure", #"{"upstreams": ["10.53.0.77"], "probe_name": "www.lab.example"}"#, "--yes",
                "--window", "4s",
            ])
            #expect(result.status == 1, "\(result.stdout) \(result.stderr)")
            #expect((result.stdout + result.stderr).contains("rolled back"))
            let status = try dns.status()
            #expect((status["upstreams"] as? [[String: Any]])?.first?["address"] as? String == "10.53.0.1")
            #expect(try dns.lookup("www.lab.example")["answers"] as? [String] == ["10.53.0.80"])
            _ = dns.daemon.stop()
        }
    }

    static let badInputs = [
        ("dns.blocklist_add", #"{"name": "x", "source": "http://example.org/list.txt"}"#, "input.source"),
        ("dns.blocklist_add", #"{"name": "x", "source": "relative/list.txt"}"#, "input.source"),
        ("dns.blocklist_add", #"{"name": "Bad Name", "source": "/tmp/x"}"#, "input.name"),
        ("dns.blocklist_add", #"{"name": "x", "source": "/tmp/x", "refresh": "5s"}"#, "input.refresh"),
        ("dns.block", #"{"name": "com"}"#, "input.name"),
        ("dns.block", #"{"name": "a..b.example"}"#, "input.name"),
        ("dns.records_set", #"{"name": "nas.lan", "address": "300.1.1.1"}"#, "input.address"),
        ("dns.configure", #"{"upstreams": ["not-an-ip"]}"#, "input.upstreams[0]"),
        ("dns.configure", #"{"cache_min_ttl": 600, "cache_max_ttl": 60}"#, "input.cache_min_ttl"),
        ("dns.lookup", #"{"name": "x.example", "type": "BOGUS"}"#, "input.type"),
    ]

    @Test("bad input is refused with the field named and the resolver's files unchanged")
    func badInput() async throws {
        try await Lab.with { lab in
            var dns = try DNSLab.build(lab)
            let files = ["unbound.conf", "blocklist.conf", "records.conf"].map {
                "\(dns.daemon.dataDirectory)/dns/\($0)"
            }
            let before = try files.map { try String(contentsOfFile: $0, encoding: .utf8) }
            for (tool, input, field) in Self.badInputs {
                let result = try dns.daemon.cli(["call", tool, input, "--yes"])
                #expect(result.status == 65, "\(tool) \(input): \(result.stderr)")
                #expect(result.stderr.contains(field), "\(tool) \(input): \(result.stderr)")
            }
            #expect(try files.map { try String(contentsOfFile: $0, encoding: .utf8) } == before)
            _ = dns.daemon.stop()
        }
    }
}
