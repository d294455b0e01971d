//! The configuration file (`--config FILE`, or `LATCHKEY_CONFIG`): one flat TOML table whose
//! keys are the long flag names with `-` written `_` (`key_rotation_days = 30`), plus
//! `master_key`, the file's form of `LATCHKEY_MASTER_KEY`.
//!
//! The file knows no flag by name: each key is looked up among the flags of the command being
//! run (and the global ones) in clap's own definitions, and its value joins the command line
//! as that flag, unless the flag was given on the command line or in the environment. clap
//! then parses the whole line once more, so a file's value is checked by the flag's own parser
//! and precedence is flags, then environment, then the file, then defaults. A key another
//! command takes is left alone; a key no command takes is an error, as is a wrong type, each
//! naming the key and its line. Values never appear in messages, so a password cannot leak.

use crate::cli::Cli;
use anyhow::{anyhow, bail};
use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, CommandFactory};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

mod document;
use document::{Problem, Setting, Value, read_settings};

/// The id (and long name) of the global option that names the file.
pub(crate) const CONFIG_ARG: &str = "config";
/// The key that holds the master keys themselves (as `LATCHKEY_MASTER_KEY` does).
pub(crate) const MASTER_KEY_KEY: &str = "master_key";

/// A command line with its configuration file applied.
pub(crate) struct Resolved {
    /// What clap parsed, the file's settings included.
    pub(crate) matches: ArgMatches,
    /// The file, when one was given.
    pub(crate) file: Option<AppliedFile>,
}

/// What a configuration file gave the command.
pub(crate) struct AppliedFile {
    /// The file, as it was named.
    pub(crate) path: PathBuf,
    /// The flags whose value came from the file, by id.
    pub(crate) applied: BTreeMap<String, FileKey>,
    /// The `master_key` key, if the file has one.
    pub(crate) master_key: Option<FileSecret>,
}

/// A key of the file and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileKey {
    pub(crate) key: String,
    pub(crate) line: usize,
}

/// A secret read from the file, with its line; its `Debug` never shows it.
pub(crate) struct FileSecret {
    /// The text, wiped when dropped.
    pub(crate) text: Zeroizing<String>,
    /// The key's line in the file.
    pub(crate) line: usize,
}

impl std::fmt::Debug for FileSecret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "[redacted] (line {})", self.line)
    }
}

/// Parses `args` (program name first) with the configuration file applied. clap's own
/// answers (help, version, a usage error) end the process as `Cli::parse` would; a problem
/// with the file is an `Err` whose message names the file, the key and its line.
pub(crate) fn resolve(args: Vec<OsString>) -> anyhow::Result<Resolved> {
    let mut command = Cli::command();
    let first = match command.try_get_matches_from_mut(&args) {
        Ok(matches) => matches,
        Err(error) if is_clap_answer(&error) => error.exit(),
        // A flag the file may supply (a required one, say) is missing: find the file first,
        // and let the second parse judge the line with the file's flags on it.
        Err(error) => match Cli::command()
            .ignore_errors(true)
            .try_get_matches_from(&args)
        {
            Ok(partial) if config_path(&partial).is_some() => partial,
            _ => error.exit(),
        },
    };
    let Some(path) = config_path(&first) else {
        return Ok(Resolved {
            matches: first,
            file: None,
        });
    };
    // Wiped once read: the file may hold a master key or a database password.
    let text = Zeroizing::new(std::fs::read_to_string(&path).map_err(|error| {
        anyhow!(
            "could not read the configuration file {}: {error}: check --config (or LATCHKEY_CONFIG)",
            path.display()
        )
    })?);
    let settings = read_settings(&text).map_err(|problem| problem.in_file(&path))?;
    let plan = plan(&command, &first, settings).map_err(|problem| problem.in_file(&path))?;
    let matches = reparse(args, &plan, &path)?;
    Ok(Resolved {
        matches,
        file: Some(AppliedFile {
            path,
            applied: plan.applied,
            master_key: plan.master_key,
        }),
    })
}

/// Whether a clap error is an answer rather than a failure: help or the version.
fn is_clap_answer(error: &clap::Error) -> bool {
    use clap::error::ErrorKind;
    matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    )
}

