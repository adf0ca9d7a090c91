//! Messages that used to mislead (issue 24, item 12), each now naming what was wrong, where,
//! and what to do: a refused connection, a path or host name the grants do not cover, an
//! unknown config key, a schema or database that does not exist, a container that is not in
//! the catalog (apart from one not profiled yet), and the catalog API's enum spellings.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use qualityd::operation::Datastore;
use qualityd::runtime::Grants;
use serde_json::{Value, json};

use crate::daemon_process::{DaemonProcess, EXAMPLE_DATASTORE, config};
use crate::support::{network_datastore, plugin, settings};

const POSTGRES: &str = "127.0.0.1:5432";
const MYSQL: &str = "127.0.0.1:3306";

/// An address on loopback where nothing listens (a port just freed).
fn closed_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// `check()` of a fresh session on a network datastore, as the error's text and class.
fn check_error(plugin_name: &str, pairs: &[(&str, &str)], hosts: &[&str]) -> (String, String) {
    let error = network_datastore(plugin_name, pairs, hosts)
        .open()
        .and_then(|mut session| session.check())
        .expect_err("the check must fail");
    (error.class(), error.to_string())
}

#[test]
fn a_refused_connection_says_refused_and_names_the_address() {
    let address = closed_address();
    let cases = [
        (
            "postgres",
            [
                ("address", address.as_str()),
                ("database", "test"),
                ("user", "postgres"),
            ],
        ),
        (
            "mysql",
            [
                ("address", address.as_str()),
                ("database", "test"),
                ("user", "root"),
            ],
        ),
    ];
    for (plugin_name, pairs) in cases {
        let (class, message) = check_error(plugin_name, &pairs, &[&address]);
        assert_eq!(class, "plugin.connection", "{plugin_name}: {message}");
        assert!(
            message.contains(&format!("the connection to {address} was refused"))
                && message.contains("check that the server is running"),
            "{plugin_name}: {message}"
        );
        assert!(
            !message.contains("lost") && !message.contains("not connected"),
            "{plugin_name}: {message}"
        );
    }
}

/// A files datastore named `sales` reading `path`, granted `granted` only.
fn files_datastore(path: &Path, granted: &Path) -> Datastore {
    Datastore {
        name: "sales".into(),
        plugin: plugin("files"),
        settings: settings(&[("path", path.to_str().unwrap())]),
        grants: Grants {
            directories: vec![granted.to_path_buf()],
            ..Grants::default()
        },
    }
}

#[test]
fn a_path_outside_the_grants_is_refused_naming_the_path_and_the_granted_directories() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path().canonicalize().unwrap();
    let granted = root.join("granted");
    let other = root.join("other");
    std::fs::create_dir_all(&granted).unwrap();
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("orders.csv"), "id\n1\n").unwrap();
    std::fs::write(granted.join("orders.csv"), "id\n1\n").unwrap();

    let outside = other.join("orders.csv");
    let error = files_datastore(&outside, &granted).open().err().unwrap();
    assert_eq!(error.class(), "not-granted", "{error}");
    assert_eq!(
        error.to_string(),
        format!(
            "plugin {} needs read access to {} (setting `path`), which datastore sales does \
             not grant: it is in none of the granted directories ({}); add {} (or a directory \
             above it) to the datastore's grants.directories, or correct the setting",
            plugin("files").label(),
            outside.display(),
            granted.display(),
            other.display()
        )
    );

    // `..` is resolved as the plugin would: out of the granted directory is out.
    let dotdot = granted.join("../other/orders.csv");
    let error = files_datastore(&dotdot, &granted).open().err().unwrap();
    assert_eq!(error.class(), "not-granted", "{error}");
    assert!(
        error.to_string().contains(&outside.display().to_string()),
        "{error}"
    );

    // A link into the granted directory: the plugin sees only real paths, so say which.
    let link = root.join("link");
    std::os::unix::fs::symlink(&granted, &link).unwrap();
    let error = files_datastore(&link.join("orders.csv"), &granted)
        .open()
        .err()
        .unwrap();
    assert!(
        error.to_string().contains(&format!(
            "write its real path, {}, in the setting",
            granted.join("orders.csv").display()
        )),
        "{error}"
    );

    // Inside the grants, the same file opens and reads.
    let mut session = files_datastore(&granted.join("orders.csv"), &granted)
        .open()
        .unwrap();
    session.check().unwrap();
    assert_eq!(session.discover().unwrap().len(), 1);
}

