import AiosCore
import AiosCurl
import AiosTesting
import Foundation
import Testing

@testable import AiosDNSTools

@Suite("blocklist parsing")
struct BlocklistParserTests {
    static let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../Fixtures/blocklists"
    ).standardized.path

    static func parse(_ file: String) throws -> ParsedBlocklist {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(data)/\(file)")))
        return BlocklistParser.parse(bytes)
    }

    static func parse(text: String) -> ParsedBlocklist { BlocklistParser.parse(Array(text.utf8)) }

    @Test(
        "the four real lists give exactly the counts of SOURCES.md",
        arguments: [
            ("blocklistproject-basic.hosts.txt", 76_036, 28_841, 47_195, 0),
            ("blocklistproject-basic.adguard.txt", 76_036, 28_841, 47_195, 0),
            ("blocklistproject-phishing.domains.txt", 190_215, 72_132, 118_083, 0),
            ("adaway.hosts.txt", 6_540, 2_273, 4_267, 2),
        ])
    func counts(file: String, unique: Int, covered: Int, zones: Int, local: Int) throws {
        let parsed = try Self.parse(file)
        #expect(parsed.names.count == unique)
        let minimal = ZoneSet.minimal(parsed.names)
        #expect(parsed.names.count - minimal.count == covered)
        #expect(minimal.count == zones)
        #expect(parsed.localNames == local)
        #expect(parsed.skipped == 0, "\(parsed.skippedExamples)")
        #expect(
            parsed.names.filter { $0.contains("_") }.count
                == (file.contains("phishing") ? 24 : file.contains("adaway") ? 0 : 4))
    }

    @Test("the hosts and Adblock forms of one list give the same set; the cross-file facts hold")
    func crossFile() throws {
        let hosts = try Self.parse("blocklistproject-basic.hosts.txt").names
        let adguard = try Self.parse("blocklistproject-basic.adguard.txt").names
        let phishing = try Self.parse("blocklistproject-phishing.domains.txt").names
        let adaway = try Self.parse("adaway.hosts.txt").names
        #expect(hosts == adguard)
        #expect(hosts.intersection(phishing).count == 113)
        #expect(adaway.intersection(hosts).count == 5_696)
    }

    @Test(
        "tricky lines are normalised, skipped or reported as the formats demand",
        arguments: [
            ("0.0.0.0 0.0.0.0", [String](), 0),
            ("127.0.0.1 localhost\n::1 ip6-localhost\n255.255.255.255 broadcasthost", [], 0),
            ("fe80::1%lo0 localhost", [], 0),
            ("0.0.0.0 Ads.Example.COM.", ["ads.example.com"], 0),
            ("0.0.0.0 a.com b.com  # c.com", ["a.com", "b.com"], 0),
            ("ads.example.com\r\n", ["ads.example.com"], 0),
            ("\u{FEFF}first.example.com\nsecond.example.com", ["first.example.com", "second.example.com"], 0),
            ("||ads.example^$important", ["ads.example"], 0),
            ("||example.com/ads^\nexample.com##.ad\n/^ad[0-9]+\\.example\\./", [], 3),
            ("*.wild.example.com", ["wild.example.com"], 0),
            (
                "address=/a.example/b.example/#\nserver=/c.example/\nlocal=/d.example/",
                ["a.example", "b.example", "c.example", "d.example"], 0
            ),
            ("server:\nlocal-zone: \"e.example.\" always_null", ["e.example"], 0),
            ("bücher.de", ["xn--bcher-kva.de"], 0),
            ("com\nlan", [], 2),
            ("a..b.com\n-bad.com\nbad-.com\n1.2.3.4", [], 4),
            ("under_score.example.com", ["under_score.example.com"], 0),
            (
                "0 tabbed.example.org\n0.0.0.0 jackbootedroom.com  ## phishing",
                ["tabbed.example.org", "jackbootedroom.com"], 0
            ),
        ])
    func trickyLines(text: String, names: [String], skipped: Int) {
        let parsed = Self.parse(text: text)
        #expect(parsed.names == Set(names))
        #expect(parsed.skipped == skipped, "\(parsed.skippedExamples)")
    }

    @Test("@@ exceptions are collected, never blocked; skipped lines are reported with their numbers")
    func exceptionsAndReport() {
        let parsed = Self.parse(text: "||ads.example^\n@@||good.ads.example^\nnot a list line\n||x.example/path^\n")
        #expect(parsed.names == ["ads.example"])
        #expect(parsed.exceptions == ["good.ads.example"])
        #expect(parsed.skipped == 2)
        #expect(parsed.skippedExamples.map(\.line) == [3, 4])
    }

    @Test("a label of 64 characters and a name over 253 characters are invalid")
    func lengths() {
        let label = String(repeating: "a", count: 64)
        let long = (0..<60).map { _ in "abcd" }.joined(separator: ".") + ".com"
        #expect(Self.parse(text: "\(label).com\n\(long)").names.isEmpty)
        #expect(Self.parse(text: "\(String(repeating: "a", count: 63)).com").names.count == 1)
    }

    @Test(
        "effective zones: allowed names and what lies below them are not blocked; exceptions under a blocked zone are transparent"
    )
    func effective() {
        let (block, transparent) = ZoneSet.effective(
            blocked: ["ads.example", "x.ads.example", "tracker.example", "deep.safe.example"],
            allowed: ["good.ads.example", "safe.example"])
        #expect(block == ["ads.example", "tracker.example"])
        #expect(transparent == ["good.ads.example"])
    }
}