fn config_path(matches: &ArgMatches) -> Option<PathBuf> {
    matches.get_one::<PathBuf>(CONFIG_ARG).cloned()
}

/// What kind of scalar a flag's parser takes, from the type it produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Takes {
    /// Text (a string, a path, a URL): an integer is a mistake.
    Text,
    /// A number: write it as a TOML integer.
    Integer,
    /// A value of its own syntax (a duration: `"10s"` or seconds), either will do.
    Either,
}

impl Takes {
    fn of(arg: &clap::Arg) -> Takes {
        use std::any::TypeId;
        let produces = arg.get_value_parser().type_id();
        let is = |types: &[TypeId]| types.iter().any(|type_id| produces == *type_id);
        // A choice among names (`--log-format text|json`) is written as its name.
        if !arg.get_possible_values().is_empty() {
            return Takes::Text;
        }
        if is(&[
            TypeId::of::<String>(),
            TypeId::of::<PathBuf>(),
            TypeId::of::<OsString>(),
        ]) {
            Takes::Text
        } else if is(&[
            TypeId::of::<u8>(),
            TypeId::of::<u16>(),
            TypeId::of::<u32>(),
            TypeId::of::<u64>(),
            TypeId::of::<usize>(),
            TypeId::of::<i32>(),
            TypeId::of::<i64>(),
        ]) {
            Takes::Integer
        } else {
            Takes::Either
        }
    }

    fn accepts(self, value: &Value) -> bool {
        matches!(
            (self, value),
            (Takes::Text | Takes::Either, Value::Text(_))
                | (Takes::Integer | Takes::Either, Value::Integer(_))
        )
    }

    fn expected(self) -> &'static str {
        match self {
            Takes::Text => "a string",
            Takes::Integer => "an integer",
            Takes::Either => "a string or an integer",
        }
    }
}

/// What the file adds to the command line.
struct Plan {
    /// `--flag=value` arguments, in the file's order.
    extra: Vec<OsString>,
    applied: BTreeMap<String, FileKey>,
    master_key: Option<FileSecret>,
}

/// Matches each setting with a flag of the running command and says what to add.
fn plan(
    command: &clap::Command,
    matches: &ArgMatches,
    settings: Vec<Setting>,
) -> Result<Plan, Problem> {
    let (running, leaf) = running_flags(command, matches);
    let known = every_key(command);
    let mut plan = Plan {
        extra: Vec::new(),
        applied: BTreeMap::new(),
        master_key: None,
    };
    for setting in settings {
        let key = setting.key.as_str();
        if key == MASTER_KEY_KEY {
            let Value::Text(text) = setting.value else {
                return Err(wrong_type(
                    &setting,
                    "a string (base64 master keys, comma-separated)",
                ));
            };
            plan.master_key = Some(FileSecret {
                text: Zeroizing::new(text),
                line: setting.line,
            });
            continue;
        }
        if key == CONFIG_ARG {
            return Err(Problem::at(
                setting.line,
                format!(
                    "key \"{key}\" names the configuration file itself and cannot be set in it"
                ),
            ));
        }
        let Some(arg) = running.get(key) else {
            if known.contains(key) {
                continue; // Another command's setting.
            }
            return Err(unknown_key(&setting, &known));
        };
        let values = flag_values(arg, &setting)?;
        let id = arg.get_id().as_str();
        // A flag given on the command line or in the environment wins over the file.
        if matches!(
            leaf.value_source(id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) {
            continue;
        }
        plan.applied.insert(
            id.to_owned(),
            FileKey {
                key: setting.key.clone(),
                line: setting.line,
            },
        );
        plan.extra.extend(values);
    }
    Ok(plan)
}

/// The flags a key may set for the running command, by key: the innermost subcommand's own
/// and the global ones of the commands above it, with the innermost command's matches.
fn running_flags<'a>(
    command: &'a clap::Command,
    matches: &'a ArgMatches,
) -> (BTreeMap<String, &'a clap::Arg>, &'a ArgMatches) {
    let mut path = vec![command];
    let mut leaf = matches;
    while let Some((name, sub_matches)) = leaf.subcommand() {
        let Some(sub_command) = path.last().and_then(|last| last.find_subcommand(name)) else {
            break;
        };
        path.push(sub_command);
        leaf = sub_matches;
    }
    let innermost = path.len() - 1;
    let mut flags = BTreeMap::new();
    for (depth, level) in path.iter().enumerate() {
        for arg in level.get_arguments() {
            if (depth == innermost || arg.is_global_set())
                && let Some(key) = settable_key(arg)
            {
                flags.insert(key, arg);
            }
        }
    }
    (flags, leaf)
}

