import AiosCore
import AiosLinux
import Foundation

/// When no DHCP server answers (seed 001's "local model suggests a config"): listen to the link,
/// infer the subnet in use from the ARP and IPv4 traffic on it, pick an address nobody answers
/// for (RFC 5227 ARP probe), guess the gateway and check it answers ARP — and say why, step by
/// step. Deterministic: the same traffic gives the same answer.
struct FallbackAnalyzer: Sendable {
    /// The analyzer's conclusion.
    struct Result: Codable, Sendable, Equatable {
        /// `configured`-able findings, or nil when there was nothing to go on.
        var address: String?
        var gateway: String?
        var subnet: String?
        /// One sentence per step of the reasoning.
        var reasoning: [String]
    }

    let link: NetlinkLink
    let listenMs: Int

    func analyze() async throws -> Result {
        let index = link.index
        let listenMs = listenMs
        let frames = try await Offload.run { try LinkCapture.listen(index: index, durationMs: listenMs) }
        var reasoning: [String] = []
        let arp = frames.filter { $0.kind.hasPrefix("arp") }
        let ip = frames.filter { $0.kind == "ipv4" }
        var seen: [String: Int] = [:]
        var macs: [String: [UInt8]] = [:]
        for frame in frames {
            for address in [frame.sender, frame.target] where Self.usable(address) { seen[address, default: 0] += 1 }
            if Self.usable(frame.sender), frame.kind != "ipv4" || frame.senderMAC.first.map({ $0 & 1 == 0 }) == true {
                macs[frame.sender] = frame.senderMAC
            }
        }
        reasoning.append(
            "listened \(Self.seconds(listenMs)) on \(link.name): \(arp.count) ARP and \(ip.count) IPv4 frames, \(seen.count) distinct addresses"
        )
        guard !seen.isEmpty else {
            reasoning.append(
                "found nothing to go on: no ARP or IPv4 traffic on the link, so no subnet can be inferred; configure it with method static"
            )
            return Result(address: nil, gateway: nil, subnet: nil, reasoning: reasoning)
        }
        // The /24 most addresses fall into (ties: the lowest), a deterministic and common guess.
        var byNetwork: [String: Int] = [:]
        for address in seen.keys { byNetwork[CIDR("\(address)/24")!.network.description, default: 0] += 1 }
        let best = byNetwork.max { ($0.value, $1.key) < ($1.value, $0.key) }!
        let subnet = CIDR(best.key)!
        reasoning.append("subnet \(subnet): \(best.value) of \(seen.count) addresses seen lie in it")
        // The gateway: the address in the subnet other hosts ask for (ARP targets) or that sends
        // the most, preferring .1 and .254 on ties.
        var score: [String: Int] = [:]
        for frame in arp where subnet.contains(frame.target) && frame.kind == "arp-request" {
            score[frame.target, default: 0] += 2
        }
        for frame in frames where subnet.contains(frame.sender) { score[frame.sender, default: 0] += 1 }
        let candidates = score.keys.sorted { a, b in
            let sa = score[a]! + (a.hasSuffix(".1") || a.hasSuffix(".254") ? 1 : 0)
            let sb = score[b]! + (b.hasSuffix(".1") || b.hasSuffix(".254") ? 1 : 0)
            return sa != sb ? sa > sb : a < b
        }
        // The address: start at a point derived from our MAC (hosts falling back at once pick
        // different ones), skip what was seen, probe until one is free.
        let mac = link.hardwareAddress
        let start = 100 + Int(mac.last ?? 0) % 100
        var chosen: String?
        for step in 0..<20 {
            let host = 2 + (start - 2 + step * 7) % 252
            guard let candidate = subnet.host(UInt128(host)), seen[candidate] == nil else { continue }
            let index = link.index
            let conflict = try await Offload.run { try LinkCapture.probe(index: index, mac: mac, candidate: candidate) }
            if let conflict {
                reasoning.append("\(candidate) is in use (answered from \(IPAddressText.mac(conflict)))")
                continue
            }
            reasoning.append("\(candidate): 3 ARP probes (RFC 5227) got no answer, so it is free")
            chosen = candidate
            break
        }
        guard let address = chosen else {
            reasoning.append("found no free address in \(subnet) after 20 probes")
            return Result(address: nil, gateway: nil, subnet: subnet.description, reasoning: reasoning)
        }
        var gateway: String?
        for candidate in candidates.prefix(3) where candidate != address {
            let index = link.index
            if let answer = try await Offload.run({
                try LinkCapture.resolve(index: index, mac: mac, senderIP: address, target: candidate)
            }) {
                reasoning.append(
                    "gateway \(candidate): the most asked-for and talkative host in the subnet, and it answers ARP (\(IPAddressText.mac(answer)))"
                )
                gateway = candidate
                break
            }
            reasoning.append("\(candidate) looked like the gateway but does not answer ARP")
        }
        if gateway == nil { reasoning.append("no gateway could be confirmed; only the local subnet will be reachable") }
        return Result(address: "\(address)/24", gateway: gateway, subnet: subnet.description, reasoning: reasoning)
    }

    /// Unicast IPv4 addresses that say something about a subnet (not 0.0.0.0, broadcast, multicast, link-local).
    static func usable(_ address: String) -> Bool {
        guard let bytes = IPAddressText.parse(address), bytes.count == 4 else { return false }
        if bytes == [0, 0, 0, 0] || bytes == [255, 255, 255, 255] { return false }
        if bytes[0] >= 224 || bytes[0] == 127 || (bytes[0] == 169 && bytes[1] == 254) { return false }
        return true
    }

    static func seconds(_ ms: Int) -> String { ms % 1000 == 0 ? "\(ms / 1000) s" : "\(Double(ms) / 1000) s" }
}
