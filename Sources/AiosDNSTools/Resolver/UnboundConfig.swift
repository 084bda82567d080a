/// unbound.conf for the managed resolver: listen where the settings say, loopback (and the
/// configured subnets) may query, cache TTL bounds, forwarding to the upstreams (DNS-over-TLS
/// with the system CA bundle when asked), remote control on a unix socket only, and the
/// blocklist and local-record files included. Runs in the foreground under the daemon, writes no
/// pid file and logs to standard error (captured by the daemon).
struct UnboundConfig {
    let settings: DNSSettings
    let paths: DNSPaths
    /// The user unbound drops to after binding (empty: stays root, when there is no `unbound` user).
    let username: String
    /// The CA bundle for DNS-over-TLS.
    var caBundle = "/etc/ssl/certs/ca-certificates.crt"

    var text: String {
        var lines = [
            "# Written by aios-net; changes here are overwritten. Change it with `aios-net call dns.configure`.",
            "server:",
            "    interface: \(settings.listenAddress)@\(settings.port)",
            "    do-daemonize: no",
            "    use-systemd: no",
            "    username: \"\(username)\"",
            "    chroot: \"\"",
            "    pidfile: \"\"",
            "    logfile: \"\"",
            "    use-syslog: no",
            "    log-time-ascii: yes",
            "    directory: \"\(paths.directory)\"",
            "    verbosity: 1",
            "    log-queries: \(settings.queryLog ? "yes" : "no")",
            "    num-threads: 1",
            "    extended-statistics: yes",
            "    statistics-cumulative: no",
            "    hide-identity: yes",
            "    hide-version: yes",
            "    prefetch: yes",
            "    cache-min-ttl: \(settings.cacheMinTTL)",
            "    cache-max-ttl: \(settings.cacheMaxTTL)",
            "    do-not-query-localhost: no",
            "    tls-cert-bundle: \"\(caBundle)\"",
            "    access-control: 127.0.0.0/8 allow",
            "    access-control: ::1/128 allow",
        ]
        for subnet in settings.accessControl { lines.append("    access-control: \(subnet) allow") }
        lines += [
            "    include: \"\(paths.blocklistInclude)\"",
            "    include: \"\(paths.recordsInclude)\"",
            "",
            "remote-control:",
            "    control-enable: yes",
            "    control-interface: \"\(paths.control)\"",
        ]
        if !settings.upstreams.isEmpty {
            lines += [
                "", "forward-zone:", "    name: \".\"", "    forward-tls-upstream: \(settings.tls ? "yes" : "no")",
            ]
            for text in settings.upstreams {
                if let upstream = try? Upstream.parse(text, field: "upstreams") {
                    lines.append("    forward-addr: \(upstream.unbound(tls: settings.tls))")
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