/// The file key of a flag (its long name with `_` for `-`), if a file may set it.
pub(crate) fn settable_key(arg: &clap::Arg) -> Option<String> {
    let settable = matches!(
        arg.get_action(),
        ArgAction::Set | ArgAction::Append | ArgAction::SetTrue | ArgAction::SetFalse
    );
    let long = arg
        .get_long()
        .filter(|_| settable && !arg.is_positional())?;
    (long != CONFIG_ARG).then(|| long.replace('-', "_"))
}

/// What a key of this flag holds in the file, as a TOML type: for the README's reference,
/// which a test generates.
#[cfg(test)]
pub(crate) fn toml_type(arg: &clap::Arg) -> &'static str {
    match arg.get_action() {
        ArgAction::SetTrue | ArgAction::SetFalse => "boolean",
        ArgAction::Append => "array",
        _ => match Takes::of(arg) {
            Takes::Text => "string",
            Takes::Integer => "integer",
            Takes::Either => "string or integer",
        },
    }
}

/// Every key some command takes.
fn every_key(command: &clap::Command) -> BTreeSet<String> {
    let mut keys: BTreeSet<String> = command.get_arguments().filter_map(settable_key).collect();
    for sub_command in command.get_subcommands() {
        keys.extend(every_key(sub_command));
    }
    keys.insert(MASTER_KEY_KEY.to_owned());
    keys
}

/// The command-line arguments that say what the setting says.
fn flag_values(arg: &clap::Arg, setting: &Setting) -> Result<Vec<OsString>, Problem> {
    let long = arg.get_long().unwrap_or_default();
    let takes = Takes::of(arg);
    let with_value = |value: &Value| match value {
        Value::Text(text) | Value::Integer(text) if takes.accepts(value) => {
            Ok(OsString::from(format!("--{long}={text}")))
        }
        Value::Text(_) | Value::Integer(_) if matches!(setting.value, Value::List(_)) => {
            Err(Problem::at(
                setting.line,
                format!(
                    "key \"{}\" takes an array of {}s, not one holding {}",
                    setting.key,
                    takes
                        .expected()
                        .trim_start_matches("a ")
                        .trim_start_matches("an "),
                    value.type_name()
                ),
            ))
        }
        _ => Err(wrong_type(setting, takes.expected())),
    };
    match (arg.get_action(), &setting.value) {
        (ArgAction::SetTrue | ArgAction::SetFalse, Value::Bool(on)) => {
            // `false` for an on-switch (and `true` for an off-switch) is the flag's default.
            let given = *on == matches!(arg.get_action(), ArgAction::SetTrue);
            Ok(given
                .then(|| OsString::from(format!("--{long}")))
                .into_iter()
                .collect())
        }
        (ArgAction::SetTrue | ArgAction::SetFalse, _) => Err(wrong_type(setting, "true or false")),
        (ArgAction::Append, Value::List(items)) => items.iter().map(with_value).collect(),
        (ArgAction::Append, _) => Err(wrong_type(
            setting,
            "an array (the flag can be repeated), such as [\"a\", \"b\"]",
        )),
        (_, value) => with_value(value).map(|flag| vec![flag]),
    }
}

fn wrong_type(setting: &Setting, expected: &str) -> Problem {
    Problem::at(
        setting.line,
        format!(
            "key \"{}\" takes {expected}, not {}",
            setting.key,
            setting.value.type_name()
        ),
    )
}

