//! Rendering of command results as ascii tables, CSV or JSON (`--format_type`).
//!
//! Every command builds a [`Table`] (headers + rows) or a [`Record`] (ordered key/value pairs)
//! and hands it to [`Output`]; nothing else prints results.

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use comfy_table::{presets, ContentArrangement, TableComponent};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

/// The output format chosen with `--format_type`, `ARCA_FORMAT_TYPE` or the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Tables drawn with ASCII characters.
    #[default]
    Ascii,
    /// Comma-separated values with a header row.
    Csv,
    /// JSON: an array of objects for tables, an object for records.
    Json,
}

impl Format {
    /// All formats, in the order shown to users.
    pub const ALL: [Format; 3] = [Format::Ascii, Format::Csv, Format::Json];

    /// The name used on the command line and in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Ascii => "ascii",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == wanted)
            .ok_or_else(|| format!("invalid format type {s:?}: expected one of ascii, csv, json"))
    }
}

/// Rows under named columns. Cells are JSON values so that JSON output keeps numbers,
/// booleans and nulls; ascii and CSV show them as text (null as an empty cell).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<Value>>,
}

impl Table {
    /// A table with the given column names (also the keys of the JSON objects).
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Self {
        Table {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are null, extra cells are dropped.
    pub fn push_row(&mut self, cells: impl IntoIterator<Item = Value>) {
        let mut row: Vec<Value> = cells.into_iter().take(self.headers.len()).collect();
        row.resize(self.headers.len(), Value::Null);
        self.rows.push(row);
    }
}

/// One object: ordered key/value pairs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Record {
    fields: Vec<(String, Value)>,
}

impl Record {
    /// An empty record.
    pub fn new() -> Self {
        Record::default()
    }

    /// Appends a field.
    pub fn field(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.fields.push((key.into(), value.into()));
        self
    }
}

/// Renders results in one [`Format`] and prints them to stdout.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    format: Format,
}

/// The text of a cell in ascii and CSV: null is empty, strings are bare, a list of plain values
/// (roles, scopes) is comma separated; anything else is compact JSON.
fn cell_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(|v| !v.is_array() && !v.is_object()) => {
            items.iter().map(cell_text).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

fn ascii_table() -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table
        .load_preset(presets::ASCII_FULL_CONDENSED)
        .set_style(TableComponent::HeaderLines, '-')
        .set_style(TableComponent::MiddleHeaderIntersections, '+')
        .set_content_arrangement(ContentArrangement::Dynamic);
    table
}

/// A JSON object whose keys keep the given order (serde_json's own map sorts them).
struct OrderedObject<'a, K> {
    keys: &'a [K],
    values: &'a [Value],
}

impl<K: AsRef<str>> Serialize for OrderedObject<'_, K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.keys.len()))?;
        for (key, value) in self.keys.iter().zip(self.values) {
            map.serialize_entry(key.as_ref(), value)?;
        }
        map.end()
    }
}

/// A table as a JSON array of [`OrderedObject`]s.
struct OrderedRows<'a>(&'a Table);

impl Serialize for OrderedRows<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.rows.len()))?;
        for row in &self.0.rows {
            seq.serialize_element(&OrderedObject {
                keys: &self.0.headers,
                values: row,
            })?;
        }
        seq.end()
    }
}

fn csv_text(header: &[String], rows: &[Vec<String>]) -> io::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header).map_err(io::Error::other)?;
    for row in rows {
        writer.write_record(row).map_err(io::Error::other)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| io::Error::other(e.to_string()))?;
    String::from_utf8(bytes).map_err(io::Error::other)
}

fn json_text(value: &impl Serialize) -> io::Result<String> {
    let mut text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
    text.push('\n');
    Ok(text)
}

impl Output {
    /// An output in the given format.
    pub fn new(format: Format) -> Self {
        Output { format }
    }

