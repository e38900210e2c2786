package exchange

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// jsonEscaped is v as Go's encoding/json writes it inside a string literal.
func jsonEscaped(v string) string {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	return string(b[1 : len(b)-1])
}

// Sanitize makes untrusted text (claim values, upstream messages) safe to
// print on one line of a CI log: control characters, including CR and LF,
// become visible escapes, so a branch or environment name cannot start a new
// line that the runner would read as a workflow command.
func Sanitize(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ellipsis marks where [Truncate] cut.
const ellipsis = "…"

// Truncate shortens s to at most n characters (runes), the "…" that marks
// the cut included, and cuts only between characters: an upstream message
// in any script stays valid UTF-8, which JSON audit records and log
// handlers need. Counting characters rather than bytes keeps the cap the
// same for every script. It returns s unchanged when it fits, "" when n < 1,
// and applying it twice changes nothing.
func Truncate(s string, n int) string {
	if n < 1 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	cut, kept := 0, 0
	for i := range s {
		if kept == n-1 {
			cut = i
			break
		}
		kept++
	}
	return s[:cut] + ellipsis
}

// Table renders rows as an aligned plain-text table with a header row. Every
// cell is sanitized; empty cells show as "(absent)".
func Table(header []string, rows [][]string) string {
	widths := make([]int, len(header))
	cells := make([][]string, 0, len(rows)+1)
	cells = append(cells, header)
	for _, r := range rows {
		row := make([]string, len(header))
		for i := range header {
			c := ""
			if i < len(r) {
				c = Sanitize(r[i])
			}
			if c == "" {
				c = "(absent)"
			}
			row[i] = c
		}
		cells = append(cells, row)
	}
	for _, r := range cells {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	for _, r := range cells {
		b.WriteString("  ")
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c)
				break
			}
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", widths[i]-len([]rune(c))+2))
		}
		b.WriteString("\n")
	}
	return b.String()
}