fn unknown_key(setting: &Setting, known: &BTreeSet<String>) -> Problem {
    let closest = known
        .iter()
        .map(|candidate| (strsim::jaro(&setting.key, candidate), candidate))
        .filter(|(likeness, _)| *likeness > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let hint = match closest {
        _ if setting.value == Value::Unsupported("table") => String::from(
            ": the file has no sections, every setting is a top-level key (such as tls_cert)",
        ),
        Some((_, candidate)) => format!(" (did you mean \"{candidate}\"?)"),
        None => String::from(
            ": keys are long flag names with `_` for `-`, such as key_rotation_days for --key-rotation-days",
        ),
    };
    Problem::at(
        setting.line,
        format!("unknown key \"{}\"{hint}", setting.key),
    )
}

/// Parses the command line again with the file's flags on it, mapping clap's complaint about
/// a file's value to the key and line it came from.
fn reparse(mut args: Vec<OsString>, plan: &Plan, path: &Path) -> anyhow::Result<ArgMatches> {
    // Before a `--`, past which clap would read them as positional values.
    let at = args
        .iter()
        .position(|arg| arg == "--")
        .unwrap_or(args.len());
    args.splice(at..at, plan.extra.iter().cloned());
    let command = Cli::command();
    let error = match command.clone().try_get_matches_from(&args) {
        Ok(matches) => return Ok(matches),
        Err(error) => error,
    };
    let reason = clap_reason(&error);
    let from_file = invalid_arg_id(&command, &error).and_then(|id| plan.applied.get(&id));
    match from_file {
        Some(FileKey { key, line }) => {
            bail!("{} line {line}: key \"{key}\": {reason}", path.display())
        }
        None if plan.applied.is_empty() => error.exit(),
        None => bail!(
            "{}: with the settings of this file the command is not valid: {reason}",
            path.display()
        ),
    }
}

/// The id of the flag a clap error is about (`--max-header-bytes <N>` names `max_header_bytes`).
fn invalid_arg_id(command: &clap::Command, error: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(shown)) = error.get(ContextKind::InvalidArg) else {
        return None;
    };
    let long = shown.split([' ', '=']).next()?.strip_prefix("--")?;
    find_long(command, long).map(|arg| arg.get_id().to_string())
}

fn find_long<'a>(command: &'a clap::Command, long: &str) -> Option<&'a clap::Arg> {
    command
        .get_arguments()
        .find(|arg| arg.get_long() == Some(long))
        .or_else(|| {
            command
                .get_subcommands()
                .find_map(|sub_command| find_long(sub_command, long))
        })
}

