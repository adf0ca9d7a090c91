//! Hostile plugins attacking the host's Arrow IPC decoding (issue 15, items 1 to 3), each in a
//! running daemon beside the well-behaved example datastore: a schema message declaring a
//! 2^62-byte body, a schema type arrow panics on, a compressed body claiming to decompress to
//! 2^62 bytes, views and dictionary keys repeating one 4 MiB value (8 GiB once materialised),
//! and delta dictionaries that grow for the life of a stream. Each job ends with its error
//! class naming the grant, the example profiles exactly, the daemon still serves, and its peak
//! memory stays far below what the attack would have made it allocate.

use serde_json::{Value, json};

use crate::daemon_process::{DaemonProcess, EXAMPLE_DATASTORE, config};

/// Small IPC caps; memory and time enough for the guest to build its attack, so that the
/// host's bound is what stops it.
const GRANTS: &str = "grants = { directories = [\"data\"], memory_mib = 256, \
    call_timeout_secs = 10, job_timeout_secs = 120, ipc_chunk_mib = 16, ipc_batch_mib = 32 }";

/// The daemon's peak resident memory may not pass this: the attacks ask for 8 GiB or 2^62
/// bytes; the daemon with two plugins compiled and two jobs is well under it.
const PEAK_RSS_MIB: u64 = 1024;

/// A daemon serving the example datastore and `hostile` in `mode`.
fn daemon(mode: &str) -> DaemonProcess {
    let hostile = format!(
        "[datastores.hostile]\nplugin = \"hostile\"\nsettings = {{ mode = \"{mode}\" }}\n{GRANTS}\n"
    );
    let text = config(&format!("{EXAMPLE_DATASTORE}{hostile}"));
    DaemonProcess::start_with_example_data(&text, &["files", "hostile"])
}

/// Profile `hostile` and `example` at once; check the example's profile is exact, the daemon
/// still serves and its peak memory stayed bounded; return the hostile job as it ended.
fn beside_the_example(daemon: &DaemonProcess) -> Value {
    let hostile = daemon.submit(json!({"kind": "profile", "datastore": "hostile"}));
    daemon.profile_example_exactly();
    let job = daemon.wait_job(hostile);
    assert_eq!(daemon.get("/readyz").status, 200, "the daemon still serves");
    let again = daemon.submit(json!({"kind": "profile", "datastore": "example"}));
    assert_eq!(daemon.wait_job(again)["state"], "succeeded");
    let peak = daemon.peak_rss_mib();
    assert!(peak < PEAK_RSS_MIB, "peak RSS {peak} MiB");
    job
}

/// The job failed as a whole (at `discover`) with `code`; returns its error.
fn failed_whole(job: &Value, code: &str) -> String {
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error_code"], code, "{job}");
    let error = job["error"].as_str().unwrap().to_owned();
    assert!(error.contains("hostile@0.0.1"), "names the plugin: {error}");
    error
}

/// The job's one container failed while reading, with `code`; returns its error.
fn failed_reading(job: &Value, code: &str) -> String {
    assert_eq!(job["state"], "failed", "{job}");
    let failure = &job["failures"][0];
    assert_eq!(failure["container"], "numbers", "{job}");
    assert_eq!(failure["code"], code, "{job}");
    let error = failure["error"].as_str().unwrap().to_owned();
    assert!(error.contains("hostile@0.0.1"), "names the plugin: {error}");
    error
}

#[test]
fn a_schema_message_declaring_a_huge_body_is_a_limit() {
    let daemon = daemon("huge-schema-body");
    let error = failed_whole(&beside_the_example(&daemon), "limit");
    assert!(
        error.contains("discover `numbers`")
            && error.contains("container schema")
            && error.contains("over its cap of 32 MiB per batch (grants.ipc_batch_mib)"),
        "{error}"
    );
}

#[test]
fn a_schema_type_arrow_cannot_decode_is_malformed_ipc() {
    let daemon = daemon("malformed-schema");
    let error = failed_whole(&beside_the_example(&daemon), "ipc");
    assert!(
        error.contains("not an Arrow IPC schema message")
            && error.contains("arrow could not decode"),
        "{error}"
    );
}

#[test]
fn a_compressed_body_is_refused_before_it_is_decompressed() {
    let daemon = daemon("compressed-bomb");
    let error = failed_reading(&beside_the_example(&daemon), "ipc");
    assert!(
        error.contains("compressed IPC body (LZ4_FRAME)")
            && error.contains("uncompressed Arrow IPC only"),
        "{error}"
    );
}

#[test]
fn views_repeating_one_value_count_it_each_time() {
    let daemon = daemon("view-amplify");
    let error = failed_reading(&beside_the_example(&daemon), "limit");
    assert!(
        error.contains("batch of 2048 rows that expands to 8")
            && error.contains("grants.ipc_batch_mib"),
        "{error}"
    );
}

#[test]
fn dictionary_keys_repeating_one_value_count_it_each_time() {
    let daemon = daemon("dict-amplify");
    let error = failed_reading(&beside_the_example(&daemon), "limit");
    assert!(
        error.contains("batch of 2048 rows that expands to 8")
            && error.contains("grants.ipc_batch_mib"),
        "{error}"
    );
}

#[test]
fn delta_dictionaries_are_bounded_for_the_life_of_a_stream() {
    let daemon = daemon("delta-dict-growth");
    let job = beside_the_example(&daemon);
    let error = failed_reading(&job, "limit");
    assert!(
        error.contains("dictionaries would hold 33 MiB, over its cap of 32 MiB")
            && error.contains("grants.ipc_batch_mib"),
        "{error}"
    );
    // Every batch before that was small and decoded: the bound is on what the stream holds.
    let rows = job["progress"]["rows"].as_u64().unwrap();
    assert!((28..=32).contains(&rows), "{job}");
}