    /// The text of a table: ascii box, CSV with a header row, or a JSON array of objects.
    pub fn render_table(&self, table: &Table) -> io::Result<String> {
        match self.format {
            Format::Ascii => {
                let mut t = ascii_table();
                t.set_header(table.headers.clone());
                for row in &table.rows {
                    t.add_row(row.iter().map(cell_text).collect::<Vec<_>>());
                }
                Ok(format!("{t}\n"))
            }
            Format::Csv => {
                let rows: Vec<Vec<String>> = table
                    .rows
                    .iter()
                    .map(|r| r.iter().map(cell_text).collect())
                    .collect();
                csv_text(&table.headers, &rows)
            }
            Format::Json => json_text(&OrderedRows(table)),
        }
    }

    /// The text of a record: a two-column ascii table, CSV with the keys as header row and one
    /// row of values, or a JSON object.
    pub fn render_record(&self, record: &Record) -> io::Result<String> {
        match self.format {
            Format::Ascii => {
                let mut t = ascii_table();
                for (key, value) in &record.fields {
                    t.add_row(vec![key.clone(), cell_text(value)]);
                }
                Ok(format!("{t}\n"))
            }
            Format::Csv => {
                let header: Vec<String> = record.fields.iter().map(|(k, _)| k.clone()).collect();
                let row: Vec<String> = record.fields.iter().map(|(_, v)| cell_text(v)).collect();
                csv_text(&header, &[row])
            }
            Format::Json => {
                let (keys, values): (Vec<&str>, Vec<Value>) = record
                    .fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.clone()))
                    .unzip();
                json_text(&OrderedObject {
                    keys: &keys,
                    values: &values,
                })
            }
        }
    }

    /// The text of a status message: the line itself, or `{"message": …}` in JSON.
    pub fn render_message(&self, message: &str) -> io::Result<String> {
        match self.format {
            Format::Json => json_text(&serde_json::json!({ "message": message })),
            Format::Ascii | Format::Csv => Ok(format!("{message}\n")),
        }
    }

    /// The format this output renders in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The text of a record announced by a status message: in ascii the message, then the
    /// record; in CSV and JSON only the record, so that the output stays one document.
    pub fn render_record_with_message(&self, message: &str, record: &Record) -> io::Result<String> {
        let record = self.render_record(record)?;
        Ok(match self.format {
            Format::Ascii => format!("{message}\n{record}"),
            Format::Csv | Format::Json => record,
        })
    }

    /// Prints a record announced by a status message (see
    /// [`Output::render_record_with_message`]).
    pub fn record_with_message(&self, message: &str, record: &Record) -> io::Result<()> {
        print_stdout(&self.render_record_with_message(message, record)?)
    }

    /// Prints a table to stdout.
    pub fn table(&self, table: &Table) -> io::Result<()> {
        print_stdout(&self.render_table(table)?)
    }

    /// Prints a record to stdout.
    pub fn record(&self, record: &Record) -> io::Result<()> {
        print_stdout(&self.render_record(record)?)
    }

    /// Prints text rendered by one of the `render_*` methods to stdout.
    pub fn print(&self, text: &str) -> io::Result<()> {
        print_stdout(text)
    }

    /// Prints a status message to stdout.
    pub fn message(&self, message: &str) -> io::Result<()> {
        print_stdout(&self.render_message(message)?)
    }
}

