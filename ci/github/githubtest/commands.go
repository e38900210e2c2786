package githubtest

import (
	"strings"
	"unicode"
)

// Stream names an output stream of the step.
type Stream string

// The two streams the runner reads.
const (
	Stdout Stream = "stdout"
	Stderr Stream = "stderr"
)

// Command is a workflow command the runner processed.
type Command struct {
	// Stream is where the command was written.
	Stream Stream
	// Line is the 1-based line number within Stream.
	Line int
	// Name is the command name as written; the runner matches names
	// case-insensitively.
	Name string
	// Properties are unescaped; keys are matched case-insensitively.
	Properties map[string]string
	// Data is the unescaped text after the command.
	Data string
	// Legacy marks the "##[name k=v;]data" form, which the runner still
	// accepts anywhere in a line.
	Legacy bool
}

// Property returns the value of a property, matching its name
// case-insensitively as the runner does.
func (c *Command) Property(name string) (string, bool) {
	k, ok := foldKey(c.Properties, name)
	return c.Properties[k], ok
}

// foldKey finds the key of m equal to name ignoring case, as the runner's
// OrdinalIgnoreCase dictionaries match names.
func foldKey[V any](m map[string]V, name string) (string, bool) {
	for k := range m {
		if strings.EqualFold(k, name) {
			return k, true
		}
	}
	return "", false
}

// stopCommandName pauses command processing until "::<token>::".
const stopCommandName = "stop-commands"

// registeredCommands are the command names the runner's
// ActionCommandManager knows (internal-set-repo-path is registered only
// for its own plugins). Unknown names are ordinary output.
func registeredCommands() map[string]bool {
	return map[string]bool{
		"add-mask": true, "add-matcher": true, "add-path": true, "debug": true, "echo": true,
		"endgroup": true, "error": true, "group": true, "notice": true, "remove-matcher": true,
		"save-state": true, "set-env": true, "set-output": true, stopCommandName: true, "warning": true,
	}
}

// ParseCommand parses one output line the way the runner's ActionCommand
// does: first the "::name k=v,k2=v2::data" form (after trimming leading
// white space), then the legacy "##[name k=v;k2=v2]data" form anywhere in
// the line. Only the names in registered count (compared
// case-insensitively); nil means every command the runner knows. The
// result is nil when the line is not a command.
func ParseCommand(line string, registered map[string]bool) *Command {
	if registered == nil {
		registered = registeredCommands()
	}
	if msg, ok := strings.CutPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "::"); ok {
		if info, data, ok := strings.Cut(msg, "::"); ok {
			// The runner trims the properties of this form only.
			name, props, _ := strings.Cut(info, " ")
			if c := newCommand(registered, name, strings.TrimSpace(props), ",", unescapeProperty); c != nil {
				c.Data = unescapeData(data)
				return c
			}
		}
	}
	_, legacy, ok := strings.Cut(line, "##[")
	if info, data, ok2 := strings.Cut(legacy, "]"); ok && ok2 {
		name, props, _ := strings.Cut(info, " ")
		if c := newCommand(registered, name, props, ";", unescapeLegacy); c != nil {
			c.Data, c.Legacy = unescapeLegacy(data), true
			return c
		}
	}
	return nil
}

// newCommand is a command with its properties, sep-separated k=v pairs;
// nil when name is not registered. An empty name (the line had a space
// first, where the runner parses no properties) is never registered.
func newCommand(registered map[string]bool, name, props, sep string, unescape func(string) string) *Command {
	if _, ok := foldKey(registered, name); !ok {
		return nil
	}
	c := &Command{Name: name, Properties: map[string]string{}}
	for _, p := range splitRemoveEmpty(props, sep) {
		if pair := splitTwoRemoveEmpty(p, '='); len(pair) == 2 {
			// One entry per name ignoring case, the last value under the
			// first spelling, like the runner's dictionary.
			k, ok := foldKey(c.Properties, pair[0])
			if !ok {
				k = pair[0]
			}
			c.Properties[k] = unescape(pair[1])
		}
	}
	return c
}

// The runner unescapes with sequential Replace calls in these orders;
// "%25" comes last so "%250A" unescapes to "%0A", not to a line feed.
func unescapeData(s string) string {
	return replaceInOrder(s, "%0D", "\r", "%0A", "\n", "%25", "%")
}

func unescapeProperty(s string) string {
	return replaceInOrder(s, "%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%")
}

func unescapeLegacy(s string) string {
	return replaceInOrder(s, "%3B", ";", "%0D", "\r", "%0A", "\n", "%5D", "]", "%25", "%")
}

func replaceInOrder(s string, oldNew ...string) string {
	for i := 0; i+1 < len(oldNew); i += 2 {
		s = strings.ReplaceAll(s, oldNew[i], oldNew[i+1])
	}
	return s
}

// splitRemoveEmpty is .NET's Split(sep, RemoveEmptyEntries).
func splitRemoveEmpty(s, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// splitTwoRemoveEmpty is .NET's Split(sep, count: 2, RemoveEmptyEntries):
// empty pieces before the first kept one are skipped, and the remainder
// after it is kept whole, so "==v" gives ["v"] and "k==v" gives ["k", "=v"].
func splitTwoRemoveEmpty(s string, sep byte) []string {
	var out []string
	for len(out) == 0 {
		i := strings.IndexByte(s, sep)
		if i < 0 {
			break
		}
		if i > 0 {
			out = append(out, s[:i])
		}
		s = s[i+1:]
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}

// SplitLines splits process output into lines as .NET's ReadLine does: a
// line ends at "\n", "\r\n" or a lone "\r", and a final terminator does not
// start an empty line. Invalid UTF-8 becomes U+FFFD, as the runner decodes
// output as UTF-8.
func SplitLines(b []byte) []string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	var lines []string
	for s != "" {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			lines = append(lines, s)
			break
		}
		lines = append(lines, s[:i])
		if s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			i++
		}
		s = s[i+1:]
	}
	return lines
}
