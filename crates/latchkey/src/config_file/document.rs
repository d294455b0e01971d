//! The configuration file's text as settings: TOML parsed with its spans, each top-level key
//! with its line and its value reduced to what a flag can take. Messages name lines, never
//! quote them (a line may hold a password).

use anyhow::anyhow;
use std::path::Path;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A problem found in the file, at a line (`None`: the file as a whole).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Problem {
    pub(super) line: Option<usize>,
    pub(super) message: String,
}

impl Problem {
    pub(super) fn at(line: usize, message: String) -> Problem {
        Problem {
            line: Some(line),
            message,
        }
    }

    pub(super) fn in_file(self, path: &Path) -> anyhow::Error {
        match self.line {
            Some(line) => anyhow!("{} line {line}: {}", path.display(), self.message),
            None => anyhow!("{}: {}", path.display(), self.message),
        }
    }
}

/// One key of the file and its value, reduced to what a flag can take.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Setting {
    pub(super) key: String,
    pub(super) line: usize,
    pub(super) value: Value,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Value {
    Text(String),
    /// An integer, written in decimal.
    Integer(String),
    Bool(bool),
    /// An array of strings and integers.
    List(Vec<Value>),
    /// A value no flag takes (a float, a date, a table, an array of those), by its TOML type.
    Unsupported(&'static str),
}

impl Value {
    pub(super) fn type_name(&self) -> &'static str {
        match self {
            Value::Text(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Bool(_) => "a boolean",
            Value::List(_) => "an array",
            Value::Unsupported(name) => name,
        }
    }
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|byte| **byte == b'\n')
        .count()
        + 1
}

/// The file's top-level keys in the order they appear.
pub(super) fn read_settings(text: &str) -> Result<Vec<Setting>, Problem> {
    let table = DeTable::parse(text).map_err(|error| Problem {
        line: error.span().map(|span| line_of(text, span.start)),
        // The message only: the error's rendering quotes the line, which may hold a secret.
        message: format!("not valid TOML: {}", error.message().trim_end()),
    })?;
    let mut settings: Vec<Setting> = table
        .into_inner()
        .into_iter()
        .map(|(key, value)| Setting {
            key: key.get_ref().to_string(),
            line: line_of(text, key.span().start),
            value: reduce(&value),
        })
        .collect();
    settings.sort_by_key(|setting| setting.line);
    Ok(settings)
}

fn reduce(value: &Spanned<DeValue<'_>>) -> Value {
    match value.get_ref() {
        DeValue::Boolean(flag) => Value::Bool(*flag),
        DeValue::String(text) => Value::Text(text.to_string()),
        DeValue::Integer(integer) => i128::from_str_radix(integer.as_str(), integer.radix())
            .map_or(Value::Unsupported("an integer too large"), |number| {
                Value::Integer(number.to_string())
            }),
        DeValue::Array(items) => {
            let items: Vec<Value> = items.iter().map(reduce).collect();
            if items
                .iter()
                .all(|item| matches!(item, Value::Text(_) | Value::Integer(_)))
            {
                Value::List(items)
            } else {
                Value::Unsupported("an array of other than strings and integers")
            }
        }
        other => Value::Unsupported(other.type_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_name_their_line_and_never_quote_it() {
        let found = read_settings("listen = \"x\"\ndatabase = \"postgres://u:hunter2@h/db\n")
            .expect_err("an unclosed string");
        assert_eq!(found.line, Some(2), "{found:?}");
        assert!(!found.message.contains("hunter2"), "{found:?}");
    }

    #[test]
    fn lines_count_from_one() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 4), 3);
    }
}
