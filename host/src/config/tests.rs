//! Config parsing: defaults, relative paths, secrets, and errors that name the line and key.

use super::*;

fn parse(text: &str) -> Result<Config> {
    Config::parse(Path::new("/etc/qualityd/qualityd.toml"), text)
}

fn error(text: &str) -> String {
    match parse(text) {
        Ok(_) => panic!("the config was accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn defaults_and_relative_paths() {
    let config = parse("").unwrap();
    assert_eq!(config.state_dir, Path::new("/etc/qualityd/state"));
    assert_eq!(config.plugin_dir, Path::new("/etc/qualityd/plugins"));
    // The CLI's cache too, so neither compiles what the other did.
    assert_eq!(
        config.cache_dir,
        crate::runtime::Runtime::default_cache_dir().unwrap()
    );
    assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
    assert_eq!(config.max_jobs, 2);
    assert!(config.datastores.is_empty());
}

#[test]
fn a_relative_config_path_gives_absolute_paths() {
    let config = Config::parse(Path::new("qualityd.toml"), "").unwrap();
    let here = std::env::current_dir().unwrap().canonicalize().unwrap();
    assert_eq!(config.base_dir, here);
    assert_eq!(config.state_dir, here.join("state"));
}

#[test]
fn a_datastore_with_everything() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let text = r#"
listen = "127.0.0.1:9000"
max_jobs = 3

[datastores.orders]
plugin = "files"
settings = { path = "data", header = true, skip = 2 }
grants = { directories = ["data"], memory_mib = 64, call_timeout_secs = 5, ipc_chunk_mib = 8, ipc_batch_mib = 32, job_timeout_secs = 600 }
schedule = { catalog = "*/5 * * * *", profile = "0 2 * * *" }
"#;
    let config = Config::parse(&dir.path().join("qualityd.toml"), text).unwrap();
    let orders = config.datastore("orders").unwrap();
    assert_eq!(orders.plugin, "files");
    assert_eq!(orders.settings["header"].expose(), "true");
    assert_eq!(orders.settings["skip"].expose(), "2");
    assert_eq!(
        orders.grants.directories,
        vec![data.canonicalize().unwrap()]
    );
    assert_eq!(orders.grants.memory_bytes, 64 << 20);
    assert_eq!(orders.grants.ipc_chunk_bytes, 8 << 20);
    assert_eq!(orders.grants.ipc_batch_bytes, 32 << 20);
    assert_eq!(orders.grants.job_timeout, Duration::from_secs(600));
    assert_eq!(orders.grants.call_timeout, Duration::from_secs(5));
    let profile = orders.schedule.profile.as_ref().unwrap();
    let midnight = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    assert_eq!(
        profile.next_after(&midnight).unwrap().to_rfc3339(),
        "2026-01-01T02:00:00+00:00"
    );
}

#[test]
fn syntax_and_type_errors_name_the_line() {
    let message = error("listen = \"127.0.0.1:1\"\nmax_jobs = \"many\"\n");
    assert!(message.contains(":2:"), "{message}");
    let message = error("\n\n[datastores.a]\nplugin = \"files\"\ncolour = \"red\"\n");
    assert!(
        message.contains(":5:") && message.contains("colour"),
        "{message}"
    );
}

#[test]
fn an_unknown_or_mistyped_key_is_named_by_its_full_path_line_and_expected_keys() {
    let message =
        error("[datastores.x]\nplugin = \"files\"\n\n[datastores.x.grants]\nmemroy_mib = 1\n");
    assert_eq!(
        message,
        "/etc/qualityd/qualityd.toml:5: `datastores.x.grants.memroy_mib`: unknown key \
         `memroy_mib`, expected one of `directories`, `hosts`, `memory_mib`, \
         `call_timeout_secs`, `ipc_chunk_mib`, `ipc_batch_mib`, `job_timeout_secs`; correct \
         its spelling, or remove it"
    );
    let message = error("[datastores.x]\nplugin = \"files\"\ngrants = { hosts = [\"a:1\", 3] }\n");
    assert!(
        message.contains(":3: `datastores.x.grants.hosts[1]`: invalid type: integer `3`"),
        "{message}"
    );
    let message = error("[datastores.\"a b\"]\nplugn = \"files\"\n");
    assert!(
        message.contains(":2: `datastores.\"a b\".plugn`: unknown key `plugn`"),
        "{message}"
    );
    let message = error("[datastores.x]\n");
    assert!(
        message.contains("`datastores.x`: missing field `plugin`"),
        "{message}"
    );
    let message = error("max_jobs = [");
    assert!(message.contains(":1: not valid TOML"), "{message}");
}

#[test]
fn semantic_errors_name_the_key_and_line() {
    let message = error("listen = \"localhost\"");
    assert!(
        message.contains(":1:") && message.contains("`listen`"),
        "{message}"
    );
    let message =
        error("[datastores.a]\nplugin = \"files\"\nschedule = { profile = \"every day\" }\n");
    assert!(
        message.contains(":3:") && message.contains("datastores.a.schedule.profile"),
        "{message}"
    );
    let message = error(
        "[datastores.a]\nplugin = \"files\"\n[datastores.a.settings]\npassword = \"${env:QUALITYD_TEST_UNSET_PASSWORD}\"\n",
    );
    assert!(
        message.contains(":4:") && message.contains("datastores.a.settings.password"),
        "{message}"
    );
    assert!(
        message.contains("QUALITYD_TEST_UNSET_PASSWORD is not set"),
        "{message}"
    );
    let message = error(
        "[datastores.a]\nplugin = \"files\"\ngrants = { directories = [\"/no/such/dir\"] }\n",
    );
    assert!(
        message.contains("/no/such/dir") && message.contains(":3:"),
        "{message}"
    );
    let message = error("[datastores.\"a b\"]\nplugin = \"files\"\n");
    assert!(message.contains("datastores.a b"), "{message}");
    let message = error("[datastores.a]\nplugin = \"files\"\ngrants = { job_timeout_secs = 0 }\n");
    assert!(
        message.contains(":3:") && message.contains("datastores.a.grants.job_timeout_secs"),
        "{message}"
    );
    let message = error("max_jobs = 0");
    assert!(message.contains("at least 1"), "{message}");
}

#[test]
fn secrets_never_reach_debug_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "hunter2").unwrap();
    let text = "[datastores.a]\nplugin = \"files\"\nsettings = { token = \"${file:token}\" }\n";
    let config = Config::parse(&dir.path().join("q.toml"), text).unwrap();
    assert_eq!(config.datastores[0].settings["token"].expose(), "hunter2");
    let debug = format!("{config:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(debug.contains("${file:token}"), "{debug}");
}

