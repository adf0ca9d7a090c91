//! The progress line long commands draw on stderr, when it is a terminal.

use std::io::IsTerminal;
use std::time::Duration;

use qualityd::operation::Progress;

/// Run `work` while a progress line is drawn on stderr (when it is a terminal).
pub fn with_progress<T>(work: impl FnOnce(&Progress) -> T) -> T {
    let progress = Progress::default();
    if !std::io::stderr().is_terminal() {
        return work(&progress);
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {elapsed} [{bar:30}] {pos}/{len} partitions  {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let now = progress.snapshot();
                bar.set_length(now.partitions_total);
                bar.set_position(now.partitions_done);
                bar.set_message(format!(
                    "{} rows, {:.1} MiB",
                    now.rows,
                    now.bytes as f64 / (1 << 20) as f64
                ));
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        let result = work(&progress);
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        result
    })
}
