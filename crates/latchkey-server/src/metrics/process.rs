//! The standard process metrics (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
//! ...), named as every Prometheus client library names them, read from `/proc` at scrape
//! time. On a system without `/proc` they are left out.

use super::header;
use std::fmt::Write;

/// Writes the process metrics that can be read here.
pub(super) fn render(out: &mut String) {
    let Some(stat) = read_stat() else {
        return;
    };
    let ticks = rustix::param::clock_ticks_per_second();
    let page = rustix::param::page_size() as u64;
    if ticks > 0 {
        let ticks = ticks as f64;
        header(
            out,
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
        );
        let _ = writeln!(
            out,
            "process_cpu_seconds_total {}",
            (stat.utime + stat.stime) as f64 / ticks
        );
        if let Some(boot) = boot_time() {
            header(
                out,
                "process_start_time_seconds",
                "gauge",
                "Start time of the process since unix epoch in seconds.",
            );
            let _ = writeln!(
                out,
                "process_start_time_seconds {}",
                boot as f64 + stat.start_ticks as f64 / ticks
            );
        }
    }
    if page > 0 {
        header(
            out,
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
        );
        let _ = writeln!(
            out,
            "process_resident_memory_bytes {}",
            stat.rss_pages.saturating_mul(page)
        );
    }
    header(
        out,
        "process_virtual_memory_bytes",
        "gauge",
        "Virtual memory size in bytes.",
    );
    let _ = writeln!(out, "process_virtual_memory_bytes {}", stat.vsize);
    if let Ok(entries) = std::fs::read_dir("/proc/self/fd") {
        header(
            out,
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
        );
        let _ = writeln!(out, "process_open_fds {}", entries.count());
    }
    if let Some(limit) = rustix::process::getrlimit(rustix::process::Resource::Nofile).current {
        header(
            out,
            "process_max_fds",
            "gauge",
            "Maximum number of open file descriptors.",
        );
        let _ = writeln!(out, "process_max_fds {limit}");
    }
    header(
        out,
        "process_threads",
        "gauge",
        "Number of OS threads in the process.",
    );
    let _ = writeln!(out, "process_threads {}", stat.threads);
}

/// The fields of `/proc/self/stat` the metrics need.
#[derive(Debug, PartialEq, Eq)]
struct Stat {
    utime: u64,
    stime: u64,
    threads: u64,
    start_ticks: u64,
    vsize: u64,
    rss_pages: u64,
}

fn read_stat() -> Option<Stat> {
    parse_stat(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// Parses `/proc/PID/stat` (proc(5)): the command name is in parentheses and may hold spaces
/// and parentheses itself, so the fields are counted from the last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let after = &text[text.rfind(')')? + 1..];
    // Field 3 (state) is the first after the name: field N is at index N - 3.
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |number: usize| fields.get(number - 3)?.parse::<u64>().ok();
    Some(Stat {
        utime: field(14)?,
        stime: field(15)?,
        threads: field(20)?,
        start_ticks: field(22)?,
        vsize: field(23)?,
        rss_pages: field(24)?,
    })
}

/// When the machine booted (unix seconds), from `/proc/stat`.
fn boot_time() -> Option<u64> {
    std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("btime ")?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_end_of_the_command_name() {
        let text = "4242 (tokio (x) y) S 1 4242 4242 0 -1 4194560 2310 0 0 0 \
                    150 35 0 0 20 0 6 0 98765 123456789 4321 18446744073709551615";
        assert_eq!(
            parse_stat(text),
            Some(Stat {
                utime: 150,
                stime: 35,
                threads: 6,
                start_ticks: 98765,
                vsize: 123456789,
                rss_pages: 4321,
            })
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn this_process_has_readable_metrics() {
        let mut out = String::new();
        render(&mut out);
        if std::path::Path::new("/proc/self/stat").exists() {
            assert!(out.contains("\nprocess_resident_memory_bytes "), "{out}");
            assert!(out.contains("\nprocess_cpu_seconds_total "), "{out}");
        }
    }
}
