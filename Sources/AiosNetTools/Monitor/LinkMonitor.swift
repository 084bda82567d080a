import AiosCore
import AiosLinux
import AiosStore
import Foundation
import Logging

/// Watches rtnetlink (links, addresses, routes) and the DHCP clients, coalesces each burst into
/// one change per interface (old → new), writes a `link_*` event per change, hands the changes to
/// the registered handlers, and keeps the machine connected:
///
/// - the interface holding the default route loses carrier → the default route moves to another
///   interface that has carrier and a known gateway (`net.failover`, guarded), and back when the
///   carrier returns;
/// - an interface appears → reported; configured by DHCP when the auto-configuration setting
///   says `dhcp-only` or `dhcp-then-fallback`;
/// - a DHCP lease is lost → dhcpcd is asked to renew; without a lease again in time, the fallback
///   runs (`net.dhcp_fallback`).
///
/// Every change to the machine goes through the pipeline with origin `monitor`.
struct LinkMonitor: BackgroundWork {
    let context: NetContext
    let handlers: [any LinkChangeHandling]
    let logger: Logger
    var name: String { "net.link-monitor" }

    /// How long a burst may last before it is reported.
    static let coalesce: Duration = .milliseconds(200)

    func run(calls: any ToolCalling) async throws {
        let source = NetlinkEventSource()
        let events: AsyncStream<NetlinkEvent>
        do {
            events = try source.events()
        } catch {
            logger.error("link monitor: cannot subscribe to rtnetlink: \(error)")
            return
        }
        let (ticks, tick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        var state = Self.read(context)
        var failedOver: [String: String] = [:]  // dead uplink → interface the route moved to
        var attempts: [String: ContinuousClock.Instant] = [:]
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in events { tick.yield() }
                tick.finish()
            }
            // A re-read every few seconds as well: a carrier change the kernel's link watcher
            // reports late (or a lost event) is still seen.
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(2))
                    tick.yield()
                }
            }
            group.addTask {
                var losses = LeaseLosses()
                for await event in await context.dhcp.events() where losses.shouldHandle(event) {
                    await handleLeaseLoss(event, calls: calls)
                }
            }
            for await _ in ticks {
                try? await Task.sleep(for: Self.coalesce)
                let now = Self.read(context)
                let changes = Self.changes(from: state, to: now)
                state = now
                for change in changes {
                    logger.info("\(change.kind) \(change.interface): \(change.old ?? "-") → \(change.new ?? "-")")
                    try? await context.store.record(
                        AuditEvent(
                            timestampMs: SystemClock().nowMs(), kind: change.kind, origin: "monitor", result: "ok",
                            detail: "\(change.interface): \(change.old ?? "-") → \(change.new ?? "-")"))
                }
                if !changes.isEmpty {
                    for handler in handlers { await handler.linksChanged(changes) }
                    await configureNew(changes, state: now, calls: calls)
                }
                // Level-based, on every look: an uplink without carrier is failed over even when
                // the moment it lost carrier went unseen (or it never had one since boot).
                await keepConnected(now, failedOver: &failedOver, attempts: &attempts, calls: calls)
            }
            group.cancelAll()
        }
    }

    /// The links and whether each holds a default route.
    struct State: Sendable {
        var links: [String: NetlinkLink]
        var addresses: [String: [String]]
        var defaultVia: [String: UInt32]
    }

    static func read(_ context: NetContext) -> State {
        let links = (try? context.netlink.links()) ?? []
        let names = Dictionary(links.map { ($0.index, $0.name) }, uniquingKeysWith: { a, _ in a })
        var addresses: [String: [String]] = [:]
        for address in (try? context.netlink.addresses()) ?? [] where address.scope < 253 {
            if let name = names[address.index] {
                addresses[name, default: []].append("\(address.address)/\(address.prefixLength)")
            }
        }
        var defaults: [String: UInt32] = [:]
        for route in (try? context.netlink.routes()) ?? [] where route.destinationLength == 0 && route.table == 254 {
            if let index = route.outputIndex, let name = names[index] {
                defaults[name] = min(defaults[name] ?? .max, route.priority ?? 0)
            }
        }
        return State(
            links: Dictionary(links.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }),
            addresses: addresses.mapValues { $0.sorted() }, defaultVia: defaults)
    }

    static func carrier(_ link: NetlinkLink) -> Bool { link.flags & 0x10000 != 0 }

    static func describe(_ link: NetlinkLink) -> String {
        "\(link.flags & 1 != 0 ? "up" : "down"), \(carrier(link) ? "carrier" : "no carrier"), mtu \(link.mtu)"
    }

    static func changes(from old: State, to new: State) -> [LinkChange] {
        var out: [LinkChange] = []
        for (name, link) in new.links.sorted(by: { $0.key < $1.key }) {
            guard let before = old.links[name] else {
                out.append(LinkChange(kind: "link_added", interface: name, old: nil, new: describe(link)))
                continue
            }
            if before.flags & 1 != link.flags & 1 {
                out.append(
                    LinkChange(
                        kind: link.flags & 1 != 0 ? "link_up" : "link_down", interface: name, old: describe(before),
                        new: describe(link)))
            } else if carrier(before) != carrier(link) {
                out.append(
                    LinkChange(
                        kind: carrier(link) ? "carrier_restored" : "carrier_lost", interface: name,
                        old: describe(before), new: describe(link)))
            }
            if old.addresses[name] ?? [] != new.addresses[name] ?? [] {
                out.append(
                    LinkChange(
                        kind: "addresses_changed", interface: name,
                        old: (old.addresses[name] ?? []).joined(separator: " "),
                        new: (new.addresses[name] ?? []).joined(separator: " ")))
            }
            if (old.defaultVia[name] == nil) != (new.defaultVia[name] == nil) {
                out.append(
                    LinkChange(
                        kind: "routes_changed", interface: name,
                        old: old.defaultVia[name] == nil ? "no default route" : "default route",
                        new: new.defaultVia[name] == nil ? "no default route" : "default route"))
            }
        }
        for name in old.links.keys.sorted() where new.links[name] == nil {
            out.append(LinkChange(kind: "link_removed", interface: name, old: describe(old.links[name]!), new: nil))
        }
        return out
    }

    /// The interface whose default route has the lowest metric.
    static func uplink(_ state: State) -> String? {
        state.defaultVia.min { $0.value != $1.value ? $0.value < $1.value : $0.key < $1.key }?.key
    }

    private func keepConnected(
        _ state: State, failedOver: inout [String: String], attempts: inout [String: ContinuousClock.Instant],
        calls: any ToolCalling
    ) async {
        // Failback: an uplink we moved away from has carrier again.
        for (dead, _) in failedOver {
            guard let link = state.links[dead], Self.carrier(link), link.flags & 1 != 0 else { continue }
            let back = try? await calls.execute(
                ToolCall(
                    tool: FailoverTool.descriptor.name,
                    input: ["interface": .string(dead), "reason": .string("carrier back on \(dead)")], origin: .monitor,
                    guardOptions: GuardOptions(windowMs: 10_000)))
            if back != nil {
                failedOver[dead] = nil
                try? await context.store.record(
                    AuditEvent(
                        timestampMs: SystemClock().nowMs(), kind: "link_failback", origin: "monitor", result: "ok",
                        detail: "carrier back on \(dead): default route moved back"))
            }
        }
        // Failover: the uplink has no carrier.
        guard let uplink = Self.uplink(state), let link = state.links[uplink],
            !Self.carrier(link) || link.flags & 1 == 0
        else {
            return
        }
        if let last = attempts[uplink], ContinuousClock.now - last < .seconds(10) { return }
        attempts[uplink] = .now
        for (name, candidate) in state.links.sorted(by: { $0.key < $1.key })
        where name != uplink && Self.carrier(candidate) && candidate.flags & 1 != 0 && candidate.hardwareType == 1 {
            guard (try? await FailoverTool.gateway(for: name, context: context)) ?? nil != nil else { continue }
            do {
                let outcome = try await calls.execute(
                    ToolCall(
                        tool: FailoverTool.descriptor.name,
                        input: ["interface": .string(name), "reason": .string("no carrier on \(uplink)")],
                        origin: .monitor,
                        guardOptions: GuardOptions(windowMs: 10_000)))
                failedOver[uplink] = name
                try? await context.store.record(
                    AuditEvent(
                        timestampMs: SystemClock().nowMs(), kind: "link_failover", origin: "monitor",
                        result: outcome.status.rawValue,
                        detail: "no carrier on \(uplink): default route moved to \(name)"))
                logger.info("failover: no carrier on \(uplink), default route now via \(name)")
                return
            } catch {
                logger.error("failover from \(uplink) to \(name) failed: \(error)")
            }
        }
    }

    private func configureNew(_ changes: [LinkChange], state: State, calls: any ToolCalling) async {
        guard context.settings.autoConfigure != "off" else { return }
        for change in changes where change.kind == "link_added" {
            guard let link = state.links[change.interface], link.hardwareType == 1,
                link.kind == nil || link.kind == "veth"
            else { continue }
            _ = try? await calls.execute(
                ToolCall(
                    tool: ConfigureTool.descriptor.name,
                    input: [
                        "interface": .string(change.interface), "method": "dhcp",
                        "fallback": .bool(context.settings.autoConfigure == "dhcp-then-fallback"),
                    ], origin: .monitor))
        }
    }

    /// Renews, then falls back.
    private func handleLeaseLoss(_ event: DHCPEvent, calls: any ToolCalling) async {
        logger.info("dhcp lease lost on \(event.interface) (\(event.reason)); asking for a renewal")
        await context.dhcp.renew(event.interface)
        if await context.dhcp.waitForLease(event.interface, timeoutMs: context.settings.dhcpTimeoutMs) != nil { return }
        let intent = try? await context.store.interfaceIntents().first { $0.interface == event.interface }
        guard intent?.method == "dhcp", intent?.config["fallback"] != .bool(false) else { return }
        logger.info("no lease on \(event.interface) within \(context.settings.dhcpTimeoutMs) ms; running the fallback")
        let detail: String
        let result: String
        do {
            let outcome = try await calls.execute(
                ToolCall(
                    tool: DHCPFallbackTool.descriptor.name, input: ["interface": .string(event.interface)],
                    origin: .monitor))
            let reasoning = outcome.output?["reasoning"]?.arrayValue?.compactMap(\.stringValue) ?? []
            detail = "\(event.interface): " + reasoning.joined(separator: "; ")
            result = outcome.status.rawValue
        } catch {
            detail = "\(event.interface): \(error)"
            result = "error"
        }
        // The reasoning outlives the call: an unattended fallback explains itself in the trail.
        try? await context.store.record(
            AuditEvent(
                timestampMs: SystemClock().nowMs(), kind: "dhcp_fallback", origin: "monitor", result: result,
                detail: detail))
    }
}

/// Which DHCP events start a renew-then-fallback: the first loss after a lease. dhcpcd reports one
/// loss several ways (NOCARRIER, then EXPIRE, then EXPIRE again after each failed attempt, since it
/// keeps asking) — only the first counts, and the next loss needs a lease in between. A report
/// before any lease (dhcpcd starting on a link without carrier, a first attempt that failed) is no
/// loss: `net.configure` runs its own fallback then. Stopping dhcpcd on purpose is no loss either.
struct LeaseLosses {
    private var leased: Set<String> = []

    /// Whether `event` is a loss to handle now (and notes the leases).
    mutating func shouldHandle(_ event: DHCPEvent) -> Bool {
        if DHCPEvent.bound.contains(event.reason) {
            leased.insert(event.interface)
            return false
        }
        guard DHCPEvent.lost.contains(event.reason), event.reason != "STOP", event.reason != "STOPPED" else {
            return false
        }
        return leased.remove(event.interface) != nil
    }
}
