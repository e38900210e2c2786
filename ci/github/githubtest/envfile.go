package githubtest

import (
	"errors"
	"fmt"
	"strings"
)

// KeyValue is one entry of a file-command file.
type KeyValue struct {
	// Key is the name before "=" or "<<", verbatim.
	Key string
	// Value is the value, verbatim.
	Value string
}

// envEntry is a parsed entry plus the byte range of its value in the
// decoded text, so leak checks can tell values from everything else.
type envEntry struct {
	KeyValue
	start, end int
}

// ErrEnvFileFormat is wrapped by every error [ParseEnvFile] returns; the
// runner fails the step with "Unable to process file command".
var ErrEnvFileFormat = errors.New("invalid file-command format")

// ParseEnvFile parses the content of a GITHUB_ENV, GITHUB_OUTPUT or
// GITHUB_STATE file exactly as the Linux runner does (a port of
// EnvFileKeyValuePairs in actions/runner src/Runner.Worker/
// FileCommandManager.cs):
//
//   - lines end at "\n" only; a CR before it stays in the line, so
//     "A=b\r\n" sets A to "b\r" and a heredoc delimiter written with CRLF
//     is "EOF\r";
//   - empty lines are skipped;
//   - a line is NAME=value when its first "=" comes before its first "<<",
//     else NAME<<DELIMITER, whose value is every following line up to a
//     line equal to DELIMITER, joined with "\n" (the final newline
//     belongs to the delimiter line);
//   - "=value" yields an empty name: the runner's emptiness check tests
//     the line, not the name;
//   - a heredoc with an empty name or delimiter, a missing delimiter line,
//     or a last value line without a newline is an error.
//
// Like File.ReadAllText, a leading UTF-8 byte-order mark is dropped and
// invalid UTF-8 becomes U+FFFD. On error ParseEnvFile returns the entries
// before the bad line too, because the runner applies entries as it parses.
func ParseEnvFile(content string) ([]KeyValue, error) {
	return keyValues(parseEnvFile(decodeText(content), false))
}

// ParseEnvFileWindows parses content as the Windows runner does: like
// [ParseEnvFile], except that a line also ends at "\r\n" (the runner's
// OS_WINDOWS ReadLine), whichever of CRLF and LF comes first.
func ParseEnvFileWindows(content string) ([]KeyValue, error) {
	return keyValues(parseEnvFile(decodeText(content), true))
}

func keyValues(entries []envEntry, err error) ([]KeyValue, error) {
	out := make([]KeyValue, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.KeyValue)
	}
	return out, err
}

// decodeText mirrors File.ReadAllText: UTF-8 with an optional BOM.
func decodeText(s string) string {
	return strings.ToValidUTF8(strings.TrimPrefix(s, "\uFEFF"), "\uFFFD")
}

// parseEnvFile is the port. windows selects the runner's OS_WINDOWS
// ReadLine, which also ends a line at "\r\n": the native action runs on
// Windows runners.
func parseEnvFile(text string, windows bool) ([]envEntry, error) {
	var entries []envEntry
	index := 0
	for {
		lineStart := index
		line, _, ok := readLine(text, &index, windows)
		if !ok {
			return entries, nil
		}
		if line == "" {
			continue
		}
		equals := strings.Index(line, "=")
		heredoc := strings.Index(line, "<<")
		switch {
		case equals >= 0 && (heredoc < 0 || equals < heredoc):
			entries = append(entries, envEntry{
				KeyValue: KeyValue{Key: line[:equals], Value: line[equals+1:]},
				start:    lineStart + equals + 1,
				end:      lineStart + len(line),
			})
		case heredoc >= 0 && (equals < 0 || heredoc < equals):
			name, delimiter := line[:heredoc], line[heredoc+2:]
			if name == "" || delimiter == "" {
				return entries, fmt.Errorf("%w: %q: name must not be empty and delimiter must not be empty", ErrEnvFileFormat, line)
			}
			start, end := index, index
			for {
				valueLine, newline, ok := readLine(text, &index, windows)
				if ok && valueLine == delimiter {
					break
				}
				if !ok {
					return entries, fmt.Errorf("%w: matching delimiter not found %q", ErrEnvFileFormat, delimiter)
				}
				if newline == "" {
					return entries, fmt.Errorf("%w: EOF marker missing new line", ErrEnvFileFormat)
				}
				end = index - len(newline)
			}
			value := ""
			if end > start {
				value = text[start:end]
			}
			entries = append(entries, envEntry{KeyValue: KeyValue{Key: name, Value: value}, start: start, end: max(start, end)})
		default:
			return entries, fmt.Errorf("%w: %q", ErrEnvFileFormat, line)
		}
	}
}

// readLine is the runner's ReadLine: it returns the line at *index without
// its terminator, the terminator ("" at end of text), and false when no
// text is left.
func readLine(text string, index *int, windows bool) (line, newline string, ok bool) {
	if *index >= len(text) {
		return "", "", false
	}
	start := *index
	lf := strings.IndexByte(text[start:], '\n')
	if lf < 0 {
		*index = len(text)
		return text[start:], "", true
	}
	lf += start
	if windows && lf > start && text[lf-1] == '\r' {
		*index = lf + 1
		return text[start : lf-1], "\r\n", true
	}
	*index = lf + 1
	return text[start:lf], "\n", true
}