#[test]
fn host_grants_parse_and_name_their_line() {
    let text = "[datastores.a]\nplugin = \"pg\"\ngrants = { hosts = [\"db.internal:5432\", \"[::1]:5433\"] }\n";
    let config = parse(text).unwrap();
    let hosts: Vec<String> = config.datastores[0]
        .grants
        .hosts
        .iter()
        .map(|h| h.to_string())
        .collect();
    assert_eq!(hosts, ["db.internal:5432", "[::1]:5433"]);
    let message =
        error("[datastores.a]\nplugin = \"pg\"\n\ngrants = { hosts = [\"db.internal\"] }\n");
    assert!(
        message.contains(":4:")
            && message.contains("datastores.a.grants.hosts")
            && message.contains("HOST:PORT"),
        "{message}"
    );
}

#[test]
fn enrichment_to_parquet_or_postgres() {
    assert_eq!(parse("").unwrap().enrichment, None);
    let config = parse("[enrichment]\nkind = \"parquet\"\npath = \"enrichment\"\n").unwrap();
    assert_eq!(
        config.enrichment,
        Some(EnrichmentConfig::Parquet {
            dir: PathBuf::from("/etc/qualityd/enrichment")
        })
    );
    // SAFETY: this test is the only user of this variable's name.
    unsafe {
        std::env::set_var(
            "QUALITYD_TEST_ENRICHMENT_URL",
            "postgres://q:hunter2@db:5432/dq",
        )
    };
    let text = "[enrichment]\nkind = \"postgres\"\nurl = \"${env:QUALITYD_TEST_ENRICHMENT_URL}\"\n";
    let config = parse(text).unwrap();
    let Some(EnrichmentConfig::Postgres { url, schema }) = &config.enrichment else {
        panic!("{:?}", config.enrichment);
    };
    assert_eq!(url.expose(), "postgres://q:hunter2@db:5432/dq");
    assert_eq!(schema, DEFAULT_ENRICHMENT_SCHEMA);
    let debug = format!("{config:?}");
    assert!(
        !debug.contains("hunter2") && debug.contains("postgres://q@db:5432/dq"),
        "{debug}"
    );
    let text = "[enrichment]\nkind = \"postgres\"\nurl = \"postgres://q:hunter2@db/dq\"\n\
                schema = \"_dq_2\"\n";
    let config = parse(text).unwrap();
    assert!(!format!("{config:?}").contains("hunter2"));
    assert!(matches!(
        config.enrichment,
        Some(EnrichmentConfig::Postgres { schema, .. }) if schema == "_dq_2"
    ));
}