@Suite("what a blocklist report may hold, and what is an HTML page")
struct BlocklistReportTests {
    @Test("skipped lines are reported by number and reason only: no content of the file leaves it")
    func noContent() throws {
        let text =
            "ads.example.com\npassword=hunter2-secret\nroot:$6$saltsalt$hashhashhash:19000:0:99999:7:::\ntrack.example.net\n"
        let parsed = BlocklistParser.parse(Array(text.utf8))
        #expect(parsed.skipped == 2)
        #expect(parsed.skippedExamples.map(\.line) == [2, 3])
        let report = try JSONValue(encoding: parsed.skippedExamples).jsonText
        for secret in ["hunter2", "saltsalt", "password", "root:"] { #expect(!report.contains(secret), "\(report)") }
    }

    @Test(
        "a page is known by how it starts or by most of its lines being markup",
        arguments: [
            ("<!DOCTYPE html>\n<html><body>Not found</body></html>\n", true),
            ("\u{feff}  <!-- mirror -->\n<html lang=\"en\">\n<head><title>x</title></head>\n", true),
            ("<HEAD><TITLE>302 Found</TITLE></HEAD>\n", true),
            ("<div>\n<p>a</p>\n<p>b</p>\n<span>c</span>\nads.example.com\n", true),
            ("ads.example.com\n<html><body>stray</body></html>\ntrack.example.net\nx.example.org\n", false),
            ("# list\n0.0.0.0 ads.example.com\n||tracker.example^\n", false),
        ])
    func htmlPages(text: String, page: Bool) {
        #expect(BlocklistSource.isHTMLPage(ArraySlice(Array(text.utf8))) == page)
    }

    @Test("a list with one stray markup line is parsed, the line skipped and counted")
    func strayMarkup() throws {
        let text = "ads.example.com\n<html><body>stray</body></html>\ntrack.example.net\n"
        try BlocklistSource.sniff(Array(text.utf8), source: "/x")
        let parsed = BlocklistParser.parse(Array(text.utf8))
        #expect(parsed.skipped == 1)
    }

    @Test("a list file over the size cap is refused before it is read")
    func sizeCap() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("aios-big-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: UInt64(BlocklistSource.maxBytes + 1))
        try handle.close()
        let source = BlocklistSource(http: FakeHTTP(), paths: DNSPaths(dataDirectory: "/tmp/aios-unused"))
        let error = await #expect(throws: AiosError.self) { _ = try await source.read(path, list: "big") }
        #expect(error?.message.contains("over the 256 MiB") == true, "\(error?.message ?? "")")
    }
}
