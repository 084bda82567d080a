import AiosCore
import AiosLinux
import AiosStore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Local records served by the resolver (`local-data`, with PTRs) and, when configured, the
/// managed hosts-file section. The include file is what unbound reads at start; running changes
/// go over the control socket.
actor LocalRecords {
    let paths: DNSPaths
    let resolver: ManagedResolver
    /// The hosts file with the managed section, if any.
    let hostsFile: String?
    /// A test hook: where to die (`hosts-before-rename`).
    let crashPoint: String?

    init(paths: DNSPaths, resolver: ManagedResolver, hostsFile: String?, crashPoint: String?) {
        self.paths = paths
        self.resolver = resolver
        self.hostsFile = hostsFile
        self.crashPoint = crashPoint
    }

    /// Makes `records` (all of them) true; `changed` names have their old data removed first.
    func apply(_ records: [DNSLocalRecord], changed: [String]) async throws {
        var include = ["# Written by aios-net: local records (change them with dns.records_set/remove)"]
        for record in records {
            include += try Self.lines(record).map { "local-data: \(try ConfigText.unbound($0, field: "records"))" }
        }
        do {
            try paths.ensureDirectories()
            try AtomicFile.write(include.joined(separator: "\n") + "\n", to: paths.recordsInclude)
        } catch {
            throw AiosError(.unavailable, "cannot write \(paths.recordsInclude): \(error)", cause: error)
        }
        if await resolver.runningPID != nil {
            let byName = Dictionary(records.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
            var removals: [String] = []
            var additions: [String] = []
            for name in changed {
                removals.append(name + ".")
                if let addresses = byName[name]?.addresses {
                    for address in addresses { removals.append(Self.reverseName(address)) }
                }
                if let record = byName[name] { additions += Self.lines(record) }
            }
            if !removals.isEmpty { _ = try await resolver.run("local_datas_remove", input: removals) }
            if !additions.isEmpty { _ = try await resolver.run("local_datas", input: additions) }
        }
        if let hostsFile {
            let entries = records.flatMap { record in record.addresses.map { (address: $0, names: [record.name]) } }
            let crash: (() -> Void)? = crashPoint == "hosts-before-rename" ? { kill(getpid(), SIGKILL) } : nil
            do {
                try HostsSection.write(hostsFile, entries: entries, beforeRename: crash)
            } catch {
                throw AiosError(.unavailable, "cannot update the hosts file \(hostsFile): \(error)", cause: error)
            }
        }
    }

    /// The RRs of one record: A/AAAA per address, and the PTR back.
    static func lines(_ record: DNSLocalRecord) -> [String] {
        record.addresses.flatMap { address -> [String] in
            let type = address.contains(":") ? "AAAA" : "A"
            return [
                "\(record.name). \(record.ttl) IN \(type) \(address)",
                "\(reverseName(address)) \(record.ttl) IN PTR \(record.name).",
            ]
        }
    }

    /// `4.3.2.1.in-addr.arpa.` / nibbles under `ip6.arpa.`.
    static func reverseName(_ address: String) -> String {
        guard let bytes = IPAddressText.parse(address) else { return address }
        if bytes.count == 4 { return bytes.reversed().map(String.init).joined(separator: ".") + ".in-addr.arpa." }
        let nibbles = bytes.flatMap { [String($0 >> 4, radix: 16), String($0 & 15, radix: 16)] }
        return nibbles.reversed().joined(separator: ".") + ".ip6.arpa."
    }
}
