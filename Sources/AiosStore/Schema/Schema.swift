import GRDB

/// The one migration timeline. Migrations are named, ordered, and never edited once merged:
/// change the schema by appending a migration.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("001-events") { db in
            try db.execute(
                sql: """
                    CREATE TABLE events (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        ts_ms INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        call_id TEXT,
                        origin TEXT,
                        tool TEXT,
                        input TEXT,
                        decision TEXT,
                        reason TEXT,
                        result TEXT NOT NULL,
                        error_code TEXT,
                        error_message TEXT,
                        duration_us INTEGER,
                        detail TEXT
                    );
                    CREATE INDEX events_ts ON events(ts_ms);
                    CREATE INDEX events_tool_ts ON events(tool, ts_ms);
                    """)
        }
        migrator.registerMigration("002-guards") { db in
            try db.execute(
                sql: """
                    CREATE TABLE guards (
                        id TEXT PRIMARY KEY,
                        call_id TEXT NOT NULL,
                        tool TEXT NOT NULL,
                        origin TEXT NOT NULL,
                        inverse TEXT NOT NULL,
                        probe TEXT,
                        created_ms INTEGER NOT NULL,
                        deadline_ms INTEGER NOT NULL,
                        state TEXT NOT NULL,
                        note TEXT,
                        updated_ms INTEGER NOT NULL
                    );
                    CREATE INDEX guards_state ON guards(state);
                    """)
        }
        migrator.registerMigration("003-settings") { db in
            try db.execute(
                sql: """
                    CREATE TABLE settings (
                        key TEXT PRIMARY KEY,
                        value TEXT NOT NULL,
                        updated_ms INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("004-firewall-rules") { db in
            try db.execute(
                sql: """
                    CREATE TABLE firewall_rules (
                        id TEXT PRIMARY KEY,
                        rule_key TEXT NOT NULL,
                        verdict TEXT NOT NULL,
                        spec TEXT NOT NULL,
                        summary TEXT NOT NULL,
                        origin TEXT NOT NULL,
                        created_ms INTEGER NOT NULL,
                        expires_ms INTEGER,
                        expires_text TEXT,
                        state TEXT NOT NULL,
                        ended_ms INTEGER
                    );
                    CREATE INDEX firewall_rules_state ON firewall_rules(state, expires_ms);
                    CREATE INDEX firewall_rules_key ON firewall_rules(rule_key, state);
                    """)
        }
        migrator.registerMigration("005-sandboxes") { db in
            try db.execute(
                sql: """
                    CREATE TABLE sandboxes (
                        name TEXT PRIMARY KEY,
                        bridge TEXT NOT NULL UNIQUE,
                        subnet TEXT NOT NULL,
                        gateway TEXT NOT NULL,
                        profile TEXT NOT NULL,
                        origin TEXT NOT NULL,
                        created_ms INTEGER NOT NULL
                    );
                    CREATE TABLE sandbox_workloads (
                        sandbox TEXT NOT NULL REFERENCES sandboxes(name) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        profile TEXT NOT NULL,
                        address TEXT,
                        host_interface TEXT,
                        namespace TEXT,
                        allow TEXT NOT NULL,
                        origin TEXT NOT NULL,
                        created_ms INTEGER NOT NULL,
                        PRIMARY KEY (sandbox, name)
                    );
                    CREATE UNIQUE INDEX sandbox_workloads_address ON sandbox_workloads(sandbox, address);
                    """)
        }
        migrator.registerMigration("006-helpers") { db in
            try db.execute(
                sql: """
                    CREATE TABLE helpers (
                        name TEXT PRIMARY KEY,
                        pid INTEGER NOT NULL,
                        start_ticks INTEGER NOT NULL,
                        command TEXT NOT NULL,
                        fingerprint TEXT,
                        started_ms INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("007-dns") { db in
            try db.execute(
                sql: """
                    CREATE TABLE dns_blocklists (
                        name TEXT PRIMARY KEY,
                        source TEXT NOT NULL,
                        refresh_ms INTEGER,
                        origin TEXT NOT NULL,
                        created_ms INTEGER NOT NULL,
                        fetched_ms INTEGER,
                        unique_count INTEGER NOT NULL,
                        zone_count INTEGER NOT NULL,
                        skipped INTEGER NOT NULL,
                        report TEXT NOT NULL,
                        status TEXT NOT NULL
                    );
                    CREATE TABLE dns_list_zones (
                        zone TEXT NOT NULL,
                        list TEXT NOT NULL,
                        PRIMARY KEY (zone, list)
                    ) WITHOUT ROWID;
                    CREATE INDEX dns_list_zones_list ON dns_list_zones(list);
                    CREATE TABLE dns_names (
                        name TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        source TEXT NOT NULL,
                        origin TEXT NOT NULL,
                        comment TEXT,
                        created_ms INTEGER NOT NULL,
                        PRIMARY KEY (name, kind, source)
                    ) WITHOUT ROWID;
                    CREATE INDEX dns_names_source ON dns_names(source, kind);
                    CREATE TABLE dns_records (
                        name TEXT PRIMARY KEY,
                        addresses TEXT NOT NULL,
                        ttl INTEGER NOT NULL,
                        origin TEXT NOT NULL,
                        created_ms INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("008-net") { db in
            try db.execute(
                sql: """
                    CREATE TABLE net_interfaces (
                        interface TEXT PRIMARY KEY,
                        method TEXT NOT NULL,
                        config TEXT NOT NULL,
                        origin TEXT NOT NULL,
                        updated_ms INTEGER NOT NULL
                    );
                    CREATE TABLE dhcp_leases (
                        interface TEXT PRIMARY KEY,
                        reason TEXT NOT NULL,
                        lease TEXT NOT NULL,
                        updated_ms INTEGER NOT NULL
                    );
                    CREATE TABLE wireguard_interfaces (
                        interface TEXT PRIMARY KEY,
                        config TEXT NOT NULL,
                        public_key TEXT NOT NULL,
                        backend TEXT NOT NULL,
                        origin TEXT NOT NULL,
                        updated_ms INTEGER NOT NULL
                    );
                    CREATE TABLE allocations (
                        pool TEXT NOT NULL,
                        name TEXT NOT NULL,
                        address TEXT NOT NULL,
                        origin TEXT NOT NULL,
                        created_ms INTEGER NOT NULL,
                        PRIMARY KEY (pool, name)
                    );
                    CREATE UNIQUE INDEX allocations_address ON allocations(pool, address);
                    """)
        }
        migrator.registerMigration("009-firewall-rules-no-key") { db in
            // A rule's identity is derived from its spec (the rules-in-force cache keys rules in
            // memory); nothing queried the stored key, and its index made every row of a 100k
            // batch cost a random B-tree insert.
            try db.execute(
                sql: """
                    DROP INDEX IF EXISTS firewall_rules_key;
                    ALTER TABLE firewall_rules DROP COLUMN rule_key;
                    """)
        }
        migrator.registerMigration("010-firewall-rule-counts") { db in
            // firewall.list must not cost more with 100k rules present: counts are kept, not
            // counted, and the first rules are read in index order.
            try db.execute(
                sql: """
                    CREATE TABLE firewall_rule_counts (verdict TEXT PRIMARY KEY, active INTEGER NOT NULL);
                    INSERT INTO firewall_rule_counts (verdict, active)
                        SELECT verdict, COUNT(*) FROM firewall_rules WHERE state = 'active' GROUP BY verdict;
                    DROP INDEX IF EXISTS firewall_rules_state;
                    CREATE INDEX firewall_rules_active ON firewall_rules(state, expires_ms, created_ms);
                    """)
        }
        migrator.registerMigration("011-firewall-rules-active-partial") { db in
            // Only active rules are looked up by expiry: a partial index holds them alone, so ending
            // a rule takes its entry out instead of moving it under another state (ending 100k
            // rules: ~25 % faster), and ended rules no longer weigh on the index.
            try db.execute(
                sql: """
                    DROP INDEX IF EXISTS firewall_rules_active;
                    CREATE INDEX firewall_rules_active ON firewall_rules(expires_ms, created_ms) WHERE state = 'active';
                    """)
        }
        migrator.registerMigration("012-firewall-rule-journal") { db in
            // A big batch's rules are committed as one entry and written out as rows after its
            // answer (`Store.journalFirewallRules`, `settleFirewallRules`).
            try db.execute(
                sql: "CREATE TABLE firewall_rule_journal (seq INTEGER PRIMARY KEY, body BLOB NOT NULL)")
        }
        migrator.registerMigration("013-goals") { db in
            // Goals: their status (kstatus-style), the resources each owns, the files they came
            // from; and the audit's subject, so every call a goal makes names it.
            try db.execute(
                sql: """
                    ALTER TABLE events ADD COLUMN subject TEXT;
                    CREATE INDEX events_subject ON events(subject) WHERE subject IS NOT NULL;
                    CREATE TABLE goals (
                        name TEXT PRIMARY KEY,
                        kind TEXT NOT NULL,
                        source TEXT NOT NULL,
                        document TEXT NOT NULL,
                        generation TEXT NOT NULL,
                        applied_document TEXT,
                        applied_generation TEXT,
                        phase TEXT NOT NULL,
                        conditions TEXT NOT NULL,
                        first_seen_ms INTEGER NOT NULL,
                        expires_ms INTEGER,
                        next_check_ms INTEGER,
                        failures INTEGER NOT NULL DEFAULT 0,
                        transition_ms INTEGER NOT NULL,
                        updated_ms INTEGER NOT NULL);
                    CREATE TABLE goal_resources (
                        goal TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        id TEXT NOT NULL,
                        detail TEXT,
                        created_ms INTEGER NOT NULL,
                        PRIMARY KEY (goal, kind, id));
                    CREATE TABLE goal_intents (
                        call_id TEXT PRIMARY KEY,
                        goal TEXT NOT NULL,
                        tool TEXT NOT NULL,
                        created_ms INTEGER NOT NULL);
                    CREATE TABLE goal_files (
                        path TEXT PRIMARY KEY,
                        error TEXT,
                        names TEXT NOT NULL,
                        updated_ms INTEGER NOT NULL);
                    """)
        }
        return migrator
    }

    /// Bumped with every migration; also written to `PRAGMA user_version`.
    static let version = 13

    /// Tables a current database has.
    static let tables = [
        "events", "guards", "settings", "firewall_rules", "firewall_rule_counts", "firewall_rule_journal", "sandboxes",
        "sandbox_workloads",
        "helpers", "dns_blocklists",
        "dns_list_zones", "dns_names", "dns_records", "net_interfaces", "dhcp_leases", "wireguard_interfaces",
        "allocations", "goals", "goal_resources", "goal_intents", "goal_files",
    ]
}