/// What clap found wrong, without its usage lines: the value parser's own message when it
/// has one (it says what to write instead).
fn clap_reason(error: &clap::Error) -> String {
    if let Some(source) = std::error::Error::source(error) {
        return source.to_string();
    }
    let rendered = error.to_string();
    let first = rendered.split("\n\n").next().unwrap_or_default();
    first
        .trim_start_matches("error: ")
        .replace('\n', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> Vec<Setting> {
        read_settings(text).expect("valid settings")
    }

    /// The command definitions and what they parsed of `latchkey ARGS...`.
    fn parsed(args: &[&str]) -> (clap::Command, ArgMatches) {
        let mut command = Cli::command();
        let argv: Vec<&str> = std::iter::once("latchkey")
            .chain(args.iter().copied())
            .collect();
        let matches = command
            .try_get_matches_from_mut(argv)
            .expect("a valid command line");
        (command, matches)
    }

    fn problem(text: &str, args: &[&str]) -> Problem {
        let (command, matches) = parsed(args);
        match read_settings(text) {
            Err(problem) => problem,
            Ok(settings) => match plan(&command, &matches, settings) {
                Err(problem) => problem,
                Ok(_) => panic!("{text:?} should be refused"),
            },
        }
    }

    fn extra(text: &str, args: &[&str]) -> Vec<String> {
        let (command, matches) = parsed(args);
        let plan = plan(&command, &matches, settings(text)).expect("a valid file");
        plan.extra
            .iter()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn values_become_flags_of_the_running_command() {
        let file = "listen = \"0.0.0.0:8080\"\nkey_rotation_days = 0x1e\nstrict_hosts = true\n\
                    trusted_proxy = [\"10.0.0.0/8\", \"::1\"]\ndatabase = \"sqlite://x.db\"\n";
        assert_eq!(
            extra(file, &["serve"]),
            [
                "--listen=0.0.0.0:8080",
                "--key-rotation-days=30",
                "--strict-hosts",
                "--trusted-proxy=10.0.0.0/8",
                "--trusted-proxy=::1",
                "--database=sqlite://x.db",
            ]
        );
    }

    #[test]
    fn keys_of_other_commands_are_left_alone_and_false_keeps_the_default() {
        let file = "listen = \"0.0.0.0:8080\"\nstrict_hosts = false\ntenant = \"acme\"\n";
        assert_eq!(extra(file, &["app", "list"]), ["--tenant=acme"]);
        assert_eq!(extra(file, &["serve"]), ["--listen=0.0.0.0:8080"]);
    }

    #[test]
    fn flags_on_the_command_line_win_over_the_file() {
        let file = "listen = \"0.0.0.0:8080\"\nissuer = \"https://a.example\"\n";
        assert_eq!(
            extra(file, &["serve", "--listen", "127.0.0.1:9"]),
            ["--issuer=https://a.example"]
        );
    }

    #[test]
    fn unknown_keys_name_their_line_and_the_closest_key() {
        let found = problem("# comment\n\nlistne = \"x\"\n", &["serve"]);
        assert_eq!(
            found,
            Problem::at(
                3,
                "unknown key \"listne\" (did you mean \"listen\"?)".into()
            )
        );
        let found = problem("[tls]\ncert = \"x\"\n", &["serve"]);
        assert_eq!(
            found,
            Problem::at(
                1,
                "unknown key \"tls\": the file has no sections, every setting is a top-level key (such as tls_cert)".into()
            )
        );
        let found = problem("zzz = 1\n", &["serve"]);
        assert!(
            found.message.starts_with("unknown key \"zzz\": keys are"),
            "{found:?}"
        );
    }

    #[test]
    fn wrong_types_name_the_key_its_line_and_what_it_takes() {
        for (file, expected) in [
            (
                "\nkey_rotation_days = true",
                "key \"key_rotation_days\" takes an integer, not a boolean",
            ),
            (
                "key_rotation_days = \"30\"",
                "key \"key_rotation_days\" takes an integer, not a string",
            ),
            (
                "database = 5",
                "key \"database\" takes a string, not an integer",
            ),
            (
                "strict_hosts = \"yes\"",
                "key \"strict_hosts\" takes true or false, not a string",
            ),
            (
                "trusted_proxy = \"10.0.0.0/8\"",
                "key \"trusted_proxy\" takes an array",
            ),
            ("listen = 1.5", "key \"listen\" takes a string, not float"),
            (
                "tls_cert = { path = \"x\" }",
                "key \"tls_cert\" takes a string, not table",
            ),
            ("master_key = 3", "key \"master_key\" takes a string"),
        ] {
            let found = problem(file, &["serve"]);
            assert!(found.message.starts_with(expected), "{file:?}: {found:?}");
        }
        assert_eq!(
            problem("\nkey_rotation_days = true", &["serve"]).line,
            Some(2)
        );
        let found = problem("audience = [1]", &["app", "create", "--name", "x"]);
        assert_eq!(
            found.message,
            "key \"audience\" takes an array of strings, not one holding an integer"
        );
    }

    #[test]
    fn the_master_key_is_kept_aside_and_never_debug_printed() {
        let mut command = Cli::command();
        let matches = command
            .try_get_matches_from_mut(["latchkey", "serve"])
            .expect("a valid command line");
        let plan = plan(
            &command,
            &matches,
            settings("\n\nmaster_key = \"c2VjcmV0\"\n"),
        )
        .expect("a valid file");
        assert!(plan.extra.is_empty());
        let secret = plan.master_key.expect("the master key");
        assert_eq!(secret.text.as_str(), "c2VjcmV0");
        assert_eq!(format!("{secret:?}"), "[redacted] (line 3)");
    }
}
