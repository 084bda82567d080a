import AiosCore

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

    /// The file's text; every value from settings or paths goes through `ConfigText.unbound`.
    /// - Throws: `AiosError.invalidInput` naming the setting that cannot be written.
    func render() throws -> String {
        func quoted(_ value: String, _ field: String) throws -> String { try ConfigText.unbound(value, field: field) }
        var lines = [
            "# Written by aios-net; changes here are overwritten. Change it with `aios-net call dns.configure`.",
            "server:",
            "    interface: \(try quoted("\(settings.listenAddress)@\(settings.port)", "listen"))",
            "    do-daemonize: no",
            // Serves the sockets the daemon hands it (LISTEN_FDS), if any; else binds its own.
            "    use-systemd: yes",
            "    username: \(try quoted(username, "username"))",
            "    chroot: \"\"",
            "    pidfile: \"\"",
            "    logfile: \"\"",
            "    use-syslog: no",
            "    log-time-ascii: yes",
            "    directory: \(try quoted(paths.directory, "--data-dir"))",
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
            "    tls-cert-bundle: \(try quoted(caBundle, "--ca-file"))",
            "    access-control: 127.0.0.0/8 allow",
            "    access-control: ::1/128 allow",
        ]
        for (index, subnet) in settings.accessControl.enumerated() {
            lines.append("    access-control: \(try quoted(subnet, "access_control[\(index)]")) allow")
        }
        lines += [
            "    include: \(try quoted(paths.blocklistInclude, "--data-dir"))",
            "    include: \(try quoted(paths.recordsInclude, "--data-dir"))",
            "",
            "remote-control:",
            "    control-enable: yes",
            "    control-interface: \(try quoted(paths.control, "--data-dir"))",
        ]
        if !settings.upstreams.isEmpty {
            lines += [
                "", "forward-zone:", "    name: \".\"", "    forward-tls-upstream: \(settings.tls ? "yes" : "no")",
            ]
            for (index, text) in settings.upstreams.enumerated() {
                // Parsed again: a stored value that no longer parses (an older version's, or
                // edited by hand) is refused, never written.
                let field = "upstreams[\(index)]"
                let upstream = try Upstream.parse(text, field: field)
                lines.append("    forward-addr: \(try quoted(upstream.unbound(tls: settings.tls), field))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
