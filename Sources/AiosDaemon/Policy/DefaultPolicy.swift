/// The built-in default policy; `Policies/default.yaml` ships the same text (a test keeps them equal).
public enum DefaultPolicy {
    /// The YAML text.
    public static let yaml = """
        # aios-net default policy: conservative, especially for the LLM.
        # Rules are tried in order; the first whose origins, tools and effects all match decides.
        # Decisions: allow, confirm (a person must pass --yes), deny.
        version: 1
        default: deny

        rules:
          # People at the CLI may look and make reversible changes; anything that can cut
          # connectivity needs --yes and runs under the guard.
          - origins: [user]
            effects: [read, change]
            decision: allow
            reason: operators may read state and make reversible changes
          - origins: [user]
            effects: [disruptive]
            decision: confirm
            reason: disruptive changes need an explicit --yes

          # Boot and goal files act without a human, inside what the operator declared.
          - origins: [boot, goal]
            effects: [read, change, disruptive]
            decision: allow
            reason: boot and declared goals may converge the machine (disruptive changes stay guarded)

          # The daemon's own timers (blocklist refresh) may read and refresh what was already configured.
          - origins: [schedule]
            tools: ["*.refresh", "dns.blocklist_refresh"]
            effects: [read, change]
            decision: allow
            reason: scheduled refreshes keep configured state current

          # The link monitor keeps the machine connected: failover, DHCP fallback, new interfaces
          # (as the auto-configuration setting says). Its disruptive changes run under the guard.
          - origins: [monitor]
            tools: ["net.*"]
            effects: [read, change, disruptive]
            decision: allow
            reason: the link monitor may keep the machine connected (disruptive changes stay guarded)

          # The LLM may investigate freely but changes nothing without a person.
          - origins: [llm]
            effects: [read]
            decision: allow
            reason: the LLM may read state to investigate
          - origins: [llm]
            tools: ["lab.*"]
            decision: deny
            reason: lab tools are not for the LLM
          - origins: [llm]
            effects: [change]
            decision: confirm
            reason: changes proposed by the LLM need a person's confirmation
          - origins: [llm]
            effects: [disruptive]
            decision: deny
            reason: the LLM may not make changes that can cut connectivity

        limits:
          max_expiry: 7d
          max_calls_per_escalation: 20

        guard:
          window: 30s
          probe_interval: 1s

        # Items no origin may remove or shadow. The firewall module reports the management
        # rules it touches as kind firewall_rule with role=management.
        protected:
          - kind: firewall_rule
            match: {role: management}
            reason: management access (ssh 22, cockpit 9090 from the management subnet) keeps operators in

        """
}