#[test]
fn a_host_name_granted_only_by_ip_says_which_grant_to_add() {
    let pairs = [
        ("address", "localhost:5432"),
        ("database", "test"),
        ("user", "postgres"),
    ];
    let error = network_datastore("postgres", &pairs, &[POSTGRES])
        .open()
        .err()
        .unwrap();
    assert_eq!(error.class(), "not-granted", "{error}");
    let message = error.to_string();
    assert!(
        message.contains(
            "needs to look up the host name `localhost` (setting `address` = localhost:5432), \
             which datastore postgres-test does not grant: it grants hosts by IP address only \
             (127.0.0.1:5432)"
        ) && message.contains("add \"localhost:5432\" to the datastore's grants.hosts"),
        "{message}"
    );

    // Granted by its name, the name works; and a name grant covers its addresses.
    let mut session = network_datastore("postgres", &pairs, &["localhost:5432"])
        .open()
        .unwrap();
    session.check().unwrap();
    let by_ip = [
        ("address", POSTGRES),
        ("database", "test"),
        ("user", "postgres"),
    ];
    let mut session = network_datastore("postgres", &by_ip, &["localhost:5432"])
        .open()
        .unwrap();
    session.check().unwrap();
}

#[test]
fn an_unknown_config_key_is_named_by_its_full_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qualityd.toml");
    std::fs::write(
        &path,
        "[datastores.x]\nplugin = \"files\"\n\n[datastores.x.grants]\nmemroy_mib = 1\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_qualityd"))
        .args(["scan", "--config", path.to_str().unwrap()])
        .env("QUALITYD_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}:5: `datastores.x.grants.memroy_mib`: unknown key `memroy_mib`, expected one \
             of `directories`, `hosts`, `memory_mib`",
            path.display()
        )),
        "{stderr}"
    );
}

#[test]
fn a_schema_or_database_that_does_not_exist_fails_check_and_discover_listing_what_exists() {
    let pairs = [
        ("address", POSTGRES),
        ("database", "test"),
        ("user", "postgres"),
        ("schemas", "public,qd_msg_no_such_schema"),
    ];
    let datastore = network_datastore("postgres", &pairs, &[POSTGRES]);
    let mut session = datastore.open().unwrap();
    for error in [
        session.check().unwrap_err(),
        session.discover().unwrap_err(),
    ] {
        assert_eq!(error.class(), "plugin.not-found", "{error}");
        let message = error.to_string();
        assert!(
            message.contains(
                "database `test` has no schema \"qd_msg_no_such_schema\" (setting `schemas`); \
                 it has: "
            ) && message.contains("public")
                && message.contains("Correct the `schemas` setting"),
            "{message}"
        );
        assert!(!message.contains("pg_catalog"), "{message}");
    }

    let pairs = [
        ("address", MYSQL),
        ("database", "qd_msg_no_such_database"),
        ("user", "root"),
    ];
    let (class, message) = check_error("mysql", &pairs, &[MYSQL]);
    assert_eq!(class, "plugin.config", "{message}");
    assert!(
        message.contains("has no database `qd_msg_no_such_database`")
            && message.contains("user `root` may read: ")
            && message.contains("test")
            && message.contains("Correct the `database` setting"),
        "{message}"
    );
    assert!(!message.contains("performance_schema"), "{message}");
}

