//! Markdown tables.

/// A Markdown table with a header row; cell text has `|` and newlines escaped.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    out.push_str(&row(header.iter().map(|h| (*h).to_owned())));
    out.push_str(&row(header.iter().map(|_| "---".to_owned())));
    for cells in rows {
        out.push_str(&row(cells.iter().cloned()));
    }
    out
}

fn row(cells: impl Iterator<Item = String>) -> String {
    let cells: Vec<String> = cells.map(|c| escape(&c)).collect();
    format!("| {} |\n", cells.join(" | "))
}

fn escape(cell: &str) -> String {
    cell.replace('|', "\\|").replace('\n', " ")
}

/// `` `text` ``.
pub(crate) fn code(text: &str) -> String {
    format!("`{text}`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_escaped() {
        let out = table(&["a", "b"], &[vec!["x|y".into(), "1\n2".into()]]);
        assert_eq!(out, "| a | b |\n| --- | --- |\n| x\\|y | 1 2 |\n");
    }
}
