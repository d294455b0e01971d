//! `latchkey config check`: the configuration file checked as `serve` would read it, and the
//! settings `serve` would run with, each with its source. Every flag of `serve` and every
//! global option is listed from clap's definitions, so a new flag shows here by itself.

use super::master_key::InlineKeys;
use super::redact_url;
use crate::cli::ConfigCheckArgs;
use crate::config_file::{self, CONFIG_ARG, MASTER_KEY_KEY, Resolved};
use crate::output::{print_json, print_table};
use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, CommandFactory};
use serde_json::{Value, json};
use std::ffi::OsString;

/// What a masked secret shows.
pub(crate) const MASK: &str = "***";

/// One setting of the effective configuration.
#[derive(serde::Serialize)]
struct Row {
    key: String,
    value: Value,
    source: &'static str,
}

/// Checks the file and prints what `serve` would run with.
pub(crate) fn check(resolved: &Resolved, args: &ConfigCheckArgs) -> anyhow::Result<()> {
    let serve = config_file::resolve(serve_command_line(resolved))?;
    let inline = InlineKeys::find(serve.file.as_ref());
    if let Some(inline) = &inline {
        inline.keyring()?;
    }
    let rows = effective(&serve, inline.as_ref());
    let file = serve
        .file
        .as_ref()
        .map(|file| file.path.display().to_string());
    if args.json {
        print_json(&json!({"file": file, "settings": rows}));
        return Ok(());
    }
    match &file {
        Some(path) => outln!("{path}: valid; `latchkey serve` would run with:"),
        None => outln!(
            "no configuration file (give --config FILE or set LATCHKEY_CONFIG); `latchkey serve` \
             would run with:"
        ),
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|row| vec![row.key.clone(), text(&row.value), row.source.to_owned()])
        .collect();
    print_table(&["KEY", "VALUE", "SOURCE"], &table);
    Ok(())
}

/// `latchkey [GLOBAL FLAGS] serve`: the global options the user gave on this command line
/// (not those the file gave), and `serve` with no flag of its own.
fn serve_command_line(resolved: &Resolved) -> Vec<OsString> {
    let applied = |id: &str| {
        resolved
            .file
            .as_ref()
            .is_some_and(|file| file.applied.contains_key(id))
    };
    let mut args = vec![OsString::from("latchkey")];
    for arg in crate::cli::Cli::command().get_arguments() {
        let (Some(long), id) = (arg.get_long(), arg.get_id().as_str()) else {
            continue;
        };
        if applied(id) || resolved.matches.value_source(id) != Some(ValueSource::CommandLine) {
            continue;
        }
        match arg.get_action() {
            ArgAction::SetTrue | ArgAction::SetFalse => args.push(format!("--{long}").into()),
            _ => {
                for value in resolved.matches.get_raw(id).into_iter().flatten() {
                    let mut flag = OsString::from(format!("--{long}="));
                    flag.push(value);
                    args.push(flag);
                }
            }
        }
    }
    args.push("serve".into());
    args
}

/// Every global option and `serve` flag, and the master key, with its value and source.
fn effective(serve: &Resolved, inline: Option<&InlineKeys>) -> Vec<Row> {
    let command = crate::cli::Cli::command();
    let Some(serve_command) = command.find_subcommand("serve") else {
        unreachable!("the command line has a serve command");
    };
    let matches = serve
        .matches
        .subcommand_matches("serve")
        .unwrap_or(&serve.matches);
    let mut rows: Vec<Row> = command
        .get_arguments()
        .chain(serve_command.get_arguments())
        .filter_map(|arg| {
            let key = config_file::settable_key(arg)
                .or_else(|| (arg.get_long() == Some(CONFIG_ARG)).then(|| CONFIG_ARG.to_owned()))?;
            Some(Row {
                key,
                value: value_of(arg, matches),
                source: source_of(serve, matches, arg.get_id().as_str()),
            })
        })
        .collect();
    rows.push(Row {
        key: MASTER_KEY_KEY.to_owned(),
        value: inline.map_or(Value::Null, |_| Value::from(MASK)),
        source: match inline {
            Some(inline) if inline.origin() == super::master_key::MASTER_KEY_ENV => "env",
            Some(_) => "file",
            None => "default",
        },
    });
    rows
}