/// An API error's status, code and message.
fn api_error(daemon: &DaemonProcess, path: &str, body: Option<Value>) -> (u16, String, String) {
    let answer = match body {
        Some(body) => daemon.post(path, &body),
        None => daemon.get(path),
    };
    let error = &answer.body["error"];
    (
        answer.status,
        error["code"].as_str().unwrap_or_default().to_owned(),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn a_container_not_in_the_catalog_is_no_such_container_and_one_not_profiled_is_no_profile() {
    let daemon = DaemonProcess::start_with_example_data(&config(EXAMPLE_DATASTORE), &["files"]);
    let missing = "/datastores/example/containers/nope.csv/profile";

    // No catalog yet: say so, and how to make one.
    let (status, code, message) = api_error(&daemon, missing, None);
    assert_eq!(
        (status, code.as_str()),
        (404, "no-such-container"),
        "{message}"
    );
    assert!(
        message.contains("datastore example has no container `nope.csv`")
            && message.contains("nothing catalogued yet; run a catalog job"),
        "{message}"
    );

    let catalog = daemon.submit(json!({"kind": "catalog", "datastore": "example"}));
    assert_eq!(daemon.wait_job(catalog)["state"], "succeeded");
    let listed = "it has: customers.csv, orders.csv (GET /datastores/example/containers lists \
                  them";
    for path in [
        missing,
        "/datastores/example/containers/nope.csv/profiles",
        "/datastores/example/containers/nope.csv",
    ] {
        let (status, code, message) = api_error(&daemon, path, None);
        assert_eq!(
            (status, code.as_str()),
            (404, "no-such-container"),
            "{path}"
        );
        assert!(
            message.contains("has no container `nope.csv`") && message.contains(listed),
            "{path}: {message}"
        );
    }
    let (status, code, message) = api_error(
        &daemon,
        "/checks/infer",
        Some(json!({"datastore": "example", "containers": ["nope.csv"]})),
    );
    assert_eq!(
        (status, code.as_str()),
        (404, "no-such-container"),
        "{message}"
    );
    assert!(message.contains(listed), "{message}");

    // Catalogued but never profiled: its own code, and the job to run.
    let (status, code, message) = api_error(
        &daemon,
        "/datastores/example/containers/orders.csv/profile",
        None,
    );
    assert_eq!((status, code.as_str()), (404, "no-profile"), "{message}");
    assert!(
        message.contains("container `orders.csv` of datastore example has no profile yet")
            && message.contains("\"kind\": \"profile\""),
        "{message}"
    );
    let history = daemon.get("/datastores/example/containers/orders.csv/profiles");
    assert_eq!((history.status, history.body.clone()), (200, json!([])));
}

/// The values of an enum schema of the served OpenAPI document.
fn documented(openapi: &Value, schema: &str) -> Vec<String> {
    let values = openapi["components"]["schemas"][schema]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("no enum {schema}"));
    values
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_catalog_and_plugin_apis_spell_enums_as_the_openapi_document_lists_them() {
    let datastore = "[datastores.mixed]\nplugin = \"files\"\n\
                     settings = { path = \"mixed\" }\ngrants = { directories = [\"mixed\"] }\n";
    let mut daemon = DaemonProcess::prepare(&config(datastore), &["files"]);
    let mixed = daemon.dir.path().join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    std::fs::write(mixed.join("alone.csv"), "id\n1\n").unwrap();
    for day in 1..=2 {
        std::fs::write(mixed.join(format!("day_{day}.csv")), "id\n1\n").unwrap();
    }
    daemon.spawn();

    let openapi = daemon.get("/openapi.json").body;
    let catalog = daemon.submit(json!({"kind": "catalog", "datastore": "mixed"}));
    assert_eq!(daemon.wait_job(catalog)["state"], "succeeded");
    let containers = daemon.get("/datastores/mixed/containers").body;
    let kinds: Vec<(&str, &str)> = containers
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, [("alone.csv", "file"), ("day_*.csv", "file-group")]);
    let container_kinds = documented(&openapi, "ContainerKind");
    for (name, kind) in &kinds {
        assert!(
            container_kinds.iter().any(|k| k == kind),
            "{name}: {kind} is not one of {container_kinds:?}"
        );
    }

    let setting_types = documented(&openapi, "SettingType");
    let plugin = daemon.serving("files").unwrap();
    let types: Vec<&str> = plugin["settings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["type"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"path"), "{types:?}");
    for type_ in types {
        assert!(
            setting_types.iter().any(|t| t == type_),
            "{type_} is not one of {setting_types:?}"
        );
    }
}