#[test]
fn enrichment_errors_name_the_key_and_line() {
    let cases = [
        (
            "[enrichment]\nkind = \"csv\"\n",
            ":2:",
            "enrichment.kind",
            "\"parquet\" or \"postgres\"",
        ),
        (
            "\n[enrichment]\nkind = \"parquet\"\n",
            ":2:",
            "enrichment.path",
            "needs `path`",
        ),
        (
            "[enrichment]\nkind = \"postgres\"\n",
            ":1:",
            "enrichment.url",
            "needs `url`",
        ),
        (
            "[enrichment]\nkind = \"parquet\"\npath = \"e\"\nurl = \"postgres://db/x\"\n",
            ":4:",
            "enrichment.url",
            "for kind = \"postgres\"",
        ),
        (
            "[enrichment]\nkind = \"postgres\"\nurl = \"postgres://db/x\"\npath = \"e\"\n",
            ":4:",
            "enrichment.path",
            "for kind = \"parquet\"",
        ),
        (
            "[enrichment]\nkind = \"postgres\"\nurl = \"postgres://db/x\"\nschema = \"Quality\"\n",
            ":4:",
            "enrichment.schema",
            "lowercase",
        ),
        (
            "[enrichment]\nkind = \"postgres\"\nurl = \"postgres://db/x\"\nschema = \"1st\"\n",
            ":4:",
            "enrichment.schema",
            "not starting with a digit",
        ),
        (
            "[enrichment]\nkind = \"postgres\"\nurl = \"postgres://db:port/x\"\n",
            ":3:",
            "enrichment.url",
            "not a PostgreSQL connection URL",
        ),
        (
            "[enrichment]\nkind = \"postgres\"\nurl = \"${env:QUALITYD_TEST_UNSET_URL}\"\n",
            ":3:",
            "enrichment.url",
            "QUALITYD_TEST_UNSET_URL is not set",
        ),
        (
            "[enrichment]\nkind = \"postgres\"\nurl = \"postgres://db/x?sslmode=require\"\n",
            ":3:",
            "enrichment.url",
            "without TLS",
        ),
        (
            "[enrichment]\nkind = \"parquet\"\npath = \"\"\n",
            ":3:",
            "enrichment.path",
            "is empty",
        ),
    ];
    for (text, line, key, reason) in cases {
        let message = error(text);
        assert!(
            message.contains(line)
                && message.contains(&format!("`{key}`"))
                && message.contains(reason),
            "{text}\n=> {message}"
        );
    }
    let message = error("[enrichment]\nkind = \"parquet\"\npath = \"e\"\ndir = \"x\"\n");
    assert!(
        message.contains(":4:") && message.contains("dir"),
        "{message}"
    );
    let message = error("[enrichment]\npath = \"e\"\n");
    assert!(message.contains("kind"), "{message}");
}

#[test]
fn api_tokens_hosts_and_the_listen_address_are_checked() {
    let config = parse(
        "[api]\nallowed_hosts = [\"Qualityd.Example.com\", \"10.0.0.5:9000\"]\n\n\
         [[api.tokens]]\nname = \"viewer\"\nrole = \"read\"\ntoken = \"0123456789abcdef\"\n",
    )
    .unwrap();
    assert_eq!(
        config.api.allowed_hosts,
        ["qualityd.example.com", "10.0.0.5:9000"]
    );
    assert_eq!(config.api.tokens[0].role, Role::Read);
    // The token's value is in no Debug output.
    assert!(!format!("{config:?}").contains("0123456789abcdef"));

    let token = |role: &str, value: &str| {
        format!("[[api.tokens]]\nname = \"t\"\nrole = \"{role}\"\ntoken = \"{value}\"\n")
    };
    let cases = [
        (
            token("root", "0123456789abcdef"),
            ":3:",
            "api.tokens[0].role",
            "not a role",
        ),
        (
            token("read", "short"),
            ":4:",
            "api.tokens[0].token",
            "shorter than 16",
        ),
        (
            token("read", "0123456789 abcdef"),
            ":4:",
            "api.tokens[0].token",
            "spaces",
        ),
        (
            token("read", "${env:QUALITYD_TEST_UNSET_TOKEN}"),
            ":4:",
            "api.tokens[0].token",
            "is not set",
        ),
        (
            format!(
                "{}{}",
                token("read", "0123456789abcdef"),
                token("admin", "0123456789abcdef")
            ),
            ":6:",
            "api.tokens[1].name",
            "another token",
        ),
        (
            "[api]\nallowed_hosts = [\"https://q.example.com/\"]\n".to_owned(),
            ":2:",
            "api.allowed_hosts",
            "without a scheme",
        ),
        (
            "listen = \"0.0.0.0:8432\"\n".to_owned(),
            ":1:",
            "listen",
            "[[api.tokens]]",
        ),
        (
            format!(
                "listen = \"[::]:8432\"\n{}",
                token("admin", "0123456789abcdef")
            ),
            ":1:",
            "listen",
            "[api.tls]",
        ),
    ];
    for (text, line, key, reason) in cases {
        let message = error(&text);
        assert!(
            message.contains(line)
                && message.contains(&format!("`{key}`"))
                && message.contains(reason),
            "{text}\n=> {message}"
        );
    }
    // Beyond loopback with tokens and plain HTTP said to be meant: accepted.
    let config = parse(&format!(
        "listen = \"0.0.0.0:8432\"\n[api]\nallow_plaintext = true\n{}",
        token("admin", "0123456789abcdef")
    ))
    .unwrap();
    assert!(config.api.allow_plaintext && config.api.tls.is_none());
}