/// A flag's value as JSON: a boolean for a switch, an array for a repeatable flag, else a
/// string (`null` when unset), with any database password masked.
fn value_of(arg: &clap::Arg, matches: &ArgMatches) -> Value {
    let id = arg.get_id().as_str();
    let texts: Vec<Value> = match arg.get_action() {
        ArgAction::SetTrue | ArgAction::SetFalse => return Value::Bool(matches.get_flag(id)),
        _ => matches
            .get_raw(id)
            .into_iter()
            .flatten()
            .map(|raw| Value::from(redact_url(&raw.to_string_lossy())))
            .collect(),
    };
    match (arg.get_action(), texts.len()) {
        (ArgAction::Append, _) => Value::Array(texts),
        (_, 0) => Value::Null,
        _ => texts.into_iter().next().unwrap_or(Value::Null),
    }
}

fn source_of(serve: &Resolved, matches: &ArgMatches, id: &str) -> &'static str {
    if serve
        .file
        .as_ref()
        .is_some_and(|file| file.applied.contains_key(id))
    {
        return "file";
    }
    match matches.value_source(id) {
        Some(ValueSource::CommandLine) => "flag",
        Some(ValueSource::EnvVariable) => "env",
        _ => "default",
    }
}

/// A value for the text table: `-` for unset or empty, a list comma-separated.
fn text(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(text) => text.clone(),
        Value::Array(items) if items.is_empty() => "-".to_owned(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: &str =
        "<!-- configuration reference: generated from the flags, checked by a test -->\n";
    const END: &str = "<!-- end of the configuration reference -->";

    /// The reference table of every key `serve` takes (the globals and its own flags), from
    /// clap's definitions.
    fn reference() -> String {
        let command = crate::cli::Cli::command();
        let serve = command.find_subcommand("serve").expect("a serve command");
        let mut table =
            String::from("| file key | value | flag | env | default |\n|---|---|---|---|---|\n");
        for arg in command.get_arguments().chain(serve.get_arguments()) {
            let Some(key) = config_file::settable_key(arg) else {
                continue;
            };
            let defaults: Vec<String> = arg
                .get_default_values()
                .iter()
                .map(|value| format!("`{}`", value.to_string_lossy()))
                .collect();
            let default = match arg.get_action() {
                ArgAction::SetTrue => "`false`".to_owned(),
                _ if defaults.is_empty() => "none".to_owned(),
                _ => defaults.join(", "),
            };
            let env = arg
                .get_env()
                .map_or("".to_owned(), |env| format!("`{}`", env.to_string_lossy()));
            table.push_str(&format!(
                "| `{key}` | {} | `--{}` | {env} | {default} |\n",
                config_file::toml_type(arg),
                arg.get_long().unwrap_or_default(),
            ));
        }
        table.push_str(&format!(
            "| `{MASTER_KEY_KEY}` | string | | `{}` | none |\n",
            super::super::master_key::MASTER_KEY_ENV
        ));
        table
    }

    #[test]
    fn the_readme_configuration_reference_lists_every_key_serve_takes() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
        let readme = std::fs::read_to_string(path).expect("reading README.md");
        let expected = reference();
        let (Some(start), Some(end)) = (readme.find(START), readme.find(END)) else {
            panic!("README.md has no configuration reference between {START:?} and {END:?}");
        };
        let listed = &readme[start + START.len()..end];
        if listed != expected && std::env::var_os("LATCHKEY_BLESS").is_some() {
            let blessed = format!("{}{START}{expected}{}", &readme[..start], &readme[end..]);
            std::fs::write(path, blessed).expect("writing README.md");
            return;
        }
        assert_eq!(
            listed, expected,
            "README.md's configuration reference is not the flags' (LATCHKEY_BLESS=1 rewrites it)"
        );
    }
}
