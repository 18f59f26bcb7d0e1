//! Child output made fit for reports: terminal codes stripped, fenced off from our own text.

/// A line of child output as a terminal would leave it: ANSI escape sequences (colours,
/// cursor moves, `\x1b[2K\x1b[1G` of progress bars, OSC titles and links) removed, a line
/// redrawn after a carriage return reduced to its last drawing, other control characters
/// but tabs dropped. Reports are text, not terminal streams.
pub fn strip_terminal_codes(line: &str) -> String {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let line = line.rsplit('\r').next().unwrap_or(line);
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.next() {
                // CSI: parameters and intermediates, then one final byte in @..~.
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC, DCS, SOS, PM, APC: up to BEL or ESC \.
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    while let Some(c) = chars.next() {
                        if c == '\x07' {
                            break;
                        }
                        if c == '\x1b' {
                            if chars.peek() == Some(&'\\') {
                                chars.next();
                            }
                            break;
                        }
                    }
                }
                // Two-byte escapes (`ESC 7`, `ESC =`, `ESC (B` takes one more).
                Some('(' | ')' | '*' | '+') => {
                    chars.next();
                }
                _ => {}
            },
            '\u{9b}' => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Indents captured output under a fence so it is never mistaken for our own text.
pub fn fence(output: &str) -> String {
    let body = output.trim_end();
    if body.is_empty() {
        return "  │ (no output)".into();
    }
    body.lines()
        .map(|l| format!("  │ {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_codes_are_stripped() {
        let cases = [
            ("\x1b[2K\x1b[1G✔ applied 0002", "✔ applied 0002"),
            ("\x1b[32mok\x1b[0m done", "ok done"),
            ("\x1b]0;title\x07text", "text"),
            ("\x1b]8;;https://x.y\x1b\\link\x1b]8;;\x1b\\", "link"),
            ("10%\r50%\r100%", "100%"),
            ("windows line\r", "windows line"),
            ("\x1b(Bplain\x1b=", "plain"),
            ("a\tb\x07c", "a\tbc"),
            ("no codes: 50% of $x", "no codes: 50% of $x"),
        ];
        for (input, want) in cases {
            assert_eq!(strip_terminal_codes(input), want, "{input:?}");
        }
    }
}