/// Writes to stdout; a closed pipe (`arca … | head`) is not an error.
fn print_stdout(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Table {
        let mut t = Table::new(["name", "description", "size"]);
        t.push_row([json!("a,b"), json!("say \"hi\""), json!(42)]);
        t.push_row([json!("plain"), Value::Null]);
        t
    }

    #[test]
    fn format_parsing() {
        assert_eq!("ascii".parse::<Format>().unwrap(), Format::Ascii);
        assert_eq!(" JSON ".parse::<Format>().unwrap(), Format::Json);
        let err = "yaml".parse::<Format>().unwrap_err();
        assert!(
            err.contains("yaml") && err.contains("ascii, csv, json"),
            "{err}"
        );
    }

    #[test]
    fn csv_quotes_commas_and_quotes() {
        let text = Output::new(Format::Csv).render_table(&sample()).unwrap();
        assert_eq!(
            text,
            "name,description,size\n\"a,b\",\"say \"\"hi\"\"\",42\nplain,,\n"
        );
    }

    #[test]
    fn csv_quotes_newlines() {
        let mut t = Table::new(["k"]);
        t.push_row([json!("line1\nline2")]);
        let text = Output::new(Format::Csv).render_table(&t).unwrap();
        assert_eq!(text, "k\n\"line1\nline2\"\n");
    }

    #[test]
    fn json_table_is_an_array_of_objects() {
        let text = Output::new(Format::Json).render_table(&sample()).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            json!([
                {"name": "a,b", "description": "say \"hi\"", "size": 42},
                {"name": "plain", "description": null, "size": null}
            ])
        );
        // Keys keep the column order, not alphabetical order.
        assert!(text.find("\"name\"").unwrap() < text.find("\"description\"").unwrap());
        assert!(text.find("\"description\"").unwrap() < text.find("\"size\"").unwrap());
    }

    #[test]
    fn json_record_is_an_object_in_order() {
        let r = Record::new().field("url", "http://h").field("status", "ok");
        let text = Output::new(Format::Json).render_record(&r).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({"status": "ok", "url": "http://h"})
        );
        assert!(text.find("url").unwrap() < text.find("status").unwrap());
    }

    #[test]
    fn csv_record_is_header_plus_one_row() {
        let r = Record::new().field("status", "ok").field("n", 3);
        let text = Output::new(Format::Csv).render_record(&r).unwrap();
        assert_eq!(text, "status,n\nok,3\n");
    }

    #[test]
    fn ascii_table_has_headers_and_cells() {
        let text = Output::new(Format::Ascii).render_table(&sample()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("+-"), "{text}");
        assert!(
            lines[1].contains("| name") && lines[1].contains("size"),
            "{text}"
        );
        assert_eq!(lines[2], lines[0], "header rule as in ngc: {text}");
        assert_eq!(lines.last(), lines.first(), "{text}");
        assert!(text.contains("a,b") && text.contains("say \"hi\"") && text.contains("42"));
    }

    #[test]
    fn ascii_record_has_one_line_per_field() {
        let r = Record::new().field("status", "ok").field("url", "http://h");
        let text = Output::new(Format::Ascii).render_record(&r).unwrap();
        assert!(text
            .lines()
            .any(|l| l.contains("status") && l.contains("ok")));
        assert!(text
            .lines()
            .any(|l| l.contains("url") && l.contains("http://h")));
    }

    #[test]
    fn lists_of_plain_values_are_comma_separated_outside_json() {
        let mut t = Table::new(["roles", "nested"]);
        t.push_row([json!(["A", "B"]), json!([{"k": 1}])]);
        let csv = Output::new(Format::Csv).render_table(&t).unwrap();
        assert_eq!(csv, "roles,nested\n\"A, B\",\"[{\"\"k\"\":1}]\"\n");
        let json = Output::new(Format::Json).render_table(&t).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&json).unwrap(),
            json!([{"roles": ["A", "B"], "nested": [{"k": 1}]}])
        );
    }

    #[test]
    fn record_with_message_is_one_document_outside_ascii() {
        let r = Record::new().field("name", "vision");
        let ascii = Output::new(Format::Ascii)
            .render_record_with_message("Team created.", &r)
            .unwrap();
        assert!(ascii.starts_with("Team created.\n+-"), "{ascii}");
        let json = Output::new(Format::Json)
            .render_record_with_message("Team created.", &r)
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&json).unwrap(),
            json!({"name": "vision"})
        );
        let csv = Output::new(Format::Csv)
            .render_record_with_message("Team created.", &r)
            .unwrap();
        assert_eq!(csv, "name\nvision\n");
    }

    #[test]
    fn messages() {
        assert_eq!(
            Output::new(Format::Ascii).render_message("done").unwrap(),
            "done\n"
        );
        let json = Output::new(Format::Json).render_message("done").unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&json).unwrap(),
            json!({"message": "done"})
        );
    }
}
