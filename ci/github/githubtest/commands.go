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
	for k, v := range c.Properties {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// setProperty keeps one entry per case-insensitive name, the last one
// written, like the runner's OrdinalIgnoreCase dictionary (which keeps the
// first spelling of the name).
func (c *Command) setProperty(name, value string) {
	for k := range c.Properties {
		if strings.EqualFold(k, name) {
			c.Properties[k] = value
			return
		}
	}
	c.Properties[name] = value
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
	isRegistered := func(name string) bool {
		for k := range registered {
			if strings.EqualFold(k, name) {
				return true
			}
		}
		return false
	}
	if c := parseV2(line, isRegistered); c != nil {
		return c
	}
	return parseLegacy(line, isRegistered)
}

func parseV2(line string, isRegistered func(string) bool) *Command {
	const key = "::"
	msg := strings.TrimLeftFunc(line, unicode.IsSpace)
	if !strings.HasPrefix(msg, key) {
		return nil
	}
	end := strings.Index(msg[len(key):], key)
	if end < 0 {
		return nil
	}
	end += len(key)
	info := msg[len(key):end]
	name, props, hasProps := strings.Cut(info, " ")
	if !isRegistered(name) {
		return nil
	}
	c := &Command{Name: name, Properties: map[string]string{}}
	// The runner parses properties only when the space is not the first
	// character ("spaceIndex > 0"); an empty name is never registered.
	if hasProps {
		for _, p := range splitRemoveEmpty(strings.TrimSpace(props), ",") {
			if pair := splitTwoRemoveEmpty(p, '='); len(pair) == 2 {
				c.setProperty(pair[0], unescapeProperty(pair[1]))
			}
		}
	}
	c.Data = unescapeData(msg[end+len(key):])
	return c
}

func parseLegacy(line string, isRegistered func(string) bool) *Command {
	const prefix = "##["
	i := strings.Index(line, prefix)
	if i < 0 {
		return nil
	}
	rb := strings.IndexByte(line[i:], ']')
	if rb < 0 {
		return nil
	}
	rb += i
	info := line[i+len(prefix) : rb]
	name, props, hasProps := strings.Cut(info, " ")
	if !isRegistered(name) {
		return nil
	}
	c := &Command{Name: name, Properties: map[string]string{}, Legacy: true}
	if hasProps {
		for _, p := range splitRemoveEmpty(props, ";") {
			if pair := splitTwoRemoveEmpty(p, '='); len(pair) == 2 {
				c.setProperty(pair[0], unescapeLegacy(pair[1]))
			}
		}
	}
	c.Data = unescapeLegacy(line[rb+1:])
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

// EscapeData escapes a command's data as actions/toolkit does, the inverse
// of the runner's unescaping.
func EscapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// EscapeProperty escapes a command property value as actions/toolkit does.
func EscapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
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
